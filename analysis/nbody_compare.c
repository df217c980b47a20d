/* nbody_compare.c: compare two groups of N-body training runs.
 *
 * Every input is the per-evaluation CSV of one run, with a header naming the
 * columns epoch, valid_mse and test_mse (in any order, other columns ignored):
 * what nbody writes beside its --out, and what experiments/check_nbody_torch.py
 * --csv writes for the PyTorch reference.  For each run it takes the test MSE
 * at the epoch of the best validation MSE (the earliest of equal ones, as the
 * training does), optionally among the epochs <= --max-epoch only, so runs
 * stopped at different epochs compare on the same schedule.  Per group: mean,
 * sample standard deviation, standard error and median; then Welch's t-test of the
 * difference of the two means (eqg_welch_test).  --metric valid compares the
 * best validation MSEs instead (biased low by the selection, but free of the
 * test set's own noise).
 *
 * Per-trajectory metrics.  With --metric traj-median or clip-free every input
 * is instead a run's per-trajectory test errors at its best validation epoch
 * (columns traj and mse: analysis/nbody_errors --out, check_nbody_torch.py
 * --errors-csv), and the compared number per run is the median trajectory MSE,
 * or the MSE over the trajectories without clip events in --data (the test
 * file: the smooth Coulomb dynamics, free of the close encounters whose few
 * trajectories dominate the test MSE of single runs).
 *
 * --out FILE.csv (atomic): group,file,best_epoch,valid_mse,test_mse, one row
 * per run (per-trajectory metrics: group,file,trajectories,value). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eqg_cli.h"

static const char PROG[] = "nbody_compare";
enum { MAX_RUNS = 256, LINE_MAX_LEN = 4096 };

/* The compared number of a run. */
enum { M_TEST, M_VALID, M_TRAJ_MEDIAN, M_CLIP_FREE, M_COUNT };
static const char *const metric_names[M_COUNT] = { "test", "valid", "traj-median",
                                                   "clip-free" };

typedef struct options {
  const char *files[2];    /* comma-separated lists of --a and --b */
  const char *label[2];
  long max_epoch;          /* 0: all */
  int metric;              /* M_* */
  const char *data;        /* clip-free: the test file (clip events per trajectory) */
  const char *out;         /* NULL: no CSV */
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: nbody_compare --a FILE[,FILE...] --b FILE[,FILE...] [OPTION]...\n"
"Compare two groups of N-body training runs (seeds of two implementations or\n"
"models): for every run's per-evaluation CSV (columns epoch, valid_mse,\n"
"test_mse, as written by nbody and by check_nbody_torch.py --csv) the test MSE\n"
"at the epoch of the best validation MSE; per group the mean, sample standard\n"
"deviation and standard error; and Welch's t-test of the difference of the\n"
"means (two-sided p).\n"
"\n"
"Options:\n"
"  -h, --help          show this help and exit\n"
"      --a LIST        CSV files of group a, comma-separated (at least 2 for\n"
"                      the test)\n"
"      --b LIST        CSV files of group b\n"
"      --label-a NAME  name of group a in the output (default a)\n"
"      --label-b NAME  name of group b (default b)\n"
"      --metric M      test (default) or valid: compare the test MSEs or the\n"
"                      validation MSEs at the best validation epochs;\n"
"                      traj-median or clip-free: the inputs are per-trajectory\n"
"                      test errors (columns traj, mse: nbody_errors --out,\n"
"                      check_nbody_torch.py --errors-csv), compared by their\n"
"                      median, or by the MSE over the trajectories without\n"
"                      clip events in --data\n"
"      --data FILE     the test file of nbody_gen (clip-free only)\n"
"      --max-epoch N   take the best validation among epochs <= N only\n"
"                      (default: all), to compare runs of unequal length\n"
"      --out FILE.csv  also write group,file,best_epoch,valid_mse,test_mse\n"
"\n"
"Exit status: 0 on success, 1 on a missing or malformed file or a group\n"
"without spread, 2 on bad options.\n", f);
}

