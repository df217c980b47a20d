/* eqg_probe.h: analysis of a set of (learned) Lie-algebra generators.
 *
 * Input: n generators L_a, each a (d, d) real matrix, stored as one row-major
 * (n, d, d) array; 1 <= n <= EQG_PROBE_MAX_N, 1 <= d <= EQG_PROBE_MAX_D.  vec L
 * is the row-major flattening (d*d entries) and <A, B> = tr(A^T B) the
 * Frobenius inner product.  eqg_probe_analyse fills one report:
 *
 * Span.  The (d*d, n) matrix V = [vec L_1 ... vec L_n] has singular values
 *   gen_sv; its numerical rank counts those > EQG_PROBE_TOL * gen_sv[0].
 *
 * Closure.  For each pair a < b, f_ab. = V^+ vec [L_a, L_b] is the least-squares
 *   (minimum-norm if rank < n: SVD pseudo-inverse with the rank cut above)
 *   solution of [L_a, L_b] ~ sum_c f_abc L_c; f_ba. = -f_ab., f_aa. = 0.  The
 *   residual of a pair is R_ab = [L_a, L_b] - sum_c f_abc L_c.
 *     closure_abs_*  ||R_ab||_F over all n(n-1)/2 pairs (max and RMS);
 *     closure_rel_*  ||R_ab||_F / ||[L_a, L_b]||_F over the pairs whose
 *                    commutator is not numerically zero, i.e.
 *                    ||[L_a, L_b]||_F > EQG_PROBE_TOL ||L_a||_F ||L_b||_F;
 *                    the others are counted in n_pairs_zero.
 *   With no pair (n = 1) or no nonzero commutator, the measures are 0.
 *
 * Killing form.  ad_a is the (n, n) matrix (ad_a)_cb = f_abc and
 *   B_ab = tr(ad_a ad_b) = sum_{c,e} f_aec f_bce.  With the eqg_group
 *   conventions ([L_a, L_b] = eps_abc L_c) so(3) gives B = -2 I.  Eigenvalues
 *   ascending; the signature counts eigenvalues above, below and within
 *   +-EQG_PROBE_TOL * max |eigenvalue| (all "zero" when B = 0).
 *
 * Invariant metric.  Symmetric A with L_a^T A + A L_a = 0 for every a: the
 *   m = d(d+1)/2 coordinates of A in the Frobenius-orthonormal basis of
 *   symmetric matrices (e_i e_i^T; (e_i e_j^T + e_j e_i^T)/sqrt 2) are the
 *   unknowns, and the n*m equations (upper triangles of L_a^T A + A L_a, off-
 *   diagonal entries weighted sqrt 2) are stacked into an (n*m, m) system S, an
 *   isometric encoding, so S's singular values measure the residual exactly.
 *     metric_sv        singular values of S divided by the largest, ascending;
 *     metric_null_dim  how many of them are <= EQG_PROBE_TOL (all m if S = 0);
 *     metric           the right singular vector of the smallest singular value
 *                      as a (d, d) matrix: a null-space element if
 *                      metric_null_dim >= 1 (an arbitrary one of the space when
 *                      it is > 1), otherwise the best approximate solution.
 *                      Normalised so its largest |entry| is 1, with the sign
 *                      fixed so the first diagonal entry with |A_ii| >
 *                      EQG_PROBE_TOL is positive (if there is none, the first
 *                      such entry in row-major order);
 *     metric_residual  metric_sv[0] = ||S x|| / (||S|| ||x||) for that x;
 *     metric_eval / metric_pos, _neg, _zero  its eigenvalues (ascending) and
 *                      signature, thresholded like the Killing form's.
 *
 * Similarity to a named ground-truth algebra (truth != NULL; the bases are
 * those of lib/groups):
 *     "so2"   the z-rotation generator on R^3 (d = 3), or its restriction
 *             [[0, -1], [1, 0]] to the plane (d = 2);
 *     "so3"   eqg_rotation_generators on R^3 (d = 3);
 *     "so13"  eqg_lorentz_generators on R^4 (d = 4);
 *     "boostz" the z-boost generator K_z on R^4 (d = 4).
 *   Q1 (d*d, r1) is an orthonormal basis of span{vec L_a} (left singular vectors
 *   of V above the rank cut, r1 = rank) and Q2 (d*d, r2) one of the truth span.
 *   The n_angles = min(r1, r2) singular values of Q1^T Q2 are the cosines of the
 *   principal angles (descending); each angle is atan2(sin, cos) with the sine
 *   measured as the length of the principal vector's residual after
 *   projection, so small angles are accurate (no acos near 1).
 *   Unequal dimensions: only min(r1, r2) angles exist; min_cosine and grassmann
 *   = sqrt(sum theta_i^2) are over them, so they measure how well the smaller
 *   space lies inside the larger one.  min_cosine = 1 with learned_dim !=
 *   truth_dim means a strict subspace (or superspace): compare learned_dim
 *   (= rank) with truth_dim.
 *   Per generator: gen_cosine[a] = <L_a, P L_a> / (||L_a||_F ||P L_a||_F) =
 *   ||P L_a||_F / ||L_a||_F, with P the orthogonal projection onto the truth
 *   span; P L_a = sum_c align[a][c] T_c is the least-squares best expression of
 *   L_a in the truth basis T_c (the optimal linear alignment of each learned
 *   generator), and align holds those coefficients.  0 for a zero generator.
 *
 * Numerics: L is first scaled by an exact power of two (so the entries are
 * O(1); results are rescaled exactly), dense linear algebra is GSL's one-sided
 * Jacobi SVD and Jacobi eigensolver (accurate small singular values).  The
 * library never prints: eqg_probe_print writes to a FILE the caller gives. */
