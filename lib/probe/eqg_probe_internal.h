/* eqg_probe_internal.h: dense helpers shared by the probe's files (not
 * installed).  All matrices are row-major. */
#ifndef EQG_PROBE_INTERNAL_H
#define EQG_PROBE_INTERNAL_H

#include "probe/eqg_probe.h"

/* Thin SVD a = U diag(s) V^T of the (rows, cols) matrix a (any rows >= 1,
 * cols >= 1), with s descending.  u: (rows, cols) or NULL, v: (cols, cols),
 * s: (cols).  EQG_ENOMEM. */
eqg_status eqg_probe_svd(eqg_real *u, eqg_real *v, eqg_real *s, const eqg_real *a,
                         size_t rows, size_t cols);

/* Rank of s (descending, length cols): count of s_i > EQG_PROBE_TOL * s_0. */
size_t eqg_probe_rank(const eqg_real *s, size_t cols);

/* x (cols) = pseudo-inverse solution of a x ~ b from the SVD (u, v, s) of the
 * (rows, cols) matrix a, keeping the first `rank` singular values. */
void eqg_probe_pinv_solve(eqg_real *x, const eqg_real *u, const eqg_real *v,
                          const eqg_real *s, size_t rows, size_t cols, size_t rank,
                          const eqg_real *b);

/* ev (n) = eigenvalues, ascending, of the symmetric (n, n) matrix a; n <= 16.
 * EQG_EINVAL if the Jacobi iteration does not converge. */
eqg_status eqg_probe_sym_eig(eqg_real *ev, const eqg_real *a, size_t n);

/* Euclidean norm of x (n), with scaling against overflow. */
eqg_real eqg_probe_norm(const eqg_real *x, size_t n);

/* Similarity of the learned span to a named truth: fills out->truth ...
 * out->align.  L is (n, d, d) (already scaled; align is rescaled by the
 * caller); u1 (d*d, n) holds the left singular vectors of V (descending), of
 * which the first out->rank span the generators. */
eqg_status eqg_probe_truth(eqg_probe_report *out, const eqg_real *L, const eqg_real *u1,
                           size_t n, size_t d, const char *truth);

/* Check a truth name against d without computing anything (for validation). */
eqg_status eqg_probe_truth_check(const char *truth, size_t d);

#endif