static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_A = 256, O_B, O_LA, O_LB, O_METRIC, O_MAX, O_DATA, O_OUT };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "a", required_argument, NULL, O_A },
    { "b", required_argument, NULL, O_B },
    { "label-a", required_argument, NULL, O_LA },
    { "label-b", required_argument, NULL, O_LB },
    { "metric", required_argument, NULL, O_METRIC },
    { "max-epoch", required_argument, NULL, O_MAX },
    { "data", required_argument, NULL, O_DATA },
    { "out", required_argument, NULL, O_OUT },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .label = { "a", "b" } };
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_A: o->files[0] = optarg; break;
    case O_B: o->files[1] = optarg; break;
    case O_LA: o->label[0] = optarg; break;
    case O_LB: o->label[1] = optarg; break;
    case O_METRIC:
      st = eqg_cli_parse_choice("--metric", optarg, metric_names, M_COUNT, &o->metric);
      break;
    case O_DATA: o->data = optarg; break;
    case O_MAX: st = eqg_cli_parse_long("--max-epoch", optarg, 1, 100000000, &o->max_epoch); break;
    case O_OUT: o->out = optarg; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);   /* ':' or '?' */
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (!o->files[0] || !o->files[1])
    return eqg_cli_usage_error(PROG, "both --a and --b are required");
  for (int g = 0; g < 2; g++)
    if (!*o->files[g] || !*o->label[g])
      return eqg_cli_usage_error(PROG, "--%s: empty list or label", g ? "b" : "a");
  if (o->out && !*o->out) return eqg_cli_usage_error(PROG, "--out: empty file name");
  if ((o->metric == M_CLIP_FREE) != (o->data != NULL))
    return eqg_cli_usage_error(PROG, o->data ? "--data is for --metric clip-free only"
                                             : "--metric clip-free needs --data");
  if (o->max_epoch && o->metric >= M_TRAJ_MEDIAN)
    return eqg_cli_usage_error(PROG, "--max-epoch does not apply to per-trajectory errors");
  return -1;
}

/* One run: the evaluation with the lowest validation MSE, or (per-trajectory
 * metrics) the number of trajectories and the statistic over them in `test`. */
typedef struct run {
  const char *file;
  long best_epoch;
  double valid, test;
  size_t n_traj;
} run;

/* Index of `name` among the comma-separated header fields, or -1. */
static int column_of(const char *header, const char *name)
{
  const size_t len = strlen(name);
  int k = 0;
  for (const char *p = header;; k++) {
    const char *end = p + strcspn(p, ",\r\n");
    if ((size_t)(end - p) == len && strncmp(p, name, len) == 0) return k;
    if (*end != ',') return -1;
    p = end + 1;
  }
}

/* Field k of a CSV line as a finite number; false if absent or not one. */
static bool field(const char *line, int k, double *v)
{
  const char *p = line;
  for (int i = 0; i < k; i++) {
    p = strchr(p, ',');
    if (!p) return false;
    p++;
  }
  char *end;
  errno = 0;
  *v = strtod(p, &end);
  return end != p && (*end == ',' || *end == '\n' || *end == '\r' || *end == '\0') &&
         errno != ERANGE && isfinite(*v);
}

/* Read one run CSV into r (best validation among epochs <= max_epoch, 0: all). */
static eqg_status read_run(const char *path, long max_epoch, run *r)
{
  FILE *f = fopen(path, "r");
  if (!f) return eqg_error_set(EQG_EIO, "cannot open '%s': %s", path, strerror(errno));
  char line[LINE_MAX_LEN];
  eqg_status st = EQG_OK;
  int ce = -1, cv = -1, ct = -1;
  if (!fgets(line, sizeof line, f) || (ce = column_of(line, "epoch")) < 0 ||
      (cv = column_of(line, "valid_mse")) < 0 || (ct = column_of(line, "test_mse")) < 0) {
    st = eqg_error_set(EQG_EFORMAT, "'%s': no header with columns epoch, valid_mse and "
                       "test_mse", path);
    goto done;
  }
  *r = (run){ .file = path, .best_epoch = -1, .valid = INFINITY, .test = NAN };
  for (long lineno = 2; fgets(line, sizeof line, f); lineno++) {
    if (line[0] == '\n' || line[0] == '\r') continue;
    double e, v, t;
    if (!field(line, ce, &e) || !field(line, cv, &v) || !field(line, ct, &t) ||
        e != floor(e) || e < 0) {
      st = eqg_error_set(EQG_EFORMAT, "'%s' line %ld: not an epoch and two finite MSEs", path,
                         lineno);
      goto done;
    }
    if (max_epoch && e > (double)max_epoch) continue;
    if (v < r->valid) {
      r->valid = v;
      r->test = t;
      r->best_epoch = (long)e;
    }
  }
  if (ferror(f)) st = eqg_error_set(EQG_EIO, "'%s': read error", path);
  else if (r->best_epoch < 0)
    st = eqg_error_set(EQG_EFORMAT, "'%s': no evaluation%s", path,
                       max_epoch ? " at or before --max-epoch" : "");
done:
  fclose(f);
  return st;
}

