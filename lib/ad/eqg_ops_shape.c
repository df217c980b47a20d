/* eqg_ops_shape.c: reductions, column reshaping and the message-passing
 * primitives (gather / scatter-add / segment mean over an index list).
 *
 * Attributes:
 *   sum, mean          i[0] = axis (eqg_axis); r[0] = factor applied to the sum
 *                      (1 for sum, 1 / (number of reduced elements) for mean)
 *   slice_cols         i[0] = first column
 *   gather_rows        index = idx (n_index = output rows), 0 <= idx[e] < x.rows
 *   scatter_add_rows   index = idx (n_index = x.rows),    0 <= idx[e] < n_out
 *   segment_mean       as scatter_add_rows; aux = eqg_real inv_count[n_out] in
 *                      the tape arena, 1 / |segment| or 0 for an empty segment
 *
 * Index arrays are borrowed, not copied: they must outlive the backward pass.
 * Every index is checked once in the constructor, so the kernels index
 * without checks.  The kernels work on whole contiguous rows (row_copy,
 * row_add, row_axpy below); a row is `m` features of one node or edge. */
#include "ad/eqg_ops.h"

#include <string.h>

/* ---- row helpers: dst and src are always different tensors ---------------- */

static inline void row_copy(eqg_real *restrict dst, const eqg_real *restrict src, size_t m)
{
  for (size_t c = 0; c < m; c++) dst[c] = src[c];
}

static inline void row_add(eqg_real *restrict dst, const eqg_real *restrict src, size_t m)
{
  for (size_t c = 0; c < m; c++) dst[c] += src[c];
}

/* dst += a * src */
static inline void row_axpy(eqg_real *restrict dst, eqg_real a, const eqg_real *restrict src,
                            size_t m)
{
  for (size_t c = 0; c < m; c++) dst[c] += a * src[c];
}

/* ---- sum / mean over rows, cols or all ------------------------------------ *
 * x (n, m);  ROWS: y (1, m), y[c] = s sum_r x[r][c]
 *            COLS: y (n, 1), y[r] = s sum_c x[r][c]
 *            ALL:  y (1, 1), y    = s sum_rc x[r][c]
 * with s = r[0].  Backward broadcasts back: dx[r][c] += s dy[.] */

static void reduce_forward(eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  eqg_real *y = n->out->data;   /* uninitialised */
  const eqg_real s = n->r[0];
  const size_t rows = x->rows, m = x->cols;
  switch ((eqg_axis)n->i[0]) {
  case EQG_AXIS_ROWS:
    for (size_t c = 0; c < m; c++) y[c] = 0;
    for (size_t r = 0; r < rows; r++) row_add(y, x->data + r * m, m);
    for (size_t c = 0; c < m; c++) y[c] *= s;
    break;
  case EQG_AXIS_COLS:
    for (size_t r = 0; r < rows; r++) {
      const eqg_real *xr = x->data + r * m;
      eqg_real acc = 0;
      for (size_t c = 0; c < m; c++) acc += xr[c];
      y[r] = s * acc;
    }
    break;
  case EQG_AXIS_ALL: {
    const size_t size = rows * m;
    eqg_real acc = 0;
    for (size_t i = 0; i < size; i++) acc += x->data[i];
    y[0] = s * acc;
    break;
  }
  }
}

static void reduce_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  if (!x->grad) return;
  const eqg_real *gy = n->out->grad, s = n->r[0];
  const size_t rows = x->rows, m = x->cols;
  switch ((eqg_axis)n->i[0]) {
  case EQG_AXIS_ROWS:   /* dx[r][c] += s dy[c] */
    for (size_t r = 0; r < rows; r++) row_axpy(x->grad + r * m, s, gy, m);
    break;
  case EQG_AXIS_COLS:   /* dx[r][c] += s dy[r] */
    for (size_t r = 0; r < rows; r++) {
      eqg_real *gx = x->grad + r * m, g = s * gy[r];
      for (size_t c = 0; c < m; c++) gx[c] += g;
    }
    break;
  case EQG_AXIS_ALL: {  /* dx[r][c] += s dy */
    const size_t size = rows * m;
    const eqg_real g = s * gy[0];
    for (size_t i = 0; i < size; i++) x->grad[i] += g;
    break;
  }
  }
}

