/* eqg_blas.h: one place that picks the CBLAS header (meson option `blas`). */
#ifndef EQG_BLAS_H
#define EQG_BLAS_H
#ifdef EQG_USE_GSLCBLAS
#include <gsl/gsl_cblas.h>
#else
#include <cblas.h>
#endif
#endif
