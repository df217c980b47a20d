/* lie_probe.c: probe a set of Lie-algebra generators read from a file.
 *
 * Input (--in FILE): either a lie_discover result (dataset "generators",
 * (n, d*d), attribute d) or any eqgnn checkpoint, where every parameter
 * /params/<name> whose name contains "generators" has shape (n*d, d) (the
 * row-major (n, d, d) stack; lconv's layer<k>.generators).  --param NAME picks
 * one of those (default: the first in name order).
 *
 * It runs eqg_probe_analyse against --truth (so2, so3, so13, boostz or none;
 * default so3 for d = 3, so13 for d = 4), prints the report, and writes
 *   --out FILE.h5        generators, /probe (eqg_probe_write_h5), provenance
 *   FILE_generators.csv  a,i,j,value,x for heat maps: x = a (d + 1) + j puts
 *                        the generators side by side (plots/lie_generators.gp)
 *   FILE_structure.csv   a,b,c,value,x: f_abc with x = c (n + 1) + b, one
 *                        panel per c (plots/lie_structure.gp)
 *   FILE_metric.csv      i,j,value of the recovered invariant metric
 * and, with a truth, the ALIGNED view: each truth basis element T_c replaced by
 * its best approximation inside the learned span, T^_c = sum_a B_ca L_a (least
 * squares), which looks like the truth basis when the span is right and makes
 * heat maps comparable across runs:
 *   FILE_aligned_generators.csv, FILE_aligned_structure.csv (same columns),
 *   /aligned/generators and /aligned/probe in FILE.h5.
 * All written atomically. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>

#include "eqg_cli.h"

static const char PROG[] = "lie_probe";
enum { MAXN = EQG_PROBE_MAX_N, MAXD = EQG_PROBE_MAX_D };

typedef struct options {
  const char *in, *out, *truth, *param;
  unsigned long seed;
  long threads;
  bool quick;
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: lie_probe --in FILE [OPTION]...\n"
"Probe Lie-algebra generators from a lie_discover result or an eqgnn checkpoint\n"
"(parameters named *generators*, shape (n*d, d)): structure constants and\n"
"closure, Killing form, invariant metric, principal angles to a known algebra.\n"
"\n"
"Options:\n"
"  -h, --help          show this help and exit\n"
"      --in FILE       input HDF5 file (required)\n"
"      --param NAME    checkpoint parameter to probe (default: the first whose\n"
"                      name contains 'generators')\n"
"      --truth T       so2, so3, so13, boostz or none (default so3 for d = 3,\n"
"                      so13 for d = 4, none otherwise)\n"
"      --out FILE.h5   results (default lie_probe.h5), CSVs beside it:\n"
"                      FILE_generators.csv, FILE_structure.csv, FILE_metric.csv\n"
"      --seed N        recorded in the provenance (the probe is deterministic)\n"
"      --threads N     BLAS threads, 1..1024 (default 1)\n"
"      --quick         accepted for CI symmetry (the probe is always quick)\n"
"\n"
"Plot: gnuplot -e \"csv='FILE_generators.csv'; out='gen.png'\" plots/lie_generators.gp\n"
"      gnuplot -e \"csv='FILE_structure.csv'; out='f.png'\" plots/lie_structure.gp\n"
"Exit status: 0 on success, 1 on an I/O or format failure, 2 on bad options.\n", f);
}

static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_IN = 256, O_OUT, O_TRUTH, O_PARAM, O_SEED, O_THREADS, O_QUICK };
  static const struct option lo[] = {
    { "help", no_argument, NULL, 'h' }, { "in", required_argument, NULL, O_IN },
    { "out", required_argument, NULL, O_OUT }, { "truth", required_argument, NULL, O_TRUTH },
    { "param", required_argument, NULL, O_PARAM }, { "seed", required_argument, NULL, O_SEED },
    { "threads", required_argument, NULL, O_THREADS }, { "quick", no_argument, NULL, O_QUICK },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .out = "lie_probe.h5", .seed = 1, .threads = 1 };
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", lo, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_IN: o->in = optarg; break;
    case O_OUT: o->out = optarg; break;
    case O_PARAM: o->param = optarg; break;
    case O_TRUTH:
      if (strcmp(optarg, "so2") && strcmp(optarg, "so3") && strcmp(optarg, "so13") &&
          strcmp(optarg, "boostz") && strcmp(optarg, "none"))
        st = eqg_error_set(EQG_EINVAL, "--truth: '%s' is not so2, so3, so13, boostz or none",
                           optarg);
      o->truth = optarg;
      break;
    case O_SEED: st = eqg_cli_parse_ulong("--seed", optarg, 0, 4294967295UL, &o->seed); break;
    case O_THREADS: st = eqg_cli_parse_long("--threads", optarg, 1, 1024, &o->threads); break;
    case O_QUICK: o->quick = true; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (!o->in || !*o->in) return eqg_cli_usage_error(PROG, "--in FILE is required");
  if (!*o->out) return eqg_cli_usage_error(PROG, "--out: empty file name");
  return -1;
}

/* Read generators into L (n, d, d) and a description of where they came from. */
static eqg_status read_generators(const options *o, eqg_real *L, size_t *n, size_t *d,
                                  char *what, size_t what_len)
{
  hid_t f;
  eqg_status st = eqg_h5_open(o->in, false, &f);
  if (st) return st;
  int rank;
  size_t dims[2];
  if (eqg_h5_exists(f, "generators")) {                     /* lie_discover result */
    long dl;
    if ((st = eqg_h5_read_attr_long(f, "d", &dl)) ||
        (st = eqg_h5_dataset_shape(f, "generators", &rank, dims)))
      goto done;
    if (dl < 1 || dl > MAXD || dims[1] != (size_t)(dl * dl) || dims[0] < 1 || dims[0] > MAXN) {
      st = eqg_error_set(EQG_ESHAPE, "generators are %zu x %zu with d = %ld: expected (n, d*d) "
                         "with n <= %d, d <= %d", dims[0], dims[1], dl, MAXN, MAXD);
      goto done;
    }
    *n = dims[0], *d = (size_t)dl;
    st = eqg_h5_read_matrix(f, "generators", L, *n, *d * *d);
    snprintf(what, what_len, "dataset 'generators'");
    goto done;
  }
  hid_t g = eqg_h5_group_open(f, "params");                 /* checkpoint */
  if (g < 0) {
    st = eqg_error_set(EQG_EFORMAT, "no dataset 'generators' and no /params group "
                       "(neither a lie_discover result nor an eqgnn checkpoint)");
    goto done;
  }
  size_t nl = 0;
  char *name = NULL;
  if ((st = eqg_h5_link_count(g, &nl))) goto done_g;
  for (size_t k = 0; k < nl && !name; k++) {
    char *nm = eqg_h5_link_name(g, k);
    if (!nm) {
      st = eqg_error_set(EQG_ENOMEM, "out of memory");
      goto done_g;
    }
    bool match = o->param ? strcmp(nm, o->param) == 0 : strstr(nm, "generators") != NULL;
    if (match) name = nm;
    else free(nm);
  }
  if (!name) {
    st = eqg_error_set(EQG_EFORMAT, o->param ? "checkpoint has no parameter '%s'"
                                             : "checkpoint has no parameter named *generators*%s",
                       o->param ? o->param : "");
    goto done_g;
  }
  if (!(st = eqg_h5_dataset_shape(g, name, &rank, dims))) {
    const size_t dd = dims[1];
    if (rank != 2 || dd < 1 || dd > MAXD || dims[0] % dd || dims[0] / dd < 1 || dims[0] / dd > MAXN)
      st = eqg_error_set(EQG_ESHAPE, "parameter '%s' is %zu x %zu: expected (n*d, d) with "
                         "n <= %d, d <= %d", name, dims[0], dims[1], MAXN, MAXD);
    else {
      *n = dims[0] / dd, *d = dd;
      st = eqg_h5_read_matrix(g, name, L, dims[0], dd);
      snprintf(what, what_len, "checkpoint parameter '%s'", name);
    }
  }
  free(name);
done_g:
  eqg_h5_close(g);
done:
  eqg_h5_close(f);
  if (!st)
    for (size_t k = 0; k < *n * *d * *d; k++)
      if (!isfinite(L[k])) {
        st = eqg_error_set(EQG_ENONFINITE, "generator %zu entry %zu is %g", k / (*d * *d),
                           k % (*d * *d), L[k]);
        break;
      }
  return st ? eqg_error_prefix(st, "%s: ", o->in) : EQG_OK;
}