const eqg_op_type eqg_op_sum = { "sum", reduce_forward, reduce_backward };
const eqg_op_type eqg_op_mean = { "mean", reduce_forward, reduce_backward };

static eqg_tensor *reduce_push(eqg_tape *t, eqg_op_kind kind, eqg_tensor *x, eqg_axis axis)
{
  if (t->status != EQG_OK) return NULL;
  const char *name = eqg_op_types[kind]->name;
  if (!x) return eqg_tape_fail(t, EQG_EINVAL, "%s: NULL input", name);
  size_t out_rows, out_cols, count;
  switch (axis) {
  case EQG_AXIS_ROWS: out_rows = 1; out_cols = x->cols; count = x->rows; break;
  case EQG_AXIS_COLS: out_rows = x->rows; out_cols = 1; count = x->cols; break;
  case EQG_AXIS_ALL:  out_rows = 1; out_cols = 1; count = x->rows * x->cols; break;
  default:
    return eqg_tape_fail(t, EQG_EINVAL, "%s: unknown axis %d", name, (int)axis);
  }
  if (kind == EQG_OP_MEAN && count == 0)
    return eqg_tape_fail(t, EQG_ESHAPE, "%s: mean over an empty axis of a %zu x %zu tensor",
                         name, x->rows, x->cols);
  eqg_tensor *in[1] = { x };
  eqg_node *n = eqg_tape_push(t, kind, 1, in, out_rows, out_cols);
  if (!n) return NULL;
  n->i[0] = axis;
  n->r[0] = kind == EQG_OP_MEAN ? 1 / (eqg_real)count : 1;
  return eqg_tape_run(t, n);
}

eqg_tensor *eqg_sum(eqg_tape *t, eqg_tensor *x, eqg_axis axis)
{
  return reduce_push(t, EQG_OP_SUM, x, axis);
}

eqg_tensor *eqg_mean(eqg_tape *t, eqg_tensor *x, eqg_axis axis)
{
  return reduce_push(t, EQG_OP_MEAN, x, axis);
}

/* ---- concat_cols: y (n, ma + mb) = [a (n, ma) | b (n, mb)] ---------------- */

static void concat_cols_forward(eqg_node *n)
{
  const eqg_tensor *a = n->in[0], *b = n->in[1];
  eqg_tensor *y = n->out;
  for (size_t r = 0; r < y->rows; r++) {
    eqg_real *yr = y->data + r * y->cols;
    row_copy(yr, a->data + r * a->cols, a->cols);
    row_copy(yr + a->cols, b->data + r * b->cols, b->cols);
  }
}

/* da[r] += dy[r][0:ma], db[r] += dy[r][ma:ma+mb]; a and b may be the same
 * tensor, so the two halves are added one after the other. */
static void concat_cols_backward(const eqg_node *n)
{
  const eqg_tensor *a = n->in[0], *b = n->in[1], *y = n->out;
  for (size_t r = 0; r < y->rows; r++) {
    const eqg_real *gy = y->grad + r * y->cols;
    if (a->grad) row_add(a->grad + r * a->cols, gy, a->cols);
    if (b->grad) row_add(b->grad + r * b->cols, gy + a->cols, b->cols);
  }
}

const eqg_op_type eqg_op_concat_cols = { "concat_cols", concat_cols_forward,
                                         concat_cols_backward };

eqg_tensor *eqg_concat_cols(eqg_tape *t, eqg_tensor *a, eqg_tensor *b)
{
  if (t->status != EQG_OK) return NULL;
  if (!a || !b) return eqg_tape_fail(t, EQG_EINVAL, "concat_cols: NULL input");
  if (a->rows != b->rows)
    return eqg_tape_fail(t, EQG_ESHAPE, "concat_cols: row counts differ (%zu x %zu | %zu x %zu)",
                         a->rows, a->cols, b->rows, b->cols);
  eqg_tensor *in[2] = { a, b };
  return eqg_tape_run(t, eqg_tape_push(t, EQG_OP_CONCAT_COLS, 2, in, a->rows,
                                       a->cols + b->cols));
}

/* ---- slice_cols: y (n, k) = x (n, m)[:, c0 : c0 + k],  c0 = i[0] ---------- */

