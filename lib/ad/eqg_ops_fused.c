/* eqg_ops_fused.c: affine maps fused with a bias and an activation.
 *
 * A Linear layer followed by an activation is, as separate ops, a matmul, a
 * broadcast add and an elementwise op: three (n, out) outputs, three zeroed
 * gradients and five passes over memory.  On the edge tensors of a message-
 * passing layer (E rows, E in the thousands) that traffic, not the products,
 * sets the time.  The ops here produce the activation's output directly:
 *
 *   affine       in[0] = x (n, k), in[1] = W (k, m), in[2] = b (1, m) or (n, m)
 *                (n_in = 2 without bias);  y = f(x W + b)
 *   edge_affine  in[0] = u (N, m), in[1] = v (N, m) and, with edge scalars,
 *                in[2] = z (E, K), in[3] = W (K, m) (n_in = 4, else 2);
 *                index = dst (n_index = E), aux = edge_saved (src, d);
 *                y_e = f(u[dst[e]] + v[src[e]] + z_e W)
 *
 * with i[0] = f (eqg_fuse_act), r[0] = its slope (leaky_relu).  Forward writes
 * the pre-activation into y (the bias or gathered rows first, then dgemm
 * accumulates the product onto them with beta = 1, the same sums in the same
 * order as matmul then add), applies f in place and, if y has a gradient,
 * saves d = f'(pre) (n, m) in the tape arena (affine: aux = d).
 *
 * Backward first turns y's gradient into the pre-activation's in place,
 * g = dy * d (y->grad is consumed: only this node reads it, and no later
 * reader of intermediate gradients exists on a tape), then:
 *   dx += g W^T, dW += x^T g (dgemm), db += g (full) or the sum of g's rows
 *   (row by row, a fixed order); edge_affine: du[dst[e]] += g_e and
 *   dv[src[e]] += g_e in edge order, dz += g W^T, dW += z^T g. */
#include "ad/eqg_ops.h"
#include "ad/eqg_ops_fuse.h"
#include "core/eqg_blas.h"

#include <math.h>
#include <string.h>

/* g *= d (the activation's derivative at the pre-activation); NONE: nothing. */
static void fuse_act_backward(const eqg_node *n, eqg_real *restrict g, const eqg_real *restrict d,
                              size_t size)
{
  if ((eqg_fuse_act)n->i[0] == EQG_FUSE_NONE) return;
  for (size_t i = 0; i < size; i++) g[i] *= d[i];
}

/* Allocate d for a node whose output has a gradient and a non-identity f. */
static eqg_real *fuse_saved(eqg_tape *t, const eqg_node *n, const char *name)
{
  if (!n->out->grad || (eqg_fuse_act)n->i[0] == EQG_FUSE_NONE) return NULL;
  const size_t size = eqg_tensor_size(n->out);
  eqg_real *d = eqg_arena_push_uninit(t->arena, (size ? size : 1) * sizeof *d);
  if (!d)
    eqg_tape_fail(t, EQG_ENOMEM, "%s: saved derivative of %zu x %zu: %s", name, n->out->rows,
                  n->out->cols, eqg_error_message());
  return d;
}

static bool fuse_act_ok(eqg_tape *t, const char *name, eqg_fuse_act act, eqg_real slope)
{
  if (act < 0 || act >= EQG_FUSE_ACT_COUNT) {
    eqg_tape_fail(t, EQG_EINVAL, "%s: unknown activation %d", name, (int)act);
    return false;
  }
  if (act == EQG_FUSE_LEAKY_RELU && !isfinite(slope)) {
    eqg_tape_fail(t, EQG_EINVAL, "%s: leaky_relu slope %g is not finite", name, slope);
    return false;
  }
  return true;
}

/* ---- affine: y (n, m) = f(x (n, k) W (k, m) + b) ---------------------------- */

static void affine_forward(eqg_node *n)
{
  const eqg_tensor *x = n->in[0], *w = n->in[1], *b = n->n_in > 2 ? n->in[2] : NULL;
  eqg_tensor *y = n->out;
  const size_t rows = y->rows, m = y->cols, k = x->cols;
  if (rows == 0 || m == 0) return;
  if (!b) {
    if (k == 0) memset(y->data, 0, rows * m * sizeof *y->data);
  } else if (b->rows == rows) {
    memcpy(y->data, b->data, rows * m * sizeof *y->data);
  } else {
    for (size_t r = 0; r < rows; r++) memcpy(y->data + r * m, b->data, m * sizeof *y->data);
  }
  if (k > 0)
    eqg_dgemm(false, false, (int)rows, (int)m, (int)k, 1.0, x->data, (int)k, w->data, (int)m,
              b ? 1.0 : 0.0, y->data, (int)m);
  eqg_fuse_act_forward((eqg_fuse_act)n->i[0], n->r[0], rows * m, y->data, n->aux);
}

