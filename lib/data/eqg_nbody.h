/* eqg_nbody.h: the charged-particle N-body simulator of the EGNN paper (section
 * 5.1; the NRI line of work's ChargedParticlesSim with interaction strength 1),
 * as shared/reference/nbody.md specifies, and its HDF5 datasets.
 *
 * Physics (unit masses, charges q_i = +-1 with probability 1/2 each):
 *   F_i = k sum_{j != i} q_i q_j (x_i - x_j) / |x_i - x_j|^3   (like charges repel)
 * and every component of F_i is clipped to [-clip, clip] (the reference's
 * 0.1/dt = 100).  Integrator (symplectic Euler, in the reference's order):
 *   v += dt F(x0)
 *   for i = 1 .. T-1:  x += dt v;  if i % sample_freq == 0: save (x, v);
 *                      v += dt F(x)
 * so T = 5000, sample_freq = 100 saves 49 frames; frame k is step (k+1)*100.
 * Initial state: every position coordinate ~ N(0, pos_std^2); every velocity a
 * Gaussian direction scaled to |v_i| = speed exactly; then the reference's box
 * clamp (reflect a coordinate beyond +-box into the box and point its velocity
 * inward), which touches only the initial state and in practice nothing.
 *
 * Randomness: the initial states of a set of trajectories are drawn one after
 * the other from one gsl_rng (charges, then positions, then velocities of each
 * trajectory, like the reference); the integration itself is deterministic.  So
 * eqg_nbody_simulate_many() integrates in parallel over trajectories and gives
 * the same bits for any thread count and any chunking into several calls. */
#ifndef EQG_NBODY_H
#define EQG_NBODY_H

#include <gsl/gsl_rng.h>
#include <hdf5.h>

#include "core/eqg_core.h"

/* Every parameter of the simulation; eqg_nbody_config_default() gives the
 * reference's values (in brackets). */
typedef struct eqg_nbody_config {
  size_t n_particles;   /* [5] */
  size_t T;             /* [5000] steps: i = 1 .. T-1 after the initial kick */
  size_t sample_freq;   /* [100] save steps sample_freq, 2 sample_freq, ... < T */
  double dt;            /* [0.001] time step */
  double clip;          /* [100 = 0.1/dt] bound on each force component; INFINITY: none */
  double speed;         /* [0.5] initial speed of every particle */
  double pos_std;       /* [1] standard deviation of an initial position coordinate */
  double interaction;   /* [1] interaction strength k */
  double box;           /* [5] box clamp of the initial state; 0: none */
} eqg_nbody_config;

enum { EQG_NBODY_DIM = 3 };

void eqg_nbody_config_default(eqg_nbody_config *cfg);
/* EQG_EINVAL with a message naming the field for an unusable configuration
 * (no particle, sample_freq 0, no saved frame,
 * dt/clip/speed/pos_std not positive, non-finite values...). */
eqg_status eqg_nbody_config_check(const eqg_nbody_config *cfg);
/* Saved frames per trajectory: (T - 1) / sample_freq, which is
 * T / sample_freq - 1 when sample_freq divides T (49 by default). */
size_t eqg_nbody_n_frames(const eqg_nbody_config *cfg);

/* ---- one trajectory --------------------------------------------------------- */

/* Draw one initial state from `r`: charges (n), x (n, 3), v (n, 3). */
eqg_status eqg_nbody_sample_initial(eqg_real *charges, eqg_real *x, eqg_real *v,
                                    const eqg_nbody_config *cfg, gsl_rng *r);

/* Integrate from (x0, v0) and save the frames: loc and vel (n_frames, n, 3).
 * *n_clipped (may be NULL) gets the number of force evaluations in which at
 * least one component was clipped (0: the dynamics is exactly Coulomb).
 * EQG_ENONFINITE if a saved value is not finite (two particles met). */
eqg_status eqg_nbody_integrate(eqg_real *loc, eqg_real *vel, size_t *n_clipped,
                               const eqg_real *charges, const eqg_real *x0,
                               const eqg_real *v0, const eqg_nbody_config *cfg);

/* eqg_nbody_sample_initial() then eqg_nbody_integrate(). */
eqg_status eqg_nbody_simulate(eqg_real *loc, eqg_real *vel, eqg_real *charges,
                              size_t *n_clipped, const eqg_nbody_config *cfg, gsl_rng *r);

