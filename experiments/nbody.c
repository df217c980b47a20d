/* nbody.c: train one model on the charged-particle N-body task of the EGNN
 * paper (section 5.1) with its protocol (shared/reference/nbody.md): predict
 * the positions at frame 40 from positions and velocities at frame 30, Adam,
 * batch 100, report the test MSE at the epoch of best validation MSE.
 *
 * The data are the files of experiments/nbody_gen; the protocol itself (batches,
 * edges and their attributes, the linear baseline, the epoch loop, checkpoints
 * and --resume) lives in common/eqg_nbody_train.c, shared with nbody_sweep.
 *
 * Reproducibility: the model is initialised from --seed, and epoch e's order
 * from (--seed, e) alone, so with the same options and --threads every number
 * is bitwise reproducible, also across --stop-after / --resume (the meson test
 * nbody_resume checks this). */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eqg_nbody_cli.h"

enum {
  QUICK_EPOCHS = 3, QUICK_TRAIN = 20, QUICK_EVAL = 10, QUICK_BATCH = 5
};

typedef struct options {
  eqg_nbt_model_kind model;
  long n_train, epochs, checkpoint_every, stop_after;
  bool resume;
  eqg_nbt_cli d;           /* data, frames, batch, lr, evaluation, threads, seed, quick */
  /* NULL -> nbody_<model>.h5, nbody_<model>.ckpt.h5, nbody_<model>.best.h5 */
  const char *out, *checkpoint, *best;
  char out_buf[256], ckpt_buf[256], best_buf[256];   /* of equal size */
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: nbody [OPTION]...\n"
"Train one model on the charged-particle N-body task of the EGNN paper (5\n"
"particles, predict the positions at --target-frame from positions and\n"
"velocities at --input-frame) with the paper's protocol: Adam (weight decay\n"
"1e-12), batch 100 with the last incomplete batch dropped, data reshuffled\n"
"every epoch, loss = MSE over all position coordinates; validation and test\n"
"MSE every --eval-every epochs; the result is the test MSE at the epoch of the\n"
"best validation MSE.  Data: the files of nbody_gen.\n"
"\n"
"Models (--model):\n"
"  egnn     EGNN velocity variant, 4 layers of width 64 (preset egnn_nbody,\n"
"           134,020 parameters); node input |v_i|, edge attributes\n"
"           [q_i q_j, |x_i - x_j|^2] at the input frame; lr 5e-4\n"
"  gnn      generic GNN, input [x, v], edge attribute q_i q_j (preset\n"
"           gnn_nbody, 104,387 parameters); lr 1e-3\n"
"  rf       radial field, edge attributes as egnn (preset rf_nbody); lr 2e-4\n"
"  linear   x(t) = x(0) + v(0) t with one learnable t (initially 0.7); lr 1e-3\n"
"           (our choice: the paper gives none)\n"
"  (schnet and vecnet have no N-body configuration and are rejected)\n"
"\n", f);
  fputs(
"Options:\n"
"  -h, --help             show this help and exit\n"
"      --model NAME       egnn, gnn, rf or linear (default egnn)\n"
"      --seed N           seed of the initialisation and of every epoch's\n"
"                         shuffle, 0..4294967295 (default 1)\n"
"      --datadir DIR      directory of nbody_{train,valid,test}.h5 (default .)\n"
"      --train-file FILE  training data (default DATADIR/nbody_train.h5)\n"
"      --valid-file FILE  validation data (default DATADIR/nbody_valid.h5)\n"
"      --test-file FILE   test data (default DATADIR/nbody_test.h5)\n"
"      --n-train N        first N trajectories of the training file (default\n"
"                         3000; --quick: 20)\n"
"      --n-valid N        validation trajectories (default 2000; --quick: 10)\n"
"      --n-test N         test trajectories (default 2000; --quick: 10)\n"
"      --input-frame K    input frame (default 30; 6 for sample_freq 500 data;\n"
"                         --quick: 3)\n"
"      --target-frame K   target frame (default 40; 8 for sample_freq 500 data;\n"
"                         --quick: 7)\n"
"      --epochs N         total epochs, 1..100000000 (default 10000, the paper;\n"
"                         --quick: 3)\n"
"      --lr X             learning rate, 0 < X <= 1 (default per model, above)\n"
"      --batch N          minibatch size, 1..n-train (default 100; --quick: 5)\n"
"      --eval-every N     validate and test every N epochs and after the last\n"
"                         (default 5; --quick: 1)\n"
"      --checkpoint FILE  checkpoint, written atomically (default\n"
"                         nbody_<model>.ckpt.h5)\n"
"      --checkpoint-every N  epochs between checkpoints (default 50;\n"
"                         --quick: 1); the last epoch is always saved\n"
"      --resume           continue from --checkpoint (same model, seed, data\n"
"                         sizes, frames, batch and lr; --epochs may grow); the\n"
"                         result is bitwise that of an uninterrupted run\n"
"      --best FILE        parameters of the best validation epoch, written\n"
"                         atomically at every improvement (default\n"
"                         nbody_<model>.best.h5; read by analysis/nbody_errors)\n"
"      --stop-after N     stop after epoch N with a checkpoint, as if killed\n"
"                         (continue later with --resume)\n"
"      --threads N        BLAS/OpenMP threads, 1..1024 (default 1); keep it\n"
"                         fixed across --resume for bitwise equality\n"
"      --quick            tiny run for CI on nbody_gen --quick files (sizes,\n"
"                         frames, epochs, batch as marked above, unless given)\n"
"      --out FILE.h5      results (default nbody_<model>.h5; rewritten at every\n"
"                         checkpoint), with FILE.csv beside it\n"
"\n"
"Output: the parameter count and settings, a table of epoch, train, valid and\n"
"test MSE (* marks the best validation so far) and a summary (model,\n"
"parameters, best epoch, validation and test MSE, seconds per epoch, a digest\n"
"of the parameters) on stdout; a progress bar with the loss and ETA on stderr\n"
"when it is a terminal.  The HDF5 file holds per-evaluation datasets epoch,\n"
"train_mse (mean minibatch loss of that epoch), valid_mse, test_mse and the\n"
"summary and provenance as attributes; the CSV holds the datasets.  The\n"
"--best file holds the parameters of the best validation epoch and, in\n"
"/nbody_best, that epoch, its MSEs and the settings needed to evaluate them.\n"
"\n"
"Exit status: 0 on success, 1 on missing or corrupt data, I/O failure,\n"
"a checkpoint that does not match, or divergence; 2 on bad options.\n", f);
}

