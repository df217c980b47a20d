/* bench_egnn.c: time the EGNN training step of the N-body experiment.
 *
 * A benchmark, not a study: it builds the "egnn_nbody" preset (4 EGNN layers of
 * width 64, velocity variant, 134,020 parameters; shared/reference/nbody.md) and
 * one batch of G graphs (default 100) of 5 fully connected particles, 20 G
 * directed edges with attributes [q_i q_j, |x_i - x_j|^2], node input |v_i|,
 * and times the training step
 *
 *   tape reset, forward, MSE against the target positions, zero grad,
 *   backward, Adam (lr 5e-4, weight decay 1e-12)
 *
 * `warmup` times untimed, then `steps` times one by one with
 * clock_gettime(CLOCK_MONOTONIC): median, mean and minimum.  It also times the
 * evaluation forward (no gradients) and the assembly of one batch, and projects
 *
 *   epoch    = 30 (step + assembly) + 20 (eval forward + assembly)
 *              (3000 training samples / 100, 2000 validation samples / 100)
 *   protocol = 10,000 epochs of 30 steps, validation AND test (2000 each) every
 *              5 epochs: 10,000 * 30 (step + assembly) + 2,000 * 40 (eval + assembly)
 *
 * at the default batch of 100 (other batch sizes scale the counts: ceil of the
 * sample counts over the batch, training dropping the last partial batch).
 * Finally a profile: `min(steps, 10)` further steps with the tape's per-op-kind
 * timer on (eqg_tape_profile), reported as forward / backward milliseconds per
 * step for every op kind, plus the parts outside the tape (zero grad, Adam,
 * model glue).  The profiled steps are not part of the timing above.  Reading
 * it: "affine" and "edge_affine" are the Linear layers with their bias and
 * SiLU fused in (eqg_ops.h), so they hold all the matrix products but the
 * bias-free ones ("matmul": the per-node W_j projection and phi_x's last
 * layer) and all of the SiLU work; "(output alloc)" is the allocation of
 * the outputs in the tape arena, and the zeroing of their gradient buffers is
 * counted in the backward of the op kind that first accumulates into them.
 *
 * The reference measured in the same run: the first profiled step records the
 * shapes of its matrix products (eqg_gemm_trace), and these products alone are
 * replayed `steps` times on scratch operands through the same eqg_dgemm.  Their
 * median is what the step would cost if everything else were free, which
 * bounds what any further work outside BLAS can win; the 10 ms target is
 * printed against it.  PyTorch, the reference, is timed in the same run
 * by experiments/bench_egnn_torch.py --compare.
 *
 * Data: by default B trajectories simulated here with the reference simulator
 * (eqg_nbody.h, default configuration, mt19937 seeded with --seed), input frame
 * 30 and target frame 40 as the paper; or the first B trajectories of a file
 * written by nbody_gen (--data), frames 30 -> 40 if it has them, else its first
 * and last frame.  The run is bitwise reproducible: the final loss and the
 * parameter checksum printed at the end depend only on the seed, the data, the
 * batch size, the step counts and the thread count (OpenBLAS with several
 * threads sums some products in another order). */
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

enum {
  WARMUP = 3, STEPS = 30, QUICK_WARMUP = 1, QUICK_STEPS = 3, PROFILE_STEPS_MAX = 10,
  EVAL_REPEATS_MAX = 20, BUILD_REPEATS = 5,
  FRAME_IN = 30, FRAME_OUT = 40,            /* nbody.md: frame 30 -> frame 40 */
  N_TRAIN = 3000, N_VALID = 2000, N_TEST = 2000, EPOCHS = 10000, EVAL_EVERY = 5
};

static const double LR = 5e-4, WEIGHT_DECAY = 1e-12;
/* The N-body issue's target per step (float64, this machine); its reference,
 * PyTorch, is timed in the same run by bench_egnn_torch.py --compare. */
static const double TARGET_MS = 10.0;
enum { GEMM_TRACE_CAP = 1024 };   /* products recorded per step, at most */

