/* toptag_boost.c: boost generalisation of trained top taggers.
 *
 * For every checkpoint written by toptag (--best files), the test set is
 * boosted by velocity beta on a grid in [0, 0.99] along +x (as the LorentzNet
 * repository's test) and along each jet's own axis (the sum of its
 * constituents' momenta; active boosts, p along the axis grows), with
 * LorentzNet's beam nodes boosted with the jet and left fixed, and the
 * accuracy and AUC of the unchanged model are recorded (shared/reference/
 * symmetry.md: models trained in the lab frame).  Boosts are built from the
 * rapidity atanh(beta) (eqg_boost_matrix), applied to the raw momenta before
 * any input scaling (the scaling is linear, so the order does not matter),
 * and the eta-phi kNN graph of ParticleNet is rebuilt from the boosted jets. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eqg_toptag_train.h"

static const char PROG[] = "toptag_boost";

enum { MAX_CKPT = 32, MAX_BETAS = 256 };

typedef struct options {
  const char *ckpt[MAX_CKPT];
  size_t n_ckpt;
  const char *datadir, *test_file, *out;
  long n_test, batch, threads;
  double betas[MAX_BETAS];
  size_t n_betas;
  bool axes[EQG_TT_AXIS_COUNT];
  bool beam_modes[2];      /* [0] fixed, [1] boosted */
  bool quick;
  char path[EQG_TT_PATH_MAX];
} options;

static const double default_betas[] = { 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95,
                                        0.99 };

static void usage(FILE *f)
{
  fputs(
"Usage: toptag_boost --checkpoint FILE [--checkpoint FILE]... [OPTION]...\n"
"Evaluate trained top taggers (toptag's --best checkpoints) on the test set\n"
"boosted by beta along +x and along each jet's axis, with the beam nodes\n"
"boosted with the jet and left fixed; accuracy and AUC against beta.\n"
"\n"
"Options:\n"
"  -h, --help             show this help and exit\n"
"      --checkpoint FILE  a trained model (repeat, up to 32)\n"
"      --datadir DIR      directory of test.h5 (default .)\n"
"      --test-file FILE   test data (default DATADIR/test.h5)\n"
"      --n-test N         first N test jets (default all; --quick 48)\n"
"      --betas LIST       comma-separated velocities in [0, 1) (default\n"
"                         0,0.1,...,0.9,0.95,0.99; --quick 0,0.5,0.99)\n"
"      --axes LIST        x, jet or x,jet (default x,jet)\n"
"      --beams LIST       fixed, boosted or fixed,boosted (default both; models\n"
"                         trained without beams get one curve, 'none')\n"
"      --batch N          evaluation batch (default 32)\n"
"      --threads N        BLAS/OpenMP threads (default 1)\n"
"      --quick            tiny CI run\n"
"      --out FILE.h5      results (default toptag_boost.h5) and FILE.csv beside\n"
"                         it: one row per (model, axis, beams, beta)\n"
"\n"
"Plot: gnuplot -e \"csv='toptag_boost.csv'; out='toptag_boost.png'\" plots/toptag_boost.gp\n"
"Exit status: 0 success, 1 I/O or data failure, 2 bad options.\n", f);
}

static eqg_status parse_betas(const char *s, options *o)
{
  o->n_betas = 0;
  const char *p = s;
  while (*p) {
    char *end;
    const char *comma = strchr(p, ',');
    char buf[64];
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == 0 || len >= sizeof buf) return eqg_error_set(EQG_EINVAL, "--betas: bad list '%s'", s);
    memcpy(buf, p, len);
    buf[len] = 0;
    double b = strtod(buf, &end);
    if (*end || !(b >= 0 && b < 1))
      return eqg_error_set(EQG_EINVAL, "--betas: '%s' is not a velocity in [0, 1)", buf);
    if (o->n_betas == MAX_BETAS) return eqg_error_set(EQG_EINVAL, "--betas: more than %d", MAX_BETAS);
    o->betas[o->n_betas++] = b;
    if (!comma) break;
    p = comma + 1;
    if (!*p) return eqg_error_set(EQG_EINVAL, "--betas: trailing comma in '%s'", s);
  }
  if (o->n_betas == 0) return eqg_error_set(EQG_EINVAL, "--betas: empty list");
  return EQG_OK;
}

