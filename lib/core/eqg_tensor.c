/* eqg_tensor.c: allocation and small helpers for 2-D tensors. */
#include "core/eqg_tensor.h"

#include <math.h>
#include <string.h>

static eqg_tensor *tensor_new(eqg_arena *a, size_t rows, size_t cols, bool with_grad,
                              bool zero_data)
{
  if (cols != 0 && rows > SIZE_MAX / sizeof(eqg_real) / cols) {
    eqg_error_set(EQG_ENOMEM, "tensor: %zu x %zu elements overflow", rows, cols);
    return NULL;
  }
  size_t bytes = rows * cols * sizeof(eqg_real);
  eqg_tensor *t = eqg_arena_push_uninit(a, sizeof *t);
  if (!t) return NULL;
  *t = (eqg_tensor){ .rows = rows, .cols = cols };
  t->data = zero_data ? eqg_arena_push(a, bytes) : eqg_arena_push_uninit(a, bytes);
  if (!t->data) return NULL;
  if (with_grad) {
    t->grad = eqg_arena_push(a, bytes);
    if (!t->grad) return NULL;
  }
  return t;
}

eqg_tensor *eqg_tensor_new(eqg_arena *a, size_t rows, size_t cols, bool with_grad)
{
  return tensor_new(a, rows, cols, with_grad, true);
}

eqg_tensor *eqg_tensor_new_uninit(eqg_arena *a, size_t rows, size_t cols, bool with_grad)
{
  return tensor_new(a, rows, cols, with_grad, false);
}

eqg_tensor *eqg_tensor_from(eqg_arena *a, size_t rows, size_t cols,
                            const eqg_real *data, bool with_grad)
{
  eqg_tensor *t = eqg_tensor_new_uninit(a, rows, cols, with_grad);
  if (t && rows * cols != 0) memcpy(t->data, data, rows * cols * sizeof(eqg_real));
  return t;
}

void eqg_tensor_fill(eqg_tensor *t, eqg_real v)
{
  size_t n = eqg_tensor_size(t);
  for (size_t i = 0; i < n; i++) t->data[i] = v;
}

eqg_status eqg_tensor_check_finite(const eqg_tensor *t, const char *what)
{
  size_t n = eqg_tensor_size(t);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(t->data[i]))
      return eqg_error_set(EQG_ENONFINITE, "%s: element (%zu, %zu) is %g",
                           what, i / t->cols, i % t->cols, t->data[i]);
  return EQG_OK;
}

eqg_real eqg_tensor_max_abs_diff(const eqg_tensor *a, const eqg_tensor *b)
{
  EQG_ASSERT(a->rows == b->rows && a->cols == b->cols);
  eqg_real m = 0;
  size_t n = eqg_tensor_size(a);
  for (size_t i = 0; i < n; i++) {
    eqg_real d = fabs(a->data[i] - b->data[i]);
    if (d > m || isnan(d)) m = d;
  }
  return m;
}
