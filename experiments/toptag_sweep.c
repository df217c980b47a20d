/* toptag_sweep.c: the top-tagging studies, many trainings in one process
 * (common/eqg_toptag_train.c, the same protocol as toptag):
 *
 *   --study fraction  sample efficiency: each model trained on the first
 *                     fraction f of the training jets, f in --values
 *                     (default 0.005, 0.01, 0.05, 0.1, 1), --seeds seeds each;
 *                     test accuracy and AUC, mean +- std over seeds
 *   --study width     power-to-weight: each model at the widths in --values
 *                     (default 8, 16, 32, 64): 1/eps_B at eps_S = 0.3 against
 *                     the parameter count, and the ant factor (1/eps_B)/params
 *   --study vecnet    the VecNet knob: the equivariant fraction of the vector
 *                     channels in --values (default 0, 0.25, 0.5, 0.75, 1)
 *
 * Every run's test metrics are in the HDF5 file and the CSV (one row per run),
 * the mean and sample standard deviation over seeds in the summary CSV (one
 * row per model and value), all rewritten atomically after every run so a
 * long sweep can be watched.  Seeds are --seed, --seed + 1, ...
 *
 * --resume takes over the runs already in the results file (a prefix of the
 * plan model x value x seed, written with the same settings: the "settings"
 * attribute) and trains only the rest; every run is deterministic, so the
 * result equals that of an uninterrupted sweep (meson test
 * toptag_sweep_resume; only the timing columns differ).  A run is the unit:
 * one killed mid-training is trained again from its start. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eqg_toptag_train.h"

static const char PROG[] = "toptag_sweep";

enum { MAX_MODELS = EQG_TT_MODEL_COUNT, MAX_VALUES = 32 };

typedef enum study { STUDY_FRACTION, STUDY_WIDTH, STUDY_VECNET, STUDY_COUNT } study;
static const char *const study_names[STUDY_COUNT] = { "fraction", "width", "vecnet" };
static const char *const value_names[STUDY_COUNT] = { "train_fraction", "width",
                                                      "equivariant_fraction" };

typedef struct options {
  study study;
  eqg_tt_model_kind models[MAX_MODELS];
  size_t n_models;
  double values[MAX_VALUES];
  size_t n_values;
  unsigned long seed;
  long seeds, n_train, n_valid, n_test, epochs, warmup, batch, max_constituents, threads;
  long stop_after;         /* trainings of this invocation before stopping; 0: all */
  bool quick, resume;
  eqg_tt_features features;
  const char *datadir, *file[3], *out;
  char path[3][EQG_TT_PATH_MAX];
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: toptag_sweep --study fraction|width|vecnet [OPTION]...\n"
"Top-tagging studies on DIR/{train,valid,test}.h5, every run with toptag's\n"
"protocol (LorentzNet inputs, AdamW, warm-up + cosine, best validation\n"
"accuracy tested):\n"
"  fraction  sample efficiency: models trained on a fraction of the training\n"
"            jets (--values, default 0.005,0.01,0.05,0.1,1)\n"
"  width     power-to-weight: models at several widths (--values, default\n"
"            8,16,32,64): 1/eps_B(0.3) against parameters, ant factor\n"
"  vecnet    the VecNet knob, equivariant fraction of the vector channels\n"
"            (--values, default 0,0.25,0.5,0.75,1; --models is vecnet)\n"
"\n"
"Options:\n"
"  -h, --help             show this help and exit\n"
"      --study NAME       fraction, width or vecnet (required)\n"
"      --models LIST      comma-separated (default lorentznet,pfn,particlenet;\n"
"                         --study vecnet: vecnet)\n"
"      --values LIST      comma-separated values of the swept quantity\n"
"      --seeds N          trainings per point, seeds --seed .. --seed + N - 1\n"
"                         (default 3)\n"
"      --seed N           first seed (default 1)\n"
"      --datadir DIR      directory of train.h5, valid.h5, test.h5 (default .)\n"
"      --train-file F, --valid-file F, --test-file F   override one file\n"
"      --n-train N        training jets before the fraction (default all)\n"
"      --n-valid N, --n-test N   evaluation jets (default all)\n"
"      --max-constituents K  hardest constituents kept (default 20)\n"
"      --features KIND    p4 or rel (jet-relative, standardised) for every\n"
"                         model (as toptag --features); default: each model's\n"
"                         own (rel for gnn, pfn, particlenet; p4 otherwise)\n"
"      --epochs N         epochs per training (default 10)\n"
"      --warmup N         warm-up epochs (default epochs / 7)\n"
"      --batch N          minibatch (default 32; smaller training sets use\n"
"                         min(batch, n_train))\n"
"      --threads N        BLAS/OpenMP threads (default 1)\n"
"      --resume           keep the runs already in --out (same settings) and\n"
"                         train only the missing ones; the results equal an\n"
"                         uninterrupted sweep's (a killed training restarts)\n"
"      --stop-after N     stop after N trainings, as if killed (for --resume)\n"
"      --quick            tiny CI run (2 values, 2 seeds, 1 epoch, small sets)\n"
"      --out FILE.h5      results (default toptag_sweep_<study>.h5), FILE.csv\n"
"                         (one row per run), FILE_summary.csv (mean, std)\n"
"\n"
"Plots: gnuplot -e \"csv='toptag_sweep_fraction_summary.csv'\" plots/toptag_sweep_fraction.gp\n"
"       (likewise _width and _vecnet)\n"
"Exit status: 0 success, 1 I/O, data or training failure, 2 bad options.\n", f);
}

