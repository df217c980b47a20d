/* nbody_sweep.c: sample efficiency on the N-body task (EGNN paper, figure of
 * test MSE against training-set size; shared/reference/nbody.md,
 * "Sample-efficiency sweep").
 *
 * For every seed, training size and model (in that order, so an interrupted
 * sweep already holds complete points for the first seeds) one run of the
 * protocol of experiments/nbody (common/eqg_nbody_train.c, in-process) on the
 * first `size` trajectories of the training file, validated and tested on the
 * same validation and test sets.  After every run the results are rewritten
 * (atomically): one row per run, and a mean/std table over seeds per (model,
 * size) for plots/nbody_sample_efficiency.gp.  --resume skips runs already in
 * --out with the same settings; --import merges the runs of other results of
 * the same data and settings (sweeps run in parallel, one per seed, say).
 *
 * Runs use no checkpoints, and evaluate the test set only when the validation
 * MSE improves (the reported test MSE at the best validation epoch is the same
 * as with a test at every evaluation). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eqg_nbody_cli.h"

enum {
  MAX_SIZES = 64, MAX_SEEDS = 1000, MAX_IMPORTS = 64,
  QUICK_EPOCHS = 2, QUICK_SEEDS = 2, QUICK_EVAL = 10, QUICK_BATCH = 5
};

/* The paper's sizes and its reference EGNN epochs per size (nbody.md). */
static const long paper_sizes[] = { 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25000, 50000 };
static const long paper_epochs[] = { 4000, 4000, 2000, 2000, 2000, 1500, 1500, 1500, 1000, 1000 };
enum { N_PAPER = (int)(sizeof paper_sizes / sizeof *paper_sizes) };
_Static_assert(sizeof paper_epochs / sizeof *paper_epochs == N_PAPER,
               "one reference epoch count per paper size");
static const long quick_sizes[] = { 10, 20 };

typedef struct options {
  long n_seeds;
  double epoch_scale;
  bool resume, no_train;
  size_t n_models, n_sizes, n_epochs, n_imports;
  const char *imports[MAX_IMPORTS];   /* --import FILE, in order */
  eqg_nbt_model_kind models[EQG_NBT_MODEL_COUNT];
  long sizes[MAX_SIZES], epochs[MAX_SIZES];   /* n_epochs = 0, 1 or n_sizes */
  eqg_nbt_cli d;           /* data, frames, batch, lr (< 0: per model), evaluation, threads,
                            * first seed, quick */
  const char *out;
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: nbody_sweep [OPTION]...\n"
"Sample efficiency on the charged-particle N-body task (EGNN paper): for every\n"
"seed, training size and model, train with the protocol of 'nbody' (Adam,\n"
"weight decay 1e-12, batch 100, drop last, per-model learning rate; see\n"
"nbody --help) on the first SIZE trajectories of the training file and record\n"
"the test MSE at the epoch of the best validation MSE.\n"
"\n"
"Options:\n"
"  -h, --help             show this help and exit\n"
"      --models LIST      comma-separated, from egnn, gnn, rf, linear (default\n"
"                         egnn,gnn,rf,linear)\n"
"      --sizes LIST       training sizes (default: the paper's 100, 200, 400,\n"
"                         800, 1600, 3200, 6400, 12800, 25000, 50000 up to what\n"
"                         the training file holds; --quick: 10,20)\n"
"      --epochs-per-size LIST  epochs per size, one number per size or one for\n"
"                         all (default: the paper's reference EGNN epochs: 4000\n"
"                         up to size 200, 2000 up to 1600, 1500 up to 12800,\n"
"                         1000 beyond; a size between the paper's takes the\n"
"                         epochs of the next smaller one; --quick: 2)\n"
"      --epoch-scale X    multiply the default epochs by X, rounded, at least 1\n"
"                         (0 < X <= 100; default 1), for a cheaper sweep\n"
"      --seeds N          seeds per (model, size): --seed .. --seed + N - 1\n"
"                         (default 3; --quick: 2); a seed sets the\n"
"                         initialisation and the shuffles, the data are the same\n"
"      --seed N           first seed, 0..4294967295 (default 1)\n"
"      --datadir DIR      directory of nbody_{train,valid,test}.h5 (default .)\n"
"      --train-file FILE  training data (default DATADIR/nbody_train.h5)\n"
"      --valid-file FILE  validation data (default DATADIR/nbody_valid.h5)\n"
"      --test-file FILE   test data (default DATADIR/nbody_test.h5)\n"
"      --n-valid N        validation trajectories (default 2000; --quick: 10)\n"
"      --n-test N         test trajectories (default 2000; --quick: 10)\n"
"      --input-frame K    input frame (default 30; 6 for sample_freq 500 data,\n"
"                         as the paper's sweep; --quick: 3)\n"
"      --target-frame K   target frame (default 40; 8 for sample_freq 500 data;\n"
"                         --quick: 7)\n"
"      --batch N          minibatch size (default 100; --quick: 5); a size below\n"
"                         it trains with one batch of the whole set\n"
"      --lr X             learning rate for every model, 0 < X <= 1 (default per\n"
"                         model: egnn 5e-4, gnn 1e-3, rf 2e-4, linear 1e-3)\n"
"      --eval-every N     validate every N epochs and after the last (default 5;\n"
"                         --quick: 1)\n"
"      --threads N        BLAS/OpenMP threads, 1..1024 (default 1)\n"
"      --resume           keep the runs already in --out with the same settings\n"
"                         and do only the missing ones\n"
"      --import FILE      also keep the runs of FILE, an nbody_sweep result of\n"
"                         the same data and settings (repeatable): merges\n"
"                         sweeps run in parallel, e.g. one per --seed\n"
"      --no-train         train nothing: write the tables of the runs restored\n"
"                         by --resume and --import (a merge, or a look at a\n"
"                         sweep still running elsewhere)\n"
"      --quick            tiny sweep for CI on nbody_gen --quick files\n"
"      --out FILE.h5      results (default nbody_sweep.h5), rewritten after\n"
"                         every run; FILE.csv (one row per run) and\n"
"                         FILE_summary.csv (mean and std over seeds) beside it\n"
"\n"
"Output: a row per finished run and a table of mean +- std test MSE per size\n"
"and model on stdout; a progress bar per run on stderr when it is a terminal.\n"
"Plot with\n"
"  gnuplot -e \"csv='nbody_sweep_summary.csv'\" plots/nbody_sample_efficiency.gp\n"
"\n"
"Exit status: 0 on success, 1 on missing or corrupt data, I/O failure or\n"
"divergence, 2 on bad options.\n", f);
}

