/* test_data_nbody.c: the charged-particle N-body simulator and its datasets.
 *
 * Physics: energy is nearly conserved on trajectories without a clipped force
 * and its error shrinks with dt like a first-order integrator's; momentum is
 * conserved to rounding without clipping and visibly not with it; initial
 * speeds are 0.5; frame k is step (k+1) sample_freq.  Reproducibility: the same
 * seed gives the same bits, in one call or in chunks, with 1 or 2 threads, and
 * byte-identical files.  I/O: round trip, partial load, and rejection of a
 * missing file, a file without 'loc', a wrong rank or shape and a NaN. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gsl/gsl_rng.h>

#ifdef EQG_HAVE_OPENMP
#include <omp.h>
#endif

#include "eqgnn.h"
#include "eqg_test_dir.h"

enum { D = EQG_NBODY_DIM };

/* ---- helpers ---------------------------------------------------------------------- */

static gsl_rng *rng_new(unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  assert_non_null(r);
  gsl_rng_set(r, seed);
  return r;
}

static void *xcalloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size);
  assert_non_null(p);
  return p;
}

/* A small configuration for quick tests: 5 particles, 9 frames. */
static eqg_nbody_config small_cfg(void)
{
  eqg_nbody_config c;
  eqg_nbody_config_default(&c);
  c.T = 1000;
  return c;
}

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Relative energy error of one trajectory: max over the saved frames of
 * |E_k - E_0| / (K_0 + |U|_0), E_0 from the initial state (x0, v0). */
static double energy_drift(const eqg_real *loc, const eqg_real *vel, size_t n_frames,
                           const eqg_real *q, const eqg_real *x0, const eqg_real *v0,
                           size_t n)
{
  eqg_real k0, u0;
  const eqg_real e0 = eqg_nbody_energy(x0, v0, q, n, 1.0, &k0, &u0);
  double worst = 0;
  for (size_t f = 0; f < n_frames; f++) {
    const eqg_real e = eqg_nbody_energy(loc + f * n * D, vel + f * n * D, q, n, 1.0,
                                        NULL, NULL);
    worst = fmax(worst, fabs(e - e0) / (k0 + u0));
  }
  return worst;
}

/* ---- fixture: a fresh temporary directory ----------------------------------------- */

typedef eqg_test_dir fixture;

static int setup(void **state) { return eqg_test_dir_setup(state, "nbody"); }

/* ---- configuration ------------------------------------------------------------------ */

static void test_config(void **state)
{
  (void)state;
  eqg_nbody_config c;
  eqg_nbody_config_default(&c);
  assert_int_equal(c.n_particles, 5);
  assert_int_equal(c.T, 5000);
  assert_int_equal(c.sample_freq, 100);
  assert_true(c.dt == 0.001 && c.clip == 100.0 && c.speed == 0.5 && c.pos_std == 1.0 &&
              c.interaction == 1.0 && c.box == 5.0);
  assert_int_equal(eqg_nbody_config_check(&c), EQG_OK);
  assert_int_equal(eqg_nbody_n_frames(&c), 49);   /* the reference's T / sample_freq - 1 */
  c.T = 1000;
  assert_int_equal(eqg_nbody_n_frames(&c), 9);
  c.T = 1001;                                      /* step 1000 is saved too */
  assert_int_equal(eqg_nbody_n_frames(&c), 10);
  c.sample_freq = 500;
  c.T = 5000;
  assert_int_equal(eqg_nbody_n_frames(&c), 9);     /* the sample-efficiency sweep */

  const struct { const char *what; eqg_nbody_config c; } bad[] = {
    { "n_particles", { .n_particles = 0, .T = 10, .sample_freq = 1, .dt = 1e-3, .clip = 1,
                       .speed = 1, .pos_std = 1 } },
    { "sample_freq", { .n_particles = 2, .T = 10, .sample_freq = 0, .dt = 1e-3, .clip = 1,
                       .speed = 1, .pos_std = 1 } },
    { "T", { .n_particles = 2, .T = 10, .sample_freq = 10, .dt = 1e-3, .clip = 1,
             .speed = 1, .pos_std = 1 } },
    { "dt", { .n_particles = 2, .T = 10, .sample_freq = 1, .dt = 0, .clip = 1,
              .speed = 1, .pos_std = 1 } },
    { "clip", { .n_particles = 2, .T = 10, .sample_freq = 1, .dt = 1e-3, .clip = 0,
                .speed = 1, .pos_std = 1 } },
    { "speed", { .n_particles = 2, .T = 10, .sample_freq = 1, .dt = 1e-3, .clip = 1,
                 .speed = NAN, .pos_std = 1 } },
    { "pos_std", { .n_particles = 2, .T = 10, .sample_freq = 1, .dt = 1e-3, .clip = 1,
                   .speed = 1, .pos_std = -1 } },
    { "box", { .n_particles = 2, .T = 10, .sample_freq = 1, .dt = 1e-3, .clip = 1,
               .speed = 1, .pos_std = 1, .box = -1 } },
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(eqg_nbody_config_check(&bad[i].c), EQG_EINVAL);
    assert_non_null(strstr(eqg_error_message(), bad[i].what));
  }
  /* Clipping can be turned off. */
  c = small_cfg();
  c.clip = INFINITY;
  assert_int_equal(eqg_nbody_config_check(&c), EQG_OK);
}