#ifndef EQG_PROBE_H
#define EQG_PROBE_H

#include <stdio.h>

#include <hdf5.h>

#include "core/eqg_core.h"

enum {
  EQG_PROBE_MAX_N = 16,                                   /* generators */
  EQG_PROBE_MAX_D = 8,                                    /* matrix side */
  EQG_PROBE_MAX_SYM = EQG_PROBE_MAX_D * (EQG_PROBE_MAX_D + 1) / 2, /* unknowns of A */
  EQG_PROBE_MAX_TRUTH = 6                                 /* so(1,3) */
};

/* Relative threshold for rank, zero commutators, null space and signatures. */
#define EQG_PROBE_TOL 1e-8

typedef struct eqg_probe_report {
  size_t n, d;                      /* generators, matrix side */
  /* span of the generators */
  eqg_real gen_sv[EQG_PROBE_MAX_N]; /* (n) singular values of V, descending */
  size_t rank;                      /* numerical rank of V */
  /* closure: f[a][b][c] = f_abc for a, b, c < n */
  eqg_real f[EQG_PROBE_MAX_N][EQG_PROBE_MAX_N][EQG_PROBE_MAX_N];
  size_t n_pairs;                   /* n(n-1)/2 */
  size_t n_pairs_zero;              /* pairs with a numerically zero commutator */
  eqg_real closure_abs_max, closure_abs_rms;  /* ||R_ab||_F, all pairs */
  eqg_real closure_rel_max, closure_rel_rms;  /* relative, nonzero pairs */
  /* Killing form */
  eqg_real killing[EQG_PROBE_MAX_N][EQG_PROBE_MAX_N];  /* (n, n) B_ab */
  eqg_real killing_eval[EQG_PROBE_MAX_N];              /* (n) ascending */
  size_t killing_pos, killing_neg, killing_zero;
  /* invariant symmetric metric */
  size_t metric_unknowns;                     /* m = d(d+1)/2 */
  eqg_real metric_sv[EQG_PROBE_MAX_SYM];      /* (m) relative, ascending */
  size_t metric_null_dim;
  eqg_real metric_residual;                   /* = metric_sv[0] */
  eqg_real metric[EQG_PROBE_MAX_D * EQG_PROBE_MAX_D];  /* (d, d) normalised A */
  eqg_real metric_eval[EQG_PROBE_MAX_D];      /* (d) ascending */
  size_t metric_pos, metric_neg, metric_zero;
  /* similarity to the truth (all zero when truth == NULL) */
  char truth[8];                              /* "" when none */
  size_t learned_dim, truth_dim;              /* r1 = rank, r2 */
  size_t n_angles;                            /* min(r1, r2) */
  eqg_real cosines[EQG_PROBE_MAX_N];          /* (n_angles) descending */
  eqg_real angles[EQG_PROBE_MAX_N];           /* (n_angles) radians, ascending */
  eqg_real min_cosine;                        /* cosines[n_angles - 1] */
  eqg_real grassmann;                         /* sqrt(sum angles^2) */
  eqg_real gen_cosine[EQG_PROBE_MAX_N];       /* (n) cosine with the projection */
  eqg_real align[EQG_PROBE_MAX_N][EQG_PROBE_MAX_TRUTH];  /* (n, truth_dim) */
} eqg_probe_report;