static eqg_status parse_values(const char *s, options *o)
{
  o->n_values = 0;
  const char *p = s;
  while (p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    char buf[64], *end;
    if (len == 0 || len >= sizeof buf) return eqg_error_set(EQG_EINVAL, "--values: bad list '%s'", s);
    memcpy(buf, p, len);
    buf[len] = 0;
    double v = strtod(buf, &end);
    if (*end || !isfinite(v)) return eqg_error_set(EQG_EINVAL, "--values: '%s' is not a number", buf);
    if (o->n_values == MAX_VALUES) return eqg_error_set(EQG_EINVAL, "--values: more than %d", MAX_VALUES);
    o->values[o->n_values++] = v;
    p = comma ? comma + 1 : NULL;
  }
  return EQG_OK;
}

static eqg_status check_values(const options *o)
{
  for (size_t i = 0; i < o->n_values; i++) {
    const double v = o->values[i];
    if (o->study == STUDY_FRACTION && !(v > 0 && v <= 1))
      return eqg_error_set(EQG_EINVAL, "--values: training fraction %g outside (0, 1]", v);
    if (o->study == STUDY_WIDTH && !(v >= 1 && v <= 4096 && v == floor(v)))
      return eqg_error_set(EQG_EINVAL, "--values: width %g is not an integer in 1..4096", v);
    if (o->study == STUDY_VECNET && !(v >= 0 && v <= 1))
      return eqg_error_set(EQG_EINVAL, "--values: equivariant fraction %g outside [0, 1]", v);
  }
  return EQG_OK;
}

