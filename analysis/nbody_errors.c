/* nbody_errors.c: where the test MSE of a trained N-body model comes from.
 *
 * Loads the parameters of a run's best validation epoch (nbody --best), and
 * evaluates them on every trajectory of an nbody_gen file (by default the
 * run's test split: the same trajectories, frames and batch as the training,
 * so the MSE over them reproduces the recorded test MSE bitwise; the program
 * says whether it does).  Per trajectory s (P particles, 3 coordinates):
 *
 *   mse_s   = sum over the 3P coordinates of (prediction - target)^2 / (3P)
 *   share_s = mse_s / sum_t mse_t          (its part of the total squared error)
 *   clipped = the file's clip events of s (force evaluations with a clipped
 *             component, over the whole simulation)
 *   d_min   = min over the saved frames input..target and particle pairs of
 *             |x_i - x_j| (the closest approach seen at the saved frames)
 *
 * It prints the MSE, the share of the squared error carried by the worst 1 %,
 * 5 % and 10 % of the trajectories and the MSE without the worst 1 %, the MSE
 * of trajectories with and without clip events, the MSE of the 10 % with the
 * closest approach against the rest, and the --top trajectories of largest
 * error.  --out FILE.csv (atomic): traj,mse,share,clipped,d_min, one row per
 * trajectory in file order. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eqg_nbody_train.h"

static const char PROG[] = "nbody_errors";

typedef struct options {
  const char *params, *data, *out;
  long n, top, threads;        /* n 0: the run's n_test */
  long input_frame, target_frame;   /* -1: the run's */
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: nbody_errors --params FILE [OPTION]...\n"
"Where the test MSE of a trained N-body model comes from: load the parameters\n"
"of a run's best validation epoch (the --best file of nbody), evaluate them on\n"
"every trajectory of an nbody_gen file, and print the MSE (checked against the\n"
"test MSE the run recorded), the share of the squared error carried by the\n"
"worst 1 %, 5 % and 10 % of the trajectories, the MSE of trajectories with and\n"
"without clipped forces (close encounters) and of the 10 % with the closest\n"
"approach between the input and target frames, and the trajectories of\n"
"largest error.\n"
"\n"
"Options:\n"
"  -h, --help            show this help and exit\n"
"      --params FILE     best-parameters file of nbody (--best; required)\n"
"      --data FILE       nbody_gen file (default nbody_test.h5)\n"
"      --n N             its first N trajectories (default: the run's test\n"
"                        set size)\n"
"      --input-frame K   input frame (default: the run's)\n"
"      --target-frame K  target frame (default: the run's)\n"
"      --top K           list the K trajectories of largest error, 0..1000\n"
"                        (default 10)\n"
"      --threads N       BLAS threads, 1..1024 (default 1)\n"
"      --out FILE.csv    also write traj,mse,share,clipped,d_min per trajectory\n"
"\n"
"clipped counts the trajectory's clip events over the whole simulation;\n"
"d_min is the smallest particle distance at the saved frames from the input\n"
"to the target frame (closer approaches between saved frames are not seen).\n"
"\n"
"Exit status: 0 on success, 1 on a missing or corrupt file, 2 on bad\n"
"options.\n", f);
}

static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_PARAMS = 256, O_DATA, O_N, O_IN, O_TARGET, O_TOP, O_THREADS, O_OUT };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "params", required_argument, NULL, O_PARAMS },
    { "data", required_argument, NULL, O_DATA },
    { "n", required_argument, NULL, O_N },
    { "input-frame", required_argument, NULL, O_IN },
    { "target-frame", required_argument, NULL, O_TARGET },
    { "top", required_argument, NULL, O_TOP },
    { "threads", required_argument, NULL, O_THREADS },
    { "out", required_argument, NULL, O_OUT },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .data = "nbody_test.h5", .top = 10, .threads = 1, .input_frame = -1,
                  .target_frame = -1 };
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_PARAMS: o->params = optarg; break;
    case O_DATA: o->data = optarg; break;
    case O_N: st = eqg_cli_parse_long("--n", optarg, 1, 100000000, &o->n); break;
    case O_IN: st = eqg_cli_parse_long("--input-frame", optarg, 0, 1000000, &o->input_frame); break;
    case O_TARGET:
      st = eqg_cli_parse_long("--target-frame", optarg, 0, 1000000, &o->target_frame);
      break;
    case O_TOP: st = eqg_cli_parse_long("--top", optarg, 0, 1000, &o->top); break;
    case O_THREADS: st = eqg_cli_parse_long("--threads", optarg, 1, 1024, &o->threads); break;
    case O_OUT: o->out = optarg; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);   /* ':' or '?' */
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (!o->params) return eqg_cli_usage_error(PROG, "--params is required");
  if (!*o->params || !*o->data || (o->out && !*o->out))
    return eqg_cli_usage_error(PROG, "empty file name");
  return -1;
}

