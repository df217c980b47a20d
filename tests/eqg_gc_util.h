/* eqg_gc_util.h: helpers for the finite-difference tests of every op.
 *
 * Each op kind has one check function (gc_check_<op>) that builds random
 * inputs of odd sizes and asserts, through gc_run(), that the tape gradient
 * matches central differences to a relative error of GC_TOL.  The table in
 * test_ad_gradcheck.c maps every eqg_op_kind to its check; a kind without one
 * fails the test. */
#ifndef EQG_GC_UTIL_H
#define EQG_GC_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <gsl/gsl_rng.h>

#include "eqgnn.h"

#define GC_TOL 1e-6
#define GC_STEP EQG_GRADCHECK_STEP

/* Heap tensor (not in an arena) with values U(lo, hi); grad buffer if asked. */
eqg_tensor *gc_tensor(gsl_rng *r, size_t rows, size_t cols, eqg_real lo, eqg_real hi,
                      bool with_grad);
/* Values with |x| in [gap, hi] and random sign: keeps kinks (0) away. */
eqg_tensor *gc_tensor_away(gsl_rng *r, size_t rows, size_t cols, eqg_real gap, eqg_real hi,
                           bool with_grad);
void gc_tensor_free(eqg_tensor *t);

/* Check f on inputs; asserts max error <= GC_TOL; `label` names the case in
 * the failure message.  Frees nothing. */
void gc_run(const char *label, eqg_gradcheck_fn f, void *ctx, size_t n,
            eqg_tensor *const inputs[]);

/* A fresh rng with a fixed seed for one check function. */
gsl_rng *gc_rng(unsigned long seed);

/* Check functions, one per op kind, grouped by the source file of the op. */
void gc_check_matmul(void);
/* gc_fused.c */
void gc_check_affine(void);
void gc_check_edge_affine(void);
void gc_check_add(void);
void gc_check_sub(void);
void gc_check_mul(void);
void gc_check_div(void);
void gc_check_scale(void);
void gc_check_add_scalar(void);
/* gc_shape.c */
void gc_check_sum(void);
void gc_check_mean(void);
void gc_check_concat_cols(void);
void gc_check_slice_cols(void);
void gc_check_gather_rows(void);
void gc_check_scatter_add_rows(void);
void gc_check_segment_mean(void);
/* gc_unary.c */
void gc_check_relu(void);
void gc_check_leaky_relu(void);
void gc_check_silu(void);
void gc_check_sigmoid(void);
void gc_check_tanh(void);
void gc_check_softplus(void);
void gc_check_shifted_softplus(void);
void gc_check_exp(void);
void gc_check_log(void);
void gc_check_sqrt(void);
void gc_check_abs(void);
void gc_check_clamp(void);
void gc_check_psi(void);
/* gc_geom.c */
void gc_check_bilinear_rows(void);
void gc_check_sqnorm_rows(void);
/* gc_norm.c */
void gc_check_dropout(void);
void gc_check_batchnorm(void);
void gc_check_layernorm(void);
/* gc_loss.c */
void gc_check_mse(void);
void gc_check_bce_logits(void);
void gc_check_softmax_xent(void);

#endif