static void affine_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0], *w = n->in[1], *b = n->n_in > 2 ? n->in[2] : NULL;
  const eqg_tensor *y = n->out;
  const size_t rows = y->rows, m = y->cols, k = x->cols;
  if (rows == 0 || m == 0) return;
  eqg_real *restrict g = y->grad;
  const eqg_real *restrict d = n->aux;
  if (d && b && b->grad && b->rows == 1 && b != x && b != w) {
    /* g *= d and db += the rows of g in one pass (the same sums in the same
     * order as the two passes below) */
    eqg_real *restrict gb = b->grad;
    for (size_t r = 0; r < rows; r++) {
      eqg_real *restrict gr = g + r * m;
      const eqg_real *restrict dr = d + r * m;
      for (size_t c = 0; c < m; c++) {
        gr[c] *= dr[c];
        gb[c] += gr[c];
      }
    }
    b = NULL;   /* done */
  } else if (d) {
    fuse_act_backward(n, g, d, rows * m);
  }
  if (k > 0 && x->grad)   /* dx (n, k) += g (n, m) W^T (m, k) */
    eqg_dgemm(false, true, (int)rows, (int)k, (int)m, 1.0, g, (int)m, w->data, (int)m, 1.0,
              x->grad, (int)k);
  if (k > 0 && w->grad)   /* dW (k, m) += x^T (k, n) g (n, m) */
    eqg_dgemm(true, false, (int)k, (int)m, (int)rows, 1.0, x->data, (int)k, g, (int)m, 1.0,
              w->grad, (int)m);
  if (b && b->grad) {
    eqg_real *restrict gb = b->grad;
    if (b->rows == rows) {
      for (size_t i = 0; i < rows * m; i++) gb[i] += g[i];
    } else {
      for (size_t r = 0; r < rows; r++) {
        const eqg_real *restrict gr = g + r * m;
        for (size_t c = 0; c < m; c++) gb[c] += gr[c];
      }
    }
  }
}

const eqg_op_type eqg_op_affine = { "affine", affine_forward, affine_backward };

eqg_tensor *eqg_affine(eqg_tape *t, eqg_tensor *x, eqg_tensor *w, eqg_tensor *b,
                       eqg_fuse_act act, eqg_real slope)
{
  if (t->status != EQG_OK) return NULL;
  if (!x || !w) return eqg_tape_fail(t, EQG_EINVAL, "affine: NULL input");
  if (!fuse_act_ok(t, "affine", act, slope)) return NULL;
  if (x->cols != w->rows)
    return eqg_tape_fail(t, EQG_ESHAPE, "affine: x is %zu x %zu but W is %zu x %zu",
                         x->rows, x->cols, w->rows, w->cols);
  if (b && (b->cols != w->cols || (b->rows != 1 && b->rows != x->rows)))
    return eqg_tape_fail(t, EQG_ESHAPE, "affine: b is %zu x %zu, need 1 x %zu or %zu x %zu",
                         b->rows, b->cols, w->cols, x->rows, w->cols);
  if (x->rows > INT32_MAX || x->cols > INT32_MAX || w->cols > INT32_MAX)
    return eqg_tape_fail(t, EQG_ESHAPE, "affine: sizes exceed the BLAS integer range");
  eqg_tensor *in[3] = { x, w, b };
  eqg_node *n = eqg_tape_push(t, EQG_OP_AFFINE, b ? 3 : 2, in, x->rows, w->cols);
  if (!n) return NULL;
  n->i[0] = act;
  n->r[0] = slope;
  n->aux = fuse_saved(t, n, "affine");
  if (t->status != EQG_OK) return NULL;
  return eqg_tape_run(t, n);
}

/* ---- edge_affine: y_e = f(u[dst[e]] + v[src[e]] + z_e W) ------------------- */

typedef struct edge_saved {
  const eqg_index *src;   /* (E), caller-owned */
  eqg_real *d;            /* (E, m) f' at the pre-activation, or NULL */
} edge_saved;

static void edge_affine_forward(eqg_node *n)
{
  const eqg_tensor *u = n->in[0], *v = n->in[1];
  eqg_tensor *y = n->out;
  const edge_saved *s = n->aux;
  const eqg_index *dst = n->index, *src = s->src;
  const size_t E = y->rows, m = y->cols;
  for (size_t e = 0; e < E; e++) {
    eqg_real *restrict ye = y->data + e * m;
    const eqg_real *restrict ue = u->data + (size_t)dst[e] * m;
    const eqg_real *restrict ve = v->data + (size_t)src[e] * m;
    for (size_t c = 0; c < m; c++) ye[c] = ue[c] + ve[c];
  }
  if (n->n_in > 2 && E > 0 && m > 0 && n->in[2]->cols > 0) {
    const eqg_tensor *z = n->in[2], *w = n->in[3];
    eqg_dgemm(false, false, (int)E, (int)m, (int)z->cols, 1.0, z->data, (int)z->cols, w->data,
              (int)m, 1.0, y->data, (int)m);
  }
  eqg_fuse_act_forward((eqg_fuse_act)n->i[0], n->r[0], E * m, y->data, s->d);
}

