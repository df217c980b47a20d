/* jets_validate.c: physics validation of a top-tagging dataset file (ours or
 * one in the same layout) and of the generator's conservation laws.
 *
 * For each jet of --in: the observables of eqg_jet_observables (jet mass, the
 * W candidate = the pair of the three exclusive-kT subjets with mass closest to
 * 80.4 GeV, multiplicity, tau_32 with exclusive-kT axes), histogrammed per class
 * (densities: counts / (jets of the class * bin width)); the medians, means and
 * peak bins are printed.  Checks (a failure exits with status 3):
 *   - every constituent has E >= |p| (to --tolerance relative);
 *   - constituents are pT-ordered and the padding is exactly zero;
 *   - the kept constituents sum to the jet: |pT(sum) - jet_pt| <= tol jet_pt for
 *     jets that were not truncated (Nobj < P);
 *   - --events N full events from the generator (no cuts; seeded by --seed):
 *     p_parent = p_b + p_c at every decay and every shower branching (to 1e-13
 *     of the parent's energy) and the final particles sum to the initial
 *     parton / top (to 1e-9).
 * Outputs: --out FILE.h5 (per observable a group with edges (n_bins + 1),
 * top and qcd densities (n_bins), and the summary as attributes) and
 * FILE.csv (observable,lo,hi,top,qcd) for plots/jets_validate.gp. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "data/eqg_jets.h"
#include "eqg_cli.h"

static const char PROG[] = "jets_validate";

typedef struct options {
  const char *in, *out;
  long max_jets, events;
  unsigned long seed;
  double tol;
  bool quick;
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: jets_validate --in FILE.h5 [OPTION]...\n"
"Validate a top-tagging dataset in the LGN / LorentzNet layout (as written by\n"
"jets_gen): per-class histograms of the jet mass, the W candidate mass (the\n"
"pair of the 3 exclusive-kT subjets closest to 80.4 GeV), the multiplicity and\n"
"tau_32; a summary table (medians, means, peak bins); and checks: E >= |p| for\n"
"every constituent, pT ordering, exact zero padding, constituents summing to\n"
"jet_pt, and four-momentum conservation at every decay and shower branching of\n"
"freshly generated events.\n"
"\n"
"Options:\n"
"  -h, --help          show this help and exit\n"
"      --in FILE       dataset to read (required)\n"
"      --out FILE.h5   histograms and summary (default jets_validate.h5), and\n"
"                      FILE.csv beside it for plots/jets_validate.gp\n"
"      --max-jets N    read only the first N jets, 0..1000000000 (default 0: all)\n"
"      --events N      generator events for the conservation check, 0..10000000\n"
"                      (default 2000; --quick: 200)\n"
"      --seed N        seed of those events, 0..4294967295 (default 1)\n"
"      --tolerance T   relative tolerance of the dataset checks, 0..1\n"
"                      (default 1e-9)\n"
"      --quick         small run for CI\n"
"\n"
"Exit status: 0 if every check passes, 1 on an I/O or format error, 2 on bad\n"
"options, 3 if a check fails.\n",
    f);
}

static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_IN = 256, O_OUT, O_MAXJ, O_EVENTS, O_SEED, O_TOL, O_QUICK };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "in", required_argument, NULL, O_IN },
    { "out", required_argument, NULL, O_OUT },
    { "max-jets", required_argument, NULL, O_MAXJ },
    { "events", required_argument, NULL, O_EVENTS },
    { "seed", required_argument, NULL, O_SEED },
    { "tolerance", required_argument, NULL, O_TOL },
    { "quick", no_argument, NULL, O_QUICK },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .out = "jets_validate.h5", .events = 2000, .seed = 1, .tol = 1e-9 };
  bool events_set = false;
  opterr = 0;
  for (;;) {
    const int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_IN: o->in = optarg; break;
    case O_OUT: o->out = optarg; break;
    case O_MAXJ: st = eqg_cli_parse_long("--max-jets", optarg, 0, 1000000000, &o->max_jets); break;
    case O_EVENTS:
      st = eqg_cli_parse_long("--events", optarg, 0, 10000000, &o->events);
      events_set = true;
      break;
    case O_SEED: st = eqg_cli_parse_ulong("--seed", optarg, 0, 4294967295UL, &o->seed); break;
    case O_TOL: st = eqg_cli_parse_double("--tolerance", optarg, 0, 1, &o->tol); break;
    case O_QUICK: o->quick = true; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (!o->in || !*o->in) return eqg_cli_usage_error(PROG, "--in FILE is required");
  if (!*o->out) return eqg_cli_usage_error(PROG, "--out: empty file name");
  if (o->quick && !events_set) o->events = 200;
  return -1;
}

/* ---- observables and histograms ---------------------------------------------- */