/* ---- initial state ------------------------------------------------------------------- */

static void test_initial_state(void **state)
{
  (void)state;
  eqg_nbody_config c;
  eqg_nbody_config_default(&c);
  gsl_rng *r = rng_new(3);
  enum { N_DRAWS = 2000 };
  eqg_real q[5], x[5 * D], v[5 * D];
  size_t n_pos = 0;
  double sx = 0, sxx = 0;
  for (int t = 0; t < N_DRAWS; t++) {
    assert_int_equal(eqg_nbody_sample_initial(q, x, v, &c, r), EQG_OK);
    for (int i = 0; i < 5; i++) {
      assert_true(q[i] == 1.0 || q[i] == -1.0);
      n_pos += q[i] > 0;
      const double speed = sqrt(v[i * D] * v[i * D] + v[i * D + 1] * v[i * D + 1] +
                                v[i * D + 2] * v[i * D + 2]);
      /* Exactly 0.5 up to the rounding of the scaling and of this check. */
      assert_true(fabs(speed - 0.5) <= 2 * DBL_EPSILON);
      for (int d = 0; d < D; d++) {
        sx += x[i * D + d];
        sxx += x[i * D + d] * x[i * D + d];
      }
    }
  }
  /* Charges +-1 with probability 1/2: 10000 draws, sd 50. */
  assert_in_range(n_pos, 5000 - 250, 5000 + 250);
  /* Positions N(0, 1): mean and variance of 30000 coordinates (sd 0.006, 0.008). */
  const double m = sx / (N_DRAWS * 15), var = sxx / (N_DRAWS * 15) - m * m;
  assert_true(fabs(m) < 0.03);
  assert_true(fabs(var - 1) < 0.04);

  /* The reference's box clamp of the initial state, against the same draws
   * without it: with pos_std 3 about 10% of the coordinates start beyond +-5;
   * they are reflected (x -> +-10 - x) and their velocity points inward. */
  eqg_nbody_config nobox = c;
  c.pos_std = nobox.pos_std = 3;
  nobox.box = 0;
  gsl_rng *r2 = rng_new(4);
  gsl_rng_set(r, 4);
  eqg_real q2[5], x2[5 * D], v2[5 * D];
  size_t n_reflected = 0;
  for (int t = 0; t < 200; t++) {
    assert_int_equal(eqg_nbody_sample_initial(q, x, v, &c, r), EQG_OK);
    assert_int_equal(eqg_nbody_sample_initial(q2, x2, v2, &nobox, r2), EQG_OK);
    assert_memory_equal(q, q2, sizeof q);
    for (int i = 0; i < 5 * D; i++) {
      assert_true(fabs(x[i]) <= c.box);
      if (fabs(x2[i]) <= c.box) {
        assert_true(x[i] == x2[i] && v[i] == v2[i]);
        continue;
      }
      n_reflected++;
      assert_true(x[i] == (x2[i] > 0 ? 10 - x2[i] : -10 - x2[i]));
      assert_true(fabs(v[i]) == fabs(v2[i]) && (x2[i] > 0 ? v[i] <= 0 : v[i] >= 0));
    }
  }
  assert_in_range(n_reflected, 200, 400);   /* expected 289 of 3000 */
  gsl_rng_free(r2);
  gsl_rng_free(r);
}

/* ---- integrator ---------------------------------------------------------------------- */

/* Without charges the motion is free: frame k is x0 + (k+1) sample_freq dt v0,
 * which pins the saving schedule (frame k = step (k+1) sample_freq). */