/* A (k, d, d): T^_c = sum_a B_ca L_a, B the least-squares coefficients of T_c
 * in the learned generators (normal equations, Cholesky). */
static eqg_status align(eqg_real *A, const eqg_real *T, size_t k, const eqg_real *L, size_t n,
                        size_t d)
{
  const size_t q = d * d;
  double g[MAXN * MAXN], rhs[MAXN];
  for (size_t a = 0; a < n; a++)
    for (size_t b = 0; b < n; b++) {
      double s = 0;
      for (size_t i = 0; i < q; i++) s += L[a * q + i] * L[b * q + i];
      g[a * n + b] = s;
    }
  gsl_matrix_view G = gsl_matrix_view_array(g, n, n);
  if (gsl_linalg_cholesky_decomp1(&G.matrix))
    return eqg_error_set(EQG_EINVAL, "aligned view: the generators are linearly dependent");
  for (size_t c = 0; c < k; c++) {
    for (size_t a = 0; a < n; a++) {
      double s = 0;
      for (size_t i = 0; i < q; i++) s += L[a * q + i] * T[c * q + i];
      rhs[a] = s;
    }
    gsl_vector_view x = gsl_vector_view_array(rhs, n);
    if (gsl_linalg_cholesky_svx(&G.matrix, &x.vector))
      return eqg_error_set(EQG_EINVAL, "aligned view: solve failed");
    for (size_t i = 0; i < q; i++) {
      double s = 0;
      for (size_t a = 0; a < n; a++) s += rhs[a] * L[a * q + i];
      A[c * q + i] = s;
    }
  }
  return EQG_OK;
}