typedef struct options {
  unsigned long seed;
  long steps, warmup, batch, threads;
  bool quick;
  const char *data;   /* NULL: simulate */
  const char *out;    /* NULL: no results file */
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: bench_egnn [OPTION]...\n"
"Time the training step of the N-body EGNN (preset egnn_nbody: 4 layers, width\n"
"64, velocity variant, 134,020 parameters, float64): forward, MSE loss on the\n"
"positions, backward and Adam on a batch of G graphs of 5 fully connected\n"
"particles (5 G nodes, 20 G edges, 2 edge attributes).  Prints the median and\n"
"mean time per step, steps/s, the evaluation forward, the projected time per\n"
"epoch (3000 training and 2000 validation samples) and for the paper's\n"
"10,000-epoch protocol, the time of the step's matrix products alone (its\n"
"shapes replayed through BLAS in the same run) against the 10 ms target, and a\n"
"per-op-kind profile of forward and backward.  PyTorch in the same run:\n"
"  python3 experiments/bench_egnn_torch.py --compare PATH/TO/bench_egnn\n"
"\n"
"Options:\n"
"  -h, --help         show this help and exit\n"
"      --seed N       seed of the model initialisation and of the simulated\n"
"                     data, 0..4294967295 (default 1)\n"
"      --steps N      timed training steps, 1..100000 (default 30, after 3\n"
"                     warm-up steps; --quick: 3 after 1)\n"
"      --batch G      graphs per batch, 1..100000 (default 100)\n"
"      --threads N    BLAS/OpenMP threads, 1..1024 (default 1)\n"
"      --data FILE    take the batch from the first G trajectories of an\n"
"                     nbody_gen file (frame 30 -> 40, or first -> last frame\n"
"                     if it has fewer than 41); default: simulate G here\n"
"      --quick        tiny step counts, for CI\n"
"      --out FILE.h5  also write the timings and the profile (with provenance)\n"
"                     to FILE.h5 and the profile table to FILE.csv beside it\n"
"\n"
"Exit status: 0 on success, 1 on an I/O or computation failure, 2 on bad\n"
"options.\n", f);
}

/* Program name in usage errors (eqg_cli_usage_error). */
static const char PROG[] = "bench_egnn";

/* -1 to continue, else an exit code (0 after --help, 2 on a bad option). */
static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_SEED = 256, O_STEPS, O_BATCH, O_THREADS, O_DATA, O_QUICK, O_OUT };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "seed", required_argument, NULL, O_SEED },
    { "steps", required_argument, NULL, O_STEPS },
    { "batch", required_argument, NULL, O_BATCH },
    { "threads", required_argument, NULL, O_THREADS },
    { "data", required_argument, NULL, O_DATA },
    { "quick", no_argument, NULL, O_QUICK },
    { "out", required_argument, NULL, O_OUT },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .seed = 1, .steps = STEPS, .warmup = WARMUP, .batch = 100, .threads = 1 };
  bool steps_set = false;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_SEED: st = eqg_cli_parse_ulong("--seed", optarg, 0, 4294967295UL, &o->seed); break;
    case O_STEPS:
      st = eqg_cli_parse_long("--steps", optarg, 1, 100000, &o->steps);
      steps_set = true;
      break;
    case O_BATCH: st = eqg_cli_parse_long("--batch", optarg, 1, 100000, &o->batch); break;
    case O_THREADS: st = eqg_cli_parse_long("--threads", optarg, 1, 1024, &o->threads); break;
    case O_DATA:
      if (!*optarg) return eqg_cli_usage_error(PROG, "--data: empty file name");
      o->data = optarg;
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
    if (!steps_set) o->steps = QUICK_STEPS;
  }
  return -1;
}

/* ---- timing ------------------------------------------------------------------ */

/* CPU time of the whole process (all threads): less sensitive than wall time
 * to other processes on a loaded machine; with one thread it is the step's
 * own compute time. */
static double cpu_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Median of x[0..n-1] (sorted in a copy; x keeps the time order). */
static double median_of(const double *x, size_t n)
{
  double *s = malloc(n * sizeof *s);
  if (!s) return NAN;
  memcpy(s, x, n * sizeof *s);
  double m = eqg_cli_median(s, n);
  free(s);
  return m;
}

static double mean_of(const double *x, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s / (double)n;
}

static double min_of(const double *x, size_t n)
{
  double m = x[0];
  for (size_t i = 1; i < n; i++) m = x[i] < m ? x[i] : m;
  return m;
}

/* ---- data ---------------------------------------------------------------------- */

/* One batch: G graphs built from trajectories first .. first + G - 1 of ds,
 * input frame f0, target positions of frame f1 in `target` (N, 3). */
typedef struct bench_data {
  eqg_nbody_dataset *ds;
  size_t f0, f1;
  eqg_graph_batch *b;
  eqg_index *counts;    /* (G) */
  eqg_real *x, *v, *h;  /* (N, 3), (N, 3), (N, 1) staging */
  eqg_real *target;     /* (N, 3) */
} bench_data;

static void bench_data_free(bench_data *d)
{
  eqg_nbody_dataset_free(d->ds);
  eqg_graph_batch_free(d->b);
  free(d->counts);
  free(d->x);
  free(d->v);
  free(d->h);
  free(d->target);
}