/* Program name in usage errors (eqg_cli_usage_error). */
static const char PROG[] = "nbody";

/* Returns -1 to continue, else an exit code (0 after --help, 2 on a bad option). */
static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_MODEL = 256, O_N_TRAIN, O_EPOCHS, O_CHECKPOINT, O_CKPT_EVERY, O_RESUME,
         O_STOP_AFTER, O_OUT, O_BEST };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "model", required_argument, NULL, O_MODEL },
    { "n-train", required_argument, NULL, O_N_TRAIN },
    { "epochs", required_argument, NULL, O_EPOCHS },
    { "checkpoint", required_argument, NULL, O_CHECKPOINT },
    { "checkpoint-every", required_argument, NULL, O_CKPT_EVERY },
    { "resume", no_argument, NULL, O_RESUME },
    { "stop-after", required_argument, NULL, O_STOP_AFTER },
    { "out", required_argument, NULL, O_OUT },
    { "best", required_argument, NULL, O_BEST },
    EQG_NBT_CLI_LONGOPTS,
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .model = EQG_NBT_EGNN, .n_train = 3000, .epochs = 10000,
                  .checkpoint_every = 50 };
  eqg_nbt_cli_defaults(&o->d);
  bool set_train = false, set_epochs = false, set_ckpt_every = false;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    if (eqg_nbt_cli_parse(&o->d, c, optarg, &st)) {
      if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
      continue;
    }
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_MODEL:
      st = eqg_nbt_model_find(optarg, &o->model);
      if (st != EQG_OK) st = eqg_error_prefix(st, "--model: ");
      break;
    case O_N_TRAIN:
      st = eqg_cli_parse_long("--n-train", optarg, 1, 100000000, &o->n_train);
      set_train = true;
      break;
    case O_EPOCHS:
      st = eqg_cli_parse_long("--epochs", optarg, 1, 100000000, &o->epochs);
      set_epochs = true;
      break;
    case O_CHECKPOINT: o->checkpoint = optarg; break;
    case O_CKPT_EVERY:
      st = eqg_cli_parse_long("--checkpoint-every", optarg, 1, 100000000, &o->checkpoint_every);
      set_ckpt_every = true;
      break;
    case O_RESUME: o->resume = true; break;
    case O_STOP_AFTER:
      st = eqg_cli_parse_long("--stop-after", optarg, 1, 100000000, &o->stop_after);
      break;
    case O_OUT: o->out = optarg; break;
    case O_BEST: o->best = optarg; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);   /* ':' or '?' */
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (o->d.quick) {
    if (!set_train) o->n_train = QUICK_TRAIN;
    if (!set_epochs) o->epochs = QUICK_EPOCHS;
    if (!set_ckpt_every) o->checkpoint_every = 1;
  }
  if (eqg_nbt_cli_finish(&o->d, QUICK_EVAL, QUICK_BATCH) != EQG_OK)
    return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  if (o->d.batch > o->n_train)
    return eqg_cli_usage_error(PROG, "--batch: %ld is larger than the training set (--n-train "
                               "%ld)", o->d.batch, o->n_train);
  if (o->d.lr < 0) o->d.lr = eqg_nbt_default_lr(o->model);
  const char *name = eqg_nbt_model_name(o->model);
  /* defaults nbody_<model><suffix> */
  struct { const char **path; char *buf; const char *suffix; } def[3] = {
    { &o->out, o->out_buf, ".h5" }, { &o->checkpoint, o->ckpt_buf, ".ckpt.h5" },
    { &o->best, o->best_buf, ".best.h5" }
  };
  for (int k = 0; k < 3; k++)
    if (!*def[k].path) {
      snprintf(def[k].buf, sizeof o->out_buf, "nbody_%s%s", name, def[k].suffix);
      *def[k].path = def[k].buf;
    }
  if (!*o->out) return eqg_cli_usage_error(PROG, "--out: empty file name");
  if (!*o->checkpoint) return eqg_cli_usage_error(PROG, "--checkpoint: empty file name");
  if (!*o->best) return eqg_cli_usage_error(PROG, "--best: empty file name");
  if (strcmp(o->out, o->checkpoint) == 0)
    return eqg_cli_usage_error(PROG, "--out and --checkpoint name the same file");
  if (strcmp(o->best, o->out) == 0 || strcmp(o->best, o->checkpoint) == 0)
    return eqg_cli_usage_error(PROG, "--best names the same file as --%s",
                               strcmp(o->best, o->out) == 0 ? "out" : "checkpoint");
  return -1;
}

