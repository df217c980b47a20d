/* bench_ops.c: GFLOP/s of the matrix-product path at message-passing shapes.
 *
 * A benchmark, not a test: for each shape M x K x N it times
 *   (a) raw cblas_dgemm  C (M, N) = A (M, K) B (K, N);
 *   (b) the eqg_matmul op forward on a tape, same operands: tape reset, node
 *       push, zeroed output allocation in the arena and the dgemm (the tape
 *       overhead a model pays per product);
 *   (c) a full training step of the 2-layer MLP K -> N -> N (SiLU after the
 *       hidden layer, none after the last) with an MSE loss against an (M, N)
 *       target: tape reset, forward, zero grad, backward, Adam update.
 * Each is called `warmup` times, then `repeats` times timed one by one with
 * clock_gettime(CLOCK_MONOTONIC), the three taking turns (a, b, c, a, b, c,
 * ...) so that load from other processes hits them alike; the median is
 * reported.
 *
 * FLOPs counted (matrix products only, 2 flops per multiply-add):
 *   (a), (b)  2 M K N
 *   (c)       forward   2 M K N (X W1) + 2 M N N (H W2)
 *             backward  2 M K N (dW1 = X^T dZ1; X has no gradient, so no dX)
 *                     + 4 M N N (dW2 = H^T dY and dH = dY W2^T)
 *             total     4 M K N + 6 M N N
 *   The elementwise work (bias adds and their gradients, SiLU, MSE, Adam over
 *   the K N + N N + 2 N parameters) is NOT counted: it is memory bound and
 *   shows up as the step's overhead in the ratio.
 * Ratios are times relative to dgemm at the same shape:
 *   op/dgemm               = t_op / t_dgemm                  (same FLOPs)
 *   step/dgemm-equivalent  = t_step / (flops_step / rate_dgemm)
 * so 1.00 means no overhead.  (The step's products have other shapes than
 * M x K x N, so part of its ratio is dgemm's own efficiency at those shapes.) */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_rng.h>

#include "core/eqg_blas.h"
#include "eqg_cli.h"

#ifndef EQG_USE_GSLCBLAS
char *openblas_get_config(void);   /* OpenBLAS extension (declared by its cblas.h) */
#endif

typedef struct shape {
  size_t M, K, N;
} shape;

/* Edge-MLP shapes: ~2k and ~20k edges, input width 2F + extras, hidden F. */
static const shape shapes[] = { { 2000, 130, 64 }, { 20000, 144, 72 } };
enum { N_SHAPES = sizeof shapes / sizeof *shapes };

enum { WARMUP = 3, REPEATS = 20, QUICK_WARMUP = 1, QUICK_REPEATS = 2 };

typedef struct options {
  unsigned long seed;
  long threads, repeats, warmup;
  bool quick;
  const char *out;   /* NULL: no results file */
} options;

typedef struct result {
  double flops_mm, flops_step;        /* per call */
  double t_dgemm, t_op, t_step;       /* median seconds per call */
  double max_diff;                    /* max |op output - dgemm output| */
} result;

static void usage(FILE *f)
{
  fputs(
"Usage: bench_ops [OPTION]...\n"
"Benchmark the matrix-product path at message-passing shapes M x K x N =\n"
"2000 x 130 x 64 and 20000 x 144 x 72: GFLOP/s of (a) raw cblas_dgemm\n"
"C (M, N) = A (M, K) B (K, N), (b) the eqg_matmul op forward on a tape\n"
"(including tape overhead) and (c) a full training step (forward, backward,\n"
"Adam) of the MLP K -> N -> N with SiLU and an MSE loss, counted as\n"
"4MKN + 6MNN flops (matrix products only).  Reports the median time per call,\n"
"GFLOP/s and the time ratios op/dgemm and step/dgemm-equivalent (1 = no\n"
"overhead).\n"
"\n"
"Options:\n"
"  -h, --help         show this help and exit\n"
"      --seed N       seed for the operand values, 0..4294967295 (default 1)\n"
"      --threads N    BLAS/OpenMP threads, 1..1024 (default 1)\n"
"      --repeats N    timed calls per measurement, 1..100000 (default 20, after\n"
"                     3 warm-up calls; --quick: 2 after 1)\n"
"      --quick        tiny repeat counts, for CI\n"
"      --out FILE.h5  also write the results (with provenance) to FILE.h5 and a\n"
"                     CSV beside it (FILE.csv); default: stdout only\n"
"\n"
"Exit status: 0 on success, 1 on an I/O or computation failure, 2 on bad\n"
"options.\n", f);
}