static void test_frame_schedule(void **state)
{
  (void)state;
  eqg_nbody_config c = small_cfg();
  const size_t n = c.n_particles, nf = eqg_nbody_n_frames(&c);
  gsl_rng *r = rng_new(5);
  eqg_real q[5], x0[5 * D], v0[5 * D];
  assert_int_equal(eqg_nbody_sample_initial(q, x0, v0, &c, r), EQG_OK);
  const eqg_real zero[5] = { 0 };
  eqg_real *loc = xcalloc(nf * n * D, sizeof *loc), *vel = xcalloc(nf * n * D, sizeof *vel);
  size_t clips = 99;
  assert_int_equal(eqg_nbody_integrate(loc, vel, &clips, zero, x0, v0, &c), EQG_OK);
  assert_int_equal(clips, 0);
  for (size_t f = 0; f < nf; f++)
    for (size_t i = 0; i < n * D; i++) {
      const double t = (double)((f + 1) * c.sample_freq) * c.dt;
      assert_true(fabs(loc[f * n * D + i] - (x0[i] + t * v0[i])) < 1e-12);
      assert_true(vel[f * n * D + i] == v0[i]);
    }
  free(loc);
  free(vel);
  gsl_rng_free(r);
}

/* Two particles, three steps, against the specification written out by hand:
 * v += dt F(x0); x += dt v [save]; v += dt F(x); x += dt v [save]. */
static void test_reference_order(void **state)
{
  (void)state;
  eqg_nbody_config c;
  eqg_nbody_config_default(&c);
  c.n_particles = 2;
  c.T = 3;
  c.sample_freq = 1;
  c.dt = 0.01;
  const eqg_real q[2] = { 1, -1 };
  const eqg_real x0[6] = { 0.1, 0.2, -0.3, 1.1, -0.4, 0.5 };
  const eqg_real v0[6] = { 0.3, 0.0, 0.4, -0.5, 0.0, 0.0 };
  eqg_real loc[2 * 6], vel[2 * 6];
  size_t clips;
  assert_int_equal(eqg_nbody_integrate(loc, vel, &clips, q, x0, v0, &c), EQG_OK);
  assert_int_equal(clips, 0);

  eqg_real x[6], v[6], F[6];
  memcpy(x, x0, sizeof x);
  memcpy(v, v0, sizeof v);
  for (int step = 0; step < 3; step++) {
    if (step > 0) {
      for (int i = 0; i < 6; i++) x[i] += c.dt * v[i];
      for (int i = 0; i < 6; i++) {
        assert_true(fabs(loc[(step - 1) * 6 + i] - x[i]) <= 1e-15);
        assert_true(fabs(vel[(step - 1) * 6 + i] - v[i]) <= 1e-15);
      }
    }
    /* F_i = sum_{j != i} q_i q_j (x_i - x_j) / |x_i - x_j|^3 */
    for (int i = 0; i < 2; i++) {
      const int j = 1 - i;
      double r2 = 0;
      for (int d = 0; d < D; d++) r2 += (x[i * D + d] - x[j * D + d]) * (x[i * D + d] - x[j * D + d]);
      for (int d = 0; d < D; d++)
        F[i * D + d] = q[i] * q[j] * (x[i * D + d] - x[j * D + d]) / pow(r2, 1.5);
    }
    for (int i = 0; i < 6; i++) v[i] += c.dt * F[i];
  }
  /* Opposite charges attract: the distance shrank. */
  double r_first = 0, r_last = 0;
  for (int d = 0; d < D; d++) {
    r_first += pow(x0[d] - x0[D + d], 2);
    r_last += pow(loc[6 + d] - loc[6 + D + d], 2);
  }
  assert_true(r_last < r_first);
}

/* Default configuration: per trajectory the largest relative energy error over
 * the 49 frames, for those without a clipped force. */
static void test_energy_conservation(void **state)
{
  (void)state;
  eqg_nbody_config c;
  eqg_nbody_config_default(&c);
  const size_t n = c.n_particles, nf = eqg_nbody_n_frames(&c);
  enum { N_TRAJ = 200 };
  gsl_rng *r = rng_new(11);
  eqg_real q[5], x0[5 * D], v0[5 * D];
  eqg_real *loc = xcalloc(nf * n * D, sizeof *loc), *vel = xcalloc(nf * n * D, sizeof *vel);
  double drift[N_TRAJ];
  size_t n_ok = 0, n_clipped = 0;
  for (int t = 0; t < N_TRAJ; t++) {
    size_t clips;
    assert_int_equal(eqg_nbody_sample_initial(q, x0, v0, &c, r), EQG_OK);
    assert_int_equal(eqg_nbody_integrate(loc, vel, &clips, q, x0, v0, &c), EQG_OK);
    if (clips) {
      n_clipped++;
      continue;
    }
    drift[n_ok++] = energy_drift(loc, vel, nf, q, x0, v0, n);
  }
  qsort(drift, n_ok, sizeof *drift, cmp_double);
  printf("energy: %zu of %d trajectories unclipped; relative energy error (max over 49 "
         "frames) median %.3e, 90%% %.3e, max %.3e\n", n_ok, N_TRAJ, drift[n_ok / 2],
         drift[n_ok * 9 / 10], drift[n_ok - 1]);
  assert_true(n_ok >= N_TRAJ / 4);
  assert_true(n_clipped > 0);   /* the reference's data do contain clipped trajectories */
  assert_true(drift[n_ok / 2] < 5e-3);
  assert_true(drift[n_ok - 1] < 5e-2);
  free(loc);
  free(vel);
  gsl_rng_free(r);
}

