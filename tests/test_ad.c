/* test_ad.c: the tape itself: recording, backward, sticky errors, reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "eqgnn.h"

static void test_registry_complete(void **state)
{
  (void)state;
  for (int k = 0; k < EQG_OP_COUNT; k++) {
    assert_non_null(eqg_op_types[k]);
    assert_non_null(eqg_op_types[k]->forward);
    assert_non_null(eqg_op_types[k]->backward);
    for (int j = 0; j < k; j++)
      assert_string_not_equal(eqg_op_types[k]->name, eqg_op_types[j]->name);
  }
}

/* y = sum(A B) with A (2,3), B (3,2) by hand: dy/dA = 1 B^T row sums. */
static void test_matmul_by_hand(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_real av[6] = { 1, 2, 3, 4, 5, 6 }, bv[6] = { 1, 0, 0, 1, 2, -1 };
  eqg_tensor *a = eqg_tape_input(t, 2, 3, av, true);
  eqg_tensor *b = eqg_tape_input(t, 3, 2, bv, true);
  eqg_tensor *c = eqg_matmul(t, a, false, b, false);
  assert_non_null(c);
  /* [1 2 3; 4 5 6] [1 0; 0 1; 2 -1] = [7 -1; 16 -1] */
  const eqg_real want[4] = { 7, -1, 16, -1 };
  for (int i = 0; i < 4; i++) assert_true(c->data[i] == want[i]);
  const eqg_real ones[4] = { 1, 1, 1, 1 };
  assert_int_equal(eqg_tape_backward_seed(t, c, ones), EQG_OK);
  /* dA[i][k] = sum_j B[k][j] = (1, 1, 1); dB[k][j] = sum_i A[i][k] = (5,5),(7,7),(9,9) */
  const eqg_real da[6] = { 1, 1, 1, 1, 1, 1 }, db[6] = { 5, 5, 7, 7, 9, 9 };
  for (int i = 0; i < 6; i++) {
    assert_true(a->grad[i] == da[i]);
    assert_true(b->grad[i] == db[i]);
  }
  eqg_tape_free(t);
}

/* x used twice: gradients from both uses accumulate. */
static void test_gradient_accumulates(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_real xv[3] = { 1, 2, 3 };
  eqg_tensor *x = eqg_tape_input(t, 1, 3, xv, true);
  eqg_tensor *y = eqg_mul(t, x, x);           /* x^2 */
  eqg_tensor *z = eqg_add(t, y, x);           /* x^2 + x */
  const eqg_real ones[3] = { 1, 1, 1 };
  assert_int_equal(eqg_tape_backward_seed(t, z, ones), EQG_OK);
  for (int i = 0; i < 3; i++) assert_true(x->grad[i] == 2 * xv[i] + 1);
  eqg_tape_free(t);
}

static void test_sticky_shape_error(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  eqg_tensor *a = eqg_tape_input(t, 2, 3, NULL, true);
  eqg_tensor *b = eqg_tape_input(t, 2, 3, NULL, true);
  assert_null(eqg_matmul(t, a, false, b, false));
  assert_int_equal(eqg_tape_status(t), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "matmul: inner sizes differ"));
  /* Later ops return NULL and keep the first message. */
  assert_null(eqg_add(t, a, b));
  assert_null(eqg_add(t, NULL, b));
  assert_non_null(strstr(eqg_error_message(), "matmul"));
  eqg_tensor *c = eqg_tape_input(t, 1, 1, NULL, true);
  assert_null(c);
  assert_int_equal(eqg_tape_backward(t, c), EQG_ESHAPE);
  eqg_tape_reset(t);
  assert_int_equal(eqg_tape_status(t), EQG_OK);
  /* Broadcast rejects a (2,2) b onto (2,3). */
  a = eqg_tape_input(t, 2, 3, NULL, false);
  b = eqg_tape_input(t, 2, 2, NULL, false);
  assert_null(eqg_sub(t, a, b));
  assert_non_null(strstr(eqg_error_message(), "cannot broadcast 2 x 2 onto 2 x 3"));
  eqg_tape_free(t);
  eqg_tape_free(NULL);
}

static void test_no_grad_without_inputs_needing_it(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  eqg_tensor *a = eqg_tape_input(t, 2, 2, NULL, false);
  eqg_tensor *b = eqg_tape_input(t, 2, 2, NULL, true);
  assert_null(eqg_add(t, a, a)->grad);
  assert_non_null(eqg_add(t, a, b)->grad);
  t->grad_enabled = false;
  assert_null(eqg_add(t, a, b)->grad);
  /* Backward from a loss that depends on nothing trainable is an error. */
  eqg_tensor *l = eqg_scale(t, eqg_tape_input(t, 1, 1, NULL, false), 2);
  assert_int_equal(eqg_tape_backward(t, l), EQG_EINVAL);
  eqg_tape_free(t);
}

/* Reset reuses memory: many steps of the same size do not grow the arena. */
static void test_reset_reuses_memory(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(1024, NULL);
  size_t cap = 0;
  for (int step = 0; step < 5; step++) {
    eqg_tape_reset(t);
    eqg_tensor *x = eqg_tape_input(t, 64, 64, NULL, true);
    for (int k = 0; k < 20; k++) x = eqg_scale(t, x, 0.5);
    assert_non_null(x);
    if (step == 1) cap = eqg_arena_capacity(t->arena);
    if (step > 1) assert_int_equal(eqg_arena_capacity(t->arena), cap);
  }
  eqg_tape_free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_registry_complete),
    cmocka_unit_test(test_matmul_by_hand),
    cmocka_unit_test(test_gradient_accumulates),
    cmocka_unit_test(test_sticky_shape_error),
    cmocka_unit_test(test_no_grad_without_inputs_needing_it),
    cmocka_unit_test(test_reset_reuses_memory),
  };
  return cmocka_run_group_tests_name("ad", tests, NULL, NULL);
}