/* "a,b" over the names; sets flags[k] for each. */
static eqg_status parse_names(const char *opt, const char *s, const char *const *names,
                              size_t n, bool *flags)
{
  for (size_t k = 0; k < n; k++) flags[k] = false;
  const char *p = s;
  bool any = false;
  while (p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    size_t k = 0;
    for (; k < n; k++)
      if (strlen(names[k]) == len && strncmp(names[k], p, len) == 0) break;
    if (k == n) return eqg_error_set(EQG_EINVAL, "%s: '%.*s' is not one of the choices", opt,
                                     (int)len, p);
    flags[k] = any = true;
    p = comma ? comma + 1 : NULL;
  }
  return any ? EQG_OK : eqg_error_set(EQG_EINVAL, "%s: empty list", opt);
}

static const char *const beam_names[3] = { "fixed", "boosted", "none" };

static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_CKPT = 256, O_DATADIR, O_TEST_FILE, O_N_TEST, O_BETAS, O_AXES, O_BEAMS, O_BATCH,
         O_THREADS, O_QUICK, O_OUT };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "checkpoint", required_argument, NULL, O_CKPT },
    { "datadir", required_argument, NULL, O_DATADIR },
    { "test-file", required_argument, NULL, O_TEST_FILE },
    { "n-test", required_argument, NULL, O_N_TEST },
    { "betas", required_argument, NULL, O_BETAS },
    { "axes", required_argument, NULL, O_AXES },
    { "beams", required_argument, NULL, O_BEAMS },
    { "batch", required_argument, NULL, O_BATCH },
    { "threads", required_argument, NULL, O_THREADS },
    { "quick", no_argument, NULL, O_QUICK },
    { "out", required_argument, NULL, O_OUT },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .datadir = ".", .out = "toptag_boost.h5", .batch = 32, .threads = 1,
                  .axes = { true, true }, .beam_modes = { true, true } };
  bool set_betas = false, set_test = false;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_CKPT:
      if (o->n_ckpt == MAX_CKPT) st = eqg_error_set(EQG_EINVAL, "--checkpoint: at most %d", MAX_CKPT);
      else if (!*optarg) st = eqg_error_set(EQG_EINVAL, "--checkpoint: empty file name");
      else o->ckpt[o->n_ckpt++] = optarg;
      break;
    case O_DATADIR: o->datadir = optarg; break;
    case O_TEST_FILE: o->test_file = optarg; break;
    case O_N_TEST:
      st = eqg_cli_parse_long("--n-test", optarg, 1, 100000000, &o->n_test);
      set_test = true;
      break;
    case O_BETAS: st = parse_betas(optarg, o); set_betas = true; break;
    case O_AXES: st = parse_names("--axes", optarg, eqg_tt_axis_name, EQG_TT_AXIS_COUNT, o->axes); break;
    case O_BEAMS: st = parse_names("--beams", optarg, beam_names, 2, o->beam_modes); break;
    case O_BATCH: st = eqg_cli_parse_long("--batch", optarg, 1, 100000, &o->batch); break;
    case O_THREADS: st = eqg_cli_parse_long("--threads", optarg, 1, 1024, &o->threads); break;
    case O_QUICK: o->quick = true; break;
    case O_OUT: o->out = optarg; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (o->n_ckpt == 0) return eqg_cli_usage_error(PROG, "no --checkpoint given");
  if (!*o->out) return eqg_cli_usage_error(PROG, "--out: empty file name");
  if (o->quick && !set_test) o->n_test = 48;
  if (!set_betas) {
    if (o->quick) {
      o->betas[0] = 0, o->betas[1] = 0.5, o->betas[2] = 0.99;
      o->n_betas = 3;
    } else {
      o->n_betas = sizeof default_betas / sizeof *default_betas;
      memcpy(o->betas, default_betas, sizeof default_betas);
    }
  }
  const char *files[3] = { NULL, NULL, o->test_file };
  char paths[3][EQG_TT_PATH_MAX];
  if (eqg_tt_data_paths(paths, o->datadir, files) != EQG_OK)
    return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  memcpy(o->path, paths[2], sizeof o->path);
  return -1;
}

/* One row of the results: (model, axis, beams) curve at one beta. */
typedef struct row {
  size_t model;
  int axis, beams;         /* beams: 0 fixed, 1 boosted, 2 none */
  double beta, accuracy, auc, rej30;
} row;