/* Same initial states and physical time, dt 1e-3 vs 2.5e-4: a first-order
 * method's energy error shrinks about 4x; require at least 2x. */
static void test_energy_dt_convergence(void **state)
{
  (void)state;
  eqg_nbody_config a, b;
  eqg_nbody_config_default(&a);
  b = a;
  b.dt = a.dt / 4;
  b.T = a.T * 4;
  b.sample_freq = a.sample_freq * 4;   /* the same physical frame times */
  const size_t n = a.n_particles, nf = eqg_nbody_n_frames(&a);
  assert_int_equal(eqg_nbody_n_frames(&b), nf);
  enum { N_TRAJ = 60 };
  gsl_rng *r = rng_new(12);
  eqg_real q[5], x0[5 * D], v0[5 * D];
  eqg_real *loc = xcalloc(nf * n * D, sizeof *loc), *vel = xcalloc(nf * n * D, sizeof *vel);
  double sum_a = 0, sum_b = 0, ratio[N_TRAJ];
  size_t n_ok = 0;
  for (int t = 0; t < N_TRAJ; t++) {
    size_t clips_a, clips_b;
    assert_int_equal(eqg_nbody_sample_initial(q, x0, v0, &a, r), EQG_OK);
    assert_int_equal(eqg_nbody_integrate(loc, vel, &clips_a, q, x0, v0, &a), EQG_OK);
    const double da = energy_drift(loc, vel, nf, q, x0, v0, n);
    assert_int_equal(eqg_nbody_integrate(loc, vel, &clips_b, q, x0, v0, &b), EQG_OK);
    const double db = energy_drift(loc, vel, nf, q, x0, v0, n);
    if (clips_a || clips_b) continue;
    sum_a += da;
    sum_b += db;
    ratio[n_ok++] = da / db;
  }
  qsort(ratio, n_ok, sizeof *ratio, cmp_double);
  printf("energy vs dt: %zu unclipped trajectories; mean error %.3e (dt 1e-3) vs %.3e "
         "(dt 2.5e-4): ratio %.2f; per-trajectory ratio min %.2f median %.2f\n", n_ok,
         sum_a / (double)n_ok, sum_b / (double)n_ok, sum_a / sum_b, ratio[0],
         ratio[n_ok / 2]);
  assert_true(n_ok >= 10);
  assert_true(sum_a / sum_b >= 2.0);
  assert_true(ratio[n_ok / 2] >= 2.0);
  free(loc);
  free(vel);
  gsl_rng_free(r);
}

static double momentum_change(const eqg_real *vel, size_t nf, const eqg_real *v0, size_t n)
{
  eqg_real p0[D], p[D];
  eqg_nbody_momentum(p0, v0, n);
  double worst = 0;
  for (size_t f = 0; f < nf; f++) {
    eqg_nbody_momentum(p, vel + f * n * D, n);
    for (int d = 0; d < D; d++) worst = fmax(worst, fabs(p[d] - p0[d]));
  }
  return worst;
}

/* Without clipping the pair forces cancel: momentum is conserved to rounding. */
static void test_momentum_conserved(void **state)
{
  (void)state;
  eqg_nbody_config c;
  eqg_nbody_config_default(&c);
  const size_t n = c.n_particles, nf = eqg_nbody_n_frames(&c);
  gsl_rng *r = rng_new(13);
  eqg_real q[5], x0[5 * D], v0[5 * D];
  eqg_real *loc = xcalloc(nf * n * D, sizeof *loc), *vel = xcalloc(nf * n * D, sizeof *vel);
  size_t n_ok = 0;
  double worst = 0;
  for (int t = 0; t < 100; t++) {
    size_t clips;
    assert_int_equal(eqg_nbody_sample_initial(q, x0, v0, &c, r), EQG_OK);
    assert_int_equal(eqg_nbody_integrate(loc, vel, &clips, q, x0, v0, &c), EQG_OK);
    if (clips) continue;
    n_ok++;
    worst = fmax(worst, momentum_change(vel, nf, v0, n));
  }
  printf("momentum: largest change over %zu unclipped trajectories %.3e\n", n_ok, worst);
  assert_true(n_ok >= 20);
  assert_true(worst < 1e-12);
  free(loc);
  free(vel);
  gsl_rng_free(r);
}

