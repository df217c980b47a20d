/* eqg_lie_sources.h: the data sources of lie_discover (issue 6) that reduce to
 * one moment matrix for eqg_discover_fit (lib/probe/eqg_discover.h).
 *
 * Oracles (Forestano et al.).  For an invariant phi, the first-order change of
 * phi under x_i -> (I + eps W) x_i over a sample s of points x_i is
 * eps <W, C_s> with C_s = sum_i grad_i phi x_i^T; M = eqg_discover_moments(C).
 *   analytic    phi = |x| on R^d ("norm") or x^T eta x on R^4 ("minkowski"),
 *               at `points` standard Gaussian points (one point per sample);
 *   checkpoint  phi = logit_1 - logit_0 (or output 0 for a one-output model)
 *               of an eqgnn graph model of a preset with a checkpoint's
 *               weights, on `points` random jets of `nodes` massive
 *               four-momenta (eqg_lie_random_jets; every node transforms), the
 *               gradient by reverse mode.
 *
 * Pairs.  A hidden group (so2 = so2z about z on R^3, so3, boostz, lorentz:
 *   the lib/groups types and their Lie-algebra bases T_a).  For each of
 *   `points` samples: A = sum_a z_a T_a, z ~ N(0, I), g = exp(eps A)
 *   (eqg_matrix_exp), K = 2d pairs (x_k, y_k = g x_k + N(0, noise^2)),
 *   x_k ~ N(0, I); the least-squares G^ = argmin sum_k |G x_k - y_k|^2, i.e.
 *   G^T = (X^T X)^-1 X^T Y, gives the algebra element
 *     D = (G^ - G^^-1) / (2 eps) = sinh(eps A) / eps = A + O(eps^2 |A|^3),
 *   and S = eqg_discover_moments(D) / d^2 (tr S = 1).  The D's determine the
 *   algebra: the x_k span R^d and, z being Gaussian, the D's span it. */
#ifndef EQG_LIE_SOURCES_H
#define EQG_LIE_SOURCES_H

#include <gsl/gsl_rng.h>

#include "eqg_cli.h"

/* M (d*d, d*d) from the analytic oracle "norm" (any d) or "minkowski" (d = 4)
 * at `points` Gaussian points drawn from r.  EQG_ENOMEM, or the errors of
 * eqg_discover_oracle_samples / eqg_discover_moments. */
eqg_status eqg_lie_oracle_analytic(eqg_real *M, const char *oracle, size_t d, size_t points,
                                   gsl_rng *r);

/* n_jets fully connected jets of `nodes` massive four-momenta (E, p): per jet
 * an axis a ~ N(0, I), per particle p = 20 a + N(0, 5^2) per component and
 * m ~ U(0.1, 5), E = sqrt(m^2 + |p|^2); node scalars [log(1 + m), 0] (psi(m)).
 * NULL with a message on allocation failure. */
eqg_graph_batch *eqg_lie_random_jets(size_t n_jets, size_t nodes, gsl_rng *r);

/* A model of the eqg_model.h preset `preset` initialised from r, with the
 * weights of `checkpoint` if it is not NULL; NULL with a message. */
eqg_model *eqg_lie_model_load(const char *preset, const char *checkpoint, gsl_rng *r);

/* M (16, 16) from the checkpoint oracle: the preset must be a graph model on
 * four-vectors with 2 node scalars (EQG_EINVAL otherwise); `points` jets of
 * `nodes` particles. */
eqg_status eqg_lie_oracle_checkpoint(eqg_real *M, const char *preset, const char *checkpoint,
                                     size_t points, size_t nodes, gsl_rng *r);

/* The lib/groups type of a pairs group name ("so2" is so2z); NULL with a
 * message for an unknown name. */
const eqg_group_type *eqg_lie_pairs_group(const char *group);

/* S (d*d, d*d), d = the group's gen_dim, from `points` pair samples at scale
 * eps > 0 with noise >= 0.  EQG_EINVAL for an unknown group or a singular
 * least-squares estimate, EQG_ENOMEM. */
eqg_status eqg_lie_pairs(eqg_real *S, const char *group, size_t points, double eps,
                         double noise, gsl_rng *r);

#endif