/* Analyse the (n, d, d) generators L into *out (zeroed first; unspecified
 * beyond that on error).  truth: NULL, "so2", "so3", "so13" or "boostz".
 * EQG_EINVAL: NULL pointers, n or d out of range, all generators zero, unknown
 * truth name, or the eigensolver failing to converge; EQG_ESHAPE: truth does
 * not act on R^d; EQG_ENONFINITE: NaN or Inf in L; EQG_ENOMEM. */
eqg_status eqg_probe_analyse(eqg_probe_report *out, const eqg_real *L, size_t n,
                             size_t d, const char *truth);

/* T (k, d, d) = the basis of the named truth algebra on R^d (the list above;
 * T holds EQG_PROBE_MAX_TRUTH * d * d entries), *k its dimension.  EQG_EINVAL
 * for NULL or an unknown name, EQG_ESHAPE if the algebra does not act on R^d. */
eqg_status eqg_probe_truth_basis(eqg_real *T, size_t *k, const char *truth, size_t d);

/* counts = (positive, negative, zero) for the n values ev, "zero" meaning
 * |ev_i| <= rel_tol * max_j |ev_j| (for re-thresholding noisy generators). */
void eqg_probe_signature(size_t counts[3], const eqg_real *ev, size_t n,
                         eqg_real rel_tol);

/* A readable summary of r on f.  EQG_EINVAL for NULL, EQG_EIO if writing fails. */
eqg_status eqg_probe_print(FILE *f, const eqg_probe_report *r);

/* Write r under loc (a file or group): datasets structure_constants (n*n, n)
 * with row a*n + b holding f_ab., killing (n, n), killing_eigenvalues, metric
 * (d, d), metric_eigenvalues, metric_singular_values, generator_singular_values,
 * and with a truth principal_cosines, principal_angles, generator_cosines,
 * alignment (n, truth_dim); attributes rank, closure_rel_max/_rms,
 * closure_abs_max, killing_pos/_neg/_zero, metric_null_dim, metric_residual,
 * metric_pos/_neg/_zero, truth, truth_dim, min_cosine, grassmann.
 * (eqg_probe_h5.c.) */
eqg_status eqg_probe_write_h5(hid_t loc, const eqg_probe_report *r);

/* Under loc: dataset generators (n, d*d) = L (row a the row-major L_a, the
 * generators r was computed from) and group probe (eqg_probe_write_h5 of r). */
eqg_status eqg_probe_write_h5_generators(hid_t loc, const eqg_real *L,
                                         const eqg_probe_report *r);

/* The layout shared by lie_discover and lie_probe results: the above plus
 * attributes n and d and dataset recovered_metric (d, d) = r->metric. */
eqg_status eqg_probe_write_h5_result(hid_t loc, const eqg_real *L, const eqg_probe_report *r);

#endif
