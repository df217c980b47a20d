/* toptag.c: train one top tagger (LorentzNet, EGNN, the generic GNN, PFN,
 * ParticleNet or VecNet) on the top-tagging HDF5 files of jets_gen (or the
 * real dataset in the same layout) with LorentzNet's input conventions and
 * protocol, and test the best-validation-accuracy parameters.
 *
 * The protocol (inputs, batches, schedule, checkpoints, resume) lives in
 * common/eqg_toptag_train.c, shared with toptag_boost and toptag_sweep.
 * With the same options and --threads every number is bitwise reproducible,
 * also across --stop-after / --resume (meson test toptag_resume). */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eqg_toptag_train.h"

static const char PROG[] = "toptag";

enum { QUICK_TRAIN = 64, QUICK_EVAL = 48, QUICK_EPOCHS = 2, QUICK_BATCH = 16,
       QUICK_CONSTITUENTS = 12 };

typedef struct options {
  unsigned long seed;
  eqg_tt_model_kind model;
  long n_train, n_valid, n_test, epochs, warmup, batch, stop_after, threads, knn;
  long width, depth, max_constituents;
  double train_fraction, lr, weight_decay, vec_fraction, p_scale, augment_beta;
  bool quick, resume, no_beams, augment_beams;
  eqg_tt_features features;
  eqg_tt_schedule schedule;
  const char *datadir, *file[3], *out, *checkpoint, *best;
  char path[3][EQG_TT_PATH_MAX], out_buf[256], ckpt_buf[256], best_buf[256];
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: toptag [OPTION]...\n"
"Train one top tagger on DIR/{train,valid,test}.h5 (jets_gen output, or the\n"
"real Top Tagging dataset in the LGN/LorentzNet layout) with LorentzNet's\n"
"conventions: beam nodes (sqrt 2, 0, 0, +-1) prepended, node scalars\n"
"psi([m_i, 0]) / psi([0, 1]) for beams, four-momenta in GeV (divided by\n"
"--p-scale), cross-entropy, AdamW (lr 1e-3, weight decay 0.01), linear\n"
"warm-up then cosine decay per step, the hardest --max-constituents\n"
"constituents; the parameters of the best validation accuracy are tested:\n"
"accuracy, AUC, 1/eps_B at eps_S = 0.3 and 0.5 (interpolated and the\n"
"reference code's nearest ROC point), parameters, ant factor.\n"
"\n"
"Models (--model; sizes in lib/models/eqg_model.h):\n"
"  lorentznet   LGEB x 6, width 72 (224,072 parameters), raw GeV\n"
"  egnn         EGNN x 4, width 64, four-momenta as points of R^4: Euclidean\n"
"               |p_i - p_j|^2 (116,738), momenta / 100 GeV\n"
"  egnn_minkowski  the same with the Minkowski square (p_i - p_j)^2:\n"
"               Lorentz-equivariant (ablation; 116,738), raw GeV\n"
"  gnn          generic GNN x 4, width 64, sum aggregation, --features as\n"
"               node features (104,066)\n"
"  pfn          Deep Sets / PFN, 2 blocks of width 128, sum pooling (83,714)\n"
"  particlenet  EdgeConv x 3, width 64, k = --knn eta-phi neighbours (67,714)\n"
"  vecnet       semi-equivariant VecNet x 4, width 64, 4 vector channels,\n"
"               --vec-fraction of them equivariant (default 0.5; 112,034);\n"
"               raw GeV, the unconstrained channels enter through psi\n"
"  (gnn, pfn and particlenet see jet-relative standardised features by\n"
"  default, as the reference PFN / ParticleNet: see --features)\n"
"\n", f);
  fputs(
"Options:\n"
"  -h, --help             show this help and exit\n"
"      --model NAME       one of the models above (default lorentznet)\n"
"      --seed N           initialisation, shuffles, dropout, augmentation\n"
"                         (default 1)\n"
"      --datadir DIR      directory of train.h5, valid.h5, test.h5 (default .)\n"
"      --train-file F, --valid-file F, --test-file F   override one file\n"
"      --n-train N        first N training jets (default all; --quick 64)\n"
"      --train-fraction X use the first fraction X in (0, 1] of the training\n"
"                         jets (sample-efficiency study; not with --n-train)\n"
"      --n-valid N        first N validation jets (default all; --quick 48)\n"
"      --n-test N         first N test jets (default all; --quick 48)\n"
"      --max-constituents K  keep the K hardest constituents, 1..10000\n"
"                         (default 50; --quick 12)\n"
"      --epochs N         epochs (default 35, LorentzNet; --quick 2)\n"
"      --warmup N         epochs of linear warm-up, < --epochs (default\n"
"                         epochs / 7: 5 of 35)\n"
"      --schedule KIND    cosine (default): per step, warm-up then one cosine\n"
"                         decay to 0; lorentznet: per epoch as the reference\n"
"                         code, warm-up, cosine warm restarts (T0 4, T_mult 2),\n"
"                         the rate halved every epoch from epoch 33 on\n"
"      --batch N          minibatch, 2..n-train (default 32; --quick 16);\n"
"                         the last incomplete batch of an epoch is dropped\n"
"      --lr X             peak learning rate (default 1e-3)\n"
"      --weight-decay X   AdamW decoupled weight decay (default 0.01)\n"
"      --width N, --depth N   override the preset's width / number of blocks\n"
"      --vec-fraction X   vecnet: equivariant fraction of the vector channels,\n"
"                         0 (unconstrained) .. 1 (fully equivariant)\n"
"      --p-scale GEV      momenta are divided by GEV before the model (default\n"
"                         1 for lorentznet, vecnet and egnn_minkowski, 100 for\n"
"                         the others)\n"
"      --knn K            particlenet: neighbours in (eta, phi) (default 16)\n"
"      --features KIND    gnn, pfn, particlenet: rel (default, as the reference\n"
"                         PFN and ParticleNet inputs: 4 Delta eta, 4 Delta phi\n"
"                         to the jet axis, 0.7 (log pT/pT_jet + 4.7),\n"
"                         0.7 (log E/E_jet + 4.7), weaver's standardisation)\n"
"                         or p4 (the four-momenta / --p-scale as features,\n"
"                         LorentzNet's convention; learns far more slowly)\n"
"      --no-beams         do not prepend the beam nodes\n"
"      --augment-boost B  boost every training jet along a random direction\n"
"                         with beta ~ U[0, B], 0 <= B < 1 (default 0: off)\n"
"      --augment-beams    boost the beam nodes with the jet (default: fixed)\n"
"      --checkpoint FILE  running checkpoint, every epoch, atomic (default\n"
"                         toptag_<model>.ckpt.h5)\n"
"      --best FILE        best-validation checkpoint, for toptag_boost\n"
"                         (default toptag_<model>.best.h5)\n"
"      --resume           continue from --checkpoint (same settings); the\n"
"                         result is bitwise that of an uninterrupted run\n"
"      --stop-after N     stop after epoch N (checkpoint saved), as if killed\n"
"      --threads N        BLAS/OpenMP threads (default 1)\n"
"      --quick            tiny CI run on jets_gen --quick files\n"
"      --out FILE.h5      results (default toptag_<model>.h5), FILE.csv (one row\n"
"                         per epoch) and FILE_roc.csv (test ROC) beside it\n"
"\n"
"Output: settings, a table per epoch (lr, train loss and accuracy, validation\n"
"loss, accuracy and AUC; * marks the best) and the test metrics on stdout; a\n"
"progress bar with loss, accuracy, ms per step and ETA on stderr when it is a\n"
"terminal.  Exit status: 0 success, 1 missing/corrupt data, I/O failure,\n"
"mismatching checkpoint or divergence, 2 bad options.\n", f);
}