/* Per-trajectory diagnostics of the file (clip events, closest approach). */
static eqg_status diagnostics(const char *path, size_t n, long fin, long fout, size_t *clipped,
                              double *d_min)
{
  eqg_nbody_dataset *ds = NULL;
  eqg_status st = eqg_nbody_dataset_load(&ds, path, n);
  if (st != EQG_OK) return st;
  const size_t P = ds->n_particles, F = ds->n_frames;
  for (size_t s = 0; s < n; s++) {
    clipped[s] = ds->clipped[s];
    double d2 = INFINITY;
    for (size_t k = (size_t)fin; k <= (size_t)fout; k++) {
      const eqg_real *x = ds->loc + (s * F + k) * P * 3;
      for (size_t i = 0; i < P; i++)
        for (size_t j = i + 1; j < P; j++) {
          double q = 0;
          for (int a = 0; a < 3; a++) q += (x[i * 3 + a] - x[j * 3 + a]) * (x[i * 3 + a] - x[j * 3 + a]);
          d2 = q < d2 ? q : d2;
        }
    }
    d_min[s] = sqrt(d2);
  }
  eqg_nbody_dataset_free(ds);
  return EQG_OK;
}

static const double *sort_key;   /* for by_key_desc: qsort has no context argument */

/* Indices by decreasing key, ties by index (a total order: the same list on
 * every machine). */
static int by_key_desc(const void *a, const void *b)
{
  const size_t i = *(const size_t *)a, j = *(const size_t *)b;
  if (sort_key[i] != sort_key[j]) return sort_key[i] < sort_key[j] ? 1 : -1;
  return (i > j) - (i < j);
}

static size_t *order_by(const double *key, size_t n)
{
  size_t *idx = malloc(n * sizeof *idx);
  if (!idx) return NULL;
  for (size_t i = 0; i < n; i++) idx[i] = i;
  sort_key = key;
  qsort(idx, n, sizeof *idx, by_key_desc);
  return idx;
}

/* Mean of mse over the trajectories s with pick(s) (count in *k). */
static double mean_where(const double *mse, const bool *pick, size_t n, size_t *k)
{
  double sum = 0;
  *k = 0;
  for (size_t s = 0; s < n; s++)
    if (pick[s]) {
      sum += mse[s];
      ++*k;
    }
  return *k ? sum / (double)*k : NAN;
}

static eqg_status write_csv(const char *path, const double *mse, double total,
                            const size_t *clipped, const double *d_min, size_t n)
{
  eqg_cli_csv *c = eqg_cli_csv_open(path, "traj,mse,share,clipped,d_min");
  if (!c) return EQG_EIO;
  for (size_t s = 0; s < n; s++)
    if (eqg_cli_csv_row(c, "%zu,%.17g,%.17g,%zu,%.17g", s, mse[s], mse[s] / total, clipped[s],
                        d_min[s]) != EQG_OK) {
      eqg_cli_csv_discard(c);
      return EQG_EIO;
    }
  return eqg_cli_csv_close(c);
}