enum { OBS_MASS, OBS_MW, OBS_MULT, OBS_TAU32, N_OBS };
static const struct { const char *name, *unit; double lo, hi; size_t bins; } OBS[N_OBS] = {
  { "mass", "GeV", 0, 300, 60 },
  { "w_candidate", "GeV", 0, 200, 40 },
  { "multiplicity", "", 0, 120, 60 },
  { "tau32", "", 0, 1, 40 },
};

typedef struct obs_table {
  double *v[N_OBS][2];      /* (n_class) values per observable and class [QCD, top] */
  size_t n[2];
} obs_table;

static eqg_status compute(obs_table *t, const eqg_jet_dataset *ds)
{
  const size_t N = ds->n_jets, P = ds->max_constituents;
  for (int a = 0; a < N_OBS; a++)
    for (int k = 0; k < 2; k++) {
      t->v[a][k] = malloc((N ? N : 1) * sizeof(double));
      if (!t->v[a][k]) return eqg_error_set(EQG_ENOMEM, "out of memory for %zu jets", N);
    }
  t->n[0] = t->n[1] = 0;
  for (size_t i = 0; i < N; i++) {
    eqg_jet_obs o;
    const eqg_status st = eqg_jet_observables(&o, ds->pmu + 4 * P * i, (size_t)ds->nobj[i]);
    if (st != EQG_OK) return st;
    const int k = ds->is_signal[i];
    const size_t j = t->n[k]++;
    t->v[OBS_MASS][k][j] = o.mass;
    t->v[OBS_MW][k][j] = o.m_w;
    t->v[OBS_MULT][k][j] = o.n;
    t->v[OBS_TAU32][k][j] = o.tau32;
  }
  return EQG_OK;
}

static void obs_free(obs_table *t)
{
  for (int a = 0; a < N_OBS; a++)
    for (int k = 0; k < 2; k++) free(t->v[a][k]);
}

/* Densities (bins) of x (n values): counts / (n width); overflow in the last bin. */
static void histogram(double *dens, const double *x, size_t n, int a)
{
  const size_t nb = OBS[a].bins;
  const double w = (OBS[a].hi - OBS[a].lo) / (double)nb;
  memset(dens, 0, nb * sizeof *dens);
  for (size_t i = 0; i < n; i++) {
    double b = floor((x[i] - OBS[a].lo) / w);
    if (b < 0) b = 0;
    if (b > (double)(nb - 1)) b = (double)(nb - 1);
    dens[(size_t)b] += 1;
  }
  for (size_t b = 0; b < nb; b++) dens[b] = n ? dens[b] / ((double)n * w) : 0.0;
}

typedef struct summary { double median, mean, peak; } summary;

static summary summarize(double *x, size_t n, const double *dens, int a)
{
  summary s = { NAN, NAN, NAN };
  if (n == 0) return s;
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += x[i];
  s.mean = sum / (double)n;
  size_t best = 0;
  for (size_t b = 1; b < OBS[a].bins; b++)
    if (dens[b] > dens[best]) best = b;
  const double w = (OBS[a].hi - OBS[a].lo) / (double)OBS[a].bins;
  s.peak = OBS[a].lo + ((double)best + 0.5) * w;
  s.median = eqg_cli_median(x, n);   /* sorts x */
  return s;
}