static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_SEED = 256, O_MODEL, O_DATADIR, O_TRAIN_FILE, O_VALID_FILE, O_TEST_FILE, O_N_TRAIN,
         O_FRACTION, O_N_VALID, O_N_TEST, O_MAXC, O_EPOCHS, O_WARMUP, O_BATCH, O_LR, O_WD,
         O_WIDTH, O_DEPTH, O_VECF, O_PSCALE, O_KNN, O_FEATURES, O_NO_BEAMS, O_AUG, O_AUG_BEAMS, O_CKPT,
         O_BEST, O_RESUME, O_STOP, O_THREADS, O_QUICK, O_OUT, O_SCHEDULE };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "seed", required_argument, NULL, O_SEED },
    { "model", required_argument, NULL, O_MODEL },
    { "datadir", required_argument, NULL, O_DATADIR },
    { "train-file", required_argument, NULL, O_TRAIN_FILE },
    { "valid-file", required_argument, NULL, O_VALID_FILE },
    { "test-file", required_argument, NULL, O_TEST_FILE },
    { "n-train", required_argument, NULL, O_N_TRAIN },
    { "train-fraction", required_argument, NULL, O_FRACTION },
    { "n-valid", required_argument, NULL, O_N_VALID },
    { "n-test", required_argument, NULL, O_N_TEST },
    { "max-constituents", required_argument, NULL, O_MAXC },
    { "epochs", required_argument, NULL, O_EPOCHS },
    { "warmup", required_argument, NULL, O_WARMUP },
    { "schedule", required_argument, NULL, O_SCHEDULE },
    { "batch", required_argument, NULL, O_BATCH },
    { "lr", required_argument, NULL, O_LR },
    { "weight-decay", required_argument, NULL, O_WD },
    { "width", required_argument, NULL, O_WIDTH },
    { "depth", required_argument, NULL, O_DEPTH },
    { "vec-fraction", required_argument, NULL, O_VECF },
    { "p-scale", required_argument, NULL, O_PSCALE },
    { "knn", required_argument, NULL, O_KNN },
    { "features", required_argument, NULL, O_FEATURES },
    { "no-beams", no_argument, NULL, O_NO_BEAMS },
    { "augment-boost", required_argument, NULL, O_AUG },
    { "augment-beams", no_argument, NULL, O_AUG_BEAMS },
    { "checkpoint", required_argument, NULL, O_CKPT },
    { "best", required_argument, NULL, O_BEST },
    { "resume", no_argument, NULL, O_RESUME },
    { "stop-after", required_argument, NULL, O_STOP },
    { "threads", required_argument, NULL, O_THREADS },
    { "quick", no_argument, NULL, O_QUICK },
    { "out", required_argument, NULL, O_OUT },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .seed = 1, .model = EQG_TT_LORENTZNET, .epochs = 35, .warmup = -1,
                  .batch = 32, .threads = 1, .knn = 16, .max_constituents = 50, .lr = 1e-3,
                  .weight_decay = 0.01, .vec_fraction = -1, .p_scale = -1, .datadir = ".",
                  .features = EQG_TT_FEATURES_COUNT /* unset: the model's default */ };
  bool set_valid = false, set_test = false, set_train = false, set_epochs = false,
       set_batch = false, set_maxc = false;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_SEED: st = eqg_cli_parse_ulong("--seed", optarg, 0, 4294967295UL, &o->seed); break;
    case O_MODEL:
      if ((st = eqg_tt_model_find(optarg, &o->model)) != EQG_OK)
        st = eqg_error_prefix(st, "--model: ");
      break;
    case O_DATADIR: o->datadir = optarg; break;
    case O_TRAIN_FILE: o->file[0] = optarg; break;
    case O_VALID_FILE: o->file[1] = optarg; break;
    case O_TEST_FILE: o->file[2] = optarg; break;
    case O_N_TRAIN:
      st = eqg_cli_parse_long("--n-train", optarg, 2, 100000000, &o->n_train);
      set_train = true;
      break;
    case O_FRACTION:
      st = eqg_cli_parse_double("--train-fraction", optarg, 0, 1, &o->train_fraction);
      if (st == EQG_OK && !(o->train_fraction > 0))
        st = eqg_error_set(EQG_EINVAL, "--train-fraction: %s must be positive", optarg);
      break;
    case O_N_VALID:
      st = eqg_cli_parse_long("--n-valid", optarg, 1, 100000000, &o->n_valid);
      set_valid = true;
      break;
    case O_N_TEST:
      st = eqg_cli_parse_long("--n-test", optarg, 1, 100000000, &o->n_test);
      set_test = true;
      break;
    case O_MAXC:
      st = eqg_cli_parse_long("--max-constituents", optarg, 1, 10000, &o->max_constituents);
      set_maxc = true;
      break;
    case O_EPOCHS:
      st = eqg_cli_parse_long("--epochs", optarg, 1, 1000000, &o->epochs);
      set_epochs = true;
      break;
    case O_WARMUP: st = eqg_cli_parse_long("--warmup", optarg, 0, 1000000, &o->warmup); break;
    case O_SCHEDULE: {
      int k = 0;
      st = eqg_cli_parse_choice("--schedule", optarg, eqg_tt_schedule_name,
                                EQG_TT_SCHEDULE_COUNT, &k);
      o->schedule = (eqg_tt_schedule)k;
      break;
    }
    case O_BATCH:
      st = eqg_cli_parse_long("--batch", optarg, 2, 1000000, &o->batch);
      set_batch = true;
      break;
    case O_LR:
      st = eqg_cli_parse_double("--lr", optarg, 0, 1, &o->lr);
      if (st == EQG_OK && !(o->lr > 0))
        st = eqg_error_set(EQG_EINVAL, "--lr: %s must be positive", optarg);
      break;
    case O_WD: st = eqg_cli_parse_double("--weight-decay", optarg, 0, 10, &o->weight_decay); break;
    case O_WIDTH: st = eqg_cli_parse_long("--width", optarg, 1, 4096, &o->width); break;
    case O_DEPTH: st = eqg_cli_parse_long("--depth", optarg, 1, 64, &o->depth); break;
    case O_VECF: st = eqg_cli_parse_double("--vec-fraction", optarg, 0, 1, &o->vec_fraction); break;
    case O_PSCALE:
      st = eqg_cli_parse_double("--p-scale", optarg, 0, 1e6, &o->p_scale);
      if (st == EQG_OK && !(o->p_scale > 0))
        st = eqg_error_set(EQG_EINVAL, "--p-scale: %s must be positive", optarg);
      break;
    case O_KNN: st = eqg_cli_parse_long("--knn", optarg, 1, 1000, &o->knn); break;
    case O_FEATURES:
      if (strcmp(optarg, "p4") == 0) o->features = EQG_TT_FEATURES_P4;
      else if (strcmp(optarg, "rel") == 0) o->features = EQG_TT_FEATURES_REL;
      else st = eqg_error_set(EQG_EINVAL, "--features: '%s' is not p4 or rel", optarg);
      break;
    case O_NO_BEAMS: o->no_beams = true; break;
    case O_AUG:
      st = eqg_cli_parse_double("--augment-boost", optarg, 0, 1, &o->augment_beta);
      if (st == EQG_OK && !(o->augment_beta < 1))
        st = eqg_error_set(EQG_EINVAL, "--augment-boost: %s must be below 1", optarg);
      break;
    case O_AUG_BEAMS: o->augment_beams = true; break;
    case O_CKPT: o->checkpoint = optarg; break;
    case O_BEST: o->best = optarg; break;
    case O_RESUME: o->resume = true; break;
    case O_STOP: st = eqg_cli_parse_long("--stop-after", optarg, 1, 1000000, &o->stop_after); break;
    case O_THREADS: st = eqg_cli_parse_long("--threads", optarg, 1, 1024, &o->threads); break;
    case O_QUICK: o->quick = true; break;
    case O_OUT: o->out = optarg; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (o->quick) {
    if (!set_train && o->train_fraction == 0) o->n_train = QUICK_TRAIN;
    if (!set_valid) o->n_valid = QUICK_EVAL;
    if (!set_test) o->n_test = QUICK_EVAL;
    if (!set_epochs) o->epochs = QUICK_EPOCHS;
    if (!set_batch) o->batch = QUICK_BATCH;
    if (!set_maxc) o->max_constituents = QUICK_CONSTITUENTS;
  }
  if (set_train && o->train_fraction > 0)
    return eqg_cli_usage_error(PROG, "--n-train and --train-fraction exclude each other");
  if (o->warmup < 0) o->warmup = o->epochs / 7;
  if (o->warmup >= o->epochs)
    return eqg_cli_usage_error(PROG, "--warmup: %ld must be below --epochs %ld", o->warmup,
                               o->epochs);
  if (o->vec_fraction >= 0 && o->model != EQG_TT_VECNET)
    return eqg_cli_usage_error(PROG, "--vec-fraction is a vecnet option (--model vecnet)");
  if (o->p_scale < 0) o->p_scale = eqg_tt_inputs_default(o->model).p_scale;
  if (o->features == EQG_TT_FEATURES_COUNT) o->features = eqg_tt_inputs_default(o->model).features;
  const eqg_tt_inputs in = { .beams = !o->no_beams, .knn = (int)o->knn, .p_scale = o->p_scale,
                             .features = o->features };
  if (eqg_tt_inputs_check(o->model, &in) != EQG_OK)
    return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  if (eqg_tt_data_paths(o->path, o->datadir, o->file) != EQG_OK)
    return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  const char *name = eqg_tt_model_name(o->model);
  if (!o->out) {
    snprintf(o->out_buf, sizeof o->out_buf, "toptag_%s.h5", name);
    o->out = o->out_buf;
  }
  if (!o->checkpoint) {
    snprintf(o->ckpt_buf, sizeof o->ckpt_buf, "toptag_%s.ckpt.h5", name);
    o->checkpoint = o->ckpt_buf;
  }
  if (!o->best) {
    snprintf(o->best_buf, sizeof o->best_buf, "toptag_%s.best.h5", name);
    o->best = o->best_buf;
  }
  if (!*o->out || !*o->checkpoint || !*o->best)
    return eqg_cli_usage_error(PROG, "--out, --checkpoint and --best need file names");
  if (!strcmp(o->out, o->checkpoint) || !strcmp(o->out, o->best) ||
      !strcmp(o->checkpoint, o->best))
    return eqg_cli_usage_error(PROG, "--out, --checkpoint and --best must name three files");
  return -1;
}