static void slice_cols_forward(eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  eqg_tensor *y = n->out;
  const size_t c0 = (size_t)n->i[0];
  for (size_t r = 0; r < y->rows; r++)
    row_copy(y->data + r * y->cols, x->data + r * x->cols + c0, y->cols);
}

/* dx[r][c0 : c0 + k] += dy[r] */
static void slice_cols_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0], *y = n->out;
  if (!x->grad) return;
  const size_t c0 = (size_t)n->i[0];
  for (size_t r = 0; r < y->rows; r++)
    row_add(x->grad + r * x->cols + c0, y->grad + r * y->cols, y->cols);
}

const eqg_op_type eqg_op_slice_cols = { "slice_cols", slice_cols_forward, slice_cols_backward };

eqg_tensor *eqg_slice_cols(eqg_tape *t, eqg_tensor *x, size_t first, size_t count)
{
  if (t->status != EQG_OK) return NULL;
  if (!x) return eqg_tape_fail(t, EQG_EINVAL, "slice_cols: NULL input");
  if (first > x->cols || count > x->cols - first)   /* first + count > cols, no overflow */
    return eqg_tape_fail(t, EQG_ESHAPE,
                         "slice_cols: columns [%zu, %zu + %zu) exceed the %zu columns of a %zu x %zu tensor",
                         first, first, count, x->cols, x->rows, x->cols);
  eqg_tensor *in[1] = { x };
  eqg_node *n = eqg_tape_push(t, EQG_OP_SLICE_COLS, 1, in, x->rows, count);
  if (!n) return NULL;
  n->i[0] = (long)first;
  return eqg_tape_run(t, n);
}

/* ---- index validation shared by gather / scatter / segment mean ----------- */

/* EQG_OK if idx[0..n-1] all lie in [0, bound); else a sticky EQG_ERANGE
 * naming the first bad index and its position. */
static eqg_status check_index(eqg_tape *t, const char *name, const eqg_index *idx, size_t n,
                              size_t bound, const char *bound_what)
{
  if (n > 0 && !idx) {
    eqg_tape_fail(t, EQG_EINVAL, "%s: NULL index array of %zu entries", name, n);
    return t->status;
  }
  for (size_t e = 0; e < n; e++)
    if (idx[e] < 0 || (size_t)idx[e] >= bound) {
      eqg_tape_fail(t, EQG_ERANGE, "%s: index %ld at position %zu is out of range [0, %zu) (%s)",
                    name, (long)idx[e], e, bound, bound_what);
      return t->status;
    }
  return EQG_OK;
}

/* ---- gather_rows: y (E, m), y[e] = x (n, m)[idx[e]] ----------------------- */

static void gather_rows_forward(eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  eqg_tensor *y = n->out;
  const eqg_index *idx = n->index;
  const size_t m = x->cols;
  for (size_t e = 0; e < n->n_index; e++)
    row_copy(y->data + e * m, x->data + (size_t)idx[e] * m, m);
}

/* dx[idx[e]] += dy[e]  (a scatter-add; repeated indices accumulate) */
static void gather_rows_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0], *y = n->out;
  if (!x->grad) return;
  const eqg_index *idx = n->index;
  const size_t m = x->cols;
  for (size_t e = 0; e < n->n_index; e++)
    row_add(x->grad + (size_t)idx[e] * m, y->grad + e * m, m);
}

const eqg_op_type eqg_op_gather_rows = { "gather_rows", gather_rows_forward,
                                         gather_rows_backward };

eqg_tensor *eqg_gather_rows(eqg_tape *t, eqg_tensor *x, const eqg_index *idx, size_t n_idx)
{
  if (t->status != EQG_OK) return NULL;
  if (!x) return eqg_tape_fail(t, EQG_EINVAL, "gather_rows: NULL input");
  if (check_index(t, "gather_rows", idx, n_idx, x->rows, "rows of the input") != EQG_OK)
    return NULL;
  eqg_tensor *in[1] = { x };
  eqg_node *n = eqg_tape_push(t, EQG_OP_GATHER_ROWS, 1, in, n_idx, x->cols);
  if (!n) return NULL;
  n->index = idx;
  n->n_index = n_idx;
  return eqg_tape_run(t, n);
}

/* ---- scatter_add_rows: y (S, m), y[s] = sum_{e: idx[e] = s} x (E, m)[e] ---- */