/* Two close opposite charges and a third one: the first two forces are clipped
 * by different amounts, so the clipped forces no longer sum to zero. */
static void test_momentum_clipped(void **state)
{
  (void)state;
  eqg_nbody_config c;
  eqg_nbody_config_default(&c);
  c.n_particles = 3;
  c.T = 21;
  c.sample_freq = 10;   /* frames at steps 10 and 20 */
  const eqg_real q[3] = { 1, -1, 1 };
  const eqg_real x0[9] = { 0, 0, 0, 0.05, 0.02, 0, 1.0, 0.5, 0.2 };   /* r12 ~ 0.054 */
  const eqg_real v0[9] = { 0 };
  eqg_real loc[2 * 9], vel[2 * 9];
  size_t clips;
  assert_int_equal(eqg_nbody_integrate(loc, vel, &clips, q, x0, v0, &c), EQG_OK);
  const double dp_clip = momentum_change(vel, 2, v0, 3);
  /* The same without the clip: conserved. */
  c.clip = INFINITY;
  size_t clips_free;
  assert_int_equal(eqg_nbody_integrate(loc, vel, &clips_free, q, x0, v0, &c), EQG_OK);
  const double dp_free = momentum_change(vel, 2, v0, 3);
  printf("momentum with clipping: %zu clipped evaluations, change %.3e (unclipped run "
         "%.3e)\n", clips, dp_clip, dp_free);
  assert_true(clips > 0);
  assert_int_equal(clips_free, 0);
  assert_true(dp_clip > 1e-6);
  assert_true(dp_free < 1e-12);
}

/* Two particles on top of each other: the force is 0/0. */
static void test_nonfinite(void **state)
{
  (void)state;
  eqg_nbody_config c = small_cfg();
  c.n_particles = 2;
  const eqg_real q[2] = { 1, 1 }, x0[6] = { 0.5, 0.5, 0.5, 0.5, 0.5, 0.5 }, v0[6] = { 0 };
  const size_t nf = eqg_nbody_n_frames(&c);
  eqg_real *loc = xcalloc(nf * 6, sizeof *loc), *vel = xcalloc(nf * 6, sizeof *vel);
  assert_int_equal(eqg_nbody_integrate(loc, vel, NULL, q, x0, v0, &c), EQG_ENONFINITE);
  assert_non_null(strstr(eqg_error_message(), "non-finite"));
  free(loc);
  free(vel);
}

/* ---- reproducibility ----------------------------------------------------------------- */

typedef struct run {
  eqg_real *loc, *vel, *q;
  size_t *clips;
} run;

static run run_alloc(const eqg_nbody_config *c, size_t n_traj)
{
  const size_t per = eqg_nbody_n_frames(c) * c->n_particles * D;
  run u = { xcalloc(n_traj * per, sizeof(eqg_real)), xcalloc(n_traj * per, sizeof(eqg_real)),
            xcalloc(n_traj * c->n_particles, sizeof(eqg_real)),
            xcalloc(n_traj, sizeof(size_t)) };
  return u;
}

static void run_free(run *u)
{
  free(u->loc);
  free(u->vel);
  free(u->q);
  free(u->clips);
}

static void assert_runs_equal(const run *a, const run *b, const eqg_nbody_config *c,
                              size_t n_traj)
{
  const size_t per = eqg_nbody_n_frames(c) * c->n_particles * D;
  assert_memory_equal(a->loc, b->loc, n_traj * per * sizeof(eqg_real));
  assert_memory_equal(a->vel, b->vel, n_traj * per * sizeof(eqg_real));
  assert_memory_equal(a->q, b->q, n_traj * c->n_particles * sizeof(eqg_real));
  assert_memory_equal(a->clips, b->clips, n_traj * sizeof(size_t));
}