static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_STUDY = 256, O_MODELS, O_VALUES, O_SEEDS, O_SEED, O_DATADIR, O_TRAIN_FILE,
         O_VALID_FILE, O_TEST_FILE, O_N_TRAIN, O_N_VALID, O_N_TEST, O_MAXC, O_EPOCHS, O_WARMUP,
         O_BATCH, O_THREADS, O_QUICK, O_OUT, O_FEATURES, O_RESUME, O_STOP };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "study", required_argument, NULL, O_STUDY },
    { "models", required_argument, NULL, O_MODELS },
    { "values", required_argument, NULL, O_VALUES },
    { "seeds", required_argument, NULL, O_SEEDS },
    { "seed", required_argument, NULL, O_SEED },
    { "datadir", required_argument, NULL, O_DATADIR },
    { "train-file", required_argument, NULL, O_TRAIN_FILE },
    { "valid-file", required_argument, NULL, O_VALID_FILE },
    { "test-file", required_argument, NULL, O_TEST_FILE },
    { "n-train", required_argument, NULL, O_N_TRAIN },
    { "n-valid", required_argument, NULL, O_N_VALID },
    { "n-test", required_argument, NULL, O_N_TEST },
    { "max-constituents", required_argument, NULL, O_MAXC },
    { "epochs", required_argument, NULL, O_EPOCHS },
    { "warmup", required_argument, NULL, O_WARMUP },
    { "batch", required_argument, NULL, O_BATCH },
    { "threads", required_argument, NULL, O_THREADS },
    { "quick", no_argument, NULL, O_QUICK },
    { "resume", no_argument, NULL, O_RESUME },
    { "stop-after", required_argument, NULL, O_STOP },
    { "features", required_argument, NULL, O_FEATURES },
    { "out", required_argument, NULL, O_OUT },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .study = STUDY_COUNT, .seed = 1, .seeds = 3, .epochs = 10, .warmup = -1,
                  .batch = 32, .max_constituents = 20, .threads = 1, .datadir = ".",
                  .features = EQG_TT_FEATURES_COUNT /* unset: each model's default */ };
  const char *models = NULL, *values = NULL;
  bool set_seeds = false, set_epochs = false, set_maxc = false;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_STUDY: {
      int k = STUDY_COUNT;   /* unset, as before the option */
      st = eqg_cli_parse_choice("--study", optarg, study_names, STUDY_COUNT, &k);
      o->study = (study)k;
      break;
    }
    case O_MODELS: models = optarg; break;
    case O_VALUES: values = optarg; break;
    case O_SEEDS:
      st = eqg_cli_parse_long("--seeds", optarg, 1, 1000, &o->seeds);
      set_seeds = true;
      break;
    case O_SEED: st = eqg_cli_parse_ulong("--seed", optarg, 0, 4294966295UL, &o->seed); break;
    case O_DATADIR: o->datadir = optarg; break;
    case O_TRAIN_FILE: o->file[0] = optarg; break;
    case O_VALID_FILE: o->file[1] = optarg; break;
    case O_TEST_FILE: o->file[2] = optarg; break;
    case O_N_TRAIN: st = eqg_cli_parse_long("--n-train", optarg, 2, 100000000, &o->n_train); break;
    case O_N_VALID: st = eqg_cli_parse_long("--n-valid", optarg, 1, 100000000, &o->n_valid); break;
    case O_N_TEST: st = eqg_cli_parse_long("--n-test", optarg, 1, 100000000, &o->n_test); break;
    case O_MAXC:
      st = eqg_cli_parse_long("--max-constituents", optarg, 1, 10000, &o->max_constituents);
      set_maxc = true;
      break;
    case O_EPOCHS:
      st = eqg_cli_parse_long("--epochs", optarg, 1, 1000000, &o->epochs);
      set_epochs = true;
      break;
    case O_WARMUP: st = eqg_cli_parse_long("--warmup", optarg, 0, 1000000, &o->warmup); break;
    case O_BATCH: st = eqg_cli_parse_long("--batch", optarg, 2, 1000000, &o->batch); break;
    case O_THREADS: st = eqg_cli_parse_long("--threads", optarg, 1, 1024, &o->threads); break;
    case O_QUICK: o->quick = true; break;
    case O_RESUME: o->resume = true; break;
    case O_STOP: st = eqg_cli_parse_long("--stop-after", optarg, 1, 1000000, &o->stop_after); break;
    case O_FEATURES:
      if (strcmp(optarg, "p4") == 0) o->features = EQG_TT_FEATURES_P4;
      else if (strcmp(optarg, "rel") == 0) o->features = EQG_TT_FEATURES_REL;
      else st = eqg_error_set(EQG_EINVAL, "--features: '%s' is not p4 or rel", optarg);
      break;
    case O_OUT: o->out = optarg; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (o->study == STUDY_COUNT) return eqg_cli_usage_error(PROG, "--study is required");
  eqg_status st;
  if (!models) models = o->study == STUDY_VECNET ? "vecnet" : o->quick ? "pfn,lorentznet"
                                                                       : "lorentznet,pfn,particlenet";
  if ((st = eqg_tt_model_list(models, o->models, MAX_MODELS, &o->n_models)) != EQG_OK)
    return eqg_cli_usage_error(PROG, "--models: %s", eqg_error_message());
  for (size_t k = 0; k < o->n_models && o->features != EQG_TT_FEATURES_COUNT; k++) {
    eqg_tt_inputs in = eqg_tt_inputs_default(o->models[k]);
    in.features = o->features;
    if (eqg_tt_inputs_check(o->models[k], &in) != EQG_OK)
      return eqg_cli_usage_error(PROG, "--features: %s", eqg_error_message());
  }
  if (o->study == STUDY_VECNET)
    for (size_t k = 0; k < o->n_models; k++)
      if (o->models[k] != EQG_TT_VECNET)
        return eqg_cli_usage_error(PROG, "--study vecnet sweeps the vecnet model only");
  if (!values)
    values = o->quick ? (o->study == STUDY_FRACTION ? "0.5,1" : o->study == STUDY_WIDTH ? "4,8"
                                                                                        : "0,1")
                      : (o->study == STUDY_FRACTION ? "0.005,0.01,0.05,0.1,1"
                         : o->study == STUDY_WIDTH  ? "8,16,32,64" : "0,0.25,0.5,0.75,1");
  if ((st = parse_values(values, o)) != EQG_OK || (st = check_values(o)) != EQG_OK)
    return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  if (o->quick) {
    if (!set_seeds) o->seeds = 2;
    if (!set_epochs) o->epochs = 1;
    if (!set_maxc) o->max_constituents = 10;
    if (!o->n_train) o->n_train = 48;
    if (!o->n_valid) o->n_valid = 32;
    if (!o->n_test) o->n_test = 32;
  }
  if (o->warmup < 0) o->warmup = o->epochs / 7;
  if (o->warmup >= o->epochs)
    return eqg_cli_usage_error(PROG, "--warmup: %ld must be below --epochs %ld", o->warmup,
                               o->epochs);
  if (eqg_tt_data_paths(o->path, o->datadir, o->file) != EQG_OK)
    return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  return -1;
}