/* What the results writer needs besides the training result. */
typedef struct run_ctx {
  const options *o;
  const eqg_cli_provenance *pv;
  const char *csv;
  size_t n[3];             /* train, valid, test samples */
  const eqg_nbt_split *train;
} run_ctx;

static eqg_status write_csv(const char *path, const eqg_nbt_result *r)
{
  eqg_cli_csv *c = eqg_cli_csv_open(path, "epoch,train_mse,valid_mse,test_mse");
  if (!c) return EQG_EIO;
  for (size_t i = 0; i < r->n_evals; i++)
    if (eqg_cli_csv_row(c, "%.0f,%.17g,%.17g,%.17g", r->eval_epoch[i], r->train_mse[i],
                        r->valid_mse[i], r->test_mse[i]) != EQG_OK) {
      eqg_cli_csv_discard(c);
      return EQG_EIO;
    }
  return eqg_cli_csv_close(c);
}

/* Results file (atomic) and CSV; complete = the run reached --epochs. */
static eqg_status write_results(const run_ctx *x, const eqg_nbt_result *r, bool complete)
{
  const options *o = x->o;
  const long done = r->epoch - r->start_epoch;
  const double s_per_epoch = done > 0 ? r->seconds_this_run / (double)done : NAN;
  char digest[32];
  snprintf(digest, sizeof digest, "fnv1a64:%016" PRIx64, r->digest);
  hid_t f;
  char *tmp;
  eqg_status st = eqg_h5_create_tmp(o->out, &f, &tmp);
  if (st != EQG_OK) return st;
  if ((st = eqg_cli_provenance_write(f, x->pv)) ||
      (st = eqg_h5_write_attr_string(f, "task", "charged-particle N-body: positions at the "
                                     "target frame from positions and velocities at the "
                                     "input frame (EGNN paper 5.1)")) ||
      (st = eqg_h5_write_attr_string(f, "model", eqg_nbt_model_name(o->model))) ||
      (st = eqg_h5_write_attr_string(f, "model_config", r->model_config)) ||
      (st = eqg_h5_write_attr_ulong(f, "n_params", (unsigned long)r->n_params)) ||
      (st = eqg_h5_write_attr_int(f, "complete", complete)) ||
      (st = eqg_h5_write_attr_long(f, "epochs", o->epochs)) ||
      (st = eqg_h5_write_attr_long(f, "epochs_done", r->epoch)) ||
      (st = eqg_h5_write_attr_long(f, "steps", r->step)) ||
      (st = eqg_h5_write_attr_long(f, "best_epoch", r->best_epoch)) ||
      (st = eqg_h5_write_attr_double(f, "best_valid_mse", r->best_epoch ? r->best_valid : NAN)) ||
      (st = eqg_h5_write_attr_double(f, "test_mse_at_best",
                                     r->best_epoch ? r->test_at_best : NAN)) ||
      (st = eqg_h5_write_attr_double(f, "train_seconds", r->train_seconds)) ||
      (st = eqg_h5_write_attr_double(f, "seconds_per_epoch", s_per_epoch)) ||
      (st = eqg_h5_write_attr_string(f, "optimizer", "adam")) ||
      (st = eqg_h5_write_attr_double(f, "lr", o->d.lr)) ||
      (st = eqg_h5_write_attr_double(f, "weight_decay", 1e-12)) ||
      (st = eqg_h5_write_attr_long(f, "batch", o->d.batch)) ||
      (st = eqg_h5_write_attr_ulong(f, "n_train", (unsigned long)x->n[0])) ||
      (st = eqg_h5_write_attr_ulong(f, "n_valid", (unsigned long)x->n[1])) ||
      (st = eqg_h5_write_attr_ulong(f, "n_test", (unsigned long)x->n[2])) ||
      (st = eqg_h5_write_attr_ulong(f, "n_particles", (unsigned long)x->train->n_particles)) ||
      (st = eqg_h5_write_attr_string(f, "checkpoint", o->checkpoint)) ||
      (st = eqg_h5_write_attr_string(f, "best_params", o->best)) ||
      (st = eqg_nbt_cli_write_attrs(f, &o->d)) ||
      (st = eqg_h5_write_attr_string(f, "params_digest", complete ? digest : "")))
    goto fail;
  if (r->n_evals &&
      ((st = eqg_h5_write_vector(f, "epoch", r->eval_epoch, r->n_evals)) ||
       (st = eqg_h5_write_vector(f, "train_mse", r->train_mse, r->n_evals)) ||
       (st = eqg_h5_write_vector(f, "valid_mse", r->valid_mse, r->n_evals)) ||
       (st = eqg_h5_write_vector(f, "test_mse", r->test_mse, r->n_evals))))
    goto fail;
  if ((st = eqg_h5_commit(f, tmp, o->out)) != EQG_OK) return st;
  return write_csv(x->csv, r);
fail:
  eqg_h5_discard(f, tmp);
  return eqg_error_prefix(st, "results '%s': ", o->out);
}