/* Fill d->b (and d->target) from G trajectories starting at `first`:
 * h_i = |v_i|, fully connected, a_ij = [q_i q_j, |x_i - x_j|^2] (input frame). */
static eqg_status build_batch(bench_data *d, size_t first, size_t G)
{
  const eqg_nbody_dataset *ds = d->ds;
  const size_t P = ds->n_particles, F = ds->n_frames, D = EQG_NBODY_DIM;
  for (size_t g = 0; g < G; g++) {
    const size_t tr = first + g;
    d->counts[g] = (eqg_index)P;
    const eqg_real *x0 = ds->loc + ((tr * F + d->f0) * P) * D;
    const eqg_real *v0 = ds->vel + ((tr * F + d->f0) * P) * D;
    const eqg_real *x1 = ds->loc + ((tr * F + d->f1) * P) * D;
    memcpy(d->x + g * P * D, x0, P * D * sizeof *x0);
    memcpy(d->v + g * P * D, v0, P * D * sizeof *v0);
    memcpy(d->target + g * P * D, x1, P * D * sizeof *x1);
    for (size_t i = 0; i < P; i++) {
      const eqg_real *vi = v0 + i * D;
      d->h[g * P + i] = sqrt(vi[0] * vi[0] + vi[1] * vi[1] + vi[2] * vi[2]);
    }
  }
  eqg_graph_batch *b = d->b;
  eqg_status st;
  if ((st = eqg_graph_batch_set_nodes(b, G, d->counts, d->x, d->v, d->h)) != EQG_OK ||
      (st = eqg_graph_batch_connect_full(b)) != EQG_OK ||
      (st = eqg_graph_batch_set_edge_attr_width(b, 2)) != EQG_OK)
    return st;
  for (size_t e = 0; e < b->n_edges; e++) {
    const size_t i = (size_t)b->dst[e], j = (size_t)b->src[e];
    const size_t gi = i / P;   /* every graph has P nodes */
    const eqg_real *q = ds->charges + (first + gi) * P;
    b->edge_attr[2 * e] = q[i % P] * q[j % P];
    eqg_real d2 = 0;
    for (size_t k = 0; k < D; k++) {
      eqg_real r = b->x[i * D + k] - b->x[j * D + k];
      d2 += r * r;
    }
    b->edge_attr[2 * e + 1] = d2;
  }
  return EQG_OK;
}

static eqg_status bench_data_init(bench_data *d, const options *o, gsl_rng *rng)
{
  *d = (bench_data){ 0 };
  const size_t G = (size_t)o->batch;
  eqg_status st;
  if (o->data) {
    if ((st = eqg_nbody_dataset_load(&d->ds, o->data, G)) != EQG_OK) return st;
    if (d->ds->n_traj < G)
      return eqg_error_set(EQG_EINVAL, "%s holds %zu trajectories, fewer than --batch %zu",
                           o->data, d->ds->n_traj, G);
  } else {
    eqg_nbody_config cfg;
    eqg_nbody_config_default(&cfg);
    if (!(d->ds = eqg_nbody_dataset_alloc(&cfg, G))) return EQG_ENOMEM;
    if ((st = eqg_nbody_dataset_generate(d->ds, rng, o->seed, "bench", (int)o->threads)) != EQG_OK)
      return st;
  }
  const size_t F = d->ds->n_frames, P = d->ds->n_particles, N = G * P;
  if (F > FRAME_OUT) {
    d->f0 = FRAME_IN;
    d->f1 = FRAME_OUT;
  } else {
    d->f0 = 0;
    d->f1 = F - 1;
  }
  d->b = eqg_graph_batch_alloc(EQG_NBODY_DIM, 1, true);
  d->counts = malloc(G * sizeof *d->counts);
  d->x = malloc(N * EQG_NBODY_DIM * sizeof *d->x);
  d->v = malloc(N * EQG_NBODY_DIM * sizeof *d->v);
  d->h = malloc(N * sizeof *d->h);
  d->target = malloc(N * EQG_NBODY_DIM * sizeof *d->target);
  if (!d->b || !d->counts || !d->x || !d->v || !d->h || !d->target)
    return eqg_error_set(EQG_ENOMEM, "batch of %zu graphs: out of memory", G);
  return build_batch(d, 0, G);
}

/* ---- the step ------------------------------------------------------------------- */

typedef struct bench_ctx {
  eqg_tape *t;
  eqg_model *m;
  eqg_optim *o;
  bench_data *d;
  double loss;            /* of the last step */
  /* split of the last step (profiled steps): seconds */
  double t_forward, t_zero, t_backward, t_adam;
} bench_ctx;