/* Program name in usage errors (eqg_cli_usage_error). */
static const char PROG[] = "nbody_sweep";

/* "a,b,c" -> longs in [min, max]; at most cap of them. */
static eqg_status parse_long_list(const char *opt, const char *s, long min, long max,
                                  long *out, size_t cap, size_t *n)
{
  char buf[1024];
  if (strlen(s) >= sizeof buf) return eqg_error_set(EQG_EINVAL, "%s: list too long", opt);
  snprintf(buf, sizeof buf, "%s", s);
  *n = 0;
  char *p = buf;
  for (;;) {
    char *comma = strchr(p, ',');
    if (comma) *comma = '\0';
    if (*n == cap) return eqg_error_set(EQG_EINVAL, "%s: more than %zu values", opt, cap);
    eqg_status st = eqg_cli_parse_long(opt, p, min, max, &out[*n]);
    if (st != EQG_OK) return st;
    (*n)++;
    if (!comma) break;
    p = comma + 1;
  }
  return EQG_OK;
}

static eqg_status parse_models(const char *s, options *o)
{
  char buf[256];
  if (strlen(s) >= sizeof buf) return eqg_error_set(EQG_EINVAL, "--models: list too long");
  snprintf(buf, sizeof buf, "%s", s);
  o->n_models = 0;
  char *p = buf;
  for (;;) {
    char *comma = strchr(p, ',');
    if (comma) *comma = '\0';
    eqg_nbt_model_kind k;
    eqg_status st = eqg_nbt_model_find(p, &k);
    if (st != EQG_OK) return eqg_error_prefix(st, "--models: ");
    for (size_t i = 0; i < o->n_models; i++)
      if (o->models[i] == k) return eqg_error_set(EQG_EINVAL, "--models: '%s' twice", p);
    o->models[o->n_models++] = k;
    if (!comma) break;
    p = comma + 1;
  }
  return EQG_OK;
}