/* FILE<prefix>_generators.csv, _structure.csv and (unless prefix) _metric.csv. */
static eqg_status write_csvs(const char *out, const char *prefix, const eqg_real *L,
                             const eqg_probe_report *r)
{
  const size_t n = r->n, d = r->d;
  char sg[64], sf[64];
  snprintf(sg, sizeof sg, "%s_generators.csv", prefix);
  snprintf(sf, sizeof sf, "%s_structure.csv", prefix);
  char *pg = eqg_cli_path_beside(out, sg), *pf = eqg_cli_path_beside(out, sf);
  char *pm = eqg_cli_path_beside(out, "_metric.csv");
  eqg_status st = pg && pf && pm ? EQG_OK : eqg_error_set(EQG_ENOMEM, "out of memory");
  eqg_cli_csv *c = NULL;
  if (!st && (c = eqg_cli_csv_open(pg, "a,i,j,value,x"))) {
    for (size_t a = 0; a < n && !st; a++)
      for (size_t i = 0; i < d && !st; i++)
        for (size_t j = 0; j < d && !st; j++)
          st = eqg_cli_csv_row(c, "%zu,%zu,%zu,%.10g,%zu", a, i, j, L[(a * d + i) * d + j],
                               a * (d + 1) + j);
    if (st) eqg_cli_csv_discard(c);
    else st = eqg_cli_csv_close(c);
  } else if (!st) st = EQG_EIO;
  if (!st && (c = eqg_cli_csv_open(pf, "a,b,c,value,x"))) {
    for (size_t k = 0; k < n && !st; k++)
      for (size_t a = 0; a < n && !st; a++)
        for (size_t b = 0; b < n && !st; b++)
          st = eqg_cli_csv_row(c, "%zu,%zu,%zu,%.10g,%zu", a, b, k, r->f[a][b][k], k * (n + 1) + b);
    if (st) eqg_cli_csv_discard(c);
    else st = eqg_cli_csv_close(c);
  } else if (!st) st = EQG_EIO;
  if (!st && !*prefix && (c = eqg_cli_csv_open(pm, "i,j,value"))) {
    for (size_t i = 0; i < d && !st; i++)
      for (size_t j = 0; j < d && !st; j++)
        st = eqg_cli_csv_row(c, "%zu,%zu,%.10g", i, j, r->metric[i * d + j]);
    if (st) eqg_cli_csv_discard(c);
    else st = eqg_cli_csv_close(c);
  } else if (!st && !*prefix) st = EQG_EIO;
  free(pg), free(pf), free(pm);
  return st;
}