/* One training step; false on failure (message set). */
static bool train_step(bench_ctx *c)
{
  eqg_tape *t = c->t;
  const eqg_graph_batch *b = c->d->b;
  double t0 = eqg_cli_now();
  eqg_tape_reset(t);
  t->training = true;
  t->grad_enabled = true;
  eqg_tensor *y = eqg_model_forward(t, c->m, b);                          /* (N, 3) */
  eqg_tensor *target = eqg_tape_input(t, b->n_nodes, EQG_NBODY_DIM, c->d->target, false);
  eqg_tensor *loss = eqg_mse(t, y, target);                                /* (1, 1) */
  if (!loss) return false;
  double t1 = eqg_cli_now();
  eqg_params_zero_grad(c->m->params);
  double t2 = eqg_cli_now();
  if (eqg_tape_backward(t, loss) != EQG_OK) return false;
  double t3 = eqg_cli_now();
  eqg_optim_step(c->o, c->m->params, LR);
  double t4 = eqg_cli_now();
  c->loss = loss->data[0];
  c->t_forward = t1 - t0;
  c->t_zero = t2 - t1;
  c->t_backward = t3 - t2;
  c->t_adam = t4 - t3;
  return true;
}

/* The evaluation forward: no gradients, eval mode, MSE. */
static bool eval_forward(bench_ctx *c)
{
  eqg_tape *t = c->t;
  const eqg_graph_batch *b = c->d->b;
  eqg_tape_reset(t);
  t->training = false;
  t->grad_enabled = false;
  eqg_tensor *y = eqg_model_forward(t, c->m, b);
  eqg_tensor *target = eqg_tape_input(t, b->n_nodes, EQG_NBODY_DIM, c->d->target, false);
  eqg_tensor *loss = eqg_mse(t, y, target);
  t->training = true;
  t->grad_enabled = true;
  return loss != NULL;
}

/* The matrix products of one step alone: the shapes eqg_dgemm recorded in one
 * step (tr), replayed `reps` times on scratch operands through the same
 * eqg_dgemm (op(A) (M, K), op(B) (K, N), C (M, N), the step's beta).  The
 * median over reps is the time the step would take if everything but its
 * products were free, measured in the same run.  NaN on out of memory. */
static double gemm_only(const eqg_gemm_trace *tr, size_t reps)
{
  size_t na = 1, nb = 1, nc = 1;
  for (size_t i = 0; i < tr->n; i++) {
    const eqg_gemm_shape *g = &tr->shape[i];
    const size_t M = (size_t)g->M, N = (size_t)g->N, K = (size_t)g->K;
    na = M * K > na ? M * K : na;
    nb = K * N > nb ? K * N : nb;
    nc = M * N > nc ? M * N : nc;
  }
  double *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = calloc(nc, sizeof *c);
  double *t = malloc(reps * sizeof *t), med = NAN;
  if (a && b && c && t) {
    for (size_t i = 0; i < na; i++) a[i] = 1e-2 * (double)(i % 7);
    for (size_t i = 0; i < nb; i++) b[i] = 1e-2 * (double)(i % 5);
    for (size_t k = 0; k < reps; k++) {
      const double t0 = eqg_cli_now();
      for (size_t i = 0; i < tr->n; i++) {
        const eqg_gemm_shape *g = &tr->shape[i];
        eqg_dgemm(g->trans_a, g->trans_b, g->M, g->N, g->K, 1.0, a, g->trans_a ? g->M : g->K,
                  b, g->trans_b ? g->K : g->N, g->beta, c, g->N);
      }
      t[k] = eqg_cli_now() - t0;
    }
    med = median_of(t, reps);
  }
  free(a);
  free(b);
  free(c);
  free(t);
  return med;
}

/* ---- results ---------------------------------------------------------------------- */

typedef struct results {
  size_t steps, evals, profiled;
  double *step_s;          /* (steps) */
  double *step_cpu_s;      /* (steps) process CPU time */
  double *eval_s;          /* (evals) */
  double build_s;          /* median batch assembly */
  double step_med, step_mean, step_min, eval_med, step_cpu_med;
  size_t train_batches, eval_batches;       /* per epoch */
  double epoch_s, protocol_s;
  double final_loss;       /* of the last training step */
  size_t arena_bytes;      /* tape arena used by one training step */
  eqg_tape_profile prof;   /* summed over the profiled steps */
  double gemm_calls, gemm_flops, gemm_med;   /* one step's products alone (gemm_only) */
  double zero_s, adam_s, forward_s, backward_s, profiled_step_s;   /* summed */
} results;

/* Rows of the profile table: op kinds with any time, then the parts outside
 * the tape.  ms per step. */
typedef struct prof_row {
  const char *name;
  double fwd_calls, fwd_ms, bwd_calls, bwd_ms;
} prof_row;

