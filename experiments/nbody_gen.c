/* nbody_gen.c: generate the charged-particle N-body datasets (EGNN paper,
 * section 5.1; shared/reference/nbody.md) as three HDF5 files.
 *
 * Split k (train 0, valid 1, test 2) draws its initial states from its own
 * mt19937 seeded with (3 seed + k + 1) mod 2^32, so the splits never share a
 * random stream and each split does not depend on the sizes of the others.
 * Integration runs in parallel over trajectories (--threads) and gives the same
 * bits for any thread count. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gsl/gsl_rng.h>

#include "eqg_cli.h"

enum {
  QUICK_TRAIN = 20, QUICK_VALID = 10, QUICK_TEST = 10, QUICK_STEPS = 1000,
  CHUNK = 100,          /* trajectories per progress-bar update */
  N_SPLITS = 3
};

typedef struct options {
  unsigned long seed;
  long n[N_SPLITS];     /* train, valid, test */
  long steps, sample_freq, particles, threads;
  bool quick;
  const char *outdir;
} options;

static const char *const split_name[N_SPLITS] = { "train", "valid", "test" };

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
  enum { O_SEED = 256, O_OUTDIR, O_TRAIN, O_VALID, O_TEST, O_STEPS, O_SFREQ, O_PARTICLES,
         O_THREADS, O_QUICK };
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "seed", required_argument, NULL, O_SEED },
    { "outdir", required_argument, NULL, O_OUTDIR },
    { "train", required_argument, NULL, O_TRAIN },
    { "valid", required_argument, NULL, O_VALID },
    { "test", required_argument, NULL, O_TEST },
    { "steps", required_argument, NULL, O_STEPS },
    { "sample-freq", required_argument, NULL, O_SFREQ },
    { "particles", required_argument, NULL, O_PARTICLES },
    { "threads", required_argument, NULL, O_THREADS },
    { "quick", no_argument, NULL, O_QUICK },
    { NULL, 0, NULL, 0 }
  };
  *o = (options){ .seed = 1, .n = { 3000, 2000, 2000 }, .steps = 5000, .sample_freq = 100,
                  .particles = 5, .threads = 1, .outdir = "." };
  bool n_set[N_SPLITS] = { false, false, false }, steps_set = false;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    eqg_status st = EQG_OK;
    switch (c) {
    case 'h': usage(stdout); return 0;
    case O_SEED: st = eqg_cli_parse_ulong("--seed", optarg, 0, 4294967295UL, &o->seed); break;
    case O_OUTDIR: o->outdir = optarg; break;
    case O_TRAIN: case O_VALID: case O_TEST: {
      const int k = c - O_TRAIN;
      char opt[16];
      snprintf(opt, sizeof opt, "--%s", split_name[k]);
      st = eqg_cli_parse_long(opt, optarg, 0, 10000000, &o->n[k]);
      n_set[k] = true;
      break;
    }
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
    case O_THREADS: st = eqg_cli_parse_long("--threads", optarg, 1, 1024, &o->threads); break;
    case O_QUICK: o->quick = true; break;
    default: return eqg_cli_getopt_error(PROG, c, argv);   /* ':' or '?' */
    }
    if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  }
  if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2;
  if (o->quick) {
    const long quick_n[N_SPLITS] = { QUICK_TRAIN, QUICK_VALID, QUICK_TEST };
    for (int k = 0; k < N_SPLITS; k++)
      if (!n_set[k]) o->n[k] = quick_n[k];
    if (!steps_set) o->steps = QUICK_STEPS;
  }
  if (o->sample_freq >= o->steps)
    return eqg_cli_usage_error(PROG, "--sample-freq: %ld saves no frame of %ld steps (must be "
                               "below --steps)", o->sample_freq, o->steps);
  if (!*o->outdir) return eqg_cli_usage_error(PROG, "--outdir: empty directory name");
  return -1;
}

