/* jets_gen.c: generate the toy top-tagging datasets (shared/reference/
 * top_tagging.md; generator in lib/data/eqg_jets*.c) as three HDF5 files in the
 * LGN / LorentzNet / PELICAN layout: OUTDIR/train.h5, valid.h5, test.h5 (the
 * file names LorentzNet's loader expects; PELICAN calls the middle one "valid"
 * too).
 *
 * Split k (train 0, valid 1, test 2) draws from its own mt19937 seeded with
 * (3 seed + k + 1) mod 2^32, so the splits never share a random stream and do
 * not depend on each other's sizes.  Jets are generated in chunks of CHUNK
 * (each chunk balanced: its labels a shuffled half/half, one seed per jet), in
 * parallel over jets (--threads); the data do not depend on the thread count.
 * LorentzNet's initialize_datasets() globs the *.h5 files of its data
 * directory and assigns them by the substrings train / test / val of the path,
 * so OUTDIR should hold only these three files. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "data/eqg_jets.h"
#include "eqg_cli.h"

enum {
  QUICK_TRAIN = 200, QUICK_VALID = 100, QUICK_TEST = 100,
  CHUNK = 1000,         /* jets per eqg_jets_generate call (progress bar) */
  N_SPLITS = EQG_CLI_N_SPLITS
};

typedef struct options {
  eqg_cli_gen gen;      /* seed, jets per split, threads, quick, outdir */
  long max_constituents;
  double gluon_fraction;
} options;

static const char PROG[] = "jets_gen";

static void usage(FILE *f)
{
  fputs(
"Usage: jets_gen [OPTION]...\n"
"Generate toy top-tagging jets (top jets t -> b W -> b q q' and QCD jets from a\n"
"light quark or a gluon, each parton showered by a virtuality-ordered parton\n"
"shower with cut-off 1 GeV; anti-kT R = 0.8 jets with pT 550-650 GeV, |eta| < 2,\n"
"pT-ordered constituents) and write OUTDIR/{train,valid,test}.h5 in the LGN /\n"
"LorentzNet / PELICAN layout: Nobj (N) int16, Pmu (N, P, 4) float64 (E, px, py,\n"
"pz) GeV zero padded, truth_Pmu (N, 4), is_signal (N) int16, jet_pt (N),\n"
"label (N, P) int16, mass (N, P); every generator parameter and provenance as\n"
"root attributes.  Classes are balanced.  LorentzNet's loader reads every *.h5\n"
"in its data directory and assigns it by 'train' / 'test' / 'val' in the path:\n"
"keep other .h5 files (e.g. jets_validate's output) out of OUTDIR.\n"
"\n"
"Options:\n"
"  -h, --help               show this help and exit\n"
"      --seed N             seed, 0..4294967295 (default 1); split k (train 0,\n"
"                           valid 1, test 2) uses mt19937 seeded with 3 N + k + 1\n"
"      --outdir DIR         output directory, created if missing (default .)\n"
"      --n-train N          training jets, 0..10000000 (default 60000;\n"
"                           --quick: 200)\n"
"      --n-valid N          validation jets (default 20000; --quick: 100)\n"
"      --n-test N           test jets (default 20000; --quick: 100)\n"
"      --max-constituents P padded length, 1..32767 (default 200)\n"
"      --gluon-fraction F   fraction of QCD jets started by a gluon, 0..1\n"
"                           (default 0.5)\n"
"      --threads N          OpenMP threads, 1..1024 (default 1); the data do not\n"
"                           depend on it\n"
"      --quick              tiny run for CI (200/100/100 jets) unless the sizes\n"
"                           are given\n"
"\n"
"Output: per split the file, jets, tops, mean multiplicity and mean jet mass\n"
"per class (of the kept constituents) and seconds on stdout; a progress bar on\n"
"stderr when it is a terminal.\n"
"\n"
"Exit status: 0 on success, 1 on a generation or I/O failure, 2 on bad options.\n",
    f);
}

