/* nbody_gen.c: generate the charged-particle N-body datasets (EGNN paper,
 * section 5.1; shared/reference/nbody.md) as three HDF5 files.
 *
 * Split k (train 0, valid 1, test 2) draws its initial states from its own
 * mt19937 seeded with (3 seed + k + 1) mod 2^32, so the splits never share a
 * random stream and each split does not depend on the sizes of the others.
 * Integration runs in parallel over trajectories (--threads) and gives the same
 * bits for any thread count. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_rng.h>

#include "eqg_cli.h"

enum {
  QUICK_TRAIN = 20, QUICK_VALID = 10, QUICK_TEST = 10, QUICK_STEPS = 1000,
  CHUNK = 100,          /* trajectories per progress-bar update */
  N_SPLITS = EQG_CLI_N_SPLITS
};

typedef struct options {
  eqg_cli_gen gen;      /* seed, trajectories per split, threads, quick, outdir */
  long steps, sample_freq, particles;
} options;

static void usage(FILE *f)
{
  fputs(
"Usage: nbody_gen [OPTION]...\n"
"Simulate the charged-particle N-body system of the EGNN paper (5 particles in\n"
"3-D, charges +-1, Coulomb forces clipped to +-100 per component, dt 0.001,\n"
"symplectic Euler) and write OUTDIR/nbody_{train,valid,test}.h5 with datasets\n"
"loc, vel (n_traj, n_frames, n_particles, 3), charges (n_traj, n_particles) and\n"
"clipped (n_traj: force evaluations with a clipped component), every parameter\n"
"as an attribute, and provenance.\n"
"\n"
"Options:\n"
"  -h, --help             show this help and exit\n"
"      --seed N           seed, 0..4294967295 (default 1); split k (train 0,\n"
"                         valid 1, test 2) uses mt19937 seeded with 3 N + k + 1\n"
"      --outdir DIR       output directory, created if missing (default .)\n"
"      --train N          training trajectories generated, 0..10000000\n"
"                         (default 3000; the reference generated 10000 and\n"
"                         trained on 3000; --quick: 20)\n"
"      --valid N          validation trajectories (default 2000; --quick: 10)\n"
"      --test N           test trajectories (default 2000; --quick: 10)\n"
"      --steps T          integration steps, 2..100000000 (default 5000;\n"
"                         --quick: 1000); frames = (T - 1) / sample_freq\n"
"      --sample-freq N    save every N-th step, 1..T-1 (default 100)\n"
"      --particles N      particles per system, 1..1000 (default 5)\n"
"      --threads N        OpenMP threads, 1..1024 (default 1); the data do not\n"
"                         depend on it\n"
"      --quick            tiny run for CI (20/10/10 trajectories, T = 1000)\n"
"                         unless the sizes are given\n"
"\n"
"Output: a table of split, file, trajectories, frames, trajectories with a\n"
"clipped force, mean relative energy drift of the unclipped ones and seconds\n"
"(simulation; total) on stdout; a progress bar on stderr when it is a terminal.\n"
"\n"
"Exit status: 0 on success, 1 on a simulation or I/O failure, 2 on bad options.\n",
    f);
}

/* Program name in usage errors (eqg_cli_usage_error). */
static const char PROG[] = "nbody_gen";

