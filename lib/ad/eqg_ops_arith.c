/* eqg_ops_arith.c: matmul and broadcasting arithmetic.
 *
 * Attributes: matmul i[0] = trans_a, i[1] = trans_b; scale / add_scalar r[0] = s.
 * Broadcast of b over a (n, m): b is (n, m), (1, m), (n, 1) or (1, 1); element
 * (r, c) of b is b[(r % b.rows) * b.cols + (c % b.cols)], written with strides
 * below so the inner loop has no division. */
#include "ad/eqg_ops.h"
#include "core/eqg_blas.h"

#include <string.h>

/* ---- matmul: C (M, N) = op(A) (M, K) op(B) (K, N) ------------------------- */

static void matmul_forward(eqg_node *n)
{
  const eqg_tensor *a = n->in[0], *b = n->in[1];
  eqg_tensor *c = n->out;
  bool ta = n->i[0], tb = n->i[1];
  size_t k = ta ? a->rows : a->cols;
  if (c->rows == 0 || c->cols == 0) return;
  if (k == 0) {   /* empty sum: the (uninitialised) output is zero */
    memset(c->data, 0, c->rows * c->cols * sizeof *c->data);
    return;
  }
  eqg_dgemm(ta, tb, (int)c->rows, (int)c->cols, (int)k, 1.0, a->data, (int)a->cols, b->data,
            (int)b->cols, 0.0, c->data, (int)c->cols);
}

/* dA = dC op(B)^T (or its transpose), dB = op(A)^T dC (or its transpose). */
static void matmul_backward(const eqg_node *n)
{
  const eqg_tensor *a = n->in[0], *b = n->in[1], *c = n->out;
  bool ta = n->i[0], tb = n->i[1];
  int M = (int)c->rows, N = (int)c->cols, K = (int)(ta ? a->rows : a->cols);
  if (M == 0 || N == 0 || K == 0) return;
  if (a->grad) {
    if (!ta)  /* dA (M, K) = dC (M, N) op(B)^T (N, K) */
      eqg_dgemm(false, !tb, M, K, N, 1.0, c->grad, N, b->data, (int)b->cols, 1.0, a->grad,
                (int)a->cols);
    else      /* dA (K, M) = op(B) (K, N) dC^T (N, M) */
      eqg_dgemm(tb, true, K, M, N, 1.0, b->data, (int)b->cols, c->grad, N, 1.0, a->grad,
                (int)a->cols);
  }
  if (b->grad) {
    if (!tb)  /* dB (K, N) = op(A)^T (K, M) dC (M, N) */
      eqg_dgemm(!ta, false, K, N, M, 1.0, a->data, (int)a->cols, c->grad, N, 1.0, b->grad,
                (int)b->cols);
    else      /* dB (N, K) = dC^T (N, M) op(A) (M, K) */
      eqg_dgemm(true, ta, N, K, M, 1.0, c->grad, N, a->data, (int)a->cols, 1.0, b->grad,
                (int)b->cols);
  }
}

const eqg_op_type eqg_op_matmul = { "matmul", matmul_forward, matmul_backward };

eqg_tensor *eqg_matmul(eqg_tape *t, eqg_tensor *a, bool trans_a, eqg_tensor *b, bool trans_b)
{
  if (t->status != EQG_OK) return NULL;
  if (!a || !b) return eqg_tape_fail(t, EQG_EINVAL, "matmul: NULL input");
  size_t m = trans_a ? a->cols : a->rows, ka = trans_a ? a->rows : a->cols;
  size_t kb = trans_b ? b->cols : b->rows, nn = trans_b ? b->rows : b->cols;
  if (ka != kb)
    return eqg_tape_fail(t, EQG_ESHAPE, "matmul: inner sizes differ (%zu x %zu%s times %zu x %zu%s)",
                         a->rows, a->cols, trans_a ? "^T" : "", b->rows, b->cols,
                         trans_b ? "^T" : "");
  if (m > INT32_MAX || nn > INT32_MAX || ka > INT32_MAX)
    return eqg_tape_fail(t, EQG_ESHAPE, "matmul: sizes exceed the BLAS integer range");
  eqg_tensor *in[2] = { a, b };
  eqg_node *n = eqg_tape_push(t, EQG_OP_MATMUL, 2, in, m, nn);
  if (!n) return NULL;
  n->i[0] = trans_a;
  n->i[1] = trans_b;
  return eqg_tape_run(t, n);
}

/* ---- broadcasting binary ops ---------------------------------------------- */

/* Row and column strides of b as seen from a (n, m) loop: element (r, c) of the
 * broadcast b is b->data[r * rs + c * cs]. */
static void bcast_strides(const eqg_tensor *b, size_t *rs, size_t *cs)
{
  *rs = b->rows == 1 ? 0 : b->cols;
  *cs = b->cols == 1 ? 0 : 1;
}

typedef enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV } bin_kind;

static void binary_forward(eqg_node *n, bin_kind k)
{
  const eqg_tensor *a = n->in[0], *b = n->in[1];
  eqg_real *y = n->out->data;
  size_t rs, cs;
  bcast_strides(b, &rs, &cs);
  for (size_t r = 0; r < a->rows; r++) {
    const eqg_real *ar = a->data + r * a->cols, *br = b->data + r * rs;
    eqg_real *yr = y + r * a->cols;
    for (size_t c = 0; c < a->cols; c++) {
      eqg_real bv = br[c * cs];
      switch (k) {
      case BIN_ADD: yr[c] = ar[c] + bv; break;
      case BIN_SUB: yr[c] = ar[c] - bv; break;
      case BIN_MUL: yr[c] = ar[c] * bv; break;
      case BIN_DIV: yr[c] = ar[c] / bv; break;
      }
    }
  }
}