static void test_deterministic(void **state)
{
  (void)state;
  eqg_nbody_config c = small_cfg();
  enum { N_TRAJ = 37 };
  const size_t n = c.n_particles, per = eqg_nbody_n_frames(&c) * n * D;
  run a = run_alloc(&c, N_TRAJ), b = run_alloc(&c, N_TRAJ);

  gsl_rng *r = rng_new(42);
  assert_int_equal(eqg_nbody_simulate_many(a.loc, a.vel, a.q, a.clips, &c, r, N_TRAJ, 1),
                   EQG_OK);
  gsl_rng_free(r);

  /* The same seed again. */
  r = rng_new(42);
  assert_int_equal(eqg_nbody_simulate_many(b.loc, b.vel, b.q, b.clips, &c, r, N_TRAJ, 1),
                   EQG_OK);
  gsl_rng_free(r);
  assert_runs_equal(&a, &b, &c, N_TRAJ);

  /* One trajectory at a time and in uneven chunks. */
  memset(b.loc, 0, N_TRAJ * per * sizeof(eqg_real));
  r = rng_new(42);
  for (size_t t = 0; t < 10; t++)
    assert_int_equal(eqg_nbody_simulate(b.loc + t * per, b.vel + t * per, b.q + t * n,
                                        b.clips + t, &c, r), EQG_OK);
  assert_int_equal(eqg_nbody_simulate_many(b.loc + 10 * per, b.vel + 10 * per, b.q + 10 * n,
                                           b.clips + 10, &c, r, 13, 0), EQG_OK);
  assert_int_equal(eqg_nbody_simulate_many(b.loc + 23 * per, b.vel + 23 * per, b.q + 23 * n,
                                           b.clips + 23, &c, r, N_TRAJ - 23, 1), EQG_OK);
  gsl_rng_free(r);
  assert_runs_equal(&a, &b, &c, N_TRAJ);

#ifdef EQG_HAVE_OPENMP
  /* Two threads (and three: an uneven split of the trajectories). */
  for (int threads = 2; threads <= 3; threads++) {
    memset(b.loc, 0, N_TRAJ * per * sizeof(eqg_real));
    r = rng_new(42);
    assert_int_equal(eqg_nbody_simulate_many(b.loc, b.vel, b.q, b.clips, &c, r, N_TRAJ,
                                             threads), EQG_OK);
    gsl_rng_free(r);
    assert_runs_equal(&a, &b, &c, N_TRAJ);
  }
  /* n_threads 0 follows omp_set_num_threads(). */
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  memset(b.loc, 0, N_TRAJ * per * sizeof(eqg_real));
  r = rng_new(42);
  assert_int_equal(eqg_nbody_simulate_many(b.loc, b.vel, b.q, b.clips, &c, r, N_TRAJ, 0),
                   EQG_OK);
  gsl_rng_free(r);
  omp_set_num_threads(saved);
  assert_runs_equal(&a, &b, &c, N_TRAJ);
#else
  printf("deterministic: built without OpenMP, thread-count check skipped\n");
#endif

  /* Another seed gives other data. */
  r = rng_new(43);
  assert_int_equal(eqg_nbody_simulate_many(b.loc, b.vel, b.q, b.clips, &c, r, N_TRAJ, 1),
                   EQG_OK);
  gsl_rng_free(r);
  assert_true(memcmp(a.loc, b.loc, N_TRAJ * per * sizeof(eqg_real)) != 0);

  assert_int_equal(eqg_nbody_simulate_many(b.loc, b.vel, b.q, b.clips, &c, r, 1, -1),
                   EQG_EINVAL);
  run_free(&a);
  run_free(&b);
}

/* ---- datasets ------------------------------------------------------------------------ */

static eqg_nbody_dataset *make_dataset(unsigned long seed, size_t n_traj)
{
  eqg_nbody_config c = small_cfg();
  eqg_nbody_dataset *ds = eqg_nbody_dataset_alloc(&c, n_traj);
  assert_non_null(ds);
  gsl_rng *r = rng_new(seed);
  assert_int_equal(eqg_nbody_dataset_generate(ds, r, seed, "valid", 1), EQG_OK);
  gsl_rng_free(r);
  return ds;
}

static void assert_datasets_equal(const eqg_nbody_dataset *a, const eqg_nbody_dataset *b,
                                  size_t n_traj)
{
  const size_t per = a->n_frames * a->n_particles * D;
  assert_int_equal(a->n_frames, b->n_frames);
  assert_int_equal(a->n_particles, b->n_particles);
  assert_memory_equal(a->loc, b->loc, n_traj * per * sizeof(eqg_real));
  assert_memory_equal(a->vel, b->vel, n_traj * per * sizeof(eqg_real));
  assert_memory_equal(a->charges, b->charges, n_traj * a->n_particles * sizeof(eqg_real));
  assert_memory_equal(a->clipped, b->clipped, n_traj * sizeof(size_t));
}

