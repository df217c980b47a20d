/* demo_fit.c: fit f(x, y) = sin(x) cos(y) with an MLP, end to end.
 *
 * The smallest complete run of the library: seeded data, an MLP on the tape,
 * minibatch Adam with a cosine schedule, evaluation on a held-out set, a
 * checkpoint that is reloaded into a fresh model and must reproduce the test
 * predictions bitwise, and results in HDF5 (with provenance) plus a CSV for
 * plots/demo_fit.gp.
 *
 * Random numbers come from one gsl_rng (mt19937, --seed), drawn in a fixed
 * order: training set, test set, model initialisation, then one shuffle per
 * epoch.  With the same seed, options and thread count every number written
 * is bitwise identical. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_rng.h>

#include "eqg_cli.h"

static const double PI = 3.14159265358979323846;

enum {
  TEST_POINTS = 512,     /* held-out set */
  EVAL_CHUNK = 4096,     /* rows per forward pass when evaluating */
  QUICK_EPOCHS = 20,
  QUICK_POINTS = 256
};

typedef struct options {
  unsigned long seed;
  long epochs, batch, width, depth, points, threads;
  double lr;
  bool quick;
  const char *out, *checkpoint;
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: demo_fit [OPTION]...\n"
"Fit f(x, y) = sin(x) cos(y) on [-pi, pi]^2 with an MLP (SiLU, Adam, cosine\n"
"learning-rate schedule over the epochs), evaluate on a held-out set of 512\n"
"points, save a checkpoint and check that reloading it reproduces the test\n"
"predictions bitwise.\n"
"\n"
"Options:\n"
"  -h, --help             show this help and exit\n"
"      --seed N           seed for data, initialisation and shuffling,\n"
"                         0..4294967295 (default 1)\n"
"      --epochs N         training epochs, 1..1000000 (default 200; --quick: 20)\n"
"      --batch N          minibatch size, 1..points (default 64)\n"
"      --lr X             peak learning rate, 0 < X <= 10 (default 3e-3)\n"
"      --width N          hidden width, 1..4096 (default 64)\n"
"      --depth N          hidden layers, 1..64 (default 2: widths 2-64-64-1)\n"
"      --points N         training points, 1..10000000 (default 1024; --quick: 256)\n"
"      --threads N        BLAS/OpenMP threads, 1..1024 (default 1)\n"
"      --quick            small run for CI (20 epochs, 256 points) unless\n"
"                         --epochs/--points are given\n"
"      --out FILE.h5      results (default demo_fit.h5), with a CSV beside it\n"
"                         (FILE.csv)\n"
"      --checkpoint FILE  checkpoint to write (default demo_fit.ckpt.h5)\n"
"\n"
"Output: a table of epoch, train MSE, test MSE and learning rate on stdout;\n"
"a progress bar on stderr when it is a terminal.  Plot with\n"
"  gnuplot -e \"csv='demo_fit.csv'; out='demo_fit.png'\" plots/demo_fit.gp\n"
"\n"
"Exit status: 0 on success, 1 on an I/O or training failure or a failed\n"
"checkpoint round trip, 2 on bad options.\n", f);
}

/* Program name in usage errors (eqg_cli_usage_error). */
static const char PROG[] = "demo_fit";

/* Parse argv into *o.  Returns -1 to continue, else an exit code (0 after
 * --help, 2 on a bad option). */