/* ---- results --------------------------------------------------------------------- */

typedef struct run_row {
  size_t model;            /* index into options.models */
  double value;
  unsigned long seed;
  size_t n_train, n_params;
  long best_epoch;
  double acc, auc, rej30i, rej50i, rej30n, rej50n, ant30, ant50, seconds, ms_step;
} run_row;

enum { N_METRICS = 6 };   /* summarised: acc, auc, rej30, rej50, ant30, ant50 */

/* The results file's datasets, one value per run (all doubles). */
enum { N_COLS = 16 };
static const char *const cols[N_COLS] = { "model", "value", "seed", "n_train", "n_params",
                                          "best_epoch", "accuracy", "auc", "rej30_interp",
                                          "rej50_interp", "rej30_nearest", "rej50_nearest",
                                          "ant30", "ant50", "seconds", "ms_per_step" };

/* column c of run r */
static double row_get(const run_row *r, int c)
{
  const double v[N_COLS] = { (double)r->model, r->value, (double)r->seed, (double)r->n_train,
                             (double)r->n_params, (double)r->best_epoch, r->acc, r->auc,
                             r->rej30i, r->rej50i, r->rej30n, r->rej50n, r->ant30, r->ant50,
                             r->seconds, r->ms_step };
  return v[c];
}

/* run r <- the N_COLS columns v of one stored run (integers exact below 2^53) */
static run_row row_from(const double v[N_COLS])
{
  return (run_row){ .model = (size_t)v[0], .value = v[1], .seed = (unsigned long)v[2],
                    .n_train = (size_t)v[3], .n_params = (size_t)v[4], .best_epoch = (long)v[5],
                    .acc = v[6], .auc = v[7], .rej30i = v[8], .rej50i = v[9], .rej30n = v[10],
                    .rej50n = v[11], .ant30 = v[12], .ant50 = v[13], .seconds = v[14],
                    .ms_step = v[15] };
}

static double metric_of(const run_row *r, int k)
{
  const double v[N_METRICS] = { r->acc, r->auc, r->rej30i, r->rej50i, r->ant30, r->ant50 };
  return v[k];
}

/* Everything that determines the runs' results, as one malloc'd string (NULL
 * when out of memory): stored with the results and compared by --resume. */
