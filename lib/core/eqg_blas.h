/* eqg_blas.h: one place that picks the CBLAS header (meson option `blas`), and
 * eqg_dgemm, the one place the library multiplies matrices, so that a
 * benchmark can record the shapes of a training step's products (eqg_gemm_trace)
 * and time the same products alone. */
#ifndef EQG_BLAS_H
#define EQG_BLAS_H
#include <stdbool.h>
#include <stddef.h>

#ifdef EQG_USE_GSLCBLAS
#include <gsl/gsl_cblas.h>
#else
#include <cblas.h>
#endif

/* C (M, N) = alpha op(A) op(B) + beta C, row-major, op(A) (M, K), op(B) (K, N);
 * op(X) = X^T when its flag is set.  cblas_dgemm, recorded in the trace if one
 * is set. */
void eqg_dgemm(bool trans_a, bool trans_b, int M, int N, int K, double alpha, const double *A,
               int lda, const double *B, int ldb, double beta, double *C, int ldc);

/* The shape of one recorded product. */
typedef struct eqg_gemm_shape {
  bool trans_a, trans_b;
  int M, N, K;
  double beta;
} eqg_gemm_shape;

/* Shapes of the products since eqg_gemm_trace_set, at most `cap` of them
 * (`n` counts all, so n > cap says some were not kept). */
typedef struct eqg_gemm_trace {
  eqg_gemm_shape *shape;
  size_t cap, n;
} eqg_gemm_trace;

/* Record every eqg_dgemm into t (NULL: stop recording).  Process-wide and not
 * thread-safe: for benchmarks that call the library from one thread. */
void eqg_gemm_trace_set(eqg_gemm_trace *t);

/* 2 M N K summed over the kept shapes. */
double eqg_gemm_trace_flops(const eqg_gemm_trace *t);

#endif
