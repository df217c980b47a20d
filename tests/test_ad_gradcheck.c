/* test_ad_gradcheck.c: every registered op passes a finite-difference check.
 *
 * The table below is indexed by eqg_op_kind; a kind added to eqg_op.h without
 * a check here leaves a NULL entry, and test_every_op_is_checked fails. */
#include "eqg_gc_util.h"

#include <stdio.h>

static void (*const gc_checks[EQG_OP_COUNT])(void) = {
  [EQG_OP_MATMUL] = gc_check_matmul,
  [EQG_OP_AFFINE] = gc_check_affine,
  [EQG_OP_EDGE_AFFINE] = gc_check_edge_affine,
  [EQG_OP_ADD] = gc_check_add,
  [EQG_OP_SUB] = gc_check_sub,
  [EQG_OP_MUL] = gc_check_mul,
  [EQG_OP_DIV] = gc_check_div,
  [EQG_OP_SCALE] = gc_check_scale,
  [EQG_OP_ADD_SCALAR] = gc_check_add_scalar,
  [EQG_OP_SUM] = gc_check_sum,
  [EQG_OP_MEAN] = gc_check_mean,
  [EQG_OP_CONCAT_COLS] = gc_check_concat_cols,
  [EQG_OP_SLICE_COLS] = gc_check_slice_cols,
  [EQG_OP_GATHER_ROWS] = gc_check_gather_rows,
  [EQG_OP_SCATTER_ADD_ROWS] = gc_check_scatter_add_rows,
  [EQG_OP_SEGMENT_MEAN] = gc_check_segment_mean,
  [EQG_OP_RELU] = gc_check_relu,
  [EQG_OP_LEAKY_RELU] = gc_check_leaky_relu,
  [EQG_OP_SILU] = gc_check_silu,
  [EQG_OP_SIGMOID] = gc_check_sigmoid,
  [EQG_OP_TANH] = gc_check_tanh,
  [EQG_OP_SOFTPLUS] = gc_check_softplus,
  [EQG_OP_SHIFTED_SOFTPLUS] = gc_check_shifted_softplus,
  [EQG_OP_EXP] = gc_check_exp,
  [EQG_OP_LOG] = gc_check_log,
  [EQG_OP_SQRT] = gc_check_sqrt,
  [EQG_OP_ABS] = gc_check_abs,
  [EQG_OP_CLAMP] = gc_check_clamp,
  [EQG_OP_PSI] = gc_check_psi,
  [EQG_OP_BILINEAR_ROWS] = gc_check_bilinear_rows,
  [EQG_OP_SQNORM_ROWS] = gc_check_sqnorm_rows,
  [EQG_OP_DROPOUT] = gc_check_dropout,
  [EQG_OP_BATCHNORM] = gc_check_batchnorm,
  [EQG_OP_LAYERNORM] = gc_check_layernorm,
  [EQG_OP_MSE] = gc_check_mse,
  [EQG_OP_BCE_LOGITS] = gc_check_bce_logits,
  [EQG_OP_SOFTMAX_XENT] = gc_check_softmax_xent,
};

static void test_every_op_is_checked(void **state)
{
  (void)state;
  for (int k = 0; k < EQG_OP_COUNT; k++) {
    if (!eqg_op_types[k]) fail_msg("op kind %d has no entry in eqg_op_types", k);
    if (!gc_checks[k]) fail_msg("op '%s' has no gradient check", eqg_op_types[k]->name);
  }
}

/* One cmocka test per op so a failure names the op. */
static void test_op(void **state)
{
  int k = (int)(intptr_t)*state;
  gc_checks[k]();
}

int main(void)
{
  struct CMUnitTest tests[EQG_OP_COUNT + 1];
  static intptr_t kinds[EQG_OP_COUNT];
  tests[0] = (struct CMUnitTest)cmocka_unit_test(test_every_op_is_checked);
  int n = 1;
  for (int k = 0; k < EQG_OP_COUNT; k++) {
    if (!eqg_op_types[k] || !gc_checks[k]) continue;   /* reported above */
    kinds[k] = k;
    tests[n++] = (struct CMUnitTest){ .name = eqg_op_types[k]->name, .test_func = test_op,
                                      .setup_func = NULL, .teardown_func = NULL,
                                      .initial_state = (void *)kinds[k] };
  }
  return _cmocka_run_group_tests("ad_gradcheck", tests, (size_t)n, NULL, NULL);
}