/* The report on stdout, given per-trajectory mse, clipped and d_min. */
static eqg_status report(const options *o, const double *mse, const size_t *clipped,
                         const double *d_min, size_t n)
{
  double total = 0;
  for (size_t s = 0; s < n; s++) total += mse[s];
  size_t *worst = order_by(mse, n), *closest = NULL;
  double *neg_d = malloc(n * sizeof *neg_d);
  bool *pick = malloc(n * sizeof *pick);
  eqg_status st = EQG_OK;
  if (!worst || !neg_d || !pick) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory for %zu trajectories", n);
    goto done;
  }
  printf("share of the squared error carried by the worst trajectories:");
  static const double fractions[3] = { 0.01, 0.05, 0.10 };
  for (int f = 0; f < 3; f++) {
    const size_t k = (size_t)ceil(fractions[f] * (double)n);
    double part = 0;
    for (size_t i = 0; i < k; i++) part += mse[worst[i]];
    printf("%s %.0f %% (%zu): %.1f %%", f ? "," : "", 100 * fractions[f], k, 100 * part / total);
  }
  const size_t k1 = (size_t)ceil(0.01 * (double)n);
  for (size_t s = 0; s < n; s++) pick[s] = true;
  for (size_t i = 0; i < k1; i++) pick[worst[i]] = false;
  size_t cnt, cnt2;
  memcpy(neg_d, mse, n * sizeof *neg_d);   /* scratch: the median sorts it */
  const double median = eqg_cli_median(neg_d, n);
  printf("\nMSE without the worst 1 %%: %.4e; median trajectory MSE %.4e\n",
         mean_where(mse, pick, n, &cnt), median);
  for (size_t s = 0; s < n; s++) pick[s] = clipped[s] > 0;
  const double m_clip = mean_where(mse, pick, n, &cnt);
  for (size_t s = 0; s < n; s++) pick[s] = clipped[s] == 0;
  const double m_free = mean_where(mse, pick, n, &cnt2);
  printf("clip events in the simulation: %zu trajectories, MSE %.4e; none: %zu, MSE %.4e\n",
         cnt, m_clip, cnt2, m_free);
  for (size_t s = 0; s < n; s++) neg_d[s] = -d_min[s];
  if (!(closest = order_by(neg_d, n))) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory for %zu trajectories", n);
    goto done;
  }
  const size_t k10 = (size_t)ceil(0.10 * (double)n);
  for (size_t s = 0; s < n; s++) pick[s] = false;
  for (size_t i = 0; i < k10; i++) pick[closest[i]] = true;
  const double m_close = mean_where(mse, pick, n, &cnt);
  for (size_t s = 0; s < n; s++) pick[s] = !pick[s];
  printf("closest approach: the %zu with d_min <= %.4f, MSE %.4e; the other %zu, MSE %.4e\n",
         cnt, d_min[closest[k10 - 1]], m_close, n - cnt, mean_where(mse, pick, n, &cnt2));
  const size_t top = (size_t)o->top < n ? (size_t)o->top : n;
  if (top) {
    printf("\n%-6s %8s %12s %8s %8s %9s\n", "rank", "traj", "MSE", "share", "clipped", "d_min");
    for (size_t i = 0; i < top; i++) {
      const size_t s = worst[i];
      printf("%-6zu %8zu %12.4e %7.2f%% %8zu %9.4f\n", i + 1, s, mse[s], 100 * mse[s] / total,
             clipped[s], d_min[s]);
    }
  }
  if (o->out && (st = write_csv(o->out, mse, total, clipped, d_min, n)) != EQG_OK)
    st = eqg_error_prefix(st, "--out '%s': ", o->out);
done:
  free(worst);
  free(closest);
  free(neg_d);
  free(pick);
  return st;
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;
  eqg_nbt_model *m = NULL;
  eqg_nbt_split split = { 0 };
  double *mse = NULL, *d_min = NULL;
  size_t *clipped = NULL;
  eqg_nbt_best_info b;
  eqg_status st;
  if ((st = eqg_cli_set_threads(o.threads)) != EQG_OK ||
      (st = eqg_nbt_model_load(&m, &b, o.params)) != EQG_OK)
    goto fail;
  long fin = o.input_frame >= 0 ? o.input_frame : b.input_frame;
  long fout = o.target_frame >= 0 ? o.target_frame : b.target_frame;
  const size_t n = o.n ? (size_t)o.n : (size_t)b.n_test;   /* the first n trajectories */
  if ((st = eqg_nbt_split_load(&split, o.data, n, false, &fin, &fout)) != EQG_OK) goto fail;
  mse = malloc(n * sizeof *mse);
  d_min = malloc(n * sizeof *d_min);
  clipped = malloc(n * sizeof *clipped);
  if (!mse || !d_min || !clipped) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory for %zu trajectories", n);
    goto fail;
  }
  double total;
  if ((st = eqg_nbt_evaluate(m, &split, (size_t)b.batch, &total, mse)) != EQG_OK ||
      (st = diagnostics(o.data, n, fin, fout, clipped, d_min)) != EQG_OK)
    goto fail;

  printf("nbody_errors: %s (seed %lu), parameters of epoch %ld (validation MSE %.4e, test MSE "
         "%.4e recorded on %lu trajectories)\n", eqg_nbt_model_name(b.model), b.seed, b.epoch,
         b.valid_mse, b.test_mse, b.n_test);
  printf("data: %s, %zu trajectories, frame %ld -> %ld, batch %lu\n", o.data, n, fin, fout,
         b.batch);
  const bool same_setup = n == b.n_test && fin == b.input_frame && fout == b.target_frame;
  printf("MSE %.17g", total);
  if (same_setup && total == b.test_mse) printf(" (bitwise the recorded test MSE)\n");
  else if (same_setup)
    printf(" (the recorded test MSE is %.17g: relative difference %.2e; another data file?)\n",
           b.test_mse, fabs(total - b.test_mse) / b.test_mse);
  else printf(" (another setup than the run's test set: not compared)\n");
  if ((st = report(&o, mse, clipped, d_min, n)) != EQG_OK) goto fail;
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "%s: %s\n", PROG, eqg_error_message());
  rc = 1;
done:
  eqg_nbt_model_free(m);
  eqg_nbt_split_clear(&split);
  free(mse);
  free(d_min);
  free(clipped);
  return rc;
}