typedef struct run_ctx {
  const options *o;
  const eqg_cli_provenance *pv;
  const char *csv, *roc_csv;
  size_t n[3], n_sig[3];
  size_t P;
} run_ctx;

static eqg_status write_csv(const char *path, const eqg_tt_result *r)
{
  eqg_cli_csv *c = eqg_cli_csv_open(path, "epoch,lr,train_loss,train_acc,valid_loss,valid_acc,"
                                    "valid_auc");
  if (!c) return EQG_EIO;
  for (size_t i = 0; i < r->n; i++)
    if (eqg_cli_csv_row(c, "%.0f,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g", r->epoch[i], r->lr[i],
                        r->train_loss[i], r->train_acc[i], r->valid_loss[i], r->valid_acc[i],
                        r->valid_auc[i]) != EQG_OK) {
      eqg_cli_csv_discard(c);
      return EQG_EIO;
    }
  return eqg_cli_csv_close(c);
}

static eqg_status write_results(const run_ctx *x, const eqg_tt_result *r)
{
  const options *o = x->o;
  char digest[32];
  snprintf(digest, sizeof digest, "fnv1a64:%016" PRIx64, r->digest);
  const eqg_binary_metrics *t = &r->test;
  const double nan = NAN;
  hid_t f;
  char *tmp;
  eqg_status st = eqg_h5_create_tmp(o->out, &f, &tmp);
  if (st != EQG_OK) return st;
  if ((st = eqg_cli_provenance_write(f, x->pv)) ||
      (st = eqg_h5_write_attr_string(f, "task", "top tagging: top (1) vs QCD (0) jets, "
                                     "LorentzNet input conventions")) ||
      (st = eqg_h5_write_attr_string(f, "model", eqg_tt_model_name(o->model))) ||
      (st = eqg_h5_write_attr_string(f, "model_config", r->model_config)) ||
      (st = eqg_h5_write_attr_ulong(f, "n_params", (unsigned long)r->n_params)) ||
      (st = eqg_h5_write_attr_int(f, "complete", r->tested)) ||
      (st = eqg_h5_write_attr_long(f, "epochs", o->epochs)) ||
      (st = eqg_h5_write_attr_long(f, "epochs_done", r->epoch_done)) ||
      (st = eqg_h5_write_attr_long(f, "warmup", o->warmup)) ||
      (st = eqg_h5_write_attr_long(f, "steps", r->step)) ||
      (st = eqg_h5_write_attr_long(f, "batch", o->batch)) ||
      (st = eqg_h5_write_attr_double(f, "lr", o->lr)) ||
      (st = eqg_h5_write_attr_double(f, "weight_decay", o->weight_decay)) ||
      (st = eqg_h5_write_attr_string(f, "optimizer", "adamw")) ||
      (st = eqg_h5_write_attr_string(f, "schedule", eqg_tt_schedule_name[o->schedule])) ||
      (st = eqg_h5_write_attr_double(f, "p_scale", o->p_scale)) ||
      (st = eqg_h5_write_attr_int(f, "beams", !o->no_beams)) ||
      (st = eqg_h5_write_attr_string(f, "features", eqg_tt_features_name[o->features])) ||
      (st = eqg_h5_write_attr_long(f, "knn", o->knn)) ||
      (st = eqg_h5_write_attr_long(f, "max_constituents", o->max_constituents)) ||
      (st = eqg_h5_write_attr_ulong(f, "padded_constituents", (unsigned long)x->P)) ||
      (st = eqg_h5_write_attr_double(f, "augment_boost", o->augment_beta)) ||
      (st = eqg_h5_write_attr_int(f, "augment_beams", o->augment_beams)) ||
      (st = eqg_h5_write_attr_double(f, "vec_fraction", o->vec_fraction)) ||
      (st = eqg_h5_write_attr_ulong(f, "n_train", (unsigned long)x->n[0])) ||
      (st = eqg_h5_write_attr_ulong(f, "n_valid", (unsigned long)x->n[1])) ||
      (st = eqg_h5_write_attr_ulong(f, "n_test", (unsigned long)x->n[2])) ||
      (st = eqg_h5_write_attr_ulong(f, "n_train_signal", (unsigned long)x->n_sig[0])) ||
      (st = eqg_h5_write_attr_string(f, "train_file", o->path[0])) ||
      (st = eqg_h5_write_attr_string(f, "valid_file", o->path[1])) ||
      (st = eqg_h5_write_attr_string(f, "test_file", o->path[2])) ||
      (st = eqg_h5_write_attr_string(f, "checkpoint", o->checkpoint)) ||
      (st = eqg_h5_write_attr_string(f, "best_checkpoint", o->best)) ||
      (st = eqg_h5_write_attr_long(f, "threads", o->threads)) ||
      (st = eqg_h5_write_attr_long(f, "best_epoch", r->best_epoch)) ||
      (st = eqg_h5_write_attr_double(f, "best_valid_acc", r->best_epoch ? r->best_valid_acc : nan)) ||
      (st = eqg_h5_write_attr_double(f, "train_seconds", r->train_seconds)) ||
      (st = eqg_h5_write_attr_double(f, "seconds_per_step", r->step_seconds)) ||
      (st = eqg_h5_write_attr_double(f, "test_loss", r->tested ? r->test_loss : nan)) ||
      (st = eqg_h5_write_attr_double(f, "test_accuracy", r->tested ? t->accuracy : nan)) ||
      (st = eqg_h5_write_attr_double(f, "test_auc", r->tested ? t->auc : nan)) ||
      (st = eqg_h5_write_attr_double(f, "test_rej30_interp", r->tested ? t->rej30_interp : nan)) ||
      (st = eqg_h5_write_attr_double(f, "test_rej50_interp", r->tested ? t->rej50_interp : nan)) ||
      (st = eqg_h5_write_attr_double(f, "test_rej30_nearest", r->tested ? t->rej30_nearest : nan)) ||
      (st = eqg_h5_write_attr_double(f, "test_rej50_nearest", r->tested ? t->rej50_nearest : nan)) ||
      (st = eqg_h5_write_attr_double(f, "ant30", r->tested ? r->ant30 : nan)) ||
      (st = eqg_h5_write_attr_double(f, "ant50", r->tested ? r->ant50 : nan)) ||
      (st = eqg_h5_write_attr_string(f, "params_digest", r->tested ? digest : "")))
    goto fail;
  if (r->n &&
      ((st = eqg_h5_write_vector(f, "epoch", r->epoch, r->n)) ||
       (st = eqg_h5_write_vector(f, "lr", r->lr, r->n)) ||
       (st = eqg_h5_write_vector(f, "train_loss", r->train_loss, r->n)) ||
       (st = eqg_h5_write_vector(f, "train_acc", r->train_acc, r->n)) ||
       (st = eqg_h5_write_vector(f, "valid_loss", r->valid_loss, r->n)) ||
       (st = eqg_h5_write_vector(f, "valid_acc", r->valid_acc, r->n)) ||
       (st = eqg_h5_write_vector(f, "valid_auc", r->valid_auc, r->n))))
    goto fail;
  if (r->tested && (st = eqg_h5_write_vector(f, "test_score", r->test_scores, r->n_test)))
    goto fail;
  if ((st = eqg_h5_commit(f, tmp, o->out)) != EQG_OK) return st;
  if ((st = write_csv(x->csv, r)) != EQG_OK) return st;
  if (r->tested) return eqg_tt_write_roc_csv(x->roc_csv, r->test_scores, r->test_labels, r->n_test);
  return EQG_OK;
fail:
  eqg_h5_discard(f, tmp);
  return eqg_error_prefix(st, "results '%s': ", o->out);
}

