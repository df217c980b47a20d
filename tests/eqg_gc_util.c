/* eqg_gc_util.c: see eqg_gc_util.h. */
#include "eqg_gc_util.h"

#include <stdio.h>
#include <stdlib.h>

eqg_tensor *gc_tensor(gsl_rng *r, size_t rows, size_t cols, eqg_real lo, eqg_real hi,
                      bool with_grad)
{
  eqg_tensor *t = calloc(1, sizeof *t);
  assert_non_null(t);
  t->rows = rows;
  t->cols = cols;
  size_t n = rows * cols != 0 ? rows * cols : 1;
  t->data = calloc(n, sizeof(eqg_real));
  assert_non_null(t->data);
  if (with_grad) {
    t->grad = calloc(n, sizeof(eqg_real));
    assert_non_null(t->grad);
  }
  for (size_t i = 0; i < rows * cols; i++) t->data[i] = lo + (hi - lo) * gsl_rng_uniform(r);
  return t;
}

eqg_tensor *gc_tensor_away(gsl_rng *r, size_t rows, size_t cols, eqg_real gap, eqg_real hi,
                           bool with_grad)
{
  eqg_tensor *t = gc_tensor(r, rows, cols, gap, hi, with_grad);
  for (size_t i = 0; i < rows * cols; i++)
    if (gsl_rng_uniform(r) < 0.5) t->data[i] = -t->data[i];
  return t;
}

void gc_tensor_free(eqg_tensor *t)
{
  if (!t) return;
  free(t->data);
  free(t->grad);
  free(t);
}

void gc_run(const char *label, eqg_gradcheck_fn f, void *ctx, size_t n,
            eqg_tensor *const inputs[])
{
  eqg_gradcheck_result res;
  eqg_status st = eqg_gradcheck(f, ctx, n, inputs, GC_STEP, 12345, &res);
  if (st != EQG_OK) fail_msg("%s: gradcheck failed to run: %s", label, eqg_error_message());
  if (res.n_checked == 0) fail_msg("%s: no element was checked", label);
  if (!(res.max_err <= GC_TOL))
    fail_msg("%s: relative error %.3g > %.0e at input %zu element %zu "
             "(analytic %.12g, numeric %.12g)", label, res.max_err, GC_TOL,
             res.worst_input, res.worst_elem, res.analytic, res.numeric);
}

gsl_rng *gc_rng(unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  assert_non_null(r);
  gsl_rng_set(r, seed);
  return r;
}
