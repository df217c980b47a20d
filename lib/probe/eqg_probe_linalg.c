/* eqg_probe_linalg.c: the probe's dense linear algebra over GSL -- thin SVD
 * (one-sided Jacobi, any shape), pseudo-inverse solves and symmetric
 * eigenvalues (Jacobi), all on caller buffers, returning statuses. */
#include "probe/eqg_probe_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

eqg_real eqg_probe_norm(const eqg_real *x, size_t n)
{
  eqg_real s = 0;
  for (size_t i = 0; i < n; i++) s += x[i] * x[i];
  return sqrt(s);
}

/* Swap columns i and j of the (rows, cols) matrix m. */
static void swap_cols(eqg_real *m, size_t rows, size_t cols, size_t i, size_t j)
{
  for (size_t r = 0; r < rows; r++) {
    const eqg_real t = m[r * cols + i];
    m[r * cols + i] = m[r * cols + j];
    m[r * cols + j] = t;
  }
}

eqg_status eqg_probe_svd(eqg_real *u, eqg_real *v, eqg_real *s, const eqg_real *a,
                         size_t rows, size_t cols)
{
  EQG_ASSERT(rows >= 1 && cols >= 1);
  /* GSL's Jacobi SVD needs rows >= cols: pad with zero rows (they stay zero
   * in U, whose columns are normalised columns of a V). */
  const size_t R = rows > cols ? rows : cols;
  eqg_real *w = calloc(R * cols, sizeof *w);
  if (!w)
    return eqg_error_set(EQG_ENOMEM, "probe: SVD workspace of %zu x %zu", R, cols);
  memcpy(w, a, rows * cols * sizeof *w);
  gsl_matrix_view A = gsl_matrix_view_array(w, R, cols);
  gsl_matrix_view Q = gsl_matrix_view_array(v, cols, cols);
  gsl_vector_view S = gsl_vector_view_array(s, cols);
  if (gsl_linalg_SV_decomp_jacobi(&A.matrix, &Q.matrix, &S.vector) != GSL_SUCCESS) {
    free(w);
    return eqg_error_set(EQG_EINVAL, "probe: Jacobi SVD of a %zu x %zu matrix did "
                         "not converge", rows, cols);
  }
  /* descending order (selection sort; cols <= 36) */
  for (size_t i = 0; i + 1 < cols; i++) {
    size_t k = i;
    for (size_t j = i + 1; j < cols; j++)
      if (s[j] > s[k]) k = j;
    if (k != i) {
      const eqg_real t = s[i]; s[i] = s[k]; s[k] = t;
      swap_cols(w, R, cols, i, k);
      swap_cols(v, cols, cols, i, k);
    }
  }
  if (u) memcpy(u, w, rows * cols * sizeof *u);
  free(w);
  return EQG_OK;
}

size_t eqg_probe_rank(const eqg_real *s, size_t cols)
{
  size_t r = 0;
  while (r < cols && s[r] > EQG_PROBE_TOL * s[0]) r++;
  return r;
}

void eqg_probe_pinv_solve(eqg_real *x, const eqg_real *u, const eqg_real *v,
                          const eqg_real *s, size_t rows, size_t cols, size_t rank,
                          const eqg_real *b)
{
  memset(x, 0, cols * sizeof *x);
  for (size_t i = 0; i < rank; i++) {
    eqg_real y = 0;                           /* (u_i . b) / s_i */
    for (size_t r = 0; r < rows; r++) y += u[r * cols + i] * b[r];
    y /= s[i];
    for (size_t j = 0; j < cols; j++) x[j] += v[j * cols + i] * y;
  }
}

eqg_status eqg_probe_sym_eig(eqg_real *ev, const eqg_real *a, size_t n)
{
  EQG_ASSERT(n >= 1 && n <= EQG_PROBE_MAX_N);
  eqg_real w[EQG_PROBE_MAX_N * EQG_PROBE_MAX_N], e[EQG_PROBE_MAX_N * EQG_PROBE_MAX_N];
  memcpy(w, a, n * n * sizeof *w);
  const eqg_real frob = eqg_probe_norm(a, n * n);
  gsl_matrix_view A = gsl_matrix_view_array(w, n, n);
  gsl_matrix_view E = gsl_matrix_view_array(e, n, n);
  gsl_vector_view V = gsl_vector_view_array(ev, n);
  unsigned nrot = 0;
  /* gsl_eigen_jacobi stops only when the off-diagonal part is exactly 0, which
   * rounding often prevents; at its sweep limit (a plain return, no GSL error
   * handler call) accept a remainder <= 1e-12 ||A||_F: by Weyl's inequality it
   * moves no eigenvalue by more than that, far below EQG_PROBE_TOL. */
  if (gsl_eigen_jacobi(&A.matrix, &V.vector, &E.matrix, 50, &nrot) != GSL_SUCCESS) {
    eqg_real off = 0;
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++)
        if (i != j) off += w[i * n + j] * w[i * n + j];
    if (!(sqrt(off) <= 1e-12 * frob))
      return eqg_error_set(EQG_EINVAL, "probe: Jacobi eigensolver did not converge "
                           "(off-diagonal %g of %g)", sqrt(off), frob);
  }
  for (size_t i = 1; i < n; i++)                /* ascending (insertion sort) */
    for (size_t j = i; j > 0 && ev[j - 1] > ev[j]; j--) {
      const eqg_real t = ev[j]; ev[j] = ev[j - 1]; ev[j - 1] = t;
    }
  return EQG_OK;
}