static void scatter_add_rows_forward(eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  eqg_tensor *y = n->out;   /* uninitialised: zeroed here, then summed into */
  const eqg_index *idx = n->index;
  const size_t m = x->cols;
  if (eqg_tensor_size(y) != 0) memset(y->data, 0, eqg_tensor_size(y) * sizeof *y->data);
  for (size_t e = 0; e < n->n_index; e++)
    row_add(y->data + (size_t)idx[e] * m, x->data + e * m, m);
}

/* dx[e] += dy[idx[e]]  (a gather) */
static void scatter_add_rows_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0], *y = n->out;
  if (!x->grad) return;
  const eqg_index *idx = n->index;
  const size_t m = x->cols;
  for (size_t e = 0; e < n->n_index; e++)
    row_add(x->grad + e * m, y->grad + (size_t)idx[e] * m, m);
}

const eqg_op_type eqg_op_scatter_add_rows = { "scatter_add_rows", scatter_add_rows_forward,
                                              scatter_add_rows_backward };

/* Validates x and idx and records the node; segment_mean adds its aux. */
static eqg_node *scatter_push(eqg_tape *t, eqg_op_kind kind, eqg_tensor *x,
                              const eqg_index *idx, size_t n_out)
{
  if (t->status != EQG_OK) return NULL;
  const char *name = eqg_op_types[kind]->name;
  if (!x) {
    eqg_tape_fail(t, EQG_EINVAL, "%s: NULL input", name);
    return NULL;
  }
  if (check_index(t, name, idx, x->rows, n_out, "output rows") != EQG_OK) return NULL;
  eqg_tensor *in[1] = { x };
  eqg_node *n = eqg_tape_push(t, kind, 1, in, n_out, x->cols);
  if (!n) return NULL;
  n->index = idx;
  n->n_index = x->rows;
  return n;
}

eqg_tensor *eqg_scatter_add_rows(eqg_tape *t, eqg_tensor *x, const eqg_index *idx, size_t n_out)
{
  return eqg_tape_run(t, scatter_push(t, EQG_OP_SCATTER_ADD_ROWS, x, idx, n_out));
}

/* ---- segment_mean: y[s] = inv[s] sum_{e: idx[e] = s} x[e] ----------------- *
 * inv[s] = 1 / |{e: idx[e] = s}|, or 0 for an empty segment (so y[s] = 0 and
 * no gradient, never 0/0).  Forward scatters the sums, then scales each output
 * row once; backward is dx[e] += inv[idx[e]] dy[idx[e]]. */

static void segment_mean_forward(eqg_node *n)
{
  scatter_add_rows_forward(n);
  eqg_tensor *y = n->out;
  const eqg_real *inv = n->aux;
  for (size_t s = 0; s < y->rows; s++) {
    eqg_real *yr = y->data + s * y->cols;
    for (size_t c = 0; c < y->cols; c++) yr[c] *= inv[s];
  }
}

static void segment_mean_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0], *y = n->out;
  if (!x->grad) return;
  const eqg_index *idx = n->index;
  const eqg_real *inv = n->aux;
  const size_t m = x->cols;
  for (size_t e = 0; e < n->n_index; e++) {
    const size_t s = (size_t)idx[e];
    row_axpy(x->grad + e * m, inv[s], y->grad + s * m, m);
  }
}

const eqg_op_type eqg_op_segment_mean = { "segment_mean", segment_mean_forward,
                                          segment_mean_backward };

eqg_tensor *eqg_segment_mean(eqg_tape *t, eqg_tensor *x, const eqg_index *idx, size_t n_out)
{
  eqg_node *n = scatter_push(t, EQG_OP_SEGMENT_MEAN, x, idx, n_out);
  if (!n) return NULL;
  eqg_real *inv = eqg_arena_push(t->arena, (n_out ? n_out : 1) * sizeof *inv);  /* zeroed */
  if (!inv)
    return eqg_tape_fail(t, EQG_ENOMEM, "segment_mean: counts of %zu segments: %s", n_out,
                         eqg_error_message());
  for (size_t e = 0; e < n->n_index; e++) inv[idx[e]] += 1;
  for (size_t s = 0; s < n_out; s++)
    if (inv[s] > 0) inv[s] = 1 / inv[s];
  n->aux = inv;
  return eqg_tape_run(t, n);
}