/* Returns -1 to continue, else an exit code (0 after --help, 2 on a bad option). */
static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_MODELS = 256, O_SIZES, O_EPOCHS, O_SCALE, O_SEEDS, O_RESUME, O_IMPORT, O_NO_TRAIN,
         O_OUT };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "models", required_argument, NULL, O_MODELS },
    { "sizes", required_argument, NULL, O_SIZES },
    { "epochs-per-size", required_argument, NULL, O_EPOCHS },
    { "epoch-scale", required_argument, NULL, O_SCALE },
    { "seeds", required_argument, NULL, O_SEEDS },
    { "resume", no_argument, NULL, O_RESUME },
    { "import", required_argument, NULL, O_IMPORT },
    { "no-train", no_argument, NULL, O_NO_TRAIN },
    { "out", required_argument, NULL, O_OUT },
    EQG_NBT_CLI_LONGOPTS,
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .n_seeds = 3, .epoch_scale = 1, .out = "nbody_sweep.h5",
                  .n_models = 4,
                  .models = { EQG_NBT_EGNN, EQG_NBT_GNN, EQG_NBT_RF, EQG_NBT_LINEAR } };
  eqg_nbt_cli_defaults(&o->d);
  bool set_seeds = false, set_scale = false;
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
    case O_MODELS: st = parse_models(optarg, o); break;
    case O_SIZES:
      st = parse_long_list("--sizes", optarg, 1, 100000000, o->sizes, MAX_SIZES, &o->n_sizes);
      break;
    case O_EPOCHS:
      st = parse_long_list("--epochs-per-size", optarg, 1, 100000000, o->epochs, MAX_SIZES,
                           &o->n_epochs);
      break;
    case O_SCALE:
      st = eqg_cli_parse_double("--epoch-scale", optarg, 0, 100, &o->epoch_scale);
      if (st == EQG_OK && !(o->epoch_scale > 0))
        st = eqg_error_set(EQG_EINVAL, "--epoch-scale: %s must be positive", optarg);
      set_scale = true;
      break;
    case O_SEEDS:
      st = eqg_cli_parse_long("--seeds", optarg, 1, MAX_SEEDS, &o->n_seeds);
      set_seeds = true;
      break;
    case O_RESUME: o->resume = true; break;
    case O_NO_TRAIN: o->no_train = true; break;
    case O_IMPORT:
      if (o->n_imports == MAX_IMPORTS)
        st = eqg_error_set(EQG_EINVAL, "--import: more than %d files", MAX_IMPORTS);
      else if (!*optarg)
        st = eqg_error_set(EQG_EINVAL, "--import: empty file name");
      else
        o->imports[o->n_imports++] = optarg;
      break;
    case O_OUT: o->out = optarg; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);   /* ':' or '?' */
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (o->d.quick) {
    if (!o->n_sizes) {
      o->n_sizes = sizeof quick_sizes / sizeof *quick_sizes;
      memcpy(o->sizes, quick_sizes, sizeof quick_sizes);
    }
    if (!o->n_epochs) {
      o->n_epochs = 1;
      o->epochs[0] = QUICK_EPOCHS;
    }
    if (!set_seeds) o->n_seeds = QUICK_SEEDS;
  }
  if (eqg_nbt_cli_finish(&o->d, QUICK_EVAL, QUICK_BATCH) != EQG_OK)
    return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  for (size_t i = 0; i < o->n_sizes; i++)
    for (size_t j = 0; j < i; j++)
      if (o->sizes[i] == o->sizes[j])
        return eqg_cli_usage_error(PROG, "--sizes: %ld twice", o->sizes[i]);
  if (o->n_epochs > 1 && o->n_epochs != o->n_sizes)
    return eqg_cli_usage_error(PROG, "--epochs-per-size: %zu values for %zu sizes (give one per "
                               "size, or one for all)", o->n_epochs, o->n_sizes);
  if (o->n_epochs && set_scale)
    return eqg_cli_usage_error(PROG, "--epoch-scale scales the default epochs; it cannot be "
                               "combined with --epochs-per-size");
  if ((unsigned long)o->n_seeds - 1 > 4294967295UL - o->d.seed)
    return eqg_cli_usage_error(PROG, "--seed + --seeds - 1 exceeds 4294967295");
  if (!*o->out) return eqg_cli_usage_error(PROG, "--out: empty file name");
  if (o->no_train && !o->resume && !o->n_imports)
    return eqg_cli_usage_error(PROG, "--no-train needs --resume or --import (runs to tabulate)");
  return -1;
}