typedef struct results {
  row *rows;
  size_t n, cap;
  char label[MAX_CKPT][96];
  char kind[MAX_CKPT][32];
  size_t n_params[MAX_CKPT];
} results;

static eqg_status push_row(results *R, row r)
{
  if (R->n == R->cap) {
    size_t cap = R->cap ? 2 * R->cap : 64;
    row *p = realloc(R->rows, cap * sizeof *p);
    if (!p) return eqg_error_set(EQG_ENOMEM, "out of memory");
    R->rows = p;
    R->cap = cap;
  }
  R->rows[R->n++] = r;
  return EQG_OK;
}

static eqg_status write_results(const options *o, const results *R, const eqg_cli_provenance *pv,
                                const char *csv)
{
  hid_t f;
  char *tmp;
  eqg_status st = eqg_h5_create_tmp(o->out, &f, &tmp);
  if (st != EQG_OK) return st;
  double *col = malloc((R->n ? R->n : 1) * sizeof *col);
  if (!col) {
    eqg_h5_discard(f, tmp);
    return eqg_error_set(EQG_ENOMEM, "out of memory");
  }
  if ((st = eqg_cli_provenance_write(f, pv)) ||
      (st = eqg_h5_write_attr_string(f, "test_file", o->path)) ||
      (st = eqg_h5_write_attr_string(f, "boost", "active boost by beta (rapidity atanh beta) "
                                     "along +x or the jet axis; beams 0 fixed, 1 boosted, "
                                     "2 none")) ||
      (st = eqg_h5_write_attr_ulong(f, "n_models", (unsigned long)o->n_ckpt)))
    goto done;
  for (size_t k = 0; k < o->n_ckpt; k++) {
    char name[32];
    snprintf(name, sizeof name, "model%zu", k);
    if ((st = eqg_h5_write_attr_string(f, name, R->label[k])) != EQG_OK) goto done;
  }
  for (int c = 0; c < 7; c++) {
    static const char *const names[7] = { "model", "axis", "beams", "beta", "accuracy", "auc",
                                          "rej30" };
    for (size_t i = 0; i < R->n; i++) {
      const row *r = &R->rows[i];
      const double v[7] = { (double)r->model, r->axis, r->beams, r->beta, r->accuracy, r->auc,
                            r->rej30 };
      col[i] = v[c];
    }
    if (R->n && (st = eqg_h5_write_vector(f, names[c], col, R->n)) != EQG_OK) goto done;
  }
  free(col);
  if ((st = eqg_h5_commit(f, tmp, o->out)) != EQG_OK) return st;
  eqg_cli_csv *c = eqg_cli_csv_open(csv, "label,model,params,axis,beams,beta,accuracy,auc,rej30");
  if (!c) return EQG_EIO;
  for (size_t i = 0; i < R->n; i++) {
    const row *r = &R->rows[i];
    if ((st = eqg_cli_csv_row(c, "%s,%s,%zu,%s,%s,%.17g,%.17g,%.17g,%.17g", R->label[r->model],
                              R->kind[r->model], R->n_params[r->model],
                              eqg_tt_axis_name[r->axis], beam_names[r->beams], r->beta,
                              r->accuracy, r->auc, r->rej30)) != EQG_OK) {
      eqg_cli_csv_discard(c);
      return st;
    }
  }
  return eqg_cli_csv_close(c);
done:
  free(col);
  eqg_h5_discard(f, tmp);
  return eqg_error_prefix(st, "results '%s': ", o->out);
}