enum { N_EXTRA_ROWS = 4 };

/* Fill rows (capacity EQG_OP_COUNT + N_EXTRA_ROWS); returns the count. */
static size_t profile_rows(const results *r, prof_row *rows)
{
  const double k = 1e3 / (double)r->profiled, per = 1 / (double)r->profiled;
  size_t n = 0;
  double tape_fwd = 0, tape_bwd = 0;
  for (int kind = 0; kind < EQG_OP_COUNT; kind++) {
    tape_fwd += r->prof.forward_s[kind];
    tape_bwd += r->prof.backward_s[kind];
    if (r->prof.forward_calls[kind] == 0 && r->prof.backward_calls[kind] == 0) continue;
    rows[n++] = (prof_row){ eqg_op_types[kind]->name,
                            per * (double)r->prof.forward_calls[kind],
                            k * r->prof.forward_s[kind],
                            per * (double)r->prof.backward_calls[kind],
                            k * r->prof.backward_s[kind] };
  }
  rows[n++] = (prof_row){ "(output alloc)", 0, k * r->prof.alloc_s, 0, 0 };
  /* forward time not in an op or the allocation: tape reset, inputs, shape
   * checks, parameter views, layer glue; same for backward (loop, seeding) */
  rows[n++] = (prof_row){ "(glue)", 0, k * (r->forward_s - tape_fwd - r->prof.alloc_s), 0,
                          k * (r->backward_s - tape_bwd) };
  rows[n++] = (prof_row){ "(zero grad)", 0, 0, 0, k * r->zero_s };
  rows[n++] = (prof_row){ "(adam)", 0, 0, 0, k * r->adam_s };
  return n;
}

static const char *const summary_names[] = {
  "step_median_s", "step_mean_s", "step_min_s", "step_cpu_median_s", "steps_per_s",
  "eval_forward_median_s",
  "batch_build_s", "epoch_s", "protocol_s",
  "gemm_calls_per_step", "gemm_flops_per_step", "gemm_only_median_s"
};
enum { N_SUMMARY = sizeof summary_names / sizeof *summary_names };

static void summary_values(const results *r, double v[N_SUMMARY])
{
  double vals[N_SUMMARY] = { r->step_med, r->step_mean, r->step_min, r->step_cpu_med,
                             1 / r->step_med,
                             r->eval_med, r->build_s, r->epoch_s, r->protocol_s,
                             r->gemm_calls, r->gemm_flops, r->gemm_med };
  memcpy(v, vals, sizeof vals);
}

static eqg_status write_results(const char *path, const eqg_cli_provenance *pv,
                                const options *o, const char *blas, const results *r,
                                const bench_data *d, double checksum)
{
  hid_t f;
  char *tmp;
  eqg_status st = eqg_h5_create_tmp(path, &f, &tmp);
  if (st != EQG_OK) return st;
  double sv[N_SUMMARY];
  summary_values(r, sv);
  prof_row rows[EQG_OP_COUNT + N_EXTRA_ROWS];
  size_t nr = profile_rows(r, rows);
  double fwd[EQG_OP_COUNT + N_EXTRA_ROWS], bwd[EQG_OP_COUNT + N_EXTRA_ROWS];
  char kinds[1024] = "";
  for (size_t i = 0; i < nr; i++) {
    fwd[i] = rows[i].fwd_ms;
    bwd[i] = rows[i].bwd_ms;
    size_t len = strlen(kinds);
    snprintf(kinds + len, sizeof kinds - len, "%s%s", i ? "," : "", rows[i].name);
  }
  if ((st = eqg_cli_provenance_write(f, pv)) ||
      (st = eqg_h5_write_attr_string(f, "model", "egnn_nbody")) ||
      (st = eqg_h5_write_attr_string(f, "data", o->data ? o->data : "simulated")) ||
      (st = eqg_h5_write_attr_long(f, "batch_graphs", o->batch)) ||
      (st = eqg_h5_write_attr_long(f, "nodes", (long)d->b->n_nodes)) ||
      (st = eqg_h5_write_attr_long(f, "edges", (long)d->b->n_edges)) ||
      (st = eqg_h5_write_attr_long(f, "threads", o->threads)) ||
      (st = eqg_h5_write_attr_long(f, "warmup", o->warmup)) ||
      (st = eqg_h5_write_attr_long(f, "profiled_steps", (long)r->profiled)) ||
      (st = eqg_h5_write_attr_long(f, "arena_bytes_per_step", (long)r->arena_bytes)) ||
      (st = eqg_h5_write_attr_string(f, "blas", blas)) ||
      (st = eqg_h5_write_attr_double(f, "final_loss", r->final_loss)) ||
      (st = eqg_h5_write_attr_double(f, "param_checksum", checksum)) ||
      (st = eqg_h5_write_attr_string(f, "profile_rows", kinds)))
    goto fail;
  for (size_t i = 0; i < N_SUMMARY; i++)
    if ((st = eqg_h5_write_attr_double(f, summary_names[i], sv[i])) != EQG_OK) goto fail;
  if ((st = eqg_h5_write_vector(f, "step_time_s", r->step_s, r->steps)) ||
      (st = eqg_h5_write_vector(f, "step_cpu_time_s", r->step_cpu_s, r->steps)) ||
      (st = eqg_h5_write_vector(f, "eval_time_s", r->eval_s, r->evals)) ||
      (st = eqg_h5_write_vector(f, "profile_forward_ms", fwd, nr)) ||
      (st = eqg_h5_write_vector(f, "profile_backward_ms", bwd, nr)))
    goto fail;
  return eqg_h5_commit(f, tmp, path);
fail:
  eqg_h5_discard(f, tmp);
  return eqg_error_prefix(st, "results %s: ", path);
}