/* Returns -1 to continue, else an exit code (0 after --help, 2 on a bad option). */
static int parse_options(int argc, char *argv[], options *o)
{
  enum { O_STEPS = 256, O_SFREQ, O_PARTICLES };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    EQG_CLI_GEN_LONGOPTS(""),
    { "steps", required_argument, NULL, O_STEPS },
    { "sample-freq", required_argument, NULL, O_SFREQ },
    { "particles", required_argument, NULL, O_PARTICLES },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .steps = 5000, .sample_freq = 100, .particles = 5 };
  eqg_cli_gen_defaults(&o->gen, "", (const long[N_SPLITS]){ 3000, 2000, 2000 });
  bool steps_set = false;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    if (eqg_cli_gen_parse(&o->gen, c, optarg, &st)) {
      if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
      continue;
    }
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_STEPS:
      st = eqg_cli_parse_long("--steps", optarg, 2, 100000000, &o->steps);
      steps_set = true;
      break;
    case O_SFREQ:
      st = eqg_cli_parse_long("--sample-freq", optarg, 1, 100000000, &o->sample_freq);
      break;
    case O_PARTICLES:
      st = eqg_cli_parse_long("--particles", optarg, 1, 1000, &o->particles);
      break;
    default: return eqg_cli_getopt_error(PROG, c, argv);   /* ':' or '?' */
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  const long quick_n[N_SPLITS] = { QUICK_TRAIN, QUICK_VALID, QUICK_TEST };
  const int rc = eqg_cli_gen_finish(&o->gen, PROG, argc, argv, quick_n);
  if (rc >= 0) return rc;
  if (o->gen.quick && !steps_set) o->steps = QUICK_STEPS;
  if (o->sample_freq >= o->steps)
    return eqg_cli_usage_error(PROG, "--sample-freq: %ld saves no frame of %ld steps (must be "
                               "below --steps)", o->sample_freq, o->steps);
  if (!*o->gen.outdir) return eqg_cli_usage_error(PROG, "--outdir: empty directory name");
  return -1;
}

/* Mean over unclipped trajectories of max_k |E_k - E_0| / (K_0 + |U|_0), frame 0
 * as reference (the initial state is not saved); *n_unclipped gets their count. */
static double mean_energy_drift(const eqg_nbody_dataset *ds, size_t *n_unclipped)
{
  const size_t n = ds->n_particles, nd = n * EQG_NBODY_DIM, per = ds->n_frames * nd;
  double sum = 0;
  size_t cnt = 0;
  for (size_t t = 0; t < ds->n_traj; t++) {
    if (ds->clipped[t]) continue;
    const eqg_real *q = ds->charges + t * n, *x = ds->loc + t * per, *v = ds->vel + t * per;
    eqg_real k0, u0;
    const eqg_real e0 = eqg_nbody_energy(x, v, q, n, ds->cfg.interaction, &k0, &u0);
    double worst = 0;
    for (size_t f = 1; f < ds->n_frames; f++) {
      const eqg_real e = eqg_nbody_energy(x + f * nd, v + f * nd, q, n, ds->cfg.interaction,
                                          NULL, NULL);
      worst = fmax(worst, fabs(e - e0) / (k0 + u0));
    }
    sum += worst;
    cnt++;
  }
  *n_unclipped = cnt;
  return cnt ? sum / (double)cnt : NAN;
}

typedef struct split_result {
  char path[4096];
  size_t n_traj, n_frames, n_clipped_traj, n_unclipped;
  double drift, sim_seconds, seconds;
} split_result;