/* Label: the file's base name without .h5 / .best.h5. */
static void make_label(char *buf, size_t n, const char *path)
{
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  snprintf(buf, n, "%s", b);
  for (const char *suf = ".best.h5"; ; suf = ".h5") {
    size_t l = strlen(buf), k = strlen(suf);
    if (l > k && strcmp(buf + l - k, suf) == 0) {
      buf[l - k] = 0;
      break;
    }
    if (strcmp(suf, ".h5") == 0) break;
  }
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;
  eqg_status st = eqg_cli_set_threads(o.threads);
  if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  results R = { 0 };
  eqg_cli_provenance pv = { .arguments = NULL };
  eqg_real *scores = NULL;
  eqg_model *m = NULL;
  eqg_tt_split test = { 0 };
  char *csv = eqg_cli_path_beside(o.out, ".csv");
  if (!csv || (st = eqg_cli_provenance_init(&pv, argc, argv, 0)) != EQG_OK) goto fail;

  size_t n_curves = 0;
  for (int a = 0; a < EQG_TT_AXIS_COUNT; a++) n_curves += o.axes[a];
  eqg_cli_progress pb;
  eqg_cli_progress_begin(&pb, "boost", o.n_ckpt * n_curves * 2 * o.n_betas);
  size_t done = 0;
  printf("%-24s %-11s %-4s %-7s %6s %9s %9s\n", "checkpoint", "model", "axis", "beams", "beta",
         "accuracy", "AUC");
  for (size_t k = 0; k < o.n_ckpt; k++) {
    eqg_tt_model_spec spec;
    eqg_tt_inputs in;
    size_t maxc;
    if ((st = eqg_tt_model_load(o.ckpt[k], &m, &spec, &in, &maxc)) != EQG_OK) goto fail_bar;
    make_label(R.label[k], sizeof R.label[k], o.ckpt[k]);
    snprintf(R.kind[k], sizeof R.kind[k], "%s", eqg_tt_model_name(spec.kind));
    R.n_params[k] = eqg_model_param_count(m);
    if ((st = eqg_tt_split_load(&test, o.path, (size_t)o.n_test, maxc, in.p_scale)) != EQG_OK) {
      eqg_error_prefix(st, "test data: ");
      goto fail_bar;
    }
    free(scores);
    if (!(scores = malloc(test.n * sizeof *scores))) {
      st = eqg_error_set(EQG_ENOMEM, "out of memory");
      goto fail_bar;
    }
    for (int a = 0; a < EQG_TT_AXIS_COUNT; a++) {
      if (!o.axes[a]) continue;
      for (int bm = 0; bm < 2; bm++) {
        if (!o.beam_modes[bm] || (!in.beams && bm == 1)) {
          done += o.n_betas;
          continue;
        }
        for (size_t i = 0; i < o.n_betas; i++) {
          const eqg_tt_boost boost = { .beta = o.betas[i], .axis = (eqg_tt_axis)a,
                                       .beams = bm == 1 };
          row r = { .model = k, .axis = a, .beams = in.beams ? bm : 2, .beta = o.betas[i] };
          if ((st = eqg_tt_predict(scores, NULL, m, &in, &test, &boost, (size_t)o.batch)) ||
              (st = eqg_accuracy(&r.accuracy, scores, test.labels, test.n, 0)) ||
              (st = eqg_auc(&r.auc, scores, test.labels, test.n))) {
            eqg_error_prefix(st, "%s, beta %g: ", o.ckpt[k], o.betas[i]);
            goto fail_bar;
          }
          eqg_roc *roc = NULL;
          r.rej30 = NAN;
          if (eqg_roc_alloc(&roc, scores, test.labels, test.n) == EQG_OK &&
              eqg_roc_rejection_interp(&r.rej30, roc, 0.3) != EQG_OK)
            r.rej30 = NAN;
          eqg_roc_free(roc);
          if ((st = push_row(&R, r)) != EQG_OK) goto fail_bar;
          eqg_cli_progress_update(&pb, ++done, "%s %s %s beta %.2f acc %.3f", R.label[k],
                                  eqg_tt_axis_name[a], beam_names[r.beams], r.beta, r.accuracy);
          eqg_cli_progress_clear(&pb);
          printf("%-24s %-11s %-4s %-7s %6.3f %9.4f %9.4f\n", R.label[k], R.kind[k],
                 eqg_tt_axis_name[a], beam_names[r.beams], r.beta, r.accuracy, r.auc);
          fflush(stdout);
        }
      }
    }
    eqg_tt_split_clear(&test);
    eqg_model_free(m);
    m = NULL;
  }
  eqg_cli_progress_end(&pb);
  if ((st = write_results(&o, &R, &pv, csv)) != EQG_OK) goto fail;
  printf("files  %s, %s\n", o.out, csv);
  rc = 0;
  goto out;
fail_bar:
  eqg_cli_progress_end(&pb);
fail:
  fprintf(stderr, "%s: %s\n", PROG, csv ? eqg_error_message() : "out of memory");
  rc = 1;
out:
  eqg_model_free(m);
  eqg_tt_split_clear(&test);
  free(scores);
  free(R.rows);
  free(csv);
  eqg_cli_provenance_clear(&pv);
  return rc;
}
