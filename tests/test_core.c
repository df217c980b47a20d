/* test_core.c: status messages, arena, tensors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "eqgnn.h"
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

static void test_error_message(void **state)
{
  (void)state;
  assert_int_equal(eqg_error_set(EQG_ESHAPE, "width %d", 7), EQG_ESHAPE);
  assert_string_equal(eqg_error_message(), "width 7");
  eqg_error_prefix(EQG_EIO, "loading %s: ", "x.h5");
  assert_string_equal(eqg_error_message(), "loading x.h5: width 7");
  eqg_error_clear();
  assert_string_equal(eqg_error_message(), "");
  for (int s = 0; s < EQG_STATUS_COUNT; s++)
    assert_true(strlen(eqg_status_string((eqg_status)s)) > 0);
  assert_string_equal(eqg_status_string((eqg_status)999), "unknown status");
}

static void test_arena_alignment_and_growth(void **state)
{
  (void)state;
  eqg_arena *a = eqg_arena_alloc(4096);
  assert_non_null(a);
  void *p[100];
  for (int i = 0; i < 100; i++) {
    p[i] = eqg_arena_push(a, 1000 + (size_t)i);     /* outgrows the first chunk */
    assert_non_null(p[i]);
    assert_int_equal((uintptr_t)p[i] % 64, 0);
    unsigned char *c = p[i];
    for (int k = 0; k < 1000 + i; k++) assert_int_equal(c[k], 0);
    memset(p[i], 0xab, 1000 + (size_t)i);
  }
  /* Earlier blocks are intact after later pushes. */
  assert_int_equal(((unsigned char *)p[0])[999], 0xab);
  size_t used = eqg_arena_used(a);
  assert_true(used >= 100 * 1000);
  eqg_arena_reset(a);
  assert_int_equal(eqg_arena_used(a), 0);
  /* After the reset the chain is merged: the same step fits in one chunk. */
  assert_true(eqg_arena_capacity(a) >= used);
  size_t cap = eqg_arena_capacity(a);
  for (int i = 0; i < 100; i++) assert_non_null(eqg_arena_push(a, 1000 + (size_t)i));
  assert_int_equal(eqg_arena_capacity(a), cap);
  eqg_arena_free(a);
  eqg_arena_free(NULL);
}

static void test_tensor_helpers(void **state)
{
  (void)state;
  eqg_arena *a = eqg_arena_alloc(0);
  const eqg_real v[6] = { 1, 2, 3, 4, 5, 6 };
  eqg_tensor *t = eqg_tensor_from(a, 2, 3, v, true);
  assert_non_null(t);
  assert_true(*eqg_tensor_at(t, 1, 2) == 6);
  assert_true(t->grad[5] == 0);
  assert_int_equal(eqg_tensor_check_finite(t, "t"), EQG_OK);
  t->data[4] = NAN;
  assert_int_equal(eqg_tensor_check_finite(t, "t"), EQG_ENONFINITE);
  assert_non_null(strstr(eqg_error_message(), "(1, 1)"));
  eqg_tensor *u = eqg_tensor_from(a, 2, 3, v, false);
  assert_true(isnan(eqg_tensor_max_abs_diff(t, u)));
  t->data[4] = 5.5;
  assert_true(eqg_tensor_max_abs_diff(t, u) == 0.5);
  assert_null(u->grad);
  eqg_arena_free(a);
}

/* With eqgnn's handler a GSL failure returns to the caller with a message
 * instead of aborting the process (GSL's default). */
static void test_gsl_errors_routed(void **state)
{
  (void)state;
  gsl_error_handler_t *old = eqg_gsl_route_errors();
  eqg_error_clear();
  /* diag(1, -1) is not positive definite: Cholesky fails with GSL_EDOM. */
  gsl_matrix *m = gsl_matrix_calloc(2, 2);
  assert_non_null(m);
  gsl_matrix_set(m, 0, 0, 1);
  gsl_matrix_set(m, 1, 1, -1);
  assert_int_equal(gsl_linalg_cholesky_decomp1(m), GSL_EDOM);
  assert_non_null(strstr(eqg_error_message(), "GSL: "));
  assert_non_null(strstr(eqg_error_message(), "positive definite"));
  gsl_matrix_free(m);
  gsl_set_error_handler(old);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_error_message),
    cmocka_unit_test(test_arena_alignment_and_growth),
    cmocka_unit_test(test_tensor_helpers),
    cmocka_unit_test(test_gsl_errors_routed),
  };
  return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