/* Default epochs for a training size: the paper's reference epochs of the
 * largest paper size <= size (4000 below 100), times `scale`, at least 1. */
static long default_epochs(long size, double scale)
{
  long e = paper_epochs[0];
  for (int i = 0; i < N_PAPER; i++)
    if (paper_sizes[i] <= size) e = paper_epochs[i];
  const long scaled = lround((double)e * scale);
  return scaled < 1 ? 1 : scaled;
}

/* One finished run. */
typedef struct run_row {
  int model;               /* eqg_nbt_model_kind */
  long size, epochs, best_epoch, batch;
  unsigned long seed;
  double lr, valid, test, seconds, n_params;
} run_row;

typedef struct sweep {
  const options *o;
  const eqg_cli_provenance *pv;
  const char *csv, *csv_summary;
  run_row *rows;           /* finished runs (restored ones first) */
  size_t n_rows, cap_rows;
} sweep;

static eqg_status add_row(sweep *s, const run_row *r)
{
  if (s->n_rows == s->cap_rows) {
    size_t cap = s->cap_rows ? 2 * s->cap_rows : 64;
    run_row *p = realloc(s->rows, cap * sizeof *p);
    if (!p) return eqg_error_set(EQG_ENOMEM, "out of memory");
    s->rows = p;
    s->cap_rows = cap;
  }
  s->rows[s->n_rows++] = *r;
  return EQG_OK;
}

/* Mean and sample standard deviation (0 for one value) of the test and
 * validation MSE of the rows of (model, size). */
typedef struct summary {
  int model;
  long size;
  size_t n;
  double test_mean, test_std, valid_mean, valid_std;
} summary;

static size_t summarise(const sweep *s, summary *out)
{
  const options *o = s->o;
  size_t n_out = 0;
  for (size_t mi = 0; mi < o->n_models; mi++)   /* model-major: one line per model */
    for (size_t si = 0; si < o->n_sizes; si++) {
      summary g = { .model = (int)o->models[mi], .size = o->sizes[si] };
      double st = 0, st2 = 0, sv = 0, sv2 = 0;
      for (size_t i = 0; i < s->n_rows; i++) {
        const run_row *r = &s->rows[i];
        if (r->model != g.model || r->size != g.size) continue;
        g.n++;
        st += r->test;
        sv += r->valid;
      }
      if (!g.n) continue;
      g.test_mean = st / (double)g.n;
      g.valid_mean = sv / (double)g.n;
      for (size_t i = 0; i < s->n_rows; i++) {
        const run_row *r = &s->rows[i];
        if (r->model != g.model || r->size != g.size) continue;
        st2 += (r->test - g.test_mean) * (r->test - g.test_mean);
        sv2 += (r->valid - g.valid_mean) * (r->valid - g.valid_mean);
      }
      g.test_std = g.n > 1 ? sqrt(st2 / (double)(g.n - 1)) : 0;
      g.valid_std = g.n > 1 ? sqrt(sv2 / (double)(g.n - 1)) : 0;
      out[n_out++] = g;
    }
  return n_out;
}

static eqg_status write_csvs(const sweep *s, const summary *g, size_t n_g)
{
  eqg_cli_csv *c = eqg_cli_csv_open(s->csv, "model,size,seed,epochs,best_epoch,valid_mse,"
                                    "test_mse,seconds");
  if (!c) return EQG_EIO;
  for (size_t i = 0; i < s->n_rows; i++) {
    const run_row *r = &s->rows[i];
    if (eqg_cli_csv_row(c, "%s,%ld,%lu,%ld,%ld,%.17g,%.17g,%.3f",
                        eqg_nbt_model_name((eqg_nbt_model_kind)r->model), r->size, r->seed,
                        r->epochs, r->best_epoch, r->valid, r->test, r->seconds) != EQG_OK) {
      eqg_cli_csv_discard(c);
      return EQG_EIO;
    }
  }
  eqg_status st = eqg_cli_csv_close(c);
  if (st != EQG_OK) return st;
  c = eqg_cli_csv_open(s->csv_summary, "model,size,n_seeds,test_mean,test_std,valid_mean,"
                       "valid_std");
  if (!c) return EQG_EIO;
  for (size_t i = 0; i < n_g; i++)
    if (eqg_cli_csv_row(c, "%s,%ld,%zu,%.17g,%.17g,%.17g,%.17g",
                        eqg_nbt_model_name((eqg_nbt_model_kind)g[i].model), g[i].size, g[i].n,
                        g[i].test_mean, g[i].test_std, g[i].valid_mean,
                        g[i].valid_std) != EQG_OK) {
      eqg_cli_csv_discard(c);
      return EQG_EIO;
    }
  return eqg_cli_csv_close(c);
}

