/* eqg_nbody.c: the charged-particle N-body simulator (see eqg_nbody.h).
 *
 * Differences from the reference code that change no physics: the squared
 * distance is computed as |x_i - x_j|^2 (the reference's |a|^2 + |b|^2 - 2 a.b
 * loses digits for close particles); each pair force is computed once and
 * added to i and subtracted from j, so when nothing is clipped the forces
 * cancel exactly pairwise and total momentum is conserved to rounding; and the
 * integration stops at the last saved frame (later steps change nothing that
 * is saved, so the clip counter counts only clip events that shaped the data). */
#include "data/eqg_nbody.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#ifdef EQG_HAVE_OPENMP
#include <omp.h>
#endif

enum { D = EQG_NBODY_DIM };

void eqg_nbody_config_default(eqg_nbody_config *cfg)
{
  cfg->n_particles = 5;
  cfg->T = 5000;
  cfg->sample_freq = 100;
  cfg->dt = 0.001;
  cfg->clip = 100.0;        /* the reference's 0.1 / dt */
  cfg->speed = 0.5;
  cfg->pos_std = 1.0;
  cfg->interaction = 1.0;
  cfg->box = 5.0;
}

eqg_status eqg_nbody_config_check(const eqg_nbody_config *cfg)
{
  if (!cfg) return eqg_error_set(EQG_EINVAL, "nbody: no configuration");
  if (cfg->n_particles < 1)
    return eqg_error_set(EQG_EINVAL, "nbody: n_particles must be at least 1");
  if (cfg->sample_freq < 1)
    return eqg_error_set(EQG_EINVAL, "nbody: sample_freq must be at least 1");
  if (eqg_nbody_n_frames(cfg) < 1)
    return eqg_error_set(EQG_EINVAL,
                         "nbody: T = %zu steps with sample_freq %zu save no frame "
                         "(need T > sample_freq)", cfg->T, cfg->sample_freq);
  if (!(isfinite(cfg->dt) && cfg->dt > 0))
    return eqg_error_set(EQG_EINVAL, "nbody: dt = %g must be finite and positive", cfg->dt);
  if (!(cfg->clip > 0))   /* INFINITY (no clipping) is allowed */
    return eqg_error_set(EQG_EINVAL, "nbody: clip = %g must be positive", cfg->clip);
  if (!(isfinite(cfg->speed) && cfg->speed > 0))
    return eqg_error_set(EQG_EINVAL, "nbody: speed = %g must be finite and positive",
                         cfg->speed);
  if (!(isfinite(cfg->pos_std) && cfg->pos_std > 0))
    return eqg_error_set(EQG_EINVAL, "nbody: pos_std = %g must be finite and positive",
                         cfg->pos_std);
  if (!isfinite(cfg->interaction))
    return eqg_error_set(EQG_EINVAL, "nbody: interaction = %g must be finite",
                         cfg->interaction);
  if (!(isfinite(cfg->box) && cfg->box >= 0))
    return eqg_error_set(EQG_EINVAL, "nbody: box = %g must be finite and >= 0 (0: none)",
                         cfg->box);
  return EQG_OK;
}

size_t eqg_nbody_n_frames(const eqg_nbody_config *cfg)
{
  /* Steps 1 .. T-1 that are multiples of sample_freq. */
  if (cfg->sample_freq < 1 || cfg->T < 1) return 0;
  return (cfg->T - 1) / cfg->sample_freq;
}

/* ---- one trajectory ------------------------------------------------------------ */

eqg_status eqg_nbody_sample_initial(eqg_real *charges, eqg_real *x, eqg_real *v,
                                    const eqg_nbody_config *cfg, gsl_rng *r)
{
  eqg_status st = eqg_nbody_config_check(cfg);
  if (st != EQG_OK) return st;
  const size_t n = cfg->n_particles;
  for (size_t i = 0; i < n; i++) charges[i] = gsl_rng_uniform(r) < 0.5 ? -1.0 : 1.0;
  for (size_t c = 0; c < n * D; c++) x[c] = gsl_ran_gaussian(r, cfg->pos_std);
  for (size_t i = 0; i < n; i++) {
    eqg_real *vi = v + i * D;
    double norm2;
    do {   /* a zero vector has no direction: probability 0, but redraw */
      norm2 = 0;
      for (int c = 0; c < D; c++) {
        vi[c] = gsl_ran_gaussian(r, 1.0);
        norm2 += vi[c] * vi[c];
      }
    } while (norm2 == 0);
    const double s = cfg->speed / sqrt(norm2);
    for (int c = 0; c < D; c++) vi[c] *= s;
  }
  /* The reference's _clamp() of the initial state: reflect into [-box, box]
   * and point the velocity inward (the speed is unchanged). */
  if (cfg->box > 0) {
    const double b = cfg->box;
    for (size_t c = 0; c < n * D; c++) {
      if (x[c] > b) {
        x[c] = 2 * b - x[c];
        v[c] = -fabs(v[c]);
      } else if (x[c] < -b) {
        x[c] = -2 * b - x[c];
        v[c] = fabs(v[c]);
      }
    }
  }
  return EQG_OK;
}