static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_SEED = 256, O_EPOCHS, O_BATCH, O_LR, O_WIDTH, O_DEPTH, O_POINTS, O_THREADS,
         O_QUICK, O_OUT, O_CHECKPOINT };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "seed", required_argument, NULL, O_SEED },
    { "epochs", required_argument, NULL, O_EPOCHS },
    { "batch", required_argument, NULL, O_BATCH },
    { "lr", required_argument, NULL, O_LR },
    { "width", required_argument, NULL, O_WIDTH },
    { "depth", required_argument, NULL, O_DEPTH },
    { "points", required_argument, NULL, O_POINTS },
    { "threads", required_argument, NULL, O_THREADS },
    { "quick", no_argument, NULL, O_QUICK },
    { "out", required_argument, NULL, O_OUT },
    { "checkpoint", required_argument, NULL, O_CHECKPOINT },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .seed = 1, .epochs = 200, .batch = 64, .width = 64, .depth = 2,
                  .points = 1024, .threads = 1, .lr = 3e-3, .out = "demo_fit.h5",
                  .checkpoint = "demo_fit.ckpt.h5" };
  bool epochs_set = false, points_set = false;
  opterr = 0;   /* our own messages */
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_SEED: st = eqg_cli_parse_ulong("--seed", optarg, 0, 4294967295UL, &o->seed); break;
    case O_EPOCHS:
      st = eqg_cli_parse_long("--epochs", optarg, 1, 1000000, &o->epochs);
      epochs_set = true;
      break;
    case O_BATCH: st = eqg_cli_parse_long("--batch", optarg, 1, 10000000, &o->batch); break;
    case O_LR:
      st = eqg_cli_parse_double("--lr", optarg, 0, 10, &o->lr);
      if (st == EQG_OK && !(o->lr > 0))
        st = eqg_error_set(EQG_EINVAL, "--lr: %s must be positive", optarg);
      break;
    case O_WIDTH: st = eqg_cli_parse_long("--width", optarg, 1, 4096, &o->width); break;
    case O_DEPTH: st = eqg_cli_parse_long("--depth", optarg, 1, 64, &o->depth); break;
    case O_POINTS:
      st = eqg_cli_parse_long("--points", optarg, 1, 10000000, &o->points);
      points_set = true;
      break;
    case O_THREADS: st = eqg_cli_parse_long("--threads", optarg, 1, 1024, &o->threads); break;
    case O_QUICK: o->quick = true; break;
    case O_OUT: o->out = optarg; break;
    case O_CHECKPOINT: o->checkpoint = optarg; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);   /* ':' or '?' */
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (o->quick && !epochs_set) o->epochs = QUICK_EPOCHS;
  if (o->quick && !points_set) o->points = QUICK_POINTS;
  if (o->batch > o->points)
    return eqg_cli_usage_error(PROG, "--batch: %ld is larger than the training set (%ld "
                               "points)", o->batch, o->points);
  if (!*o->out) return eqg_cli_usage_error(PROG, "--out: empty file name");
  if (!*o->checkpoint) return eqg_cli_usage_error(PROG, "--checkpoint: empty file name");
  return -1;
}

/* n points uniform in [-pi, pi]^2: X (n, 2), Y (n, 1) = sin(x) cos(y). */
static void make_data(gsl_rng *rng, size_t n, double *X, double *Y)
{
  for (size_t i = 0; i < n; i++) {
    double x = -PI + 2 * PI * gsl_rng_uniform(rng);
    double y = -PI + 2 * PI * gsl_rng_uniform(rng);
    X[2 * i] = x;
    X[2 * i + 1] = y;
    Y[i] = sin(x) * cos(y);
  }
}

/* Predictions of the model on X (n, 2) into pred (n), in chunks, and the mean
 * squared error against Y (n) summed in row order. */
static eqg_status evaluate(eqg_tape *t, eqg_params *p, const eqg_mlp *m, const double *X,
                           const double *Y, size_t n, double *pred, double *mse)
{
  t->training = false;
  t->grad_enabled = false;
  double sse = 0;
  for (size_t r0 = 0; r0 < n; r0 += EVAL_CHUNK) {
    size_t nr = n - r0 < EVAL_CHUNK ? n - r0 : EVAL_CHUNK;
    eqg_tape_reset(t);
    eqg_tensor *x = eqg_tape_input(t, nr, 2, X + 2 * r0, false);   /* (nr, 2) */
    eqg_tensor *y = eqg_mlp_forward(t, p, m, x);                     /* (nr, 1) */
    if (!y) return eqg_error_prefix(eqg_tape_status(t), "evaluation: ");
    for (size_t i = 0; i < nr; i++) {
      double d = y->data[i] - Y[r0 + i];
      pred[r0 + i] = y->data[i];
      sse += d * d;
    }
  }
  *mse = sse / (double)n;
  return EQG_OK;
}