static eqg_status write_h5(const options *o, const eqg_cli_provenance *pv, const eqg_real *L,
                           const eqg_probe_report *r, const char *what, const eqg_real *A,
                           const eqg_probe_report *ra)
{
  hid_t f;
  char *tmp;
  eqg_status st = eqg_h5_create_tmp(o->out, &f, &tmp);
  if (st) return st;
  if ((st = eqg_cli_provenance_write(f, pv)) ||
      (st = eqg_probe_write_h5_result(f, L, r)) ||
      (st = eqg_h5_write_attr_string(f, "input", o->in)) ||
      (st = eqg_h5_write_attr_string(f, "input_object", what)))
    goto fail;
  if (A) {
    hid_t ga = eqg_h5_group_create(f, "aligned");
    if (ga < 0 || (st = eqg_probe_write_h5_generators(ga, A, ra))) {
      eqg_h5_close(ga);
      if (!st) st = EQG_EIO;
      goto fail;
    }
    eqg_h5_close(ga);
  }
  return eqg_h5_commit(f, tmp, o->out);
fail:
  eqg_h5_discard(f, tmp);
  return eqg_error_prefix(st, "results %s: ", o->out);
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;
  if (eqg_cli_set_threads(o.threads)) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  eqg_cli_progress pb;
  eqg_cli_progress_begin(&pb, "probe", 3);
  eqg_real L[MAXN * MAXD * MAXD];
  size_t n = 0, d = 0;
  char what[256] = "";
  eqg_probe_report rep;
  eqg_cli_provenance pv = { .arguments = NULL };
  eqg_status st = read_generators(&o, L, &n, &d, what, sizeof what);
  eqg_cli_progress_update(&pb, 1, "read");
  const char *truth = o.truth ? (strcmp(o.truth, "none") == 0 ? NULL : o.truth)
                              : d == 3 ? "so3" : d == 4 ? "so13" : NULL;
  if (!st) st = eqg_probe_analyse(&rep, L, n, d, truth);
  /* the aligned view (only when the spans have the same dimension) */
  eqg_real T[6 * MAXD * MAXD], A[6 * MAXD * MAXD];
  eqg_probe_report rep_a;
  size_t k = 0;
  if (!st && truth) st = eqg_probe_truth_basis(T, &k, truth, d);
  bool aligned = k > 0 && rep.rank == n && n == k;
  if (aligned && !(st = align(A, T, k, L, n, d))) st = eqg_probe_analyse(&rep_a, A, k, d, truth);
  eqg_cli_progress_update(&pb, 2, "analysed");
  if (!st) st = eqg_cli_provenance_init(&pv, argc, argv, o.seed);
  if (!st) st = write_h5(&o, &pv, L, &rep, what, aligned ? A : NULL, &rep_a);
  if (!st) st = write_csvs(o.out, "", L, &rep);
  if (!st && aligned) st = write_csvs(o.out, "_aligned", A, &rep_a);
  eqg_cli_progress_update(&pb, 3, "written");
  eqg_cli_progress_end(&pb);
  eqg_cli_provenance_clear(&pv);
  if (st) {
    fprintf(stderr, "%s: %s\n", PROG, eqg_error_message());
    return 1;
  }
  printf("lie_probe: %s of %s: %zu generators of side %zu\n", what, o.in, n, d);
  if (eqg_probe_print(stdout, &rep)) return 1;
  if (truth && strcmp(truth, "so3") == 0 && n == 3)
    printf("structure constants vs epsilon (after alignment): max |f - eps| = %.3e\n",
           eqg_discover_so3_structure_error(&rep));
  printf("summary: rank %zu, closure rel. residual max %.3e, Killing signature (+%zu, -%zu, "
         "0:%zu), metric signature (+%zu, -%zu, 0:%zu) residual %.2e",
         rep.rank, rep.closure_rel_max, rep.killing_pos, rep.killing_neg, rep.killing_zero,
         rep.metric_pos, rep.metric_neg, rep.metric_zero, rep.metric_residual);
  if (truth) printf(", vs %s: min cosine %.9f, Grassmann %.3e", truth, rep.min_cosine,
                    rep.grassmann);
  printf("\n");
  if (aligned) {
    eqg_real fe = 0;   /* aligned structure constants vs the truth's (those of T itself) */
    eqg_probe_report rt;
    if (eqg_probe_analyse(&rt, T, k, d, NULL) == EQG_OK)
      for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++)
          for (size_t c = 0; c < k; c++) fe = fmax(fe, fabs(rep_a.f[a][b][c] - rt.f[a][b][c]));
    printf("aligned view (truth basis projected into the learned span): max |f^ - f_truth| = "
           "%.3e, per-generator cosines:", fe);
    for (size_t a = 0; a < k; a++) printf(" %.6f", rep_a.gen_cosine[a]);
    printf("\n");
  }
  printf("wrote %s and its CSVs\n", o.out);
  return 0;
}
