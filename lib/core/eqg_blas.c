/* eqg_blas.c: eqg_dgemm and its shape trace (eqg_blas.h). */
#include "eqg_blas.h"

static eqg_gemm_trace *trace;   /* NULL: not recording */

void eqg_gemm_trace_set(eqg_gemm_trace *t)
{
  trace = t;
}

void eqg_dgemm(bool trans_a, bool trans_b, int M, int N, int K, double alpha, const double *A,
               int lda, const double *B, int ldb, double beta, double *C, int ldc)
{
  if (trace) {
    if (trace->n < trace->cap)
      trace->shape[trace->n] = (eqg_gemm_shape){ trans_a, trans_b, M, N, K, beta };
    trace->n++;
  }
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

double eqg_gemm_trace_flops(const eqg_gemm_trace *t)
{
  double f = 0;
  const size_t n = t->n < t->cap ? t->n : t->cap;
  for (size_t i = 0; i < n; i++)
    f += 2.0 * t->shape[i].M * t->shape[i].N * t->shape[i].K;
  return f;
}