/* One Adam step on the minibatch xb (nb, 2), yb (nb, 1); *loss gets its MSE. */
static eqg_status train_step(eqg_tape *t, eqg_params *p, const eqg_mlp *m, eqg_optim *o,
                             const double *xb, const double *yb, size_t nb, double lr,
                             double *loss_out)
{
  t->training = true;
  t->grad_enabled = true;
  eqg_tape_reset(t);
  eqg_tensor *x = eqg_tape_input(t, nb, 2, xb, false);        /* (nb, 2) */
  eqg_tensor *y = eqg_tape_input(t, nb, 1, yb, false);        /* (nb, 1) */
  eqg_tensor *loss = eqg_mse(t, eqg_mlp_forward(t, p, m, x), y);   /* (1, 1) */
  if (!loss) return eqg_error_prefix(eqg_tape_status(t), "training step: ");
  eqg_params_zero_grad(p);
  eqg_status st = eqg_tape_backward(t, loss);
  if (st != EQG_OK) return eqg_error_prefix(st, "training step: ");
  *loss_out = loss->data[0];
  if (!isfinite(*loss_out))
    return eqg_error_set(EQG_ENONFINITE, "training diverged (loss %g); try a smaller --lr",
                         *loss_out);
  eqg_optim_step(o, p, lr);
  return EQG_OK;
}

/* A table row on stdout; clears the progress bar line first so the two do not
 * mix on a terminal (the bar redraws at its next update). */
static void table_row(eqg_cli_progress *pb, long epoch, double train, double test, double lr)
{
  eqg_cli_progress_clear(pb);
  if (lr >= 0) printf("%7ld  %11.4e  %11.4e  %10.3e\n", epoch, train, test, lr);
  else printf("%7ld  %11.4e  %11.4e  %10s\n", epoch, train, test, "-");
  fflush(stdout);
}

/* Results file: datasets epoch, train_mse, test_mse, lr (n each), provenance
 * and the run's settings as root attributes. */
static eqg_status write_results(const char *path, const eqg_cli_provenance *pv,
                                const options *o, const char *model_config, size_t n_params,
                                long steps, size_t n, const double *epoch,
                                const double *train, const double *test, const double *lr)
{
  hid_t f;
  char *tmp;
  eqg_status st = eqg_h5_create_tmp(path, &f, &tmp);
  if (st != EQG_OK) return st;
  if ((st = eqg_cli_provenance_write(f, pv)) ||
      (st = eqg_h5_write_vector(f, "epoch", epoch, n)) ||
      (st = eqg_h5_write_vector(f, "train_mse", train, n)) ||
      (st = eqg_h5_write_vector(f, "test_mse", test, n)) ||
      (st = eqg_h5_write_vector(f, "lr", lr, n)) ||
      (st = eqg_h5_write_attr_string(f, "target", "sin(x) cos(y) on [-pi, pi]^2")) ||
      (st = eqg_h5_write_attr_string(f, "model_config", model_config)) ||
      (st = eqg_h5_write_attr_ulong(f, "n_params", (unsigned long)n_params)) ||
      (st = eqg_h5_write_attr_long(f, "epochs", o->epochs)) ||
      (st = eqg_h5_write_attr_long(f, "steps", steps)) ||
      (st = eqg_h5_write_attr_long(f, "batch", o->batch)) ||
      (st = eqg_h5_write_attr_double(f, "lr_peak", o->lr)) ||
      (st = eqg_h5_write_attr_long(f, "train_points", o->points)) ||
      (st = eqg_h5_write_attr_long(f, "test_points", TEST_POINTS)) ||
      (st = eqg_h5_write_attr_long(f, "threads", o->threads)) ||
      (st = eqg_h5_write_attr_double(f, "final_train_mse", train[n - 1])) ||
      (st = eqg_h5_write_attr_double(f, "final_test_mse", test[n - 1]))) {
    eqg_h5_discard(f, tmp);
    return eqg_error_prefix(st, "results %s: ", path);
  }
  return eqg_h5_commit(f, tmp, path);
}

static eqg_status write_csv(const char *path, size_t n, const double *epoch,
                            const double *train, const double *test, const double *lr)
{
  eqg_cli_csv *c = eqg_cli_csv_open(path, "epoch,train_mse,test_mse,lr");
  if (!c) return EQG_EIO;
  for (size_t i = 0; i < n; i++)
    if (eqg_cli_csv_row(c, "%.0f,%.17g,%.17g,%.17g", epoch[i], train[i], test[i], lr[i]) !=
        EQG_OK) {
      eqg_cli_csv_discard(c);
      return EQG_EIO;
    }
  return eqg_cli_csv_close(c);
}