static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_MAXC = 256, O_GLUON };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    EQG_CLI_GEN_LONGOPTS("n-"),
    { "max-constituents", required_argument, NULL, O_MAXC },
    { "gluon-fraction", required_argument, NULL, O_GLUON },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .max_constituents = 200, .gluon_fraction = 0.5 };
  eqg_cli_gen_defaults(&o->gen, "n-", (const long[N_SPLITS]){ 60000, 20000, 20000 });
  opterr = 0;
  for (;;) {
    const int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    if (eqg_cli_gen_parse(&o->gen, c, optarg, &st)) {
      if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
      continue;
    }
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_MAXC:
      st = eqg_cli_parse_long("--max-constituents", optarg, 1, 32767, &o->max_constituents);
      break;
    case O_GLUON:
      st = eqg_cli_parse_double("--gluon-fraction", optarg, 0, 1, &o->gluon_fraction);
      break;
    default: return eqg_cli_getopt_error(PROG, c, argv);
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  const long quick_n[N_SPLITS] = { QUICK_TRAIN, QUICK_VALID, QUICK_TEST };
  const int rc = eqg_cli_gen_finish(&o->gen, PROG, argc, argv, quick_n);
  if (rc >= 0) return rc;
  if (!*o->gen.outdir) return eqg_cli_usage_error(PROG, "--outdir: empty directory name");
  return -1;
}

/* Root attributes: provenance, the split, and every generator parameter. */
typedef struct attr_ctx {
  const eqg_cli_provenance *pv;
  const eqg_jets_config *cfg;
  const char *split;
  unsigned long split_seed;
  size_t n_jets;
} attr_ctx;

static eqg_status write_attrs(hid_t file, void *vctx)
{
  const attr_ctx *a = vctx;
  const eqg_jets_config *c = a->cfg;
  eqg_status st = eqg_cli_provenance_write(file, a->pv);
  if (st == EQG_OK) st = eqg_h5_write_attr_string(file, "split", a->split);
  if (st == EQG_OK) st = eqg_h5_write_attr_ulong(file, "split_seed", a->split_seed);
  if (st == EQG_OK)
    st = eqg_h5_write_attr_string(file, "generator", "eqgnn toy top-tagging generator: "
                                  "t -> b W -> b q q' / QCD q or g, virtuality-ordered "
                                  "parton shower, anti-kT jets (lib/data/eqg_jets.h)");
  const struct { const char *name; long v; } ints[] = {
    { "n_jets", (long)a->n_jets }, { "max_constituents", (long)c->max_constituents },
    { "running_alpha_s", c->running_alpha_s }, { "angular_ordering", c->angular_ordering },
    { "match_top", c->match_top }, { "max_tries", (long)c->max_tries },
  };
  for (size_t i = 0; st == EQG_OK && i < sizeof ints / sizeof *ints; i++)
    st = eqg_h5_write_attr_long(file, ints[i].name, ints[i].v);
  const struct { const char *name; double v; } reals[] = {
    { "gen_pt_min", c->gen_pt_min }, { "gen_pt_max", c->gen_pt_max },
    { "gen_eta_max", c->gen_eta_max }, { "gluon_fraction", c->gluon_fraction },
    { "m_top", c->m_top }, { "gamma_top", c->gamma_top }, { "m_w", c->m_w },
    { "gamma_w", c->gamma_w }, { "bw_cut", c->bw_cut }, { "q0", c->q0 },
    { "alpha_s_mz", c->alpha_s_mz }, { "kt_min", c->kt_min },
    { "start_scale", c->start_scale }, { "m_final", c->m_final }, { "jet_r", c->jet_r },
    { "jet_pt_min", c->jet_pt_min }, { "jet_pt_max", c->jet_pt_max },
    { "jet_eta_max", c->jet_eta_max },
  };
  for (size_t i = 0; st == EQG_OK && i < sizeof reals / sizeof *reals; i++)
    st = eqg_h5_write_attr_double(file, reals[i].name, reals[i].v);
  return st;
}

typedef struct split_result {
  char path[4096];
  size_t n, n_sig;
  double mult[2], mass[2];   /* means per class [QCD, top] */
  double gen_seconds, seconds;
} split_result;

/* Rows [start, start + n) of ds as a dataset of its own (no copy). */
static eqg_jet_dataset view(const eqg_jet_dataset *ds, size_t start, size_t n)
{
  const size_t P = ds->max_constituents;
  return (eqg_jet_dataset){
    .n_jets = n, .max_constituents = P, .nobj = ds->nobj + start,
    .pmu = ds->pmu + 4 * P * start, .truth_pmu = ds->truth_pmu + 4 * start,
    .is_signal = ds->is_signal + start, .jet_pt = ds->jet_pt + start,
    .label = ds->label + P * start, .mass = ds->mass + P * start,
  };
}