/* Program name in usage errors (eqg_cli_usage_error). */
static const char PROG[] = "bench_ops";

/* -1 to continue, else an exit code (0 after --help, 2 on a bad option). */
static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_SEED = 256, O_THREADS, O_REPEATS, O_QUICK, O_OUT };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "seed", required_argument, NULL, O_SEED },
    { "threads", required_argument, NULL, O_THREADS },
    { "repeats", required_argument, NULL, O_REPEATS },
    { "quick", no_argument, NULL, O_QUICK },
    { "out", required_argument, NULL, O_OUT },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .seed = 1, .threads = 1, .repeats = REPEATS, .warmup = WARMUP };
  bool repeats_set = false;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_SEED: st = eqg_cli_parse_ulong("--seed", optarg, 0, 4294967295UL, &o->seed); break;
    case O_THREADS: st = eqg_cli_parse_long("--threads", optarg, 1, 1024, &o->threads); break;
    case O_REPEATS:
      st = eqg_cli_parse_long("--repeats", optarg, 1, 100000, &o->repeats);
      repeats_set = true;
      break;
    case O_QUICK: o->quick = true; break;
    case O_OUT:
      if (!*optarg) return eqg_cli_usage_error(PROG, "--out: empty file name");
      o->out = optarg;
      break;
    default: return eqg_cli_getopt_error(PROG, c, argv);   /* ':' or '?' */
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (o->quick) {
    o->warmup = QUICK_WARMUP;
    if (!repeats_set) o->repeats = QUICK_REPEATS;
  }
  return -1;
}

/* ---- timing ------------------------------------------------------------------ */

/* What is timed: one call of fn(ctx); false on failure (message set). */
typedef bool (*bench_fn)(void *ctx);

typedef struct timer {
  long warmup, repeats;     /* calls per kernel: untimed, then timed */
  double *samples;          /* (3, repeats): dgemm, op, step */
  eqg_cli_progress *pb;
  size_t done;              /* calls so far, for the progress bar */
} timer;

/* ---- the three kernels -------------------------------------------------------- */

typedef struct dgemm_ctx {
  int M, K, N;
  const double *A, *B;   /* (M, K), (K, N) */
  double *C;             /* (M, N) */
} dgemm_ctx;

static bool run_dgemm(void *ctx)
{
  dgemm_ctx *g = ctx;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->M, g->N, g->K, 1.0, g->A, g->K,
              g->B, g->N, 0.0, g->C, g->N);
  return true;
}

typedef struct op_ctx {
  eqg_tape *t;
  eqg_tensor a, b;      /* views of the dgemm operands (no copy, no gradient) */
  eqg_tensor *c;        /* last output, in the tape arena */
} op_ctx;

static bool run_op(void *ctx)
{
  op_ctx *g = ctx;
  eqg_tape_reset(g->t);
  g->c = eqg_matmul(g->t, &g->a, false, &g->b, false);
  return g->c != NULL;
}

typedef struct step_ctx {
  eqg_tape *t;
  eqg_params *p;
  eqg_mlp *m;           /* K -> N -> N */
  eqg_optim *o;         /* Adam */
  eqg_tensor x, y;      /* input (M, K), target (M, N): views, no gradient */
} step_ctx;

static bool run_step(void *ctx)
{
  step_ctx *g = ctx;
  eqg_tape_reset(g->t);
  eqg_tensor *loss = eqg_mse(g->t, eqg_mlp_forward(g->t, g->p, g->m, &g->x), &g->y);
  if (!loss) return false;
  eqg_params_zero_grad(g->p);
  if (eqg_tape_backward(g->t, loss) != EQG_OK) return false;
  eqg_optim_step(g->o, g->p, 1e-4);
  return true;
}