/* ---- checks ------------------------------------------------------------------------ */

typedef struct checks {
  size_t bad_energy, bad_order, bad_padding, bad_sum, truncated, n_constituents;
  double min_margin, worst_sum;       /* min (E - |p|)/E; worst jet_pt mismatch */
  size_t events;
  double worst_node, worst_root;      /* relative */
} checks;

static void check_dataset(checks *c, const eqg_jet_dataset *ds, double tol)
{
  const size_t P = ds->max_constituents;
  for (size_t i = 0; i < ds->n_jets; i++) {
    const eqg_real *p = ds->pmu + 4 * P * i;
    const size_t n = (size_t)ds->nobj[i];
    double s[4] = { 0, 0, 0, 0 }, prev_pt = INFINITY;
    for (size_t k = 0; k < P; k++) {
      const eqg_real *q = p + 4 * k;
      if (k >= n) {
        c->bad_padding += q[0] != 0 || q[1] != 0 || q[2] != 0 || q[3] != 0;
        continue;
      }
      c->n_constituents++;
      const double pa = sqrt(q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
      const double pt = hypot(q[1], q[2]);
      const double margin = (q[0] - pa) / fmax(q[0], 1e-300);
      if (margin < c->min_margin) c->min_margin = margin;
      c->bad_energy += margin < -tol;
      c->bad_order += pt > prev_pt;
      prev_pt = pt;
      for (int mu = 0; mu < 4; mu++) s[mu] += q[mu];
    }
    if (n == P) {
      c->truncated++;
      continue;
    }
    const double rel = fabs(hypot(s[1], s[2]) - ds->jet_pt[i]) / fmax(ds->jet_pt[i], 1e-300);
    if (rel > c->worst_sum) c->worst_sum = rel;
    c->bad_sum += rel > tol;
  }
}

static eqg_status check_events(checks *c, long n_events, unsigned long seed)
{
  eqg_jets_config cfg;
  eqg_jets_config_default(&cfg);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  eqg_jet_event *ev = eqg_jet_event_alloc();
  eqg_status st = EQG_OK;
  if (!r || !ev) st = eqg_error_set(EQG_ENOMEM, "out of memory for the event check");
  if (r) gsl_rng_set(r, seed);
  for (long e = 0; st == EQG_OK && e < n_events; e++) {
    st = eqg_jet_event_generate(ev, (int)(e % 2), &cfg, r);
    if (st != EQG_OK) break;
    c->worst_node = fmax(c->worst_node, eqg_jet_event_max_violation(ev));
    double s[4] = { 0, 0, 0, 0 };
    for (size_t i = 0; i < ev->n_nodes; i++)
      if (ev->node[i].child[0] < 0)
        for (int mu = 0; mu < 4; mu++) s[mu] += ev->node[i].p[mu];
    for (int mu = 0; mu < 4; mu++)
      c->worst_root = fmax(c->worst_root, fabs(s[mu] - ev->node[0].p[mu]) / ev->node[0].p[0]);
    c->events++;
  }
  eqg_jet_event_free(ev);
  gsl_rng_free(r);
  return st;
}

/* ---- outputs ------------------------------------------------------------------------ */

typedef struct result {
  double *dens[N_OBS][2];
  summary sum[N_OBS][2];
} result;

static eqg_status write_h5(const char *path, const result *res, const obs_table *t,
                          const checks *c, const eqg_cli_provenance *pv, const char *in)
{
  hid_t file;
  char *tmp;
  eqg_status st = eqg_h5_create_tmp(path, &file, &tmp);
  if (st != EQG_OK) return st;
  if ((st = eqg_cli_provenance_write(file, pv)) == EQG_OK)
    st = eqg_h5_write_attr_string(file, "input", in);
  const char *cls[2] = { "qcd", "top" };
  for (int k = 0; k < 2 && st == EQG_OK; k++) {
    char name[32];
    snprintf(name, sizeof name, "n_%s", cls[k]);
    st = eqg_h5_write_attr_long(file, name, (long)t->n[k]);
  }
  const struct { const char *name; double v; } cattrs[] = {
    { "min_energy_margin", c->min_margin }, { "worst_jet_pt_mismatch", c->worst_sum },
    { "worst_node_violation", c->worst_node }, { "worst_root_violation", c->worst_root },
    { "bad_energy", (double)c->bad_energy }, { "bad_order", (double)c->bad_order },
    { "bad_padding", (double)c->bad_padding }, { "bad_jet_pt", (double)c->bad_sum },
    { "events_checked", (double)c->events },
  };
  for (size_t i = 0; st == EQG_OK && i < sizeof cattrs / sizeof *cattrs; i++)
    st = eqg_h5_write_attr_double(file, cattrs[i].name, cattrs[i].v);
  for (int a = 0; a < N_OBS && st == EQG_OK; a++) {
    const hid_t g = eqg_h5_group_create(file, OBS[a].name);
    if (g < 0) {
      st = EQG_EIO;
      break;
    }
    const size_t nb = OBS[a].bins;
    double *edges = malloc((nb + 1) * sizeof *edges);
    if (!edges) st = eqg_error_set(EQG_ENOMEM, "out of memory");
    for (size_t b = 0; st == EQG_OK && b <= nb; b++)
      edges[b] = OBS[a].lo + (OBS[a].hi - OBS[a].lo) * (double)b / (double)nb;
    if (st == EQG_OK) st = eqg_h5_write_vector(g, "edges", edges, nb + 1);
    free(edges);
    for (int k = 0; k < 2 && st == EQG_OK; k++) {
      st = eqg_h5_write_vector(g, cls[k], res->dens[a][k], nb);
      const struct { const char *what; double v; } s[] = {
        { "median", res->sum[a][k].median }, { "mean", res->sum[a][k].mean },
        { "peak", res->sum[a][k].peak },
      };
      for (size_t i = 0; st == EQG_OK && i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s_%s", s[i].what, cls[k]);
        st = eqg_h5_write_attr_double(g, name, s[i].v);
      }
    }
    eqg_h5_close(g);
  }
  if (st != EQG_OK) {
    eqg_h5_discard(file, tmp);
    return eqg_error_prefix(st, "writing '%s': ", path);
  }
  return eqg_h5_commit(file, tmp, path);
}

static eqg_status write_csv(const char *path, const result *res)
{
  eqg_cli_csv *csv = eqg_cli_csv_open(path, "observable,lo,hi,top,qcd");
  if (!csv) return EQG_EIO;
  for (int a = 0; a < N_OBS; a++) {
    const size_t nb = OBS[a].bins;
    const double w = (OBS[a].hi - OBS[a].lo) / (double)nb;
    for (size_t b = 0; b < nb; b++)
      if (eqg_cli_csv_row(csv, "%s,%.10g,%.10g,%.10g,%.10g", OBS[a].name,
                          OBS[a].lo + w * (double)b, OBS[a].lo + w * (double)(b + 1),
                          res->dens[a][1][b], res->dens[a][0][b]) != EQG_OK) {
        eqg_cli_csv_discard(csv);
        return EQG_EIO;
      }
  }
  return eqg_cli_csv_close(csv);
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();
  options o;
  const int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;
  const double t0 = eqg_cli_now();
  eqg_cli_provenance pv;
  if (eqg_cli_provenance_init(&pv, argc, argv, o.seed) != EQG_OK) {
    fprintf(stderr, "%s: %s\n", PROG, eqg_error_message());
    return 1;
  }
  eqg_jet_dataset *ds = NULL;
  obs_table t;
  memset(&t, 0, sizeof t);
  result res;
  memset(&res, 0, sizeof res);
  checks c;
  memset(&c, 0, sizeof c);
  c.min_margin = INFINITY;
  char *csv_path = NULL;
  int exit_code = 1;
  eqg_status st = eqg_jet_dataset_load(&ds, o.in, (size_t)o.max_jets, 0);
  if (st == EQG_OK) st = compute(&t, ds);
  if (st != EQG_OK) goto done;
  check_dataset(&c, ds, o.tol);
  st = check_events(&c, o.events, o.seed);
  if (st != EQG_OK) goto done;
  for (int a = 0; a < N_OBS && st == EQG_OK; a++)
    for (int k = 0; k < 2 && st == EQG_OK; k++) {
      res.dens[a][k] = malloc(OBS[a].bins * sizeof(double));
      if (!res.dens[a][k]) {
        st = eqg_error_set(EQG_ENOMEM, "out of memory");
        break;
      }
      histogram(res.dens[a][k], t.v[a][k], t.n[k], a);
      res.sum[a][k] = summarize(t.v[a][k], t.n[k], res.dens[a][k], a);
    }
  if (st != EQG_OK) goto done;
  csv_path = eqg_cli_path_beside(o.out, ".csv");
  if (!csv_path) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory");
    goto done;
  }
  if ((st = write_h5(o.out, &res, &t, &c, &pv, o.in)) != EQG_OK ||
      (st = write_csv(csv_path, &res)) != EQG_OK)
    goto done;

  printf("jets_validate: %s: %zu jets (%zu top, %zu QCD), P = %zu\n", o.in, ds->n_jets,
         t.n[1], t.n[0], ds->max_constituents);
  printf("%-13s %-5s %9s %9s %9s\n", "observable", "class", "median", "mean", "peak");
  for (int a = 0; a < N_OBS; a++)
    for (int k = 1; k >= 0; k--)
      printf("%-13s %-5s %9.3f %9.3f %9.3f\n", OBS[a].name, k ? "top" : "QCD",
             res.sum[a][k].median, res.sum[a][k].mean, res.sum[a][k].peak);
  printf("(mass, W candidate in GeV; peak: centre of the fullest bin of width %g GeV, "
         "%g GeV, %g, %g)\n", (OBS[0].hi - OBS[0].lo) / (double)OBS[0].bins,
         (OBS[1].hi - OBS[1].lo) / (double)OBS[1].bins,
         (OBS[2].hi - OBS[2].lo) / (double)OBS[2].bins,
         (OBS[3].hi - OBS[3].lo) / (double)OBS[3].bins);
  const bool ok_data = c.bad_energy == 0 && c.bad_order == 0 && c.bad_padding == 0 &&
                       c.bad_sum == 0;
  const bool ok_events = c.worst_node <= 1e-13 && c.worst_root <= 1e-9;
  printf("check E >= |p|: %zu of %zu constituents violate (min (E - |p|)/E = %.3g, "
         "tolerance %g)\n", c.bad_energy, c.n_constituents, c.min_margin, o.tol);
  printf("check pT order / zero padding: %zu / %zu violations\n", c.bad_order,
         c.bad_padding);
  printf("check constituents sum to jet_pt: %zu of %zu untruncated jets violate (worst "
         "%.3g; %zu truncated jets skipped)\n", c.bad_sum, ds->n_jets - c.truncated,
         c.worst_sum, c.truncated);
  printf("check conservation in %zu generated events: worst |p_a - p_b - p_c| / E_a = "
         "%.3g (limit 1e-13), worst |sum final - root| / E = %.3g (limit 1e-9)\n", c.events,
         c.worst_node, c.worst_root);
  printf("wrote %s and %s (%.2f s): %s\n", o.out, csv_path, eqg_cli_now() - t0,
         ok_data && ok_events ? "all checks passed" : "CHECKS FAILED");
  exit_code = ok_data && ok_events ? 0 : 3;
done:
  if (st != EQG_OK) fprintf(stderr, "%s: %s\n", PROG, eqg_error_message());
  for (int a = 0; a < N_OBS; a++)
    for (int k = 0; k < 2; k++) free(res.dens[a][k]);
  free(csv_path);
  obs_free(&t);
  eqg_jet_dataset_free(ds);
  eqg_cli_provenance_clear(&pv);
  return exit_code;
}