static void summarize(const eqg_jet_dataset *ds, split_result *res)
{
  const size_t P = ds->max_constituents;
  size_t cnt[2] = { 0, 0 };
  double mult[2] = { 0, 0 }, mass[2] = { 0, 0 };
  for (size_t i = 0; i < ds->n_jets; i++) {
    const int k = ds->is_signal[i];
    double s[4] = { 0, 0, 0, 0 };
    for (size_t j = 0; j < (size_t)ds->nobj[i]; j++)
      for (int mu = 0; mu < 4; mu++) s[mu] += ds->pmu[4 * (P * i + j) + mu];
    cnt[k]++;
    mult[k] += ds->nobj[i];
    mass[k] += eqg_jet_p4_mass(s);
  }
  res->n = ds->n_jets;
  res->n_sig = cnt[1];
  for (int k = 0; k < 2; k++) {
    res->mult[k] = cnt[k] ? mult[k] / (double)cnt[k] : NAN;
    res->mass[k] = cnt[k] ? mass[k] / (double)cnt[k] : NAN;
  }
}

static eqg_status run_split(int k, const options *o, const eqg_jets_config *cfg,
                            const eqg_cli_provenance *pv, split_result *res)
{
  const double t0 = eqg_cli_now();
  const char *name = eqg_cli_split_name[k];
  const size_t n = (size_t)o->gen.n[k];
  const unsigned long split_seed = eqg_cli_split_seed(o->gen.seed, k);
  snprintf(res->path, sizeof res->path, "%s/%s.h5", o->gen.outdir, name);
  eqg_jet_dataset *ds = eqg_jet_dataset_alloc(n, cfg->max_constituents);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  eqg_status st = EQG_OK;
  if (!ds) st = EQG_ENOMEM;
  else if (!r) st = eqg_error_set(EQG_ENOMEM, "cannot allocate the random number generator");
  if (st != EQG_OK) goto done;
  gsl_rng_set(r, split_seed);

  eqg_cli_progress pb;
  eqg_cli_progress_begin(&pb, name, n);
  for (size_t s = 0; s < n && st == EQG_OK; s += CHUNK) {
    const size_t m = n - s < CHUNK ? n - s : CHUNK;
    eqg_jet_dataset v = view(ds, s, m);
    st = eqg_jets_generate(&v, cfg, r, (int)o->gen.threads);
    if (st != EQG_OK) st = eqg_error_prefix(st, "%s jets %zu..%zu: ", name, s, s + m - 1);
    eqg_cli_progress_update(&pb, s + m, "%s", "");
  }
  eqg_cli_progress_end(&pb);
  if (st != EQG_OK) goto done;
  res->gen_seconds = eqg_cli_now() - t0;

  attr_ctx ctx = { .pv = pv, .cfg = cfg, .split = name, .split_seed = split_seed, .n_jets = n };
  st = eqg_jet_dataset_save(res->path, ds, write_attrs, &ctx);
  if (st != EQG_OK) goto done;
  summarize(ds, res);
  res->seconds = eqg_cli_now() - t0;
done:
  gsl_rng_free(r);
  eqg_jet_dataset_free(ds);
  return st;
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;

  eqg_jets_config cfg;
  eqg_jets_config_default(&cfg);
  cfg.max_constituents = (size_t)o.max_constituents;
  cfg.gluon_fraction = o.gluon_fraction;
  if (eqg_jets_config_check(&cfg) != EQG_OK)
    return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  eqg_cli_provenance pv;
  rc = eqg_cli_gen_start(&o.gen, PROG, argc, argv, &pv);
  if (rc >= 0) return rc;

  printf("jets_gen: P = %zu, gluon fraction %g, seed %lu, %ld thread%s\n",
         cfg.max_constituents, cfg.gluon_fraction, o.gen.seed, o.gen.threads,
         o.gen.threads == 1 ? "" : "s");
  printf("%-6s %-32s %8s %7s %9s %9s %9s %9s %8s %8s\n", "split", "file", "jets", "tops",
         "n top", "n QCD", "m top", "m QCD", "gen s", "total s");
  double total = 0;
  for (int k = 0; k < N_SPLITS; k++) {
    split_result res;
    memset(&res, 0, sizeof res);
    const eqg_status st = run_split(k, &o, &cfg, &pv, &res);
    if (st != EQG_OK) {
      fprintf(stderr, "%s: %s\n", PROG, eqg_error_message());
      eqg_cli_provenance_clear(&pv);
      return 1;
    }
    printf("%-6s %-32s %8zu %7zu %9.2f %9.2f %9.2f %9.2f %8.2f %8.2f\n", eqg_cli_split_name[k],
           res.path, res.n, res.n_sig, res.mult[1], res.mult[0], res.mass[1], res.mass[0],
           res.gen_seconds, res.seconds);
    fflush(stdout);
    total += res.seconds;
  }
  printf("total %.2f s.  n: mean constituents kept per jet; m: mean jet mass (GeV) of the "
         "kept constituents; gen s: generation; total s: with the synced write.\n", total);
  eqg_cli_provenance_clear(&pv);
  return 0;
}