/* n_traj trajectories: loc, vel (n_traj, n_frames, n, 3), charges (n_traj, n),
 * n_clipped (n_traj, may be NULL).  Initial states are drawn sequentially from
 * `r`; integration runs in parallel over trajectories with OpenMP when built
 * with it (n_threads > 0: that many threads; 0: OpenMP's current default).
 * The result is bitwise identical to n_traj calls of eqg_nbody_simulate() on
 * the same rng, whatever the thread count. */
eqg_status eqg_nbody_simulate_many(eqg_real *loc, eqg_real *vel, eqg_real *charges,
                                   size_t *n_clipped, const eqg_nbody_config *cfg,
                                   gsl_rng *r, size_t n_traj, int n_threads);

/* ---- conserved quantities of a state (x, v: (n, 3), charges: (n)) ------------ */

/* Total energy: sum_i |v_i|^2 / 2 + k sum_{i<j} q_i q_j / |x_i - x_j|.
 * Optional parts: *kinetic and *potential_abs = k sum_{i<j} |q_i q_j| / r_ij
 * (a scale for relative errors when the total is near 0); either may be NULL. */
eqg_real eqg_nbody_energy(const eqg_real *x, const eqg_real *v, const eqg_real *charges,
                          size_t n, double interaction, eqg_real *kinetic,
                          eqg_real *potential_abs);
/* Total momentum p = sum_i v_i (unit masses). */
void eqg_nbody_momentum(eqg_real p[EQG_NBODY_DIM], const eqg_real *v, size_t n);

/* ---- datasets (eqg_nbody_io.c) ------------------------------------------------
 * HDF5 layout (float64 unless noted), all at the root:
 *   loc      (n_traj, n_frames, n_particles, 3)   saved positions
 *   vel      (n_traj, n_frames, n_particles, 3)   saved velocities
 *   charges  (n_traj, n_particles)                +-1
 *   clipped  (n_traj) uint64                      clip events per trajectory
 * root attributes: n_traj, n_frames, n_particles, T, sample_freq (int64), dt,
 * clip, speed, pos_std, interaction, box (float64), split (string),
 * split_seed (uint64: the seed of the split's rng), plus whatever the writer
 * adds (the generator adds provenance: program, arguments, seed, ...). */
typedef struct eqg_nbody_dataset {
  size_t n_traj, n_frames, n_particles;
  eqg_real *loc;         /* (n_traj, n_frames, n_particles, 3) */
  eqg_real *vel;         /* (n_traj, n_frames, n_particles, 3) */
  eqg_real *charges;     /* (n_traj, n_particles) */
  size_t *clipped;       /* (n_traj) clip events (see eqg_nbody_integrate) */
  eqg_nbody_config cfg;  /* simulation parameters (attributes on load) */
  char split[32];        /* "train", "valid", "test" or "" */
  unsigned long split_seed;
} eqg_nbody_dataset;

/* Zeroed arrays for n_traj trajectories of cfg (n_frames from cfg); NULL with a
 * message on a bad configuration or out of memory.  _free(NULL) is fine. */
eqg_nbody_dataset *eqg_nbody_dataset_alloc(const eqg_nbody_config *cfg, size_t n_traj);
void eqg_nbody_dataset_free(eqg_nbody_dataset *ds);

/* Fill ds with eqg_nbody_simulate_many(r, n_threads); sets split_seed to
 * `seed` and the split name (may be NULL) but does not seed `r`. */
eqg_status eqg_nbody_dataset_generate(eqg_nbody_dataset *ds, gsl_rng *r, unsigned long seed,
                                      const char *split, int n_threads);

/* Write the datasets and attributes above into an open file (root). */
eqg_status eqg_nbody_dataset_write(hid_t file, const eqg_nbody_dataset *ds);
/* Atomic file write (eqg_h5_create_tmp / eqg_h5_commit) of just that. */
eqg_status eqg_nbody_dataset_save(const char *path, const eqg_nbody_dataset *ds);

/* Read a dataset file: loc, vel and charges are required with consistent shapes
 * (EQG_EFORMAT for a missing dataset or a wrong rank, EQG_ESHAPE for
 * disagreeing sizes, both naming the dataset and shapes), every value finite
 * (EQG_ENONFINITE naming the dataset and the first bad trajectory).  clipped and
 * the attributes are optional: a missing clipped reads as zeros; cfg starts
 * from the defaults with n_particles from the shapes, and each attribute present
 * overrides its field.  max_traj > 0 reads only the first max_traj trajectories
 * (all if the file has fewer).  *out is NULL on error. */
eqg_status eqg_nbody_dataset_load(eqg_nbody_dataset **out, const char *path, size_t max_traj);

#endif