static void fill_uniform(gsl_rng *rng, double *x, size_t n)
{
  for (size_t i = 0; i < n; i++) x[i] = 2 * gsl_rng_uniform(rng) - 1;
}

/* Measure one shape into *r. */
static eqg_status bench_shape(const shape *s, gsl_rng *rng, timer *tm, result *r)
{
  size_t M = s->M, K = s->K, N = s->N;
  eqg_status st = EQG_OK;
  double *A = malloc(M * K * sizeof *A), *B = malloc(K * N * sizeof *B);
  double *C = malloc(M * N * sizeof *C), *Y = malloc(M * N * sizeof *Y);
  eqg_tape *t = eqg_tape_alloc(1 << 20, NULL);
  eqg_params *p = eqg_params_alloc();
  eqg_mlp *m = NULL;
  eqg_optim *o = NULL;
  if (!A || !B || !C || !Y || !t || !p) {
    st = eqg_error_set(EQG_ENOMEM, "shape %zu x %zu x %zu: out of memory", M, K, N);
    goto done;
  }
  fill_uniform(rng, A, M * K);
  fill_uniform(rng, B, K * N);
  fill_uniform(rng, Y, M * N);
  r->max_diff = 0;
  r->flops_mm = 2.0 * (double)M * (double)K * (double)N;
  r->flops_step = 4.0 * (double)M * (double)K * (double)N + 6.0 * (double)M * (double)N * (double)N;

  size_t widths[3] = { K, N, N };
  eqg_mlp_config cfg = eqg_mlp_config_default(widths, 3);   /* SiLU, no norm */
  eqg_optim_config ocfg = eqg_optim_config_for(&eqg_optim_adam);
  if (!(m = eqg_mlp_alloc(p, "mlp", &cfg, rng)) ||
      !(o = eqg_optim_alloc(&eqg_optim_adam, &ocfg, p->size))) {
    st = eqg_error_prefix(EQG_EINVAL, "MLP step: ");
    goto done;
  }
  dgemm_ctx g = { (int)M, (int)K, (int)N, A, B, C };
  op_ctx oc = { .t = t, .a = { M, K, A, NULL }, .b = { K, N, B, NULL } };
  step_ctx sc = { .t = t, .p = p, .m = m, .o = o, .x = { M, K, A, NULL },
                  .y = { M, N, Y, NULL } };

  /* The three kernels take turns within each repetition, so that a change in
   * machine load affects all three medians alike and the ratios stay fair. */
  static const char *const names[3] = { "dgemm", "matmul op", "MLP step" };
  bench_fn fns[3] = { run_dgemm, run_op, run_step };
  void *ctxs[3] = { &g, &oc, &sc };
  size_t R = (size_t)tm->repeats;
  for (long i = 0; i < tm->warmup + tm->repeats; i++)
    for (int k = 0; k < 3; k++) {
      double t0 = eqg_cli_now();
      if (!fns[k](ctxs[k])) {
        st = eqg_error_prefix(eqg_tape_status(t) ? eqg_tape_status(t) : EQG_EINVAL, "%s: ",
                              names[k]);
        goto done;
      }
      double dt = eqg_cli_now() - t0;
      if (i >= tm->warmup) tm->samples[(size_t)k * R + (size_t)(i - tm->warmup)] = dt;
      eqg_cli_progress_update(tm->pb, ++tm->done, "%zu x %zu x %zu %s", M, K, N, names[k]);
      if (k == 1 && i + 1 == tm->warmup + tm->repeats) {
        /* the op must compute exactly what dgemm computed */
        for (size_t j = 0; j < M * N; j++) {
          double d = fabs(oc.c->data[j] - C[j]);
          if (!(d <= r->max_diff)) r->max_diff = d;   /* NaN propagates */
        }
      }
    }
  r->t_dgemm = eqg_cli_median(tm->samples, R);
  r->t_op = eqg_cli_median(tm->samples + R, R);
  r->t_step = eqg_cli_median(tm->samples + 2 * R, R);
done:
  eqg_optim_free(o);
  eqg_mlp_free(m);
  eqg_params_free(p);
  eqg_tape_free(t);
  free(A);
  free(B);
  free(C);
  free(Y);
  return st;
}