/* da = dy * dy/da; db accumulates over broadcast rows/cols. */
static void binary_backward(const eqg_node *n, bin_kind k)
{
  const eqg_tensor *a = n->in[0], *b = n->in[1];
  const eqg_real *gy = n->out->grad;
  size_t rs, cs;
  bcast_strides(b, &rs, &cs);
  for (size_t r = 0; r < a->rows; r++) {
    const eqg_real *ar = a->data + r * a->cols, *br = b->data + r * rs;
    const eqg_real *gr = gy + r * a->cols;
    eqg_real *gar = a->grad ? a->grad + r * a->cols : NULL;
    eqg_real *gbr = b->grad ? b->grad + r * rs : NULL;
    for (size_t c = 0; c < a->cols; c++) {
      eqg_real bv = br[c * cs], g = gr[c], da, db;
      switch (k) {
      case BIN_ADD: da = g; db = g; break;
      case BIN_SUB: da = g; db = -g; break;
      case BIN_MUL: da = g * bv; db = g * ar[c]; break;
      default:      da = g / bv; db = -g * ar[c] / (bv * bv); break;
      }
      if (gar) gar[c] += da;
      if (gbr) gbr[c * cs] += db;
    }
  }
}

#define EQG_BINARY_OP(lower, KIND, OPKIND)                                       \
  static void lower##_forward(eqg_node *n) { binary_forward(n, KIND); }          \
  static void lower##_backward(const eqg_node *n) { binary_backward(n, KIND); }  \
  const eqg_op_type eqg_op_##lower = { #lower, lower##_forward, lower##_backward }; \
  eqg_tensor *eqg_##lower(eqg_tape *t, eqg_tensor *a, eqg_tensor *b)             \
  {                                                                              \
    return binary_push(t, OPKIND, a, b);                                         \
  }

static eqg_tensor *binary_push(eqg_tape *t, eqg_op_kind kind, eqg_tensor *a, eqg_tensor *b)
{
  if (t->status != EQG_OK) return NULL;
  if (!a || !b) return eqg_tape_fail(t, EQG_EINVAL, "%s: NULL input", eqg_op_types[kind]->name);
  bool rows_ok = b->rows == a->rows || b->rows == 1;
  bool cols_ok = b->cols == a->cols || b->cols == 1;
  if (!rows_ok || !cols_ok)
    return eqg_tape_fail(t, EQG_ESHAPE, "%s: cannot broadcast %zu x %zu onto %zu x %zu",
                         eqg_op_types[kind]->name, b->rows, b->cols, a->rows, a->cols);
  eqg_tensor *in[2] = { a, b };
  return eqg_tape_run(t, eqg_tape_push(t, kind, 2, in, a->rows, a->cols));
}

EQG_BINARY_OP(add, BIN_ADD, EQG_OP_ADD)
EQG_BINARY_OP(sub, BIN_SUB, EQG_OP_SUB)
EQG_BINARY_OP(mul, BIN_MUL, EQG_OP_MUL)
EQG_BINARY_OP(div, BIN_DIV, EQG_OP_DIV)

/* ---- scale and add-scalar: y = s x, y = x + s ----------------------------- */

static void scale_forward(eqg_node *n)
{
  size_t m = eqg_tensor_size(n->out);
  for (size_t i = 0; i < m; i++) n->out->data[i] = n->r[0] * n->in[0]->data[i];
}

static void scale_backward(const eqg_node *n)
{
  if (!n->in[0]->grad) return;
  size_t m = eqg_tensor_size(n->out);
  for (size_t i = 0; i < m; i++) n->in[0]->grad[i] += n->r[0] * n->out->grad[i];
}

static void add_scalar_forward(eqg_node *n)
{
  size_t m = eqg_tensor_size(n->out);
  for (size_t i = 0; i < m; i++) n->out->data[i] = n->in[0]->data[i] + n->r[0];
}

static void add_scalar_backward(const eqg_node *n)
{
  if (!n->in[0]->grad) return;
  size_t m = eqg_tensor_size(n->out);
  for (size_t i = 0; i < m; i++) n->in[0]->grad[i] += n->out->grad[i];
}

const eqg_op_type eqg_op_scale = { "scale", scale_forward, scale_backward };
const eqg_op_type eqg_op_add_scalar = { "add_scalar", add_scalar_forward, add_scalar_backward };

static eqg_tensor *scalar_push(eqg_tape *t, eqg_op_kind kind, eqg_tensor *x, eqg_real s)
{
  if (t->status != EQG_OK) return NULL;
  eqg_tensor *in[1] = { x };
  eqg_node *n = eqg_tape_push(t, kind, 1, in, x ? x->rows : 0, x ? x->cols : 0);
  if (!n) return NULL;
  n->r[0] = s;
  return eqg_tape_run(t, n);
}

eqg_tensor *eqg_scale(eqg_tape *t, eqg_tensor *x, eqg_real s)
{
  return scalar_push(t, EQG_OP_SCALE, x, s);
}

eqg_tensor *eqg_add_scalar(eqg_tape *t, eqg_tensor *x, eqg_real s)
{
  return scalar_push(t, EQG_OP_ADD_SCALAR, x, s);
}