static void edge_affine_backward(const eqg_node *n)
{
  const eqg_tensor *u = n->in[0], *v = n->in[1], *y = n->out;
  const edge_saved *s = n->aux;
  const eqg_index *dst = n->index, *src = s->src;
  const size_t E = y->rows, m = y->cols;
  eqg_real *restrict g = y->grad;
  fuse_act_backward(n, g, s->d, E * m);
  if (u->grad)
    for (size_t e = 0; e < E; e++) {
      eqg_real *restrict du = u->grad + (size_t)dst[e] * m;
      const eqg_real *restrict ge = g + e * m;
      for (size_t c = 0; c < m; c++) du[c] += ge[c];
    }
  if (v->grad)
    for (size_t e = 0; e < E; e++) {
      eqg_real *restrict dv = v->grad + (size_t)src[e] * m;
      const eqg_real *restrict ge = g + e * m;
      for (size_t c = 0; c < m; c++) dv[c] += ge[c];
    }
  if (n->n_in > 2 && E > 0 && m > 0 && n->in[2]->cols > 0) {
    const eqg_tensor *z = n->in[2], *w = n->in[3];
    const int K = (int)z->cols;
    if (z->grad)   /* dz (E, K) += g (E, m) W^T (m, K) */
      eqg_dgemm(false, true, (int)E, K, (int)m, 1.0, g, (int)m, w->data, (int)m, 1.0, z->grad, K);
    if (w->grad)   /* dW (K, m) += z^T (K, E) g (E, m) */
      eqg_dgemm(true, false, K, (int)m, (int)E, 1.0, z->data, K, g, (int)m, 1.0, w->grad, (int)m);
  }
}

const eqg_op_type eqg_op_edge_affine = { "edge_affine", edge_affine_forward,
                                         edge_affine_backward };

/* EQG_OK if idx[0..n-1] lie in [0, bound); else a sticky EQG_ERANGE. */
static bool index_ok(eqg_tape *t, const char *what, const eqg_index *idx, size_t n, size_t bound)
{
  if (n > 0 && !idx) {
    eqg_tape_fail(t, EQG_EINVAL, "edge_affine: NULL %s index of %zu entries", what, n);
    return false;
  }
  for (size_t e = 0; e < n; e++)
    if (idx[e] < 0 || (size_t)idx[e] >= bound) {
      eqg_tape_fail(t, EQG_ERANGE, "edge_affine: %s index %ld at position %zu is out of range "
                    "[0, %zu)", what, (long)idx[e], e, bound);
      return false;
    }
  return true;
}

eqg_tensor *eqg_edge_affine(eqg_tape *t, eqg_tensor *u, const eqg_index *dst, eqg_tensor *v,
                            const eqg_index *src, size_t n_edges, eqg_tensor *z, eqg_tensor *w,
                            eqg_fuse_act act, eqg_real slope)
{
  if (t->status != EQG_OK) return NULL;
  if (!u || !v) return eqg_tape_fail(t, EQG_EINVAL, "edge_affine: NULL node input");
  if (!fuse_act_ok(t, "edge_affine", act, slope)) return NULL;
  if (!z != !w)
    return eqg_tape_fail(t, EQG_EINVAL, "edge_affine: z and W must be both given or both NULL");
  if (u->rows != v->rows || u->cols != v->cols)
    return eqg_tape_fail(t, EQG_ESHAPE, "edge_affine: u is %zu x %zu but v is %zu x %zu",
                         u->rows, u->cols, v->rows, v->cols);
  if (z && (z->rows != n_edges || w->rows != z->cols || w->cols != u->cols))
    return eqg_tape_fail(t, EQG_ESHAPE, "edge_affine: z is %zu x %zu and W %zu x %zu, need "
                         "%zu x K and K x %zu", z->rows, z->cols, w->rows, w->cols, n_edges,
                         u->cols);
  if (n_edges > INT32_MAX || u->cols > INT32_MAX || (z && z->cols > INT32_MAX))
    return eqg_tape_fail(t, EQG_ESHAPE, "edge_affine: sizes exceed the BLAS integer range");
  if (!index_ok(t, "dst", dst, n_edges, u->rows) || !index_ok(t, "src", src, n_edges, v->rows))
    return NULL;
  eqg_tensor *in[4] = { u, v, z, w };
  eqg_node *n = eqg_tape_push(t, EQG_OP_EDGE_AFFINE, z ? 4 : 2, in, n_edges, u->cols);
  if (!n) return NULL;
  n->i[0] = act;
  n->r[0] = slope;
  n->index = dst;
  n->n_index = n_edges;
  edge_saved *s = eqg_arena_push_uninit(t->arena, sizeof *s);
  if (!s)
    return eqg_tape_fail(t, EQG_ENOMEM, "edge_affine: saved state: %s", eqg_error_message());
  *s = (edge_saved){ .src = src, .d = fuse_saved(t, n, "edge_affine") };
  n->aux = s;
  if (t->status != EQG_OK) return NULL;
  return eqg_tape_run(t, n);
}