/* Clip events per trajectory of the test file (clip-free). */
typedef struct clip_table {
  const size_t *clipped;   /* (n) */
  size_t n;
} clip_table;

/* Read one per-trajectory CSV (columns traj, mse; trajectory k on the line of
 * traj = k, in any order, each once) into r->test: the median trajectory MSE
 * or, with clips, the mean over the trajectories without clip events. */
static eqg_status read_traj_run(const char *path, const clip_table *clips, run *r)
{
  FILE *f = fopen(path, "r");
  if (!f) return eqg_error_set(EQG_EIO, "cannot open '%s': %s", path, strerror(errno));
  char line[LINE_MAX_LEN];
  eqg_status st = EQG_OK;
  double *mse = NULL;
  size_t cap = 0, n = 0;
  int ct = -1, cm = -1;
  if (!fgets(line, sizeof line, f) || (ct = column_of(line, "traj")) < 0 ||
      (cm = column_of(line, "mse")) < 0) {
    st = eqg_error_set(EQG_EFORMAT, "'%s': no header with columns traj and mse", path);
    goto done;
  }
  for (long lineno = 2; fgets(line, sizeof line, f); lineno++) {
    if (line[0] == '\n' || line[0] == '\r') continue;
    double k, e;
    if (!field(line, ct, &k) || !field(line, cm, &e) || k != floor(k) || k < 0 || k > 1e8 ||
        e < 0) {
      st = eqg_error_set(EQG_EFORMAT, "'%s' line %ld: not a trajectory index and a finite "
                         "MSE >= 0", path, lineno);
      goto done;
    }
    const size_t t = (size_t)k;
    if (t >= cap) {
      size_t nc = cap ? cap : 1024;
      while (nc <= t) nc *= 2;
      double *grown = realloc(mse, nc * sizeof *grown);
      if (!grown) {
        st = eqg_error_set(EQG_ENOMEM, "'%s': out of memory", path);
        goto done;
      }
      for (size_t i = cap; i < nc; i++) grown[i] = NAN;   /* NaN: not seen */
      mse = grown;
      cap = nc;
    }
    if (!isnan(mse[t])) {
      st = eqg_error_set(EQG_EFORMAT, "'%s' line %ld: trajectory %zu appears twice", path,
                         lineno, t);
      goto done;
    }
    mse[t] = e;
    n = t + 1 > n ? t + 1 : n;
  }
  if (ferror(f)) {
    st = eqg_error_set(EQG_EIO, "'%s': read error", path);
    goto done;
  }
  for (size_t t = 0; t < n; t++)
    if (isnan(mse[t])) {
      st = eqg_error_set(EQG_EFORMAT, "'%s': trajectory %zu is missing (0 .. %zu expected)",
                         path, t, n - 1);
      goto done;
    }
  if (n == 0) {
    st = eqg_error_set(EQG_EFORMAT, "'%s': no trajectories", path);
    goto done;
  }
  *r = (run){ .file = path, .best_epoch = -1, .valid = NAN, .n_traj = n };
  if (!clips) {
    r->test = eqg_cli_median(mse, n);
  } else {
    if (n > clips->n) {
      st = eqg_error_set(EQG_EFORMAT, "'%s' has %zu trajectories, --data only %zu", path, n,
                         clips->n);
      goto done;
    }
    double sum = 0;
    size_t k = 0;
    for (size_t t = 0; t < n; t++)
      if (clips->clipped[t] == 0) {
        sum += mse[t];
        k++;
      }
    if (k == 0) {
      st = eqg_error_set(EQG_EINVAL, "'%s': every trajectory has clip events", path);
      goto done;
    }
    r->test = sum / (double)k;
  }
done:
  free(mse);
  fclose(f);
  return st;
}

/* Split the comma list `list` (modified) into runs[*n..]; reads each file (a
 * per-trajectory one when traj is set; clips: clip-free). */
