/* eqg_ops_geom.c: row-wise bilinear forms and squared norms.
 *
 * bilinear_rows: in[0] = x (n, d), in[1] = z (n, d), in[2] = G (d, d) only for
 *   EQG_METRIC_GENERAL (n_in = 3, else 2); out (n, 1).  i[0] = metric.
 *   y_i = x_i^T G z_i with G = I (Euclidean), diag(1, -1, -1, -1) (Minkowski,
 *   d = 4) or the tensor in[2].  x and z may be the same tensor (y_i = x_i^T G
 *   x_i): backward only reads data and adds into grads, so the two
 *   contributions accumulate in the shared buffer.
 * sqnorm_rows: in[0] = x (n, d); out (n, 1); y_i = sum_k x_ik^2.
 *
 * The feature dimension d is small (3 or 4 for coordinates), so plain loops
 * beat BLAS calls here; the general metric costs O(n d^2). */
#include "ad/eqg_ops.h"

/* Minkowski signature (+, -, -, -). */
static const eqg_real eta[4] = { 1, -1, -1, -1 };

/* ---- bilinear_rows: y (n, 1) = rowwise x^T G z --------------------------- */

static void bilinear_rows_forward(eqg_node *n)
{
  const eqg_tensor *x = n->in[0], *z = n->in[1];
  eqg_real *y = n->out->data;
  size_t rows = x->rows, d = x->cols;
  switch ((eqg_metric)n->i[0]) {
  case EQG_METRIC_EUCLIDEAN:
    for (size_t i = 0; i < rows; i++) {
      const eqg_real *xi = x->data + i * d, *zi = z->data + i * d;
      eqg_real s = 0;
      for (size_t k = 0; k < d; k++) s += xi[k] * zi[k];
      y[i] = s;
    }
    break;
  case EQG_METRIC_MINKOWSKI:   /* x0 z0 - x1 z1 - x2 z2 - x3 z3 */
    for (size_t i = 0; i < rows; i++) {
      const eqg_real *xi = x->data + 4 * i, *zi = z->data + 4 * i;
      y[i] = xi[0] * zi[0] - xi[1] * zi[1] - xi[2] * zi[2] - xi[3] * zi[3];
    }
    break;
  case EQG_METRIC_GENERAL: {   /* sum_a x_ia (sum_b G_ab z_ib) */
    const eqg_real *G = n->in[2]->data;
    for (size_t i = 0; i < rows; i++) {
      const eqg_real *xi = x->data + i * d, *zi = z->data + i * d;
      eqg_real s = 0;
      for (size_t a = 0; a < d; a++) {
        const eqg_real *Ga = G + a * d;
        eqg_real gz = 0;
        for (size_t b = 0; b < d; b++) gz += Ga[b] * zi[b];
        s += xi[a] * gz;
      }
      y[i] = s;
    }
    break;
  }
  }
}

/* dx_i += g_i G z_i;  dz_i += g_i G^T x_i;  dG += sum_i g_i x_i z_i^T. */
static void bilinear_rows_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0], *z = n->in[1];
  const eqg_real *gy = n->out->grad;
  size_t rows = x->rows, d = x->cols;
  eqg_real *gx = x->grad, *gz = z->grad;
  switch ((eqg_metric)n->i[0]) {
  case EQG_METRIC_EUCLIDEAN:
  case EQG_METRIC_MINKOWSKI: {
    bool mink = n->i[0] == EQG_METRIC_MINKOWSKI;
    for (size_t i = 0; i < rows; i++) {
      const eqg_real *xi = x->data + i * d, *zi = z->data + i * d;
      eqg_real g = gy[i];
      for (size_t k = 0; k < d; k++) {
        eqg_real w = mink ? g * eta[k] : g;   /* g_i G_kk */
        if (gx) gx[i * d + k] += w * zi[k];
        if (gz) gz[i * d + k] += w * xi[k];
      }
    }
    break;
  }
  case EQG_METRIC_GENERAL: {
    const eqg_tensor *Gt = n->in[2];
    const eqg_real *G = Gt->data;
    eqg_real *gG = Gt->grad;
    for (size_t i = 0; i < rows; i++) {
      const eqg_real *xi = x->data + i * d, *zi = z->data + i * d;
      eqg_real g = gy[i];
      for (size_t a = 0; a < d; a++) {
        const eqg_real *Ga = G + a * d;
        if (gx) {   /* (G z_i)_a */
          eqg_real s = 0;
          for (size_t b = 0; b < d; b++) s += Ga[b] * zi[b];
          gx[i * d + a] += g * s;
        }
        eqg_real gxa = g * xi[a];
        if (gz)     /* (G^T x_i)_b gets x_ia G_ab */
          for (size_t b = 0; b < d; b++) gz[i * d + b] += gxa * Ga[b];
        if (gG)     /* dG_ab += g_i x_ia z_ib */
          for (size_t b = 0; b < d; b++) gG[a * d + b] += gxa * zi[b];
      }
    }
    break;
  }
  }
}