/* Column `k` of the rows as doubles (k indexes the run_row fields below). */
enum { COL_MODEL, COL_SIZE, COL_SEED, COL_EPOCHS, COL_BEST, COL_BATCH, COL_LR, COL_VALID,
       COL_TEST, COL_SECONDS, COL_PARAMS, COL_COUNT };
static const char *const col_name[COL_COUNT] = {
  "model", "size", "seed", "epochs", "best_epoch", "batch", "lr", "valid_mse", "test_mse",
  "seconds", "n_params"
};

static double row_get(const run_row *r, int k)
{
  switch (k) {
  case COL_MODEL: return r->model;
  case COL_SIZE: return (double)r->size;
  case COL_SEED: return (double)r->seed;
  case COL_EPOCHS: return (double)r->epochs;
  case COL_BEST: return (double)r->best_epoch;
  case COL_BATCH: return (double)r->batch;
  case COL_LR: return r->lr;
  case COL_VALID: return r->valid;
  case COL_TEST: return r->test;
  case COL_SECONDS: return r->seconds;
  default: return r->n_params;
  }
}

static void row_set(run_row *r, int k, double v)
{
  switch (k) {
  case COL_MODEL: r->model = (int)v; break;
  case COL_SIZE: r->size = (long)v; break;
  case COL_SEED: r->seed = (unsigned long)v; break;
  case COL_EPOCHS: r->epochs = (long)v; break;
  case COL_BEST: r->best_epoch = (long)v; break;
  case COL_BATCH: r->batch = (long)v; break;
  case COL_LR: r->lr = v; break;
  case COL_VALID: r->valid = v; break;
  case COL_TEST: r->test = v; break;
  case COL_SECONDS: r->seconds = v; break;
  default: r->n_params = v; break;
  }
}

/* HDF5 (atomic): per-run datasets named by col_name (model as an index into the
 * attribute model_names), summary_* datasets, settings and provenance. */
static eqg_status write_results(const sweep *s)
{
  const options *o = s->o;
  summary *g = malloc((o->n_sizes * o->n_models + 1) * sizeof *g);
  double *col = malloc((s->n_rows + o->n_sizes * o->n_models + 1) * sizeof *col);
  if (!g || !col) {
    free(g);
    free(col);
    return eqg_error_set(EQG_ENOMEM, "out of memory");
  }
  const size_t n_g = summarise(s, g);
  hid_t f = -1;
  char *tmp = NULL;
  char names[64] = "", sizes[1024] = "";
  for (int k = 0; k < EQG_NBT_MODEL_COUNT; k++)
    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? "," : "",
             eqg_nbt_model_name((eqg_nbt_model_kind)k));
  for (size_t i = 0; i < o->n_sizes; i++)
    snprintf(sizes + strlen(sizes), sizeof sizes - strlen(sizes), "%s%ld", i ? "," : "",
             o->sizes[i]);
  eqg_status st = eqg_h5_create_tmp(o->out, &f, &tmp);
  if (st != EQG_OK) goto done;
  if ((st = eqg_cli_provenance_write(f, s->pv)) ||
      (st = eqg_h5_write_attr_string(f, "task", "N-body sample efficiency: test MSE at the "
                                     "best validation epoch against training size")) ||
      (st = eqg_h5_write_attr_string(f, "model_names", names)) ||
      (st = eqg_h5_write_attr_string(f, "sizes", sizes)) ||
      (st = eqg_h5_write_attr_long(f, "n_seeds", o->n_seeds)) ||
      (st = eqg_h5_write_attr_ulong(f, "n_runs", (unsigned long)s->n_rows)) ||
      (st = eqg_h5_write_attr_long(f, "n_valid", o->d.n_valid)) ||
      (st = eqg_h5_write_attr_long(f, "n_test", o->d.n_test)) ||
      (st = eqg_nbt_cli_write_attrs(f, &o->d)))
    goto fail;
  for (int k = 0; k < COL_COUNT && s->n_rows; k++) {
    for (size_t i = 0; i < s->n_rows; i++) col[i] = row_get(&s->rows[i], k);
    if ((st = eqg_h5_write_vector(f, col_name[k], col, s->n_rows)) != EQG_OK) goto fail;
  }
  if (n_g) {
    static const char *const sname[7] = { "summary_model", "summary_size", "summary_n",
      "summary_test_mean", "summary_test_std", "summary_valid_mean", "summary_valid_std" };
    for (int k = 0; k < 7; k++) {
      for (size_t i = 0; i < n_g; i++) {
        const double v[7] = { g[i].model, (double)g[i].size, (double)g[i].n, g[i].test_mean,
                              g[i].test_std, g[i].valid_mean, g[i].valid_std };
        col[i] = v[k];
      }
      if ((st = eqg_h5_write_vector(f, sname[k], col, n_g)) != EQG_OK) goto fail;
    }
  }
  st = eqg_h5_commit(f, tmp, o->out);
  if (st == EQG_OK) st = write_csvs(s, g, n_g);
  goto done;