/* ---- output ---------------------------------------------------------------------- */

static double gflops(double flops, double seconds) { return 1e-9 * flops / seconds; }

static const char *const columns[] = {
  "M", "K", "N", "flops_dgemm", "flops_step", "time_dgemm_s", "time_op_s", "time_step_s",
  "gflops_dgemm", "gflops_op", "gflops_step", "ratio_op_dgemm", "ratio_step_dgemm_equiv"
};
enum { N_COLUMNS = sizeof columns / sizeof *columns };

/* Row i of the results table, in the order of `columns`. */
static void result_row(const shape *s, const result *r, double v[N_COLUMNS])
{
  double rate = r->flops_mm / r->t_dgemm;
  double vals[N_COLUMNS] = {
    (double)s->M, (double)s->K, (double)s->N, r->flops_mm, r->flops_step,
    r->t_dgemm, r->t_op, r->t_step,
    gflops(r->flops_mm, r->t_dgemm), gflops(r->flops_mm, r->t_op),
    gflops(r->flops_step, r->t_step),
    r->t_op / r->t_dgemm, r->t_step / (r->flops_step / rate)
  };
  memcpy(v, vals, sizeof vals);
}

static eqg_status write_results(const char *path, const eqg_cli_provenance *pv,
                                const options *o, const char *blas, const result *res)
{
  double table[N_COLUMNS][N_SHAPES], row[N_COLUMNS];
  for (size_t i = 0; i < N_SHAPES; i++) {
    result_row(&shapes[i], &res[i], row);
    for (size_t c = 0; c < N_COLUMNS; c++) table[c][i] = row[c];
  }
  hid_t f;
  char *tmp;
  eqg_status st = eqg_h5_create_tmp(path, &f, &tmp);
  if (st != EQG_OK) return st;
  if ((st = eqg_cli_provenance_write(f, pv)) ||
      (st = eqg_h5_write_attr_long(f, "threads", o->threads)) ||
      (st = eqg_h5_write_attr_long(f, "repeats", o->repeats)) ||
      (st = eqg_h5_write_attr_long(f, "warmup", o->warmup)) ||
      (st = eqg_h5_write_attr_string(f, "blas", blas)) ||
      (st = eqg_h5_write_attr_string(f, "flops_step_formula",
                                     "4MKN + 6MNN (matrix products only)")))
    goto fail;
  for (size_t c = 0; c < N_COLUMNS; c++)
    if ((st = eqg_h5_write_vector(f, columns[c], table[c], N_SHAPES)) != EQG_OK) goto fail;
  return eqg_h5_commit(f, tmp, path);
fail:
  eqg_h5_discard(f, tmp);
  return eqg_error_prefix(st, "results %s: ", path);
}

static eqg_status write_csv(const char *path, const result *res)
{
  char header[512] = "";
  for (size_t c = 0; c < N_COLUMNS; c++) {
    size_t len = strlen(header);
    snprintf(header + len, sizeof header - len, "%s%s", c ? "," : "", columns[c]);
  }
  eqg_cli_csv *csv = eqg_cli_csv_open(path, header);
  if (!csv) return EQG_EIO;
  for (size_t i = 0; i < N_SHAPES; i++) {
    double v[N_COLUMNS];
    result_row(&shapes[i], &res[i], v);
    char line[1024] = "";
    for (size_t c = 0; c < N_COLUMNS; c++) {
      size_t len = strlen(line);
      snprintf(line + len, sizeof line - len, "%s%.17g", c ? "," : "", v[c]);
    }
    if (eqg_cli_csv_row(csv, "%s", line) != EQG_OK) {
      eqg_cli_csv_discard(csv);
      return EQG_EIO;
    }
  }
  return eqg_cli_csv_close(csv);
}

static void print_time(double s)
{
  if (s < 1e-3) printf("%8.1f us", 1e6 * s);
  else if (s < 1) printf("%8.3f ms", 1e3 * s);
  else printf("%8.3f s ", s);
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();   /* GSL failures become statuses, not aborts */
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;
  eqg_status st = eqg_cli_set_threads(o.threads);
  if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());