const eqg_op_type eqg_op_bilinear_rows = { "bilinear_rows", bilinear_rows_forward,
                                           bilinear_rows_backward };

eqg_tensor *eqg_bilinear_rows(eqg_tape *t, eqg_tensor *x, eqg_tensor *z,
                              eqg_metric metric, eqg_tensor *G)
{
  if (t->status != EQG_OK) return NULL;
  if (!x || !z) return eqg_tape_fail(t, EQG_EINVAL, "bilinear_rows: NULL input");
  if (x->rows != z->rows || x->cols != z->cols)
    return eqg_tape_fail(t, EQG_ESHAPE, "bilinear_rows: x is %zu x %zu but z is %zu x %zu",
                         x->rows, x->cols, z->rows, z->cols);
  switch (metric) {
  case EQG_METRIC_EUCLIDEAN:
  case EQG_METRIC_MINKOWSKI:
    if (G)
      return eqg_tape_fail(t, EQG_EINVAL, "bilinear_rows: G must be NULL unless the "
                           "metric is EQG_METRIC_GENERAL");
    if (metric == EQG_METRIC_MINKOWSKI && x->cols != 4)
      return eqg_tape_fail(t, EQG_ESHAPE, "bilinear_rows: the Minkowski metric needs "
                           "4 columns, got %zu", x->cols);
    break;
  case EQG_METRIC_GENERAL:
    if (!G)
      return eqg_tape_fail(t, EQG_EINVAL, "bilinear_rows: EQG_METRIC_GENERAL needs G");
    if (G->rows != x->cols || G->cols != x->cols)
      return eqg_tape_fail(t, EQG_ESHAPE, "bilinear_rows: G is %zu x %zu, need %zu x %zu",
                           G->rows, G->cols, x->cols, x->cols);
    break;
  default:
    return eqg_tape_fail(t, EQG_EINVAL, "bilinear_rows: unknown metric %d", (int)metric);
  }
  eqg_tensor *in[3] = { x, z, G };
  eqg_node *n = eqg_tape_push(t, EQG_OP_BILINEAR_ROWS, metric == EQG_METRIC_GENERAL ? 3 : 2,
                              in, x->rows, 1);
  if (!n) return NULL;
  n->i[0] = metric;
  return eqg_tape_run(t, n);
}

/* ---- sqnorm_rows: y (n, 1) = rowwise |x|^2 -------------------------------- */

static void sqnorm_rows_forward(eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  size_t d = x->cols;
  for (size_t i = 0; i < x->rows; i++) {
    const eqg_real *xi = x->data + i * d;
    eqg_real s = 0;
    for (size_t k = 0; k < d; k++) s += xi[k] * xi[k];
    n->out->data[i] = s;
  }
}

/* dx_ik += 2 g_i x_ik */
static void sqnorm_rows_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  if (!x->grad) return;
  size_t d = x->cols;
  for (size_t i = 0; i < x->rows; i++) {
    eqg_real g2 = 2 * n->out->grad[i];
    const eqg_real *xi = x->data + i * d;
    eqg_real *gi = x->grad + i * d;
    for (size_t k = 0; k < d; k++) gi[k] += g2 * xi[k];
  }
}

const eqg_op_type eqg_op_sqnorm_rows = { "sqnorm_rows", sqnorm_rows_forward,
                                         sqnorm_rows_backward };

eqg_tensor *eqg_sqnorm_rows(eqg_tape *t, eqg_tensor *x)
{
  if (t->status != EQG_OK) return NULL;
  if (!x) return eqg_tape_fail(t, EQG_EINVAL, "sqnorm_rows: NULL input");
  eqg_tensor *in[1] = { x };
  return eqg_tape_run(t, eqg_tape_push(t, EQG_OP_SQNORM_ROWS, 1, in, x->rows, 1));
}