static void test_roundtrip(void **state)
{
  fixture *fx = *state;
  char path[256], path2[256];
  eqg_test_dir_join(path, sizeof path, fx, "a.h5");
  eqg_test_dir_join(path2, sizeof path2, fx, "b.h5");
  eqg_nbody_dataset *ds = make_dataset(7, 25);
  size_t n_clipped = 0;
  for (size_t t = 0; t < ds->n_traj; t++) n_clipped += ds->clipped[t] > 0;
  assert_int_equal(eqg_nbody_dataset_save(path, ds), EQG_OK);

  eqg_nbody_dataset *back = NULL;
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 0), EQG_OK);
  assert_non_null(back);
  assert_int_equal(back->n_traj, 25);
  assert_datasets_equal(ds, back, 25);
  assert_memory_equal(&ds->cfg, &back->cfg, sizeof ds->cfg);
  assert_string_equal(back->split, "valid");
  assert_int_equal(back->split_seed, 7);
  eqg_nbody_dataset_free(back);

  /* The first 10 trajectories only; more than the file has means all. */
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 10), EQG_OK);
  assert_int_equal(back->n_traj, 10);
  assert_datasets_equal(ds, back, 10);
  eqg_nbody_dataset_free(back);
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 1000), EQG_OK);
  assert_int_equal(back->n_traj, 25);
  eqg_nbody_dataset_free(back);

  /* The same seed: byte-identical files (no timestamps stored). */
  eqg_nbody_dataset *again = make_dataset(7, 25);
  sleep(1);
  assert_int_equal(eqg_nbody_dataset_save(path2, again), EQG_OK);
  size_t na, nb;
  unsigned char *fa = eqg_test_slurp(path, &na), *fb = eqg_test_slurp(path2, &nb);
  assert_int_equal(na, nb);
  assert_memory_equal(fa, fb, na);
  free(fa);
  free(fb);
  eqg_nbody_dataset_free(again);

  /* An empty dataset round-trips too. */
  eqg_nbody_dataset *empty = make_dataset(7, 0);
  assert_int_equal(eqg_nbody_dataset_save(path2, empty), EQG_OK);
  assert_int_equal(eqg_nbody_dataset_load(&back, path2, 0), EQG_OK);
  assert_int_equal(back->n_traj, 0);
  assert_int_equal(back->n_frames, 9);
  eqg_nbody_dataset_free(back);
  eqg_nbody_dataset_free(empty);
  eqg_nbody_dataset_free(ds);
}

/* A file with charges, optionally vel and loc, written flat as rank-2 matrices
 * (n_traj, n_frames * n_particles * 3). */
static void write_partial(const char *path, const eqg_nbody_dataset *ds, bool with_loc,
                          bool with_vel)
{
  hid_t f;
  char *tmp;
  const size_t per = ds->n_frames * ds->n_particles * D;
  assert_int_equal(eqg_h5_create_tmp(path, &f, &tmp), EQG_OK);
  if (with_loc)
    assert_int_equal(eqg_h5_write_matrix(f, "loc", ds->loc, ds->n_traj, per), EQG_OK);
  if (with_vel)
    assert_int_equal(eqg_h5_write_matrix(f, "vel", ds->vel, ds->n_traj, per), EQG_OK);
  assert_int_equal(eqg_h5_write_matrix(f, "charges", ds->charges, ds->n_traj,
                                       ds->n_particles), EQG_OK);
  assert_int_equal(eqg_h5_commit(f, tmp, path), EQG_OK);
}