/* F (n, 3) = clipped Coulomb forces at x (n, 3); true if a component was clipped.
 * F_i = k sum_{j != i} q_i q_j (x_i - x_j) / |x_i - x_j|^3, one pair at a time. */
static bool nbody_forces(eqg_real *restrict F, const eqg_real *restrict x,
                         const eqg_real *restrict q, size_t n, double k, double clip)
{
  memset(F, 0, n * D * sizeof *F);
  for (size_t i = 0; i < n; i++) {
    const eqg_real *xi = x + i * D;
    eqg_real *Fi = F + i * D;
    for (size_t j = i + 1; j < n; j++) {
      const eqg_real *xj = x + j * D;
      eqg_real *Fj = F + j * D;
      const eqg_real d0 = xi[0] - xj[0], d1 = xi[1] - xj[1], d2 = xi[2] - xj[2];
      const eqg_real r2 = d0 * d0 + d1 * d1 + d2 * d2;
      const eqg_real s = k * q[i] * q[j] / (r2 * sqrt(r2));
      const eqg_real f0 = s * d0, f1 = s * d1, f2 = s * d2;
      Fi[0] += f0; Fi[1] += f1; Fi[2] += f2;
      Fj[0] -= f0; Fj[1] -= f1; Fj[2] -= f2;
    }
  }
  bool clipped = false;
  for (size_t c = 0; c < n * D; c++) {
    if (F[c] > clip) {
      F[c] = clip;
      clipped = true;
    } else if (F[c] < -clip) {
      F[c] = -clip;
      clipped = true;
    }
  }
  return clipped;
}

/* The integrator; ws holds 3 n D reals.  Returns false if a saved value is not
 * finite.  Sets no message (it runs on worker threads). */
static bool nbody_integrate_ws(eqg_real *loc, eqg_real *vel, size_t *n_clipped,
                               const eqg_real *q, const eqg_real *x0, const eqg_real *v0,
                               const eqg_nbody_config *cfg, eqg_real *ws)
{
  const size_t n = cfg->n_particles, nd = n * D, sf = cfg->sample_freq;
  const size_t n_frames = eqg_nbody_n_frames(cfg), last = n_frames * sf;
  const double dt = cfg->dt, k = cfg->interaction, clip = cfg->clip;
  eqg_real *x = ws, *v = ws + nd, *F = ws + 2 * nd;
  memcpy(x, x0, nd * sizeof *x);
  memcpy(v, v0, nd * sizeof *v);
  size_t clips = 0;

  clips += nbody_forces(F, x, q, n, k, clip);
  for (size_t c = 0; c < nd; c++) v[c] += dt * F[c];
  bool finite = true;
  for (size_t step = 1, frame = 0; step <= last; step++) {
    for (size_t c = 0; c < nd; c++) x[c] += dt * v[c];
    if (step % sf == 0) {
      eqg_real *lf = loc + frame * nd, *vf = vel + frame * nd;
      memcpy(lf, x, nd * sizeof *x);
      memcpy(vf, v, nd * sizeof *v);
      for (size_t c = 0; c < nd; c++) finite = finite && isfinite(lf[c]) && isfinite(vf[c]);
      frame++;
    }
    if (step == last) break;   /* nothing later reaches a saved frame */
    clips += nbody_forces(F, x, q, n, k, clip);
    for (size_t c = 0; c < nd; c++) v[c] += dt * F[c];
  }
  if (n_clipped) *n_clipped = clips;
  return finite;
}

eqg_status eqg_nbody_integrate(eqg_real *loc, eqg_real *vel, size_t *n_clipped,
                               const eqg_real *charges, const eqg_real *x0,
                               const eqg_real *v0, const eqg_nbody_config *cfg)
{
  eqg_status st = eqg_nbody_config_check(cfg);
  if (st != EQG_OK) return st;
  eqg_real *ws = malloc(3 * cfg->n_particles * D * sizeof *ws);
  if (!ws) return eqg_error_set(EQG_ENOMEM, "nbody: out of memory");
  bool ok = nbody_integrate_ws(loc, vel, n_clipped, charges, x0, v0, cfg, ws);
  free(ws);
  if (!ok)
    return eqg_error_set(EQG_ENONFINITE,
                         "nbody: trajectory became non-finite (two particles met)");
  return EQG_OK;
}