/* Simulate split k and write it atomically. */
static eqg_status run_split(int k, const options *o, const eqg_nbody_config *cfg,
                            const eqg_cli_provenance *pv, split_result *res)
{
  const double t0 = eqg_cli_now();
  const char *name = eqg_cli_split_name[k];
  const size_t n_traj = (size_t)o->gen.n[k];
  const unsigned long split_seed = eqg_cli_split_seed(o->gen.seed, k);
  snprintf(res->path, sizeof res->path, "%s/nbody_%s.h5", o->gen.outdir, name);
  eqg_nbody_dataset *ds = eqg_nbody_dataset_alloc(cfg, n_traj);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  eqg_status st = EQG_OK;
  if (!ds) st = EQG_ENOMEM;
  else if (!r) st = eqg_error_set(EQG_ENOMEM, "cannot allocate the random number generator");
  if (st != EQG_OK) goto done;
  gsl_rng_set(r, split_seed);
  ds->split_seed = split_seed;
  snprintf(ds->split, sizeof ds->split, "%s", name);

  /* In chunks for the progress bar: the rng is drawn in trajectory order, so
   * chunking gives the same bits as one call. */
  const size_t n = cfg->n_particles, per = ds->n_frames * n * EQG_NBODY_DIM;
  eqg_cli_progress pb;
  eqg_cli_progress_begin(&pb, name, n_traj);
  for (size_t t = 0; t < n_traj && st == EQG_OK; t += CHUNK) {
    const size_t m = n_traj - t < CHUNK ? n_traj - t : CHUNK;
    st = eqg_nbody_simulate_many(ds->loc + t * per, ds->vel + t * per, ds->charges + t * n,
                                 ds->clipped + t, cfg, r, m, (int)o->gen.threads);
    if (st != EQG_OK)
      st = eqg_error_prefix(st, "%s trajectories %zu..%zu: ", name, t, t + m - 1);
    eqg_cli_progress_update(&pb, t + m, "%s", "");
  }
  eqg_cli_progress_end(&pb);
  if (st != EQG_OK) goto done;
  res->sim_seconds = eqg_cli_now() - t0;

  hid_t file;
  char *tmp;
  st = eqg_h5_create_tmp(res->path, &file, &tmp);
  if (st != EQG_OK) goto done;
  st = eqg_nbody_dataset_write(file, ds);
  if (st == EQG_OK) st = eqg_cli_provenance_write(file, pv);
  if (st != EQG_OK) {
    eqg_h5_discard(file, tmp);
    st = eqg_error_prefix(st, "writing '%s': ", res->path);
    goto done;
  }
  st = eqg_h5_commit(file, tmp, res->path);
  if (st != EQG_OK) goto done;

  res->n_traj = n_traj;
  res->n_frames = ds->n_frames;
  res->n_clipped_traj = 0;
  for (size_t t = 0; t < n_traj; t++) res->n_clipped_traj += ds->clipped[t] > 0;
  res->drift = mean_energy_drift(ds, &res->n_unclipped);
  res->seconds = eqg_cli_now() - t0;
done:
  gsl_rng_free(r);
  eqg_nbody_dataset_free(ds);
  return st;
}

int main(int argc, char *argv[])
{
  eqg_gsl_route_errors();   /* GSL failures become statuses, not aborts */
  options o;
  int rc = parse_options(argc, argv, &o);
  if (rc >= 0) return rc;

  eqg_nbody_config cfg;
  eqg_nbody_config_default(&cfg);
  cfg.n_particles = (size_t)o.particles;
  cfg.T = (size_t)o.steps;
  cfg.sample_freq = (size_t)o.sample_freq;
  if (eqg_nbody_config_check(&cfg) != EQG_OK)
    return eqg_cli_usage_error(PROG, "%s", eqg_error_message());

  eqg_cli_provenance pv;
  rc = eqg_cli_gen_start(&o.gen, PROG, argc, argv, &pv);
  if (rc >= 0) return rc;

  printf("nbody_gen: %zu particles, T = %zu, sample_freq = %zu (%zu frames), dt = %g, "
         "clip = %g, seed %lu, %ld thread%s\n", cfg.n_particles, cfg.T, cfg.sample_freq,
         eqg_nbody_n_frames(&cfg), cfg.dt, cfg.clip, o.gen.seed, o.gen.threads,
         o.gen.threads == 1 ? "" : "s");
  printf("%-6s %-28s %8s %7s %8s %13s %8s %8s\n", "split", "file", "traj", "frames",
         "clipped", "energy drift", "sim s", "total s");
  split_result res[N_SPLITS];
  double total = 0;
  for (int k = 0; k < N_SPLITS; k++) {
    memset(&res[k], 0, sizeof res[k]);
    const eqg_status st = run_split(k, &o, &cfg, &pv, &res[k]);
    if (st != EQG_OK) {
      fprintf(stderr, "nbody_gen: %s\n", eqg_error_message());
      eqg_cli_provenance_clear(&pv);
      return 1;
    }
    printf("%-6s %-28s %8zu %7zu %8zu %13.3e %8.2f %8.2f\n", eqg_cli_split_name[k],
           res[k].path, res[k].n_traj, res[k].n_frames, res[k].n_clipped_traj, res[k].drift,
           res[k].sim_seconds, res[k].seconds);
    fflush(stdout);
    total += res[k].seconds;
  }
  printf("total %.2f s (sim s: simulation; total s: with the analysis and the synced "
         "write).\nclipped: trajectories with a clipped force component; energy drift: mean "
         "over unclipped trajectories of max_k |E_k - E_0| / (K_0 + |U|_0) over the saved "
         "frames.\n", total);
  eqg_cli_provenance_clear(&pv);
  return 0;
}