/* Create `dir` if it does not exist; it must be a directory. */
static eqg_status ensure_dir(const char *dir)
{
  struct stat sb;
  if (stat(dir, &sb) == 0) {
    if (!S_ISDIR(sb.st_mode))
      return eqg_error_set(EQG_EIO, "--outdir '%s' is not a directory", dir);
    return EQG_OK;
  }
  if (mkdir(dir, 0777) != 0)
    return eqg_error_set(EQG_EIO, "cannot create directory '%s': %s", dir, strerror(errno));
  return EQG_OK;
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
  const size_t n_traj = (size_t)o->n[k];
  const unsigned long split_seed = (3 * o->seed + (unsigned long)k + 1) & 0xffffffffUL;
  snprintf(res->path, sizeof res->path, "%s/nbody_%s.h5", o->outdir, split_name[k]);
  eqg_nbody_dataset *ds = eqg_nbody_dataset_alloc(cfg, n_traj);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  eqg_status st = EQG_OK;
  if (!ds) st = EQG_ENOMEM;
  else if (!r) st = eqg_error_set(EQG_ENOMEM, "cannot allocate the random number generator");
  if (st != EQG_OK) goto done;
  gsl_rng_set(r, split_seed);
  ds->split_seed = split_seed;
  snprintf(ds->split, sizeof ds->split, "%s", split_name[k]);

  /* In chunks for the progress bar: the rng is drawn in trajectory order, so
   * chunking gives the same bits as one call. */
  const size_t n = cfg->n_particles, per = ds->n_frames * n * EQG_NBODY_DIM;
  eqg_cli_progress pb;
  eqg_cli_progress_begin(&pb, split_name[k], n_traj);
  for (size_t t = 0; t < n_traj && st == EQG_OK; t += CHUNK) {
    const size_t m = n_traj - t < CHUNK ? n_traj - t : CHUNK;
    st = eqg_nbody_simulate_many(ds->loc + t * per, ds->vel + t * per, ds->charges + t * n,
                                 ds->clipped + t, cfg, r, m, (int)o->threads);
    if (st != EQG_OK)
      st = eqg_error_prefix(st, "%s trajectories %zu..%zu: ", split_name[k], t, t + m - 1);
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

  eqg_status st = eqg_cli_set_threads(o.threads);
  if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
  st = ensure_dir(o.outdir);
  if (st != EQG_OK) {
    fprintf(stderr, "nbody_gen: %s\n", eqg_error_message());
    return 1;
  }
  eqg_cli_provenance pv;
  st = eqg_cli_provenance_init(&pv, argc, argv, o.seed);
  if (st != EQG_OK) {
    fprintf(stderr, "nbody_gen: %s\n", eqg_error_message());
    return 1;
  }

  printf("nbody_gen: %zu particles, T = %zu, sample_freq = %zu (%zu frames), dt = %g, "
         "clip = %g, seed %lu, %ld thread%s\n", cfg.n_particles, cfg.T, cfg.sample_freq,
         eqg_nbody_n_frames(&cfg), cfg.dt, cfg.clip, o.seed, o.threads,
         o.threads == 1 ? "" : "s");
  printf("%-6s %-28s %8s %7s %8s %13s %8s %8s\n", "split", "file", "traj", "frames",
         "clipped", "energy drift", "sim s", "total s");
  split_result res[N_SPLITS];
  double total = 0;
  for (int k = 0; k < N_SPLITS; k++) {
    memset(&res[k], 0, sizeof res[k]);
    st = run_split(k, &o, &cfg, &pv, &res[k]);
    if (st != EQG_OK) {
      fprintf(stderr, "nbody_gen: %s\n", eqg_error_message());
      eqg_cli_provenance_clear(&pv);
      return 1;
    }
    printf("%-6s %-28s %8zu %7zu %8zu %13.3e %8.2f %8.2f\n", split_name[k], res[k].path,
           res[k].n_traj, res[k].n_frames, res[k].n_clipped_traj, res[k].drift,
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