static eqg_status on_epoch(void *ctx, const eqg_tt_result *partial)
{
  return write_results(ctx, partial);
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;
  eqg_status st = eqg_cli_set_threads(o.threads);
  if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());

  eqg_tt_split split[3] = { { 0 }, { 0 }, { 0 } };
  eqg_tt_result res = { 0 };
  eqg_cli_provenance pv = { .arguments = NULL };
  char *csv = eqg_cli_path_beside(o.out, ".csv"), *roc = eqg_cli_path_beside(o.out, "_roc.csv");
  if (!csv || !roc) {
    fprintf(stderr, "%s: out of memory\n", PROG);
    free(csv);
    free(roc);
    return 1;
  }
  if ((st = eqg_cli_provenance_init(&pv, argc, argv, o.seed)) != EQG_OK) goto fail;
  const long n_req[3] = { o.n_train, o.n_valid, o.n_test };
  for (int k = 0; k < 3; k++)
    if ((st = eqg_tt_split_load(&split[k], o.path[k], (size_t)n_req[k],
                                (size_t)o.max_constituents, o.p_scale)) != EQG_OK) {
      eqg_error_prefix(st, "%s data: ", eqg_tt_split_name[k]);
      goto fail;
    }
  eqg_tt_split train = split[0];
  if (o.train_fraction > 0) {
    size_t nt = (size_t)llround(o.train_fraction * (double)split[0].n);
    if (nt < 2) nt = 2;
    if (nt > split[0].n) nt = split[0].n;
    train = eqg_tt_split_head(&split[0], nt);
  }
  if ((size_t)o.batch > train.n) {
    fprintf(stderr, "%s: --batch %ld is larger than the %zu training jets\n", PROG, o.batch,
            train.n);
    rc = 2;
    goto done;
  }

  eqg_tt_config cfg = eqg_tt_config_default(o.model);
  cfg.model.width = (size_t)o.width;
  cfg.model.depth = (size_t)o.depth;
  cfg.model.vec_fraction = o.vec_fraction;
  cfg.inputs.beams = !o.no_beams;
  cfg.inputs.knn = (int)o.knn;
  cfg.inputs.p_scale = o.p_scale;
  cfg.inputs.features = o.features;
  cfg.max_constituents = (size_t)o.max_constituents;
  cfg.seed = o.seed;
  cfg.lr = o.lr;
  cfg.weight_decay = o.weight_decay;
  cfg.batch = (size_t)o.batch;
  cfg.epochs = o.epochs;
  cfg.warmup = o.warmup;
  cfg.schedule = o.schedule;
  cfg.augment_beta = o.augment_beta;
  cfg.augment_beams = o.augment_beams;
  cfg.checkpoint = o.checkpoint;
  cfg.best = o.best;
  cfg.resume = o.resume;
  cfg.stop_after = o.stop_after;
  cfg.program = pv.program;
  cfg.label = eqg_tt_model_name(o.model);
  cfg.table = true;
  run_ctx ctx = { .o = &o, .pv = &pv, .csv = csv, .roc_csv = roc, .P = split[0].P,
                  .n = { train.n, split[1].n, split[2].n },
                  .n_sig = { eqg_tt_split_n_signal(&train), eqg_tt_split_n_signal(&split[1]),
                             eqg_tt_split_n_signal(&split[2]) } };
  cfg.on_epoch = on_epoch;
  cfg.ctx = &ctx;

  eqg_model *probe = eqg_tt_model_alloc(&cfg.model, o.seed);
  if (!probe) goto fail;
  char describe[1024];
  eqg_model_describe(probe, describe, sizeof describe);
  const size_t n_params = eqg_model_param_count(probe);
  eqg_model_free(probe);
  printf("toptag: %s, %zu parameters (%s)\n", eqg_tt_model_name(o.model), n_params, describe);
  printf("data   train %zu jets (%zu top; %s), valid %zu (%zu top), test %zu (%zu top); at most "
         "%zu constituents\n", train.n, ctx.n_sig[0], o.path[0], split[1].n, ctx.n_sig[1],
         split[2].n, ctx.n_sig[2], split[0].P);
  printf("inputs %s, momenta / %g GeV%s, features %s\n",
         o.no_beams ? "no beams" : "beams (sqrt 2, 0, 0, +-1)", o.p_scale,
         o.model == EQG_TT_PARTICLENET ? ", eta-phi kNN" : "",
         o.features == EQG_TT_FEATURES_REL ? "jet-relative (deta, dphi, log pT/pT_J, log E/E_J; "
                                             "standardised)"
                                           : "four-momenta");
  printf("train  adamw lr %g wd %g, batch %ld (%zu steps/epoch), %ld epochs (%ld warm-up, %s "
         "schedule), augment-boost %g%s, seed %lu, %ld thread%s\n", o.lr, o.weight_decay,
         o.batch, train.n / (size_t)o.batch, o.epochs, o.warmup,
         eqg_tt_schedule_name[o.schedule], o.augment_beta,
         o.augment_beams ? " (beams too)" : "", o.seed, o.threads, o.threads == 1 ? "" : "s");
  printf("files  checkpoint %s%s, best %s, results %s, %s, %s\n\n", o.checkpoint,
         o.resume ? " (resuming)" : "", o.best, o.out, csv, roc);
  fflush(stdout);

  if ((st = eqg_tt_train(&res, &cfg, &train, &split[1], &split[2])) != EQG_OK) goto fail;
  if ((st = write_results(&ctx, &res)) != EQG_OK) goto fail;

  printf("\n");
  if (res.stopped) {
    printf("stopped after epoch %ld of %ld (--stop-after); continue with --resume\n",
           res.epoch_done, o.epochs);
  } else {
    const eqg_binary_metrics *t = &res.test;
    printf("%-11s %8s %5s %8s %8s %10s %10s %10s %10s %9s %8s\n", "model", "params", "best",
           "acc", "AUC", "1/eB@0.3i", "1/eB@0.3n", "1/eB@0.5i", "1/eB@0.5n", "ant@0.3", "ms/step");
    printf("%-11s %8zu %5ld %8.4f %8.4f %10.2f %10.2f %10.2f %10.2f %9.3g %8.1f\n",
           eqg_tt_model_name(o.model), res.n_params, res.best_epoch, t->accuracy, t->auc,
           t->rej30_interp, t->rej30_nearest, t->rej50_interp, t->rej50_nearest, res.ant30,
           1e3 * res.step_seconds);
  }
  printf("time   %.1f s this run, %.1f s over the whole run\n", res.seconds_this_run,
         res.train_seconds);
  printf("exact  epoch=%ld best_epoch=%ld best_valid_acc=%.17g test_acc=%.17g test_auc=%.17g "
         "params=fnv1a64:%016" PRIx64 "\n", res.epoch_done, res.best_epoch, res.best_valid_acc,
         res.tested ? res.test.accuracy : NAN, res.tested ? res.test.auc : NAN, res.digest);
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "%s: %s\n", PROG, eqg_error_message());
  rc = 1;
done:
  for (int k = 0; k < 3; k++) eqg_tt_split_clear(&split[k]);
  eqg_tt_result_clear(&res);
  eqg_cli_provenance_clear(&pv);
  free(csv);
  free(roc);
  return rc;
}