static char *settings_string(const options *o)
{
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  if (!f) return NULL;
  fprintf(f, "study=%s models=", study_names[o->study]);
  for (size_t k = 0; k < o->n_models; k++)
    fprintf(f, "%s%s", k ? "," : "", eqg_tt_model_name(o->models[k]));
  fputs(" values=", f);
  for (size_t k = 0; k < o->n_values; k++) fprintf(f, "%s%.17g", k ? "," : "", o->values[k]);
  fprintf(f, " seed=%lu seeds=%ld n_train=%ld n_valid=%ld n_test=%ld max_constituents=%ld "
          "features=%s epochs=%ld warmup=%ld batch=%ld threads=%ld train=%s valid=%s test=%s",
          o->seed, o->seeds, o->n_train, o->n_valid, o->n_test, o->max_constituents,
          o->features != EQG_TT_FEATURES_COUNT ? eqg_tt_features_name[o->features] : "default",
          o->epochs, o->warmup, o->batch, o->threads, o->path[0], o->path[1], o->path[2]);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static eqg_status write_all(const options *o, const run_row *rows, size_t n,
                            const eqg_cli_provenance *pv, const char *csv, const char *summary)
{
  eqg_status st;
  hid_t f;
  char *tmp;
  if ((st = eqg_h5_create_tmp(o->out, &f, &tmp)) != EQG_OK) return st;
  double *col = malloc((n ? n : 1) * sizeof *col);
  if (!col) {
    eqg_h5_discard(f, tmp);
    return eqg_error_set(EQG_ENOMEM, "out of memory");
  }
  char models[256] = "";
  for (size_t k = 0; k < o->n_models; k++)
    snprintf(models + strlen(models), sizeof models - strlen(models), "%s%s", k ? "," : "",
             eqg_tt_model_name(o->models[k]));
  char *settings = settings_string(o);
  if (!settings) {
    free(col);
    eqg_h5_discard(f, tmp);
    return eqg_error_set(EQG_ENOMEM, "out of memory");
  }
  st = eqg_h5_write_attr_string(f, "settings", settings);
  free(settings);
  if (st != EQG_OK || (st = eqg_cli_provenance_write(f, pv)) ||
      (st = eqg_h5_write_attr_string(f, "study", study_names[o->study])) ||
      (st = eqg_h5_write_attr_string(f, "value", value_names[o->study])) ||
      (st = eqg_h5_write_attr_string(f, "models", models)) ||
      (st = eqg_h5_write_attr_long(f, "seeds", o->seeds)) ||
      (st = eqg_h5_write_attr_long(f, "epochs", o->epochs)) ||
      (st = eqg_h5_write_attr_long(f, "warmup", o->warmup)) ||
      (st = eqg_h5_write_attr_long(f, "batch", o->batch)) ||
      (st = eqg_h5_write_attr_long(f, "max_constituents", o->max_constituents)) ||
      (st = eqg_h5_write_attr_string(f, "features", o->features != EQG_TT_FEATURES_COUNT ? eqg_tt_features_name[o->features] : "default")) ||
      (st = eqg_h5_write_attr_string(f, "train_file", o->path[0])) ||
      (st = eqg_h5_write_attr_string(f, "valid_file", o->path[1])) ||
      (st = eqg_h5_write_attr_string(f, "test_file", o->path[2])))
    goto fail;
  for (int c = 0; c < N_COLS; c++) {
    for (size_t i = 0; i < n; i++) col[i] = row_get(&rows[i], c);
    if (n && (st = eqg_h5_write_vector(f, cols[c], col, n)) != EQG_OK) goto fail;
  }
  free(col);
  col = NULL;
  if ((st = eqg_h5_commit(f, tmp, o->out)) != EQG_OK) return st;

  eqg_cli_csv *c = eqg_cli_csv_open(csv, "study,model,value,seed,n_train,params,best_epoch,"
                                    "accuracy,auc,rej30_interp,rej50_interp,rej30_nearest,"
                                    "rej50_nearest,ant30,ant50,seconds,ms_per_step");
  if (!c) return EQG_EIO;
  for (size_t i = 0; i < n; i++) {
    const run_row *r = &rows[i];
    if ((st = eqg_cli_csv_row(c, "%s,%s,%.17g,%lu,%zu,%zu,%ld,%.17g,%.17g,%.17g,%.17g,%.17g,"
                              "%.17g,%.17g,%.17g,%.3f,%.3f", study_names[o->study],
                              eqg_tt_model_name(o->models[r->model]), r->value, r->seed,
                              r->n_train, r->n_params, r->best_epoch, r->acc, r->auc, r->rej30i,
                              r->rej50i, r->rej30n, r->rej50n, r->ant30, r->ant50, r->seconds,
                              r->ms_step)) != EQG_OK) {
      eqg_cli_csv_discard(c);
      return st;
    }
  }
  if ((st = eqg_cli_csv_close(c)) != EQG_OK) return st;

  /* summary: mean and std over the seeds of each (model, value) */
  c = eqg_cli_csv_open(summary, "study,model,value,n_train,params,n_seeds,acc_mean,acc_std,"
                       "auc_mean,auc_std,rej30_mean,rej30_std,rej50_mean,rej50_std,ant30_mean,"
                       "ant30_std,ant50_mean,ant50_std");
  if (!c) return EQG_EIO;
  for (size_t mk = 0; mk < o->n_models; mk++)
    for (size_t vi = 0; vi < o->n_values; vi++) {
      double x[N_METRICS][1000];
      size_t k = 0, n_train = 0, n_params = 0;
      for (size_t i = 0; i < n && k < 1000; i++)
        if (rows[i].model == mk && rows[i].value == o->values[vi]) {
          for (int q = 0; q < N_METRICS; q++) x[q][k] = metric_of(&rows[i], q);
          n_train = rows[i].n_train;
          n_params = rows[i].n_params;
          k++;
        }
      if (k == 0) continue;
      char line[1024];
      int len = snprintf(line, sizeof line, "%s,%s,%.17g,%zu,%zu,%zu", study_names[o->study],
                         eqg_tt_model_name(o->models[mk]), o->values[vi], n_train, n_params, k);
      for (int q = 0; q < N_METRICS; q++) {
        double mean = NAN, std = NAN;
        if (eqg_mean_std(&mean, &std, x[q], k) != EQG_OK) {
          mean = std = NAN;
          eqg_error_clear();
        }
        len += snprintf(line + len, sizeof line - (size_t)len, ",%.17g,%.17g", mean, std);
      }
      if ((st = eqg_cli_csv_row(c, "%s", line)) != EQG_OK) {
        eqg_cli_csv_discard(c);
        return st;
      }
    }
  return eqg_cli_csv_close(c);
fail:
  free(col);
  eqg_h5_discard(f, tmp);
  return eqg_error_prefix(st, "results '%s': ", o->out);
}

static void print_row(const options *o, const run_row *r, const char *note)
{
  printf("%-11s %10g %5lu %7zu %8zu %8.4f %8.4f %9.2f %9.3g %8.1f%s\n",
         eqg_tt_model_name(o->models[r->model]), r->value, r->seed, r->n_train, r->n_params,
         r->acc, r->auc, r->rej30i, r->ant30, r->seconds, note);
}

/* Plan order: model, then value, then seed.  Run i of the plan: */
static void plan_run(const options *o, size_t i, size_t *mk, size_t *vi, long *s)
{
  *s = (long)(i % (size_t)o->seeds);
  *vi = i / (size_t)o->seeds % o->n_values;
  *mk = i / (size_t)o->seeds / o->n_values;
}

/* --resume: rows[0 .. *n_done - 1] <- the runs stored in o->out, which must
 * have been written with the same settings and be the first runs of the
 * plan. */
static eqg_status resume_rows(const options *o, run_row *rows, size_t n_runs, size_t *n_done)
{
  *n_done = 0;
  hid_t f;
  eqg_status st = eqg_h5_open(o->out, false, &f);
  if (st != EQG_OK) return eqg_error_prefix(st, "--resume: ");
  char *want = settings_string(o), *have = NULL;
  double *col[N_COLS] = { NULL };
  size_t n = 0;
  if (!want) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory");
    goto done;
  }
  if ((st = eqg_h5_read_attr_string(f, "settings", &have)) != EQG_OK) goto done;
  if (strcmp(have, want) != 0) {
    st = eqg_error_set(EQG_EINVAL, "'%s' was written with other settings:\n  %s\nthis run:\n"
                       "  %s", o->out, have, want);
    goto done;
  }
  if (eqg_h5_exists(f, cols[0])) {   /* a sweep killed in its first run has no rows */
    int rank;
    size_t dims[2];
    if ((st = eqg_h5_dataset_shape(f, cols[0], &rank, dims)) != EQG_OK) goto done;
    n = dims[0];
  }
  if (n > n_runs) {
    st = eqg_error_set(EQG_EFORMAT, "'%s' holds %zu runs, the plan has %zu", o->out, n, n_runs);
    goto done;
  }
  for (int c = 0; c < N_COLS && n; c++)
    if (!(col[c] = malloc(n * sizeof *col[c]))) {
      st = eqg_error_set(EQG_ENOMEM, "out of memory");
      goto done;
    } else if ((st = eqg_h5_read_vector(f, cols[c], col[c], n)) != EQG_OK) {
      goto done;
    }
  for (size_t i = 0; i < n; i++) {
    double v[N_COLS];
    for (int c = 0; c < N_COLS; c++) v[c] = col[c][i];
    size_t mk, vi;
    long sd;
    plan_run(o, i, &mk, &vi, &sd);
    rows[i] = row_from(v);
    if (rows[i].model != mk || rows[i].value != o->values[vi] ||
        rows[i].seed != o->seed + (unsigned long)sd) {
      st = eqg_error_set(EQG_EFORMAT, "'%s': run %zu is not run %zu of this plan", o->out,
                         i + 1, i + 1);
      goto done;
    }
  }
  *n_done = n;
done:
  for (int c = 0; c < N_COLS; c++) free(col[c]);
  free(want);
  free(have);
  eqg_h5_close(f);
  return st == EQG_OK ? st : eqg_error_prefix(st, "--resume: ");
}

