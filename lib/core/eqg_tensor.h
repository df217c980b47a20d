/* eqg_tensor.h: 2-D row-major tensors.
 *
 * rows = nodes, edges or graphs; cols = features.  Element (r, c) is
 * data[r * cols + c].  `grad` has the same shape and is NULL when no gradient
 * flows into this tensor.  A tensor does not own its storage: it lives in a
 * tape arena (intermediates, inputs) or in a parameter block (weights). */
#ifndef EQG_TENSOR_H
#define EQG_TENSOR_H

#include "core/eqg_core.h"
#include "core/eqg_arena.h"

typedef struct eqg_tensor {
  size_t rows, cols;
  eqg_real *data;   /* (rows, cols) */
  eqg_real *grad;   /* (rows, cols) or NULL */
} eqg_tensor;

static inline size_t eqg_tensor_size(const eqg_tensor *t) { return t->rows * t->cols; }

static inline eqg_real *eqg_tensor_at(const eqg_tensor *t, size_t r, size_t c)
{
  return t->data + r * t->cols + c;
}

/* Zeroed tensor in an arena; with_grad also allocates a zeroed gradient. */
eqg_tensor *eqg_tensor_new(eqg_arena *a, size_t rows, size_t cols, bool with_grad);

/* Same with UNINITIALISED data (for outputs the caller fully overwrites); the
 * gradient, if any, is still zeroed (backward accumulates into it). */
eqg_tensor *eqg_tensor_new_uninit(eqg_arena *a, size_t rows, size_t cols, bool with_grad);

/* Tensor in an arena holding a copy of `data` (rows*cols values). */
eqg_tensor *eqg_tensor_from(eqg_arena *a, size_t rows, size_t cols,
                            const eqg_real *data, bool with_grad);

void eqg_tensor_fill(eqg_tensor *t, eqg_real v);

/* EQG_ENONFINITE naming `what` and the first bad element, or EQG_OK. */
eqg_status eqg_tensor_check_finite(const eqg_tensor *t, const char *what);

/* Largest |a - b| over elements; shapes must agree. */
eqg_real eqg_tensor_max_abs_diff(const eqg_tensor *a, const eqg_tensor *b);

#endif
