/* eqg_discover.h: losses for discovering Lie-algebra generators, with their
 * gradients (checked against finite differences in tests/test_discover.c).
 *
 * Unknowns: n generators W_a, each a (d, d) matrix, stored as one row-major
 * (n, d*d) array (= (n, d, d)); <A, B> = tr(A^T B), |A|^2 = <A, A>.  Both
 * sources reduce their data to one symmetric (d*d, d*d) moment matrix:
 *
 * Oracle (Forestano et al. 2023).  For an oracle phi and a sample s of points
 *   x_1 .. x_m (m = 1 for phi(x) = |x| or x^T eta x; the nodes of a graph for
 *   a model), the first-order change under x_i -> (I + eps W) x_i is
 *   eps sum_i grad_i phi . W x_i = eps <W, C_s> with C_s = sum_i grad_i phi x_i^T.
 *   The invariance loss is the exact eps -> 0 limit of Forestano's
 *   mean_s [(phi((I + eps W_a) x) - phi(x))^2] / eps^2, summed over a and divided
 *   by mean_s |C_s|^2 / d^2 (so the oracle's units drop out):
 *     inv(W) = sum_a vec(W_a)^T M vec(W_a),
 *     M = d^2 mean_s vec C_s vec C_s^T / mean_s |C_s|^2          (tr M = d^2)
 *   so a W with i.i.d. random entries has inv ~ |W|^2 on average (Forestano's
 *   raw loss is larger by the oracle's scale; for the Minkowski oracle on
 *   Gaussian points by ~ 96/16).  M's null space is exactly the algebra of
 *   linear maps that leave phi invariant to first order on the samples.
 *
 * Pairs.  From pairs (x, g x) an algebra element D_s per sampled g is estimated
 *   (experiments/lie_discover.c) and S = eqg_discover_moments(D) / d^2
 *   (tr S = 1).  The span loss is the fraction of the D_s NOT captured by span{W_a}:
 *     span(W) = 1 - tr(Gm^-1 W^T S W),   Gm = W^T W (n, n), W = [vec W_1 .. vec W_n]
 *   = mean_s |D_s - P D_s|^2 / mean_s |D_s|^2 with P the orthogonal projection
 *   onto span{W_a}; it is 0 iff the span contains every D_s, so with n equal
 *   to the dimension of the sampled algebra its minimisers span exactly that
 *   algebra (well posed once the samples span it); gradient
 *     d span / dW = -2 (I - W Gm^-1 W^T) S W Gm^-1.
 *
 * Regularisers (Forestano et al.):
 *   norm(W)    = sum_a (|W_a|^2 - 2)^2               (so(3), so(1,3) bases have |L|^2 = 2)
 *   orth(W)    = sum_{a<b} <W_a, W_b>^2
 *   closure(W) = sum_{a<b} min_f |[W_a, W_b] - sum_c f_abc W_c|^2
 *                (f by least squares each evaluation; by the envelope theorem
 *                the gradient is the partial derivative at the optimal f).
 * total = w.inv inv + w.span span + w.norm norm + w.orth orth + w.closure closure.
 * Sizes: 1 <= n <= EQG_PROBE_MAX_N, 1 <= d <= EQG_PROBE_MAX_D (eqg_probe.h). */
#ifndef EQG_DISCOVER_H
#define EQG_DISCOVER_H

#include <gsl/gsl_rng.h>

#include "core/eqg_core.h"
#include "probe/eqg_probe.h"

typedef struct eqg_discover_weights {
  eqg_real inv, span, norm, orth, closure;
} eqg_discover_weights;

typedef struct eqg_discover_terms {
  eqg_real inv, span, norm, orth, closure, total;   /* unweighted terms; weighted total */
} eqg_discover_terms;

/* M (d*d, d*d) = d^2 mean_s vec C_s vec C_s^T / mean_s |C_s|^2 from C (n_s, d, d)
 * (the oracle's M; divide by d^2 for the pairs' S).
 * EQG_EINVAL for bad sizes, n_s = 0 or all C_s zero; EQG_ENONFINITE for NaN/Inf. */
eqg_status eqg_discover_moments(eqg_real *M, const eqg_real *C, size_t n_s, size_t d);

/* The oracle samples of the two analytic oracles for points X (n_s, d):
 *   "norm"       phi = |x|              C_s = x x^T / |x|
 *   "minkowski"  phi = x^T eta x (d = 4) C_s = 2 eta x x^T
 * C (n_s, d, d).  EQG_EINVAL for an unknown name, d != 4 for minkowski, or
 * x = 0 for norm. */
eqg_status eqg_discover_oracle_samples(eqg_real *C, const char *oracle, const eqg_real *X,
                                       size_t n_s, size_t d);

/* Loss terms of W (n, d*d) and, if grad != NULL, d total / d W into grad
 * (n, d*d; overwritten).  M is the oracle moment matrix (used when w->inv != 0)
 * and S the pairs moment matrix (used when w->span != 0); either may be NULL
 * when its weight is 0.  EQG_EINVAL for bad arguments, EQG_ENONFINITE for NaN
 * in W, EQG_EINVAL also when the span or closure term meets linearly
 * dependent generators (Gm not positive definite). */
eqg_status eqg_discover_loss(eqg_discover_terms *out, eqg_real *grad, const eqg_real *W,
                             size_t n, size_t d, const eqg_real *M, const eqg_real *S,
                             const eqg_discover_weights *w);

/* Fit W (n, d*d) in place with Adam (beta 0.9/0.999, eps 1e-8) for `steps`
 * steps at learning rate lr; W is initialised from rng with N(0, 1/d) entries
 * when rng != NULL (otherwise its content is the start).  history (steps, 6)
 * gets inv, span, norm, orth, closure, total BEFORE each step (may be NULL);
 * *final the terms after the last step (may be NULL).  Errors as above. */
eqg_status eqg_discover_fit(eqg_real *W, size_t n, size_t d, const eqg_real *M,
                            const eqg_real *S, const eqg_discover_weights *w, size_t steps,
                            eqg_real lr, gsl_rng *rng, eqg_real *history,
                            eqg_discover_terms *final);

/* For n = 3 generators on R^3 probed against "so3" (r->truth "so3", n == 3):
 * max_abc |f_abc - sgn(det A) eps_abc|, with f the least-squares structure
 * constants in the LEARNED basis and A (3, 3) the alignment W_a = sum_c A_ac L_c
 * (r->align).  0 for an orthonormal (|W_a|^2 = 2) basis of so(3) of either
 * orientation.  NaN if r is not such a report. */
eqg_real eqg_discover_so3_structure_error(const eqg_probe_report *r);

#endif