/* After every checkpoint: the results so far (a long run can be watched). */
static eqg_status on_checkpoint(void *ctx, const eqg_nbt_result *partial)
{
  return write_results(ctx, partial, false);
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();   /* GSL failures become statuses, not aborts */
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;

  rc = 1;
  eqg_status st;
  eqg_nbt_split split[3] = { { 0 }, { 0 }, { 0 } };
  eqg_nbt_result res = { 0 };
  eqg_cli_provenance pv = { .arguments = NULL };
  char *csv = eqg_cli_path_beside(o.out, ".csv");
  if (!csv) {
    fprintf(stderr, "nbody: out of memory\n");
    return 1;
  }
  if (strcmp(csv, o.checkpoint) == 0 || strcmp(csv, o.best) == 0) {
    const char *opt = strcmp(csv, o.best) == 0 ? "best" : "checkpoint";
    free(csv);
    return eqg_cli_usage_error(PROG, "--%s names the CSV written beside --out", opt);
  }
  if ((st = eqg_cli_provenance_init(&pv, argc, argv, o.d.seed)) != EQG_OK ||
      (st = eqg_nbt_cli_load(&o.d, split, o.n_train)) != EQG_OK)
    goto fail;

  /* The parameter count at start (the trainer builds its own copy). */
  eqg_nbt_model *probe = eqg_nbt_model_alloc(o.model, o.d.seed);
  if (!probe) goto fail;
  char describe[1024];
  eqg_nbt_model_describe(probe, describe, sizeof describe);
  const size_t n_params = eqg_params_count(probe->params);
  eqg_nbt_model_free(probe);

  const size_t sf = split[0].sample_freq;
  printf("nbody: %s, %zu parameter%s (%s)\n", eqg_nbt_model_name(o.model), n_params,
         n_params == 1 ? "" : "s", describe);
  printf("data   train %zu (%s), valid %zu, test %zu; %zu particles; frame %ld -> %ld "
         "(steps %zu -> %zu)\n", split[0].n, o.d.path[0], split[1].n, split[2].n,
         split[0].n_particles, o.d.input_frame, o.d.target_frame, ((size_t)o.d.input_frame + 1) * sf,
         ((size_t)o.d.target_frame + 1) * sf);
  printf("train  adam lr %g, weight decay 1e-12, batch %ld (%zu steps/epoch, last dropped), "
         "%ld epochs, eval every %ld, seed %lu, %ld thread%s\n", o.d.lr, o.d.batch,
         split[0].n / (size_t)o.d.batch, o.epochs, o.d.eval_every, o.d.seed,
         o.d.threads, o.d.threads == 1 ? "" : "s");
  printf("files  checkpoint %s (every %ld epochs)%s; best parameters %s; results %s, %s\n\n",
         o.checkpoint, o.checkpoint_every, o.resume ? ", resuming" : "", o.best, o.out, csv);
  fflush(stdout);

  eqg_nbt_config cfg = eqg_nbt_config_default(o.model);
  cfg.seed = o.d.seed;
  cfg.lr = o.d.lr;
  cfg.batch = (size_t)o.d.batch;
  cfg.epochs = o.epochs;
  cfg.eval_every = o.d.eval_every;
  cfg.input_frame = o.d.input_frame;
  cfg.target_frame = o.d.target_frame;
  cfg.checkpoint = o.checkpoint;
  cfg.checkpoint_every = o.checkpoint_every;
  cfg.resume = o.resume;
  cfg.best = o.best;
  cfg.stop_after = o.stop_after;
  cfg.program = pv.program;
  cfg.label = eqg_nbt_model_name(o.model);
  cfg.table = true;
  run_ctx ctx = { .o = &o, .pv = &pv, .csv = csv,
                  .n = { split[0].n, split[1].n, split[2].n }, .train = &split[0] };
  cfg.on_checkpoint = on_checkpoint;
  cfg.ctx = &ctx;
  if ((st = eqg_nbt_train(&res, &cfg, &split[0], &split[1], &split[2])) != EQG_OK) goto fail;
  if ((st = write_results(&ctx, &res, !res.stopped)) != EQG_OK) goto fail;

  const long done = res.epoch - res.start_epoch;
  printf("\n");
  if (res.stopped)
    printf("stopped after epoch %ld of %ld (--stop-after); continue with --resume\n",
           res.epoch, o.epochs);
  printf("%-7s %9s %10s %12s %12s %10s\n", "model", "params", "best ep", "valid MSE",
         "test MSE", "s/epoch");
  if (res.best_epoch)
    printf("%-7s %9zu %10ld %12.4e %12.4e %10.4g\n", eqg_nbt_model_name(o.model), res.n_params,
           res.best_epoch, res.best_valid, res.test_at_best,
           done > 0 ? res.seconds_this_run / (double)done : NAN);
  else
    printf("%-7s %9zu %10s %12s %12s %10.4g\n", eqg_nbt_model_name(o.model), res.n_params, "-",
           "-", "-", done > 0 ? res.seconds_this_run / (double)done : NAN);
  printf("time   %.1f s this run (%ld epoch%s, from epoch %ld), %.1f s over the whole run\n",
         res.seconds_this_run, done, done == 1 ? "" : "s", res.start_epoch, res.train_seconds);
  printf("exact  epoch=%ld best_epoch=%ld valid_mse=%.17g test_mse=%.17g "
         "params=fnv1a64:%016" PRIx64 "\n", res.epoch, res.best_epoch,
         res.best_epoch ? res.best_valid : NAN, res.best_epoch ? res.test_at_best : NAN,
         res.digest);
  printf("files  %s, %s, checkpoint %s, best parameters %s\n", o.out, csv, o.checkpoint,
         o.best);
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "nbody: %s\n", eqg_error_message());
  rc = 1;
done:
  for (int k = 0; k < 3; k++) eqg_nbt_split_clear(&split[k]);
  eqg_nbt_result_clear(&res);
  eqg_cli_provenance_clear(&pv);
  free(csv);
  return rc;
}