static void test_reader_rejects(void **state)
{
  fixture *fx = *state;
  char path[256];
  eqg_nbody_dataset *ds = make_dataset(9, 6), *back = (eqg_nbody_dataset *)1;

  /* Missing file. */
  eqg_test_dir_join(path, sizeof path, fx, "missing.h5");
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 0), EQG_EIO);
  assert_null(back);
  assert_non_null(strstr(eqg_error_message(), "missing.h5"));

  /* Not an HDF5 file. */
  eqg_test_dir_join(path, sizeof path, fx, "text.h5");
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("not hdf5\n", f);
  fclose(f);
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 0), EQG_EFORMAT);

  /* No 'loc'. */
  eqg_test_dir_join(path, sizeof path, fx, "noloc.h5");
  write_partial(path, ds, false, true);
  back = (eqg_nbody_dataset *)1;
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 0), EQG_EFORMAT);
  assert_null(back);
  printf("no loc: %s\n", eqg_error_message());
  assert_non_null(strstr(eqg_error_message(), "no dataset '/loc'"));
  assert_non_null(strstr(eqg_error_message(), "noloc.h5"));

  /* 'loc' of rank 2. */
  eqg_test_dir_join(path, sizeof path, fx, "rank2.h5");
  write_partial(path, ds, true, true);
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 0), EQG_EFORMAT);
  printf("rank 2: %s\n", eqg_error_message());
  assert_non_null(strstr(eqg_error_message(), "rank 2, expected 4"));

  /* NaN in vel, then Inf in loc: named, with the trajectory. */
  eqg_test_dir_join(path, sizeof path, fx, "nan.h5");
  const size_t per = ds->n_frames * ds->n_particles * D;
  ds->vel[3 * per + 17] = NAN;
  assert_int_equal(eqg_nbody_dataset_save(path, ds), EQG_OK);
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 0), EQG_ENONFINITE);
  printf("NaN: %s\n", eqg_error_message());
  assert_non_null(strstr(eqg_error_message(), "'/vel'"));
  assert_non_null(strstr(eqg_error_message(), "trajectory 3"));
  /* ... but the first 3 trajectories are fine. */
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 3), EQG_OK);
  eqg_nbody_dataset_free(back);
  ds->vel[3 * per + 17] = 0;
  ds->loc[5 * per] = INFINITY;
  assert_int_equal(eqg_nbody_dataset_save(path, ds), EQG_OK);
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 0), EQG_ENONFINITE);
  assert_non_null(strstr(eqg_error_message(), "'/loc'"));
  ds->loc[5 * per] = 0;

  /* Attributes that contradict the shapes. */
  ds->cfg.T = 2000;   /* 19 frames, but the arrays hold 9: the writer refuses */
  eqg_test_dir_join(path, sizeof path, fx, "attrs.h5");
  assert_int_equal(eqg_nbody_dataset_save(path, ds), EQG_ESHAPE);
  assert_int_equal(access(path, F_OK), -1);
  ds->cfg.T = 1000;
  hid_t h;
  char *tmp;
  assert_int_equal(eqg_h5_create_tmp(path, &h, &tmp), EQG_OK);
  assert_int_equal(eqg_nbody_dataset_write(h, ds), EQG_OK);
  assert_int_equal(eqg_h5_write_attr_long(h, "sample_freq", 50), EQG_OK);
  assert_int_equal(eqg_h5_commit(h, tmp, path), EQG_OK);
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 0), EQG_EFORMAT);
  printf("attributes: %s\n", eqg_error_message());
  assert_non_null(strstr(eqg_error_message(), "sample_freq"));

  /* vel of another shape than loc (8 frames instead of 9). */
  eqg_test_dir_join(path, sizeof path, fx, "velshape.h5");
  assert_int_equal(eqg_nbody_dataset_save(path, ds), EQG_OK);
  assert_int_equal(eqg_h5_open(path, true, &h), EQG_OK);
  const hsize_t dims[4] = { 6, 8, 5, 3 };
  assert_true(H5Ldelete(h, "vel", H5P_DEFAULT) >= 0);
  hid_t space = H5Screate_simple(4, dims, NULL);
  hid_t dset = H5Dcreate2(h, "vel", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
  assert_true(space >= 0 && dset >= 0);
  H5Dclose(dset);
  H5Sclose(space);
  assert_int_equal(eqg_h5_close(h), EQG_OK);
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 0), EQG_ESHAPE);
  printf("vel shape: %s\n", eqg_error_message());
  assert_non_null(strstr(eqg_error_message(), "6 x 8 x 5 x 3"));

  /* charges of another shape. */
  assert_int_equal(eqg_nbody_dataset_save(path, ds), EQG_OK);
  assert_int_equal(eqg_h5_open(path, true, &h), EQG_OK);
  assert_int_equal(eqg_h5_write_matrix(h, "charges", ds->charges, 6, 4), EQG_OK);
  assert_int_equal(eqg_h5_close(h), EQG_OK);
  assert_int_equal(eqg_nbody_dataset_load(&back, path, 0), EQG_ESHAPE);
  printf("charges shape: %s\n", eqg_error_message());
  assert_non_null(strstr(eqg_error_message(), "'/charges'"));

  eqg_nbody_dataset_free(ds);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_config),
    cmocka_unit_test(test_initial_state),
    cmocka_unit_test(test_frame_schedule),
    cmocka_unit_test(test_reference_order),
    cmocka_unit_test(test_energy_conservation),
    cmocka_unit_test(test_energy_dt_convergence),
    cmocka_unit_test(test_momentum_conserved),
    cmocka_unit_test(test_momentum_clipped),
    cmocka_unit_test(test_nonfinite),
    cmocka_unit_test(test_deterministic),
    cmocka_unit_test_setup_teardown(test_roundtrip, setup, eqg_test_dir_teardown),
    cmocka_unit_test_setup_teardown(test_reader_rejects, setup, eqg_test_dir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