fail:
  eqg_h5_discard(f, tmp);
  st = eqg_error_prefix(st, "results '%s': ", o->out);
done:
  free(g);
  free(col);
  return st;
}

/* The results in f come from this sweep's data, frames and evaluation. */
static eqg_status check_same_data(hid_t f, const options *o)
{
  eqg_status st = eqg_nbt_cli_check_attrs(f, &o->d);
  const char *const name[2] = { "n_valid", "n_test" };
  const long want[2] = { o->d.n_valid, o->d.n_test };
  for (int k = 0; k < 2 && st == EQG_OK; k++) {
    long v;
    if ((st = eqg_h5_read_attr_long(f, name[k], &v)) == EQG_OK && v != want[k])
      st = eqg_error_set(EQG_EFORMAT, "%s %ld there, %ld here", name[k], v, want[k]);
  }
  return st;
}

/* --resume and --import (opt): restore the rows of `path` that this sweep would
 * run again with the same settings (model, size, seed, epochs, batch, lr), if
 * the file's data and evaluation are those of this sweep; a row already
 * restored (same model, size, seed) is not taken twice. */
static eqg_status restore_rows(sweep *s, const char *opt, const char *path,
                               const long *epochs_of, const long *batch_of)
{
  const options *o = s->o;
  hid_t f;
  eqg_status st = eqg_h5_open(path, false, &f);
  if (st != EQG_OK) return eqg_error_prefix(st, "%s: ", opt);
  unsigned long n = 0;
  double *cols[COL_COUNT] = { NULL };
  if (!eqg_h5_has_attr(f, "n_runs") || (st = eqg_h5_read_attr_ulong(f, "n_runs", &n))) {
    st = eqg_error_set(EQG_EFORMAT, "%s: '%s' is not an nbody_sweep result", opt, path);
    goto done;
  }
  if ((st = check_same_data(f, o)) != EQG_OK) {
    st = eqg_error_prefix(st, "%s: '%s' is from other data or evaluation settings: ", opt,
                          path);
    goto done;
  }
  for (int k = 0; k < COL_COUNT && n; k++) {
    if (!(cols[k] = malloc(n * sizeof *cols[k]))) {
      st = eqg_error_set(EQG_ENOMEM, "out of memory");
      goto done;
    }
    if ((st = eqg_h5_read_vector(f, col_name[k], cols[k], n)) != EQG_OK) {
      st = eqg_error_prefix(st, "%s: '%s': ", opt, path);
      goto done;
    }
  }
  for (size_t i = 0; i < n; i++) {
    run_row r;
    for (int k = 0; k < COL_COUNT; k++) row_set(&r, k, cols[k][i]);
    bool keep = false;
    for (size_t si = 0; si < o->n_sizes && !keep; si++)
      for (size_t mi = 0; mi < o->n_models && !keep; mi++) {
        const double lr = o->d.lr > 0 ? o->d.lr : eqg_nbt_default_lr(o->models[mi]);
        keep = r.model == (int)o->models[mi] && r.size == o->sizes[si] &&
               r.epochs == epochs_of[si] && r.batch == batch_of[si] && r.lr == lr &&
               r.seed >= o->d.seed && r.seed - o->d.seed < (unsigned long)o->n_seeds;
      }
    for (size_t j = 0; keep && j < s->n_rows; j++)   /* first copy only */
      keep = !(s->rows[j].model == r.model && s->rows[j].size == r.size &&
               s->rows[j].seed == r.seed);
    if (keep && (st = add_row(s, &r)) != EQG_OK) goto done;
  }
done:
  for (int k = 0; k < COL_COUNT; k++) free(cols[k]);
  eqg_h5_close(f);
  return st;
}