eqg_status eqg_nbody_simulate(eqg_real *loc, eqg_real *vel, eqg_real *charges,
                              size_t *n_clipped, const eqg_nbody_config *cfg, gsl_rng *r)
{
  return eqg_nbody_simulate_many(loc, vel, charges, n_clipped, cfg, r, 1, 1);
}

eqg_status eqg_nbody_simulate_many(eqg_real *loc, eqg_real *vel, eqg_real *charges,
                                   size_t *n_clipped, const eqg_nbody_config *cfg,
                                   gsl_rng *r, size_t n_traj, int n_threads)
{
  eqg_status st = eqg_nbody_config_check(cfg);
  if (st != EQG_OK) return st;
  if (n_threads < 0)
    return eqg_error_set(EQG_EINVAL, "nbody: n_threads = %d must be >= 0", n_threads);
  if (n_traj == 0) return EQG_OK;
  const size_t n = cfg->n_particles, nd = n * D;
  const size_t traj_size = eqg_nbody_n_frames(cfg) * nd;

  /* Initial states, drawn in trajectory order from the one rng. */
  eqg_real *init = malloc(2 * n_traj * nd * sizeof *init);
  if (!init) return eqg_error_set(EQG_ENOMEM, "nbody: out of memory for %zu trajectories",
                                  n_traj);
  eqg_real *x0 = init, *v0 = init + n_traj * nd;
  for (size_t t = 0; t < n_traj; t++)
    eqg_nbody_sample_initial(charges + t * n, x0 + t * nd, v0 + t * nd, cfg, r);

  /* Integration: independent and deterministic per trajectory. */
  size_t first_bad = SIZE_MAX;
  bool no_mem = false;
#ifdef EQG_HAVE_OPENMP
  const int nt = n_threads > 0 ? n_threads : omp_get_max_threads();
#pragma omp parallel num_threads(nt) if (n_traj > 1 && nt > 1)
#else
  (void)n_threads;
#endif
  {
    eqg_real *ws = malloc(3 * nd * sizeof *ws);
    if (!ws) {
#ifdef EQG_HAVE_OPENMP
#pragma omp atomic write
#endif
      no_mem = true;
    }
#ifdef EQG_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
    for (size_t t = 0; t < n_traj; t++) {
      if (!ws) continue;
      size_t clips = 0;
      bool ok = nbody_integrate_ws(loc + t * traj_size, vel + t * traj_size, &clips,
                                   charges + t * n, x0 + t * nd, v0 + t * nd, cfg, ws);
      if (n_clipped) n_clipped[t] = clips;
      if (!ok) {
#ifdef EQG_HAVE_OPENMP
#pragma omp critical(eqg_nbody_first_bad)
#endif
        if (t < first_bad) first_bad = t;
      }
    }
    free(ws);
  }
  free(init);
  if (no_mem) return eqg_error_set(EQG_ENOMEM, "nbody: out of memory for the workspace");
  if (first_bad != SIZE_MAX)
    return eqg_error_set(EQG_ENONFINITE,
                         "nbody: trajectory %zu of %zu became non-finite (two particles met)",
                         first_bad, n_traj);
  return EQG_OK;
}

/* ---- conserved quantities --------------------------------------------------------- */

eqg_real eqg_nbody_energy(const eqg_real *x, const eqg_real *v, const eqg_real *charges,
                          size_t n, double interaction, eqg_real *kinetic,
                          eqg_real *potential_abs)
{
  eqg_real ke = 0, pe = 0, pe_abs = 0;
  for (size_t c = 0; c < n * D; c++) ke += 0.5 * v[c] * v[c];
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      eqg_real r2 = 0;
      for (int c = 0; c < D; c++) {
        const eqg_real d = x[i * D + c] - x[j * D + c];
        r2 += d * d;
      }
      const eqg_real u = interaction * charges[i] * charges[j] / sqrt(r2);
      pe += u;
      pe_abs += fabs(u);
    }
  if (kinetic) *kinetic = ke;
  if (potential_abs) *potential_abs = pe_abs;
  return ke + pe;
}

void eqg_nbody_momentum(eqg_real p[EQG_NBODY_DIM], const eqg_real *v, size_t n)
{
  for (int c = 0; c < D; c++) p[c] = 0;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < D; c++) p[c] += v[i * D + c];
}