/* Run (model mk, value vi, seed offset s) of the plan on the splits sp. */
static eqg_status train_one(const options *o, size_t mk, size_t vi, long s,
                            const eqg_tt_split sp[3], const char *program, run_row *r)
{
  const eqg_tt_model_kind kind = o->models[mk];
  const double v = o->values[vi];
  eqg_tt_config cfg = eqg_tt_config_default(kind);
  eqg_tt_split train = sp[0];
  if (o->study == STUDY_FRACTION) {
    size_t nt = (size_t)llround(v * (double)sp[0].n);
    train = eqg_tt_split_head(&sp[0], nt < 2 ? 2 : nt > sp[0].n ? sp[0].n : nt);
  } else if (o->study == STUDY_WIDTH) {
    cfg.model.width = (size_t)v;
  } else {
    cfg.model.vec_fraction = v;
  }
  cfg.max_constituents = (size_t)o->max_constituents;
  if (o->features != EQG_TT_FEATURES_COUNT) cfg.inputs.features = o->features;
  cfg.seed = o->seed + (unsigned long)s;
  cfg.batch = (size_t)o->batch < train.n ? (size_t)o->batch : train.n;
  cfg.epochs = o->epochs;
  cfg.warmup = o->warmup;
  cfg.program = program;
  char label[64];
  snprintf(label, sizeof label, "%s %g s%lu", eqg_tt_model_name(kind), v, cfg.seed);
  cfg.label = label;
  eqg_tt_result res = { 0 };
  eqg_status st = eqg_tt_train(&res, &cfg, &train, &sp[1], &sp[2]);
  if (st == EQG_OK)
    *r = (run_row){ .model = mk, .value = v, .seed = cfg.seed, .n_train = train.n,
                    .n_params = res.n_params, .best_epoch = res.best_epoch,
                    .acc = res.test.accuracy, .auc = res.test.auc,
                    .rej30i = res.test.rej30_interp, .rej50i = res.test.rej50_interp,
                    .rej30n = res.test.rej30_nearest, .rej50n = res.test.rej50_nearest,
                    .ant30 = res.ant30, .ant50 = res.ant50, .seconds = res.train_seconds,
                    .ms_step = 1e3 * res.step_seconds };
  eqg_tt_result_clear(&res);
  return st == EQG_OK ? st : eqg_error_prefix(st, "%s: ", label);
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;
  eqg_status st = eqg_cli_set_threads(o.threads);
  if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  char out_buf[256];
  if (!o.out) {
    snprintf(out_buf, sizeof out_buf, "toptag_sweep_%s.h5", study_names[o.study]);
    o.out = out_buf;
  }
  eqg_cli_provenance pv = { .arguments = NULL };
  char *csv = eqg_cli_path_beside(o.out, ".csv");
  char *summary = eqg_cli_path_beside(o.out, "_summary.csv");
  const size_t n_runs = o.n_models * o.n_values * (size_t)o.seeds;
  run_row *rows = calloc(n_runs ? n_runs : 1, sizeof *rows);
  eqg_tt_split split[EQG_TT_MODEL_COUNT][3];
  memset(split, 0, sizeof split);
  bool loaded[EQG_TT_MODEL_COUNT] = { false };
  size_t n_done = 0;
  if (!csv || !summary || !rows) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory");
    goto fail;
  }
  if ((st = eqg_cli_provenance_init(&pv, argc, argv, o.seed)) != EQG_OK) goto fail;

  printf("toptag_sweep: study %s, %zu model%s x %zu values x %ld seeds = %zu trainings of %ld "
         "epochs, at most %ld constituents\n", study_names[o.study], o.n_models,
         o.n_models == 1 ? "" : "s", o.n_values, o.seeds, n_runs, o.epochs, o.max_constituents);
  if (o.resume && (st = resume_rows(&o, rows, n_runs, &n_done)) != EQG_OK) goto fail;
  printf("%-11s %10s %5s %7s %8s %8s %8s %9s %9s %8s\n", "model", value_names[o.study], "seed",
         "n_train", "params", "acc", "AUC", "1/eB@0.3", "ant@0.3", "seconds");
  for (size_t i = 0; i < n_done; i++) print_row(&o, &rows[i], " (resumed)");
  fflush(stdout);
  long trained = 0;
  for (size_t i = n_done; i < n_runs; i++) {
    size_t mk, vi;
    long s;
    plan_run(&o, i, &mk, &vi, &s);
    const eqg_tt_model_kind kind = o.models[mk];
    /* the splits, scaled for this model's inputs (loaded once per model kind) */
    if (!loaded[kind]) {
      const long n_req[3] = { o.n_train, o.n_valid, o.n_test };
      for (int k = 0; k < 3; k++)
        if ((st = eqg_tt_split_load(&split[kind][k], o.path[k], (size_t)n_req[k],
                                    (size_t)o.max_constituents,
                                    eqg_tt_inputs_default(kind).p_scale)) != EQG_OK) {
          eqg_error_prefix(st, "%s data: ", eqg_tt_split_name[k]);
          goto fail;
        }
      loaded[kind] = true;
    }
    if ((st = train_one(&o, mk, vi, s, split[kind], pv.program, &rows[n_done])) != EQG_OK)
      goto fail;
    print_row(&o, &rows[n_done++], "");
    fflush(stdout);
    if ((st = write_all(&o, rows, n_done, &pv, csv, summary)) != EQG_OK) goto fail;
    if (o.stop_after && ++trained == o.stop_after && n_done < n_runs) {
      printf("stopped after %ld training%s (--stop-after), %zu of %zu runs done; continue with "
             "--resume\n", trained, trained == 1 ? "" : "s", n_done, n_runs);
      rc = 0;
      goto done;
    }
  }
  /* all resumed: rewrite the files (a kill between them may have left one stale) */
  if (trained == 0 && n_done > 0 && (st = write_all(&o, rows, n_done, &pv, csv, summary)) != EQG_OK)
    goto fail;
  printf("files  %s, %s, %s\n", o.out, csv, summary);
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "%s: %s\n", PROG, eqg_error_message());
  rc = 1;
done:
  for (int k = 0; k < EQG_TT_MODEL_COUNT; k++)
    for (int j = 0; j < 3; j++) eqg_tt_split_clear(&split[k][j]);
  free(rows);
  free(csv);
  free(summary);
  eqg_cli_provenance_clear(&pv);
  return rc;
}