static bool have_row(const sweep *s, int model, long size, unsigned long seed)
{
  for (size_t i = 0; i < s->n_rows; i++)
    if (s->rows[i].model == model && s->rows[i].size == size && s->rows[i].seed == seed)
      return true;
  return false;
}

static void print_summary(const sweep *s)
{
  const options *o = s->o;
  summary *g = malloc((o->n_sizes * o->n_models + 1) * sizeof *g);
  if (!g) return;
  const size_t n_g = summarise(s, g);
  printf("\ntest MSE at the best validation epoch, mean +- std over seeds (n)\n%8s", "size");
  for (size_t mi = 0; mi < o->n_models; mi++)
    printf("  %-28s", eqg_nbt_model_name(o->models[mi]));
  printf("\n");
  for (size_t si = 0; si < o->n_sizes; si++) {
    printf("%8ld", o->sizes[si]);
    for (size_t mi = 0; mi < o->n_models; mi++) {
      const summary *x = NULL;
      for (size_t i = 0; i < n_g; i++)
        if (g[i].model == (int)o->models[mi] && g[i].size == o->sizes[si]) x = &g[i];
      if (x) printf("  %11.4e +- %9.2e (%zu)", x->test_mean, x->test_std, x->n);
      else printf("  %-28s", "-");
    }
    printf("\n");
  }
  free(g);
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();   /* GSL failures become statuses, not aborts */
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;

  rc = 1;
  eqg_status st;
  const double t_start = eqg_cli_now();
  eqg_nbt_split split[3] = { { 0 }, { 0 }, { 0 } };
  eqg_cli_provenance pv = { .arguments = NULL };
  sweep s = { .o = &o, .pv = &pv };
  char *csv = eqg_cli_path_beside(o.out, ".csv");
  char *csv_summary = eqg_cli_path_beside(o.out, "_summary.csv");
  if (!csv || !csv_summary) {
    fprintf(stderr, "nbody_sweep: out of memory\n");
    goto done;
  }
  s.csv = csv;
  s.csv_summary = csv_summary;
  if ((st = eqg_cli_provenance_init(&pv, argc, argv, o.d.seed)) != EQG_OK) goto fail;

  /* Training data: the largest size asked for, or the whole file. */
  long max_size = 0;
  for (size_t i = 0; i < o.n_sizes; i++) max_size = o.sizes[i] > max_size ? o.sizes[i] : max_size;
  if ((st = eqg_nbt_cli_load(&o.d, split, max_size)) != EQG_OK) goto fail;
  if (!o.n_sizes) {
    for (int i = 0; i < N_PAPER; i++)
      if ((size_t)paper_sizes[i] <= split[0].n) o.sizes[o.n_sizes++] = paper_sizes[i];
    if (!o.n_sizes) {
      eqg_error_set(EQG_EINVAL, "the training file '%s' holds %zu trajectories, fewer than "
                    "the smallest default size 100 (give --sizes)", o.d.path[0], split[0].n);
      goto fail;
    }
  }
  long epochs_of[MAX_SIZES], batch_of[MAX_SIZES];
  for (size_t i = 0; i < o.n_sizes; i++) {
    epochs_of[i] = o.n_epochs == 0 ? default_epochs(o.sizes[i], o.epoch_scale)
                   : o.epochs[o.n_epochs == 1 ? 0 : i];
    batch_of[i] = o.d.batch < o.sizes[i] ? o.d.batch : o.sizes[i];
  }
  if (o.resume && (st = restore_rows(&s, "--resume", o.out, epochs_of, batch_of)) != EQG_OK)
    goto fail;
  const size_t n_resumed = s.n_rows;
  for (size_t i = 0; i < o.n_imports; i++)
    if ((st = restore_rows(&s, "--import", o.imports[i], epochs_of, batch_of)) != EQG_OK)
      goto fail;

  const size_t n_runs = o.n_sizes * o.n_models * (size_t)o.n_seeds;
  printf("nbody_sweep: %zu models x %zu sizes x %ld seeds = %zu runs\n", o.n_models,
         o.n_sizes, o.n_seeds, n_runs);
  if (o.resume) printf("resume: %zu runs restored from %s\n", n_resumed, o.out);
  if (o.n_imports) printf("import: %zu runs from %zu file%s\n", s.n_rows - n_resumed,
                          o.n_imports, o.n_imports == 1 ? "" : "s");
  printf("data   train %s (%zu), valid %zu, test %zu; frame %ld -> %ld\n", o.d.path[0],
         split[0].n, split[1].n, split[2].n, o.d.input_frame, o.d.target_frame);
  printf("sizes  ");
  for (size_t i = 0; i < o.n_sizes; i++)
    printf("%s%ld (%ld epochs)", i ? ", " : "", o.sizes[i], epochs_of[i]);
  printf("\n\n%-7s %7s %6s %7s %8s %12s %12s %9s\n", "model", "size", "seed", "epochs",
         "best ep", "valid MSE", "test MSE", "seconds");
  fflush(stdout);

  size_t run = 0, skipped = 0;
  for (long k = 0; k < o.n_seeds; k++)
    for (size_t si = 0; si < o.n_sizes; si++)
      for (size_t mi = 0; mi < o.n_models; mi++) {
        run++;
        const eqg_nbt_model_kind model = o.models[mi];
        const unsigned long seed = o.d.seed + (unsigned long)k;
        if (have_row(&s, (int)model, o.sizes[si], seed)) continue;
        if (o.no_train) {
          skipped++;
          continue;
        }
        char label[96];
        snprintf(label, sizeof label, "[%zu/%zu] %s n=%ld seed %lu", run, n_runs,
                 eqg_nbt_model_name(model), o.sizes[si], seed);
        eqg_nbt_config cfg = eqg_nbt_config_default(model);
        cfg.seed = seed;
        if (o.d.lr > 0) cfg.lr = o.d.lr;
        cfg.batch = (size_t)batch_of[si];
        cfg.epochs = epochs_of[si];
        cfg.eval_every = o.d.eval_every;
        cfg.test_every_eval = false;
        cfg.input_frame = o.d.input_frame;
        cfg.target_frame = o.d.target_frame;
        cfg.program = pv.program;
        cfg.label = label;
        const eqg_nbt_split head = eqg_nbt_split_head(&split[0], (size_t)o.sizes[si]);
        eqg_nbt_result res = { 0 };
        st = eqg_nbt_train(&res, &cfg, &head, &split[1], &split[2]);
        if (st != EQG_OK) {
          eqg_nbt_result_clear(&res);
          eqg_error_prefix(st, "%s: ", label);
          goto fail;
        }
        const run_row r = { .model = (int)model, .size = o.sizes[si], .seed = seed,
                            .epochs = cfg.epochs, .best_epoch = res.best_epoch,
                            .batch = (long)cfg.batch, .lr = cfg.lr, .valid = res.best_valid,
                            .test = res.test_at_best, .seconds = res.seconds_this_run,
                            .n_params = (double)res.n_params };
        eqg_nbt_result_clear(&res);
        printf("%-7s %7ld %6lu %7ld %8ld %12.4e %12.4e %9.1f\n", eqg_nbt_model_name(model),
               r.size, r.seed, r.epochs, r.best_epoch, r.valid, r.test, r.seconds);
        fflush(stdout);
        if ((st = add_row(&s, &r)) != EQG_OK || (st = write_results(&s)) != EQG_OK) goto fail;
      }
  if ((st = write_results(&s)) != EQG_OK) goto fail;
  if (skipped) printf("%zu of %zu runs not done (--no-train)\n", skipped, n_runs);
  print_summary(&s);
  printf("\ntime   %.1f s; results %s, %s, %s\n", eqg_cli_now() - t_start, o.out, csv,
         csv_summary);
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "nbody_sweep: %s\n", eqg_error_message());
  rc = 1;
done:
  for (int k = 0; k < 3; k++) eqg_nbt_split_clear(&split[k]);
  eqg_cli_provenance_clear(&pv);
  free(s.rows);
  free(csv);
  free(csv_summary);
  return rc;
}