static eqg_status write_csv(const char *path, const results *r)
{
  prof_row rows[EQG_OP_COUNT + N_EXTRA_ROWS];
  size_t nr = profile_rows(r, rows);
  eqg_cli_csv *csv = eqg_cli_csv_open(path, "kind,forward_calls,forward_ms,backward_calls,"
                                      "backward_ms,total_ms");
  if (!csv) return EQG_EIO;
  for (size_t i = 0; i < nr; i++)
    if (eqg_cli_csv_row(csv, "%s,%.17g,%.17g,%.17g,%.17g,%.17g", rows[i].name,
                        rows[i].fwd_calls, rows[i].fwd_ms, rows[i].bwd_calls, rows[i].bwd_ms,
                        rows[i].fwd_ms + rows[i].bwd_ms) != EQG_OK) {
      eqg_cli_csv_discard(csv);
      return EQG_EIO;
    }
  return eqg_cli_csv_close(csv);
}

static void print_duration(double s)
{
  if (s < 120) printf("%.2f s", s);
  else if (s < 2 * 3600) printf("%.1f min", s / 60);
  else printf("%.1f h", s / 3600);
}

static void print_profile(const results *r)
{
  prof_row rows[EQG_OP_COUNT + N_EXTRA_ROWS];
  size_t nr = profile_rows(r, rows);
  double step_ms = 1e3 * r->profiled_step_s / (double)r->profiled;
  printf("\nprofile: %zu profiled steps, per step (timer on: %.3f ms/step)\n", r->profiled,
         step_ms);
  printf("  %-18s %6s %9s %6s %9s %9s %6s\n", "op kind", "calls", "fwd ms", "calls", "bwd ms",
         "total ms", "share");
  double sum = 0;
  for (size_t i = 0; i < nr; i++) {
    double tot = rows[i].fwd_ms + rows[i].bwd_ms;
    sum += tot;
    if (rows[i].name[0] == '(')
      printf("  %-18s %6s %9.3f %6s %9.3f %9.3f %5.1f%%\n", rows[i].name, "", rows[i].fwd_ms, "",
             rows[i].bwd_ms, tot, 100 * tot / step_ms);
    else
      printf("  %-18s %6.0f %9.3f %6.0f %9.3f %9.3f %5.1f%%\n", rows[i].name, rows[i].fwd_calls,
             rows[i].fwd_ms, rows[i].bwd_calls, rows[i].bwd_ms, tot, 100 * tot / step_ms);
  }
  printf("  %-18s %6s %9s %6s %9s %9.3f %5.1f%%\n", "sum", "", "", "", "", sum,
         100 * sum / step_ms);
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
  bench_data d = { 0 };
  eqg_model *m = NULL;
  eqg_optim *opt = NULL;
  eqg_tape *t = NULL;
  results r = { 0 };
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  char *csv = o.out ? eqg_cli_path_beside(o.out, ".csv") : NULL;
  r.steps = (size_t)o.steps;
  r.profiled = r.steps < PROFILE_STEPS_MAX ? r.steps : PROFILE_STEPS_MAX;
  r.evals = r.steps < EVAL_REPEATS_MAX ? r.steps : EVAL_REPEATS_MAX;
  r.step_s = malloc(r.steps * sizeof *r.step_s);
  r.step_cpu_s = malloc(r.steps * sizeof *r.step_cpu_s);
  r.eval_s = malloc(r.evals * sizeof *r.eval_s);
  if (!rng || !r.step_s || !r.step_cpu_s || !r.eval_s || (o.out && !csv)) {
    fprintf(stderr, "bench_egnn: out of memory\n");
    goto done;
  }
  if ((st = eqg_cli_provenance_init(&pv, argc, argv, o.seed)) != EQG_OK) goto fail;
  gsl_rng_set(rng, o.seed);

  /* model first (its draws do not depend on the data), then the data */
  eqg_model_config mc;
  if ((st = eqg_model_config_preset(&mc, "egnn_nbody")) != EQG_OK) goto fail;
  if (!(m = eqg_model_alloc(&mc, rng))) {
    st = EQG_EINVAL;
    goto fail;
  }
  eqg_optim_config oc = eqg_optim_config_for(&eqg_optim_adam);
  oc.lr = LR;
  oc.weight_decay = WEIGHT_DECAY;
  if (!(opt = eqg_optim_alloc(&eqg_optim_adam, &oc, m->params->size)) ||
      !(t = eqg_tape_alloc(64u << 20, rng))) {
    st = EQG_ENOMEM;
    goto fail;
  }
  if ((st = bench_data_init(&d, &o, rng)) != EQG_OK) {
    eqg_error_prefix(st, "data: ");
    goto fail;
  }
  const eqg_graph_batch *b = d.b;

  printf("bench_egnn: EGNN training step (preset egnn_nbody, %zu parameters), float64\n",
         eqg_model_param_count(m));
  printf("batch: %ld graphs x %zu nodes = %zu nodes, %zu edges, %zu edge attributes; "
         "data: %s (frame %zu -> %zu)\n", o.batch, d.ds->n_particles, b->n_nodes, b->n_edges,
         b->n_edge_attr, o.data ? o.data : "simulated here", d.f0, d.f1);
  printf("BLAS %s; %ld thread%s; %ld timed steps after %ld warm-up\n\n", blas, o.threads,
         o.threads == 1 ? "" : "s", o.steps, o.warmup);
  fflush(stdout);

  bench_ctx c = { .t = t, .m = m, .o = opt, .d = &d };
  eqg_cli_progress pb;
  const size_t total = (size_t)o.warmup + r.steps + r.profiled + r.evals;
  size_t done = 0;
  eqg_cli_progress_begin(&pb, "bench", total);
  for (long i = 0; i < o.warmup + o.steps; i++) {
    double t0 = eqg_cli_now(), c0 = cpu_seconds();
    if (!train_step(&c)) goto step_fail;
    double dt = eqg_cli_now() - t0, dc = cpu_seconds() - c0;
    if (i >= o.warmup) {
      r.step_s[i - o.warmup] = dt;
      r.step_cpu_s[i - o.warmup] = dc;
    }
    eqg_cli_progress_update(&pb, ++done, "step %.3f ms, loss %.5f", 1e3 * dt, c.loss);
  }
  r.arena_bytes = eqg_arena_used(t->arena);
  eqg_tape_profile_clear(&r.prof);
  eqg_gemm_shape gemm_shape[GEMM_TRACE_CAP];
  eqg_gemm_trace gemm_trace = { .shape = gemm_shape, .cap = GEMM_TRACE_CAP };
  for (size_t i = 0; i < r.profiled; i++) {
    t->profile = &r.prof;
    if (i == 0) eqg_gemm_trace_set(&gemm_trace);   /* the shapes of one step's products */
    double t0 = eqg_cli_now();
    bool ok = train_step(&c);
    double dt = eqg_cli_now() - t0;
    t->profile = NULL;
    eqg_gemm_trace_set(NULL);
    if (!ok) goto step_fail;
    r.profiled_step_s += dt;
    r.forward_s += c.t_forward;
    r.zero_s += c.t_zero;
    r.backward_s += c.t_backward;
    r.adam_s += c.t_adam;
    eqg_cli_progress_update(&pb, ++done, "profiled step %.3f ms", 1e3 * dt);
  }
  r.final_loss = c.loss;
  for (size_t i = 0; i < r.evals; i++) {
    double t0 = eqg_cli_now();
    if (!eval_forward(&c)) goto step_fail;
    r.eval_s[i] = eqg_cli_now() - t0;
    eqg_cli_progress_update(&pb, ++done, "eval forward %.3f ms", 1e3 * r.eval_s[i]);
  }
  eqg_cli_progress_end(&pb);
  if (gemm_trace.n > gemm_trace.cap) {
    st = eqg_error_set(EQG_EINVAL, "a step makes %zu matrix products, more than the %d "
                       "recorded", gemm_trace.n, GEMM_TRACE_CAP);
    goto fail;
  }
  r.gemm_calls = (double)gemm_trace.n;
  r.gemm_flops = eqg_gemm_trace_flops(&gemm_trace);
  if (isnan(r.gemm_med = gemm_only(&gemm_trace, r.steps))) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory for the replay of the products");
    goto fail;
  }
  double build[BUILD_REPEATS];
  for (size_t i = 0; i < BUILD_REPEATS; i++) {
    double t0 = eqg_cli_now();
    if ((st = build_batch(&d, 0, (size_t)o.batch)) != EQG_OK) goto fail;
    build[i] = eqg_cli_now() - t0;
  }
  r.build_s = median_of(build, BUILD_REPEATS);

  r.step_med = median_of(r.step_s, r.steps);
  r.step_mean = mean_of(r.step_s, r.steps);
  r.step_min = min_of(r.step_s, r.steps);
  r.step_cpu_med = median_of(r.step_cpu_s, r.steps);
  r.eval_med = median_of(r.eval_s, r.evals);
  const size_t G = (size_t)o.batch;
  r.train_batches = N_TRAIN / G;                        /* drop last */
  r.eval_batches = (N_VALID + G - 1) / G;
  const size_t test_batches = (N_TEST + G - 1) / G;
  r.epoch_s = (double)r.train_batches * (r.step_med + r.build_s) +
              (double)r.eval_batches * (r.eval_med + r.build_s);
  r.protocol_s = (double)EPOCHS * (double)r.train_batches * (r.step_med + r.build_s) +
                 (double)(EPOCHS / EVAL_EVERY) * (double)(r.eval_batches + test_batches) *
                   (r.eval_med + r.build_s);
  double checksum = 0;
  for (size_t i = 0; i < m->params->size; i++) checksum += m->params->data[i];

  printf("training step (forward + MSE + backward + Adam), %zu steps:\n", r.steps);
  printf("  median %8.3f ms   mean %8.3f ms   min %8.3f ms   %.1f steps/s\n",
         1e3 * r.step_med, 1e3 * r.step_mean, 1e3 * r.step_min, 1 / r.step_med);
  printf("  process CPU time per step: median %.3f ms (less sensitive to other load)\n",
         1e3 * r.step_cpu_med);
  printf("  tape arena per step: %.1f MB (intermediates, their gradients, saved state)\n",
         1e-6 * (double)r.arena_bytes);
  printf("evaluation forward (no gradients), median of %zu: %.3f ms\n", r.evals,
         1e3 * r.eval_med);
  printf("batch assembly (%zu graphs), median of %d: %.3f ms\n", G, BUILD_REPEATS,
         1e3 * r.build_s);
  printf("epoch (%zu steps + %zu validation forwards, with assembly): ", r.train_batches,
         r.eval_batches);
  print_duration(r.epoch_s);
  printf("\n%d-epoch protocol (validation + test every %d epochs): ", EPOCHS, EVAL_EVERY);
  print_duration(r.protocol_s);
  printf("\nmatrix products of one step alone (%.0f eqg_dgemm calls, %.1f MFLOP, replayed), "
         "median of %zu: %.3f ms = %.1f GFLOP/s\n", r.gemm_calls, 1e-6 * r.gemm_flops, r.steps,
         1e3 * r.gemm_med, 1e-9 * r.gemm_flops / r.gemm_med);
  printf("  the step takes %.2fx its products alone; the rest costs %.3f ms\n",
         r.step_med / r.gemm_med, 1e3 * (r.step_med - r.gemm_med));
  printf("target <= %.0f ms/step: %s (the products alone take %.1fx the target)\n", TARGET_MS,
         1e3 * r.step_med <= TARGET_MS ? "met" : "not met", 1e3 * r.gemm_med / TARGET_MS);
  printf("final loss %.17g, parameter checksum %.17g\n", r.final_loss, checksum);
  print_profile(&r);

  if (o.out) {
    if ((st = write_results(o.out, &pv, &o, blas, &r, &d, checksum)) != EQG_OK ||
        (st = write_csv(csv, &r)) != EQG_OK)
      goto fail;
    printf("results %s, %s\n", o.out, csv);
  }
  rc = 0;
  goto done;
step_fail:
  eqg_cli_progress_end(&pb);
  st = eqg_tape_status(t) != EQG_OK ? eqg_tape_status(t) : EQG_EINVAL;
fail:
  fprintf(stderr, "bench_egnn: %s\n", eqg_error_message());
  rc = 1;
done:
  eqg_cli_provenance_clear(&pv);
  eqg_tape_free(t);
  eqg_optim_free(opt);
  eqg_model_free(m);
  bench_data_free(&d);
  gsl_rng_free(rng);
  free(r.step_s);
  free(r.step_cpu_s);
  free(r.eval_s);
  free(csv);
  (void)st;
  return rc;
}