/* Reload the checkpoint into a fresh, differently initialised model and
 * compare parameters, optimiser state, metadata and test predictions bit for
 * bit with the trained ones.  EQG_OK if identical; otherwise a message. */
static eqg_status check_round_trip(const char *path, const eqg_mlp_config *cfg,
                                   const eqg_params *p, const eqg_optim *o,
                                   const eqg_checkpoint_meta *meta, const double *Xte,
                                   const double *Yte, const double *pred, eqg_tape *t)
{
  eqg_status st = EQG_OK;
  eqg_params *p2 = eqg_params_alloc();
  gsl_rng *r2 = gsl_rng_alloc(gsl_rng_mt19937);
  double *pred2 = malloc(TEST_POINTS * sizeof *pred2);
  eqg_mlp *m2 = NULL;
  eqg_optim *o2 = NULL;
  if (!p2 || !r2 || !pred2) {
    st = eqg_error_set(EQG_ENOMEM, "round trip: out of memory");
    goto done;
  }
  gsl_rng_set(r2, meta->seed + 12345);   /* any other initialisation */
  if (!(m2 = eqg_mlp_alloc(p2, "mlp", cfg, r2)) ||
      !(o2 = eqg_optim_alloc(o->type, &o->cfg, p2->size))) {
    st = eqg_error_prefix(EQG_EINVAL, "round trip: ");
    goto done;
  }
  eqg_checkpoint_meta meta2;
  if ((st = eqg_checkpoint_load(path, p2, o2, &meta2)) != EQG_OK) goto done;
  double mse2;
  if ((st = evaluate(t, p2, m2, Xte, Yte, TEST_POINTS, pred2, &mse2)) != EQG_OK) goto done;
  const char *what = NULL;
  if (p2->size != p->size || memcmp(p2->data, p->data, p->size * sizeof *p->data) != 0)
    what = "parameters differ";
  else if (o2->step != o->step)
    what = "optimiser step differs";
  else if (meta2.seed != meta->seed || meta2.step != meta->step || meta2.epoch != meta->epoch ||
           strcmp(meta2.model_type, meta->model_type) != 0 ||
           strcmp(meta2.model_config, meta->model_config) != 0)
    what = "metadata differs";
  else if (memcmp(pred2, pred, TEST_POINTS * sizeof *pred) != 0)
    what = "test predictions differ";
  for (int k = 0; !what && k < o->type->n_state; k++)
    if (memcmp(o2->state[k], o->state[k], o->n * sizeof *o->state[k]) != 0)
      what = "optimiser state differs";
  if (what) st = eqg_error_set(EQG_EFORMAT, "checkpoint %s: %s after reloading", path, what);
done:
  eqg_optim_free(o2);
  eqg_mlp_free(m2);
  eqg_params_free(p2);
  gsl_rng_free(r2);
  free(pred2);
  return st;
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();   /* GSL failures become statuses, not aborts */
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;
  double t_start = eqg_cli_now();

  eqg_status st = eqg_cli_set_threads(o.threads);
  if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());

  rc = 1;
  size_t n_train = (size_t)o.points, n_test = TEST_POINTS, B = (size_t)o.batch;
  size_t E = (size_t)o.epochs;
  size_t n_widths = (size_t)o.depth + 2;
  eqg_cli_provenance pv = { .arguments = NULL };
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  double *Xtr = malloc(2 * n_train * sizeof *Xtr), *Ytr = malloc(n_train * sizeof *Ytr);
  double *Xte = malloc(2 * n_test * sizeof *Xte), *Yte = malloc(n_test * sizeof *Yte);
  double *xb = malloc(2 * B * sizeof *xb), *yb = malloc(B * sizeof *yb);
  double *pred_tr = malloc(n_train * sizeof *pred_tr), *pred_te = malloc(n_test * sizeof *pred_te);
  double *h_epoch = malloc(E * sizeof *h_epoch), *h_train = malloc(E * sizeof *h_train);
  double *h_test = malloc(E * sizeof *h_test), *h_lr = malloc(E * sizeof *h_lr);
  size_t *perm = malloc(n_train * sizeof *perm), *widths = malloc(n_widths * sizeof *widths);
  char *csv = eqg_cli_path_beside(o.out, ".csv");
  eqg_params *p = eqg_params_alloc();
  eqg_tape *t = eqg_tape_alloc(1 << 20, NULL);
  eqg_mlp *m = NULL;
  eqg_optim *opt = NULL;
  if (!rng || !Xtr || !Ytr || !Xte || !Yte || !xb || !yb || !pred_tr || !pred_te || !h_epoch ||
      !h_train || !h_test || !h_lr || !perm || !widths || !csv || !p || !t) {
    fprintf(stderr, "demo_fit: out of memory\n");
    goto done;
  }
  if (strcmp(o.out, o.checkpoint) == 0 || strcmp(csv, o.checkpoint) == 0) {
    rc = eqg_cli_usage_error(PROG, "%s", strcmp(o.out, o.checkpoint) == 0
                                 ? "--out and --checkpoint name the same file"
                                 : "--checkpoint names the CSV written beside --out");
    goto done;
  }
  if ((st = eqg_cli_provenance_init(&pv, argc, argv, o.seed)) != EQG_OK) goto fail;

  /* Data, then model: the order of draws is part of the reproducibility contract. */
  gsl_rng_set(rng, o.seed);
  make_data(rng, n_train, Xtr, Ytr);
  make_data(rng, n_test, Xte, Yte);
  widths[0] = 2;
  for (size_t k = 1; k + 1 < n_widths; k++) widths[k] = (size_t)o.width;
  widths[n_widths - 1] = 1;
  eqg_mlp_config cfg = eqg_mlp_config_default(widths, n_widths);   /* SiLU, no norm */
  if (!(m = eqg_mlp_alloc(p, "mlp", &cfg, rng))) goto fail;
  eqg_optim_config ocfg = eqg_optim_config_for(&eqg_optim_adam);
  ocfg.lr = o.lr;
  if (!(opt = eqg_optim_alloc(&eqg_optim_adam, &ocfg, p->size))) goto fail;
  eqg_schedule sched = eqg_schedule_cosine(o.lr, o.epochs, 0);   /* per epoch */
  if ((st = eqg_schedule_check(&sched)) != EQG_OK) goto fail;

  char model_config[1024];
  int w = snprintf(model_config, sizeof model_config, "widths=");
  for (size_t k = 0; k < n_widths && w > 0 && (size_t)w < sizeof model_config; k++)
    w += snprintf(model_config + w, sizeof model_config - (size_t)w, "%s%zu", k ? "-" : "",
                  widths[k]);
  if (w > 0 && (size_t)w < sizeof model_config)
    snprintf(model_config + w, sizeof model_config - (size_t)w, " act=%s norm=%s init=%s",
             eqg_activation_name(cfg.act), eqg_norm_kind_name(cfg.norm),
             eqg_init_kind_name(cfg.init));

  size_t steps_per_epoch = (n_train + B - 1) / B;
  printf("demo_fit: fit sin(x) cos(y) on [-pi, pi]^2\n");
  printf("model  mlp %.*s %s, %zu parameters; adam, cosine lr %.3g -> 0 over %ld epochs\n",
         (int)strcspn(model_config + strlen("widths="), " "), model_config + strlen("widths="),
         eqg_activation_name(cfg.act), eqg_params_count(p), o.lr, o.epochs);
  printf("data   %zu train / %zu test points, batch %zu (%zu steps/epoch), seed %lu, "
         "%ld thread%s\n\n", n_train, n_test, B, steps_per_epoch, o.seed, o.threads,
         o.threads == 1 ? "" : "s");
  printf("%7s  %11s  %11s  %10s\n", "epoch", "train MSE", "test MSE", "lr");

  double mse_tr, mse_te;
  if ((st = evaluate(t, p, m, Xtr, Ytr, n_train, pred_tr, &mse_tr)) ||
      (st = evaluate(t, p, m, Xte, Yte, n_test, pred_te, &mse_te)))
    goto fail;
  eqg_cli_progress pb;
  eqg_cli_progress_begin(&pb, "train", E);
  table_row(&pb, 0, mse_tr, mse_te, -1);
  double initial_test = mse_te;
  size_t every = E / 10 ? E / 10 : 1;
  for (size_t i = 0; i < n_train; i++) perm[i] = i;
  double t_train = eqg_cli_now();
  for (size_t e = 0; e < E; e++) {
    double lr = eqg_schedule_lr(&sched, (long)e);
    for (size_t i = n_train - 1; i > 0; i--) {   /* Fisher-Yates */
      size_t j = (size_t)gsl_rng_uniform_int(rng, (unsigned long)i + 1);
      size_t tmp = perm[i];
      perm[i] = perm[j];
      perm[j] = tmp;
    }
    for (size_t b0 = 0; b0 < n_train; b0 += B) {
      size_t nb = n_train - b0 < B ? n_train - b0 : B;
      for (size_t i = 0; i < nb; i++) {
        size_t r = perm[b0 + i];
        xb[2 * i] = Xtr[2 * r];
        xb[2 * i + 1] = Xtr[2 * r + 1];
        yb[i] = Ytr[r];
      }
      double loss;
      if ((st = train_step(t, p, m, opt, xb, yb, nb, lr, &loss)) != EQG_OK) {
        eqg_cli_progress_end(&pb);
        eqg_error_prefix(st, "epoch %zu: ", e + 1);
        goto fail;
      }
    }
    if ((st = evaluate(t, p, m, Xtr, Ytr, n_train, pred_tr, &mse_tr)) ||
        (st = evaluate(t, p, m, Xte, Yte, n_test, pred_te, &mse_te))) {
      eqg_cli_progress_end(&pb);
      goto fail;
    }
    h_epoch[e] = (double)(e + 1);
    h_train[e] = mse_tr;
    h_test[e] = mse_te;
    h_lr[e] = lr;
    if ((e + 1) % every == 0 || e + 1 == E) table_row(&pb, (long)e + 1, mse_tr, mse_te, lr);
    eqg_cli_progress_update(&pb, e + 1, "train %.2e test %.2e", mse_tr, mse_te);
  }
  eqg_cli_progress_end(&pb);
  double train_seconds = eqg_cli_now() - t_train;

  /* Checkpoint, then reload it into a fresh model. */
  eqg_checkpoint_meta meta = { .seed = o.seed, .step = opt->step, .epoch = o.epochs };
  snprintf(meta.model_type, sizeof meta.model_type, "mlp");
  snprintf(meta.model_config, sizeof meta.model_config, "%s", model_config);
  snprintf(meta.program, sizeof meta.program, "%s", pv.program);
  if ((st = eqg_checkpoint_save(o.checkpoint, p, opt, &meta)) != EQG_OK) goto fail;
  st = check_round_trip(o.checkpoint, &cfg, p, opt, &meta, Xte, Yte, pred_te, t);
  if (st != EQG_OK) {
    printf("\ncheckpoint round trip: FAILED\n");
    goto fail;
  }

  if ((st = write_results(o.out, &pv, &o, model_config, eqg_params_count(p), opt->step, E,
                          h_epoch, h_train, h_test, h_lr)) != EQG_OK ||
      (st = write_csv(csv, E, h_epoch, h_train, h_test, h_lr)) != EQG_OK)
    goto fail;

  printf("\nfinal       train MSE %.4e   test MSE %.4e   (test MSE at start %.4e)\n",
         mse_tr, mse_te, initial_test);
  printf("time        %.2f s training (%ld steps, %.1f us/step incl. evaluation), "
         "%.2f s total\n", train_seconds, opt->step,
         1e6 * train_seconds / (double)opt->step, eqg_cli_now() - t_start);
  printf("checkpoint  %s (step %ld, epoch %ld)\n", o.checkpoint, meta.step, meta.epoch);
  printf("checkpoint round trip: bitwise identical\n");
  printf("results     %s, %s\n", o.out, csv);
  rc = 0;
  goto done;

fail:
  fprintf(stderr, "demo_fit: %s\n", eqg_error_message());
  rc = 1;
done:
  eqg_optim_free(opt);
  eqg_mlp_free(m);
  eqg_tape_free(t);
  eqg_params_free(p);
  gsl_rng_free(rng);
  eqg_cli_provenance_clear(&pv);
  free(Xtr); free(Ytr); free(Xte); free(Yte); free(xb); free(yb);
  free(pred_tr); free(pred_te);
  free(h_epoch); free(h_train); free(h_test); free(h_lr);
  free(perm); free(widths); free(csv);
  return rc;
}