#ifdef EQG_USE_GSLCBLAS
  const char *blas = "GSL CBLAS";
#else
  const char *blas = openblas_get_config();
#endif
  rc = 1;
  eqg_cli_provenance pv = { .arguments = NULL };
  result res[N_SHAPES];
  double *samples = malloc(3 * (size_t)o.repeats * sizeof *samples);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  char *csv = o.out ? eqg_cli_path_beside(o.out, ".csv") : NULL;
  if (!samples || !rng || (o.out && !csv)) {
    fprintf(stderr, "bench_ops: out of memory\n");
    goto done;
  }
  if ((st = eqg_cli_provenance_init(&pv, argc, argv, o.seed)) != EQG_OK) goto fail;
  gsl_rng_set(rng, o.seed);

  printf("bench_ops: dgemm, eqg_matmul op and MLP training step at message-passing shapes\n");
  printf("BLAS %s; %ld thread%s; median of %ld timed calls after %ld warm-up\n\n", blas,
         o.threads, o.threads == 1 ? "" : "s", o.repeats, o.warmup);
  fflush(stdout);

  eqg_cli_progress pb;
  eqg_cli_progress_begin(&pb, "bench", (size_t)(N_SHAPES * 3 * (o.warmup + o.repeats)));
  timer tm = { .warmup = o.warmup, .repeats = o.repeats, .samples = samples, .pb = &pb };
  for (size_t i = 0; i < N_SHAPES; i++)
    if ((st = bench_shape(&shapes[i], rng, &tm, &res[i])) != EQG_OK) {
      eqg_cli_progress_end(&pb);
      goto fail;
    }
  eqg_cli_progress_end(&pb);

  printf("%-20s %-10s %10s %11s %9s %7s\n", "M x K x N", "kernel", "GFLOP/call", "time/call",
         "GFLOP/s", "ratio");
  for (size_t i = 0; i < N_SHAPES; i++) {
    double v[N_COLUMNS];
    result_row(&shapes[i], &res[i], v);
    char label[64];
    snprintf(label, sizeof label, "%zu x %zu x %zu", shapes[i].M, shapes[i].K, shapes[i].N);
    printf("%-20s %-10s %10.4f ", label, "dgemm", 1e-9 * res[i].flops_mm);
    print_time(res[i].t_dgemm);
    printf(" %9.2f %7.2f\n", v[8], 1.0);
    printf("%-20s %-10s %10.4f ", "", "matmul op", 1e-9 * res[i].flops_mm);
    print_time(res[i].t_op);
    printf(" %9.2f %7.2f  op/dgemm\n", v[9], v[11]);
    printf("%-20s %-10s %10.4f ", "", "MLP step", 1e-9 * res[i].flops_step);
    print_time(res[i].t_step);
    printf(" %9.2f %7.2f  step/dgemm-equivalent\n", v[10], v[12]);
  }
  printf("\nMLP step = forward + backward + Adam of K -> N -> N (SiLU, MSE), counted as\n"
         "4MKN + 6MNN flops (matrix products only; elementwise work not counted).\n"
         "ratio = time / time of dgemm for the same flops at this shape (1 = no overhead).\n");
  double worst = 0;
  for (size_t i = 0; i < N_SHAPES; i++)
    if (!(res[i].max_diff <= worst)) worst = res[i].max_diff;
  printf("matmul op output vs dgemm: max |difference| %g%s\n", worst,
         worst == 0 ? " (bitwise identical)" : "");

  if (o.out) {
    if ((st = write_results(o.out, &pv, &o, blas, res)) != EQG_OK ||
        (st = write_csv(csv, res)) != EQG_OK)
      goto fail;
    printf("results %s, %s\n", o.out, csv);
  }
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "bench_ops: %s\n", eqg_error_message());
  rc = 1;
done:
  eqg_cli_provenance_clear(&pv);
  gsl_rng_free(rng);
  free(samples);
  free(csv);
  return rc;
}