static eqg_status read_group(char *list, long max_epoch, bool traj, const clip_table *clips,
                             run *runs, size_t *n)
{
  for (char *p = strtok(list, ","); p; p = strtok(NULL, ",")) {
    if (*n == MAX_RUNS) return eqg_error_set(EQG_EINVAL, "more than %d runs", MAX_RUNS);
    eqg_status st = traj ? read_traj_run(p, clips, &runs[*n]) : read_run(p, max_epoch, &runs[*n]);
    if (st != EQG_OK) return st;
    (*n)++;
  }
  return EQG_OK;
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;

  static run runs[2][MAX_RUNS];
  static double value[2][MAX_RUNS];   /* the compared MSE per run */
  size_t n[2] = { 0, 0 };
  char *lists[2] = { strdup(o.files[0]), strdup(o.files[1]) };
  eqg_nbody_dataset *ds = NULL;
  const bool traj = o.metric >= M_TRAJ_MEDIAN;
  clip_table clips = { 0 };
  eqg_status st = EQG_OK;
  rc = 1;
  if (!lists[0] || !lists[1]) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory");
    goto fail;
  }
  if (o.metric == M_CLIP_FREE) {
    if ((st = eqg_nbody_dataset_load(&ds, o.data, 0)) != EQG_OK) {
      eqg_error_prefix(st, "--data: ");
      goto fail;
    }
    clips = (clip_table){ ds->clipped, ds->n_traj };
  }
  for (int g = 0; g < 2; g++)
    if ((st = read_group(lists[g], o.max_epoch, traj, ds ? &clips : NULL, runs[g], &n[g])) !=
        EQG_OK) {
      eqg_error_prefix(st, "--%s: ", g ? "b" : "a");
      goto fail;
    }

  if (traj) printf("%-10s %-50s %12s %12s\n", "group", "file", "trajectories", "value");
  else
    printf("%-10s %-50s %10s %12s %12s\n", "group", "file", "best epoch", "valid MSE",
           "test MSE");
  for (int g = 0; g < 2; g++)
    for (size_t i = 0; i < n[g]; i++) {
      const run *r = &runs[g][i];
      if (traj) printf("%-10s %-50s %12zu %12.5e\n", o.label[g], r->file, r->n_traj, r->test);
      else
        printf("%-10s %-50s %10ld %12.5e %12.5e\n", o.label[g], r->file, r->best_epoch,
               r->valid, r->test);
      value[g][i] = o.metric == M_VALID ? r->valid : r->test;
    }
  eqg_welch w;
  if ((st = eqg_welch_test(&w, value[0], n[0], value[1], n[1])) != EQG_OK) goto fail;
  const double m[2] = { w.mean_a, w.mean_b }, se[2] = { w.se_a, w.se_b };
  static const char *const titles[M_COUNT] = {
    "test MSE at the best validation epoch", "validation MSE at the best validation epoch",
    "median trajectory test MSE at the best validation epoch",
    "test MSE over the trajectories without clip events, at the best validation epoch"
  };
  printf("\n%s%s\n", titles[o.metric], o.max_epoch ? " (epochs <= --max-epoch)" : "");
  for (int g = 0; g < 2; g++) {
    double sorted[MAX_RUNS];   /* the median resists the heavy tail of single runs */
    memcpy(sorted, value[g], n[g] * sizeof *sorted);
    printf("  %-10s n %3zu   mean %.5e   std %.2e   standard error %.2e   median %.5e\n",
           o.label[g], n[g], m[g], se[g] * sqrt((double)n[g]), se[g],
           eqg_cli_median(sorted, n[g]));
  }
  printf("  %s - %s = %.3e (%+.1f %% of %s); Welch t %.3f, df %.1f, two-sided p %.3g\n",
         o.label[0], o.label[1], w.mean_a - w.mean_b, 100 * (w.mean_a / w.mean_b - 1),
         o.label[1], w.t, w.df, w.p);

  if (o.out) {
    eqg_cli_csv *csv = eqg_cli_csv_open(o.out, traj ? "group,file,trajectories,value"
                                                    : "group,file,best_epoch,valid_mse,test_mse");
    if (!csv) goto fail;
    for (int g = 0; g < 2 && st == EQG_OK; g++)
      for (size_t i = 0; i < n[g] && st == EQG_OK; i++)
        st = traj ? eqg_cli_csv_row(csv, "%s,%s,%zu,%.17g", o.label[g], runs[g][i].file,
                                    runs[g][i].n_traj, runs[g][i].test)
                  : eqg_cli_csv_row(csv, "%s,%s,%ld,%.17g,%.17g", o.label[g], runs[g][i].file,
                                    runs[g][i].best_epoch, runs[g][i].valid, runs[g][i].test);
    if (st != EQG_OK) {
      eqg_cli_csv_discard(csv);
      goto fail;
    }
    if ((st = eqg_cli_csv_close(csv)) != EQG_OK) goto fail;
    printf("runs %s\n", o.out);
  }
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "%s: %s\n", PROG, eqg_error_message());
done:
  eqg_nbody_dataset_free(ds);
  free(lists[0]);
  free(lists[1]);
  return rc;
}
