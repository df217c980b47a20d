/* eqg_ops_loss.c: scalar losses, each a (1, 1) mean.
 *
 * mse: in[0] = a (n, m), in[1] = b (n, m); y = (1/nm) sum (a - b)^2.
 * bce_logits: in[0] = logits x (n, 1), in[1] = targets t (n, 1) in [0, 1];
 *   y = (1/n) sum_i max(x_i, 0) - x_i t_i + log1p(exp(-|x_i|)), the stable form
 *   of -t log sigmoid(x) - (1 - t) log(1 - sigmoid(x)).  Targets never receive
 *   a gradient (their grad buffer, if any, is left untouched).
 * softmax_xent: in[0] = logits x (n, C); index = labels (n_index = n), each in
 *   [0, C), caller-owned and alive until backward; aux = lse (n) in the tape
 *   arena, lse_i = log sum_c exp(x_ic) computed as m_i + log sum_c
 *   exp(x_ic - m_i) with m_i = max_c x_ic;  y = (1/n) sum_i lse_i - x_i,label_i. */
#include "ad/eqg_ops.h"

#include <math.h>

/* ---- mse ------------------------------------------------------------------ */

static void mse_forward(eqg_node *n)
{
  const eqg_tensor *a = n->in[0], *b = n->in[1];
  size_t m = eqg_tensor_size(a);
  eqg_real s = 0;
  for (size_t e = 0; e < m; e++) {
    eqg_real d = a->data[e] - b->data[e];
    s += d * d;
  }
  n->out->data[0] = s / (eqg_real)m;
}

/* da += 2 g (a - b) / N;  db -= 2 g (a - b) / N  (a == b gives 0 + 0: the two
 * loops run one after the other, so a shared buffer sees both). */
static void mse_backward(const eqg_node *n)
{
  const eqg_tensor *a = n->in[0], *b = n->in[1];
  const size_t m = eqg_tensor_size(a);
  const eqg_real c = 2 * n->out->grad[0] / (eqg_real)m;
  const eqg_real *restrict ad = a->data, *restrict bd = b->data;
  if (a->grad) {
    eqg_real *restrict ga = a->grad;
    for (size_t e = 0; e < m; e++) ga[e] += c * (ad[e] - bd[e]);
  }
  if (b->grad) {
    eqg_real *restrict gb = b->grad;
    for (size_t e = 0; e < m; e++) gb[e] -= c * (ad[e] - bd[e]);
  }
}

const eqg_op_type eqg_op_mse = { "mse", mse_forward, mse_backward };

eqg_tensor *eqg_mse(eqg_tape *t, eqg_tensor *a, eqg_tensor *b)
{
  if (t->status != EQG_OK) return NULL;
  if (!a || !b) return eqg_tape_fail(t, EQG_EINVAL, "mse: NULL input");
  if (a->rows != b->rows || a->cols != b->cols)
    return eqg_tape_fail(t, EQG_ESHAPE, "mse: a is %zu x %zu but b is %zu x %zu",
                         a->rows, a->cols, b->rows, b->cols);
  if (eqg_tensor_size(a) == 0)
    return eqg_tape_fail(t, EQG_ESHAPE, "mse: empty input (%zu x %zu)", a->rows, a->cols);
  eqg_tensor *in[2] = { a, b };
  return eqg_tape_run(t, eqg_tape_push(t, EQG_OP_MSE, 2, in, 1, 1));
}

/* ---- bce_logits ----------------------------------------------------------- */

/* sigmoid(x) without overflow: e^{-|x|} <= 1 always. */
static eqg_real stable_sigmoid(eqg_real x)
{
  eqg_real e = exp(-fabs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

static void bce_logits_forward(eqg_node *n)
{
  const eqg_real *x = n->in[0]->data, *tg = n->in[1]->data;
  size_t rows = n->in[0]->rows;
  eqg_real s = 0;
  for (size_t i = 0; i < rows; i++)
    s += fmax(x[i], 0) - x[i] * tg[i] + log1p(exp(-fabs(x[i])));
  n->out->data[0] = s / (eqg_real)rows;
}

/* dx_i += g (sigmoid(x_i) - t_i) / n */
static void bce_logits_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  if (!x->grad) return;
  const eqg_real *tg = n->in[1]->data;
  size_t rows = x->rows;
  eqg_real c = n->out->grad[0] / (eqg_real)rows;
  for (size_t i = 0; i < rows; i++) x->grad[i] += c * (stable_sigmoid(x->data[i]) - tg[i]);
}

const eqg_op_type eqg_op_bce_logits = { "bce_logits", bce_logits_forward, bce_logits_backward };

eqg_tensor *eqg_bce_logits(eqg_tape *t, eqg_tensor *logits, eqg_tensor *targets)
{
  if (t->status != EQG_OK) return NULL;
  if (!logits || !targets) return eqg_tape_fail(t, EQG_EINVAL, "bce_logits: NULL input");
  if (logits->cols != 1 || targets->cols != 1 || logits->rows != targets->rows)
    return eqg_tape_fail(t, EQG_ESHAPE, "bce_logits: logits %zu x %zu and targets %zu x %zu, "
                         "need n x 1 each", logits->rows, logits->cols, targets->rows,
                         targets->cols);
  if (logits->rows == 0) return eqg_tape_fail(t, EQG_ESHAPE, "bce_logits: no rows");
  for (size_t i = 0; i < targets->rows; i++)
    if (!(targets->data[i] >= 0 && targets->data[i] <= 1))
      return eqg_tape_fail(t, EQG_EINVAL, "bce_logits: target of row %zu is %g, not in [0, 1]",
                           i, targets->data[i]);
  eqg_tensor *in[2] = { logits, targets };
  return eqg_tape_run(t, eqg_tape_push(t, EQG_OP_BCE_LOGITS, 2, in, 1, 1));
}

/* ---- softmax_xent --------------------------------------------------------- */

static void softmax_xent_forward(eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  size_t rows = x->rows, C = x->cols;
  eqg_real *lse = n->aux, s = 0;
  for (size_t i = 0; i < rows; i++) {
    const eqg_real *xi = x->data + i * C;
    eqg_real mx = xi[0], z = 0;
    for (size_t c = 1; c < C; c++) mx = fmax(mx, xi[c]);
    for (size_t c = 0; c < C; c++) z += exp(xi[c] - mx);
    lse[i] = mx + log(z);
    s += lse[i] - xi[n->index[i]];
  }
  n->out->data[0] = s / (eqg_real)rows;
}

/* dx_ic += g / n (softmax_ic - [c == label_i]),  softmax_ic = exp(x_ic - lse_i). */
static void softmax_xent_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  if (!x->grad) return;
  size_t rows = x->rows, C = x->cols;
  const eqg_real *lse = n->aux;
  eqg_real g = n->out->grad[0] / (eqg_real)rows;
  for (size_t i = 0; i < rows; i++) {
    const eqg_real *xi = x->data + i * C;
    eqg_real *dxi = x->grad + i * C;
    for (size_t c = 0; c < C; c++) dxi[c] += g * exp(xi[c] - lse[i]);
    dxi[n->index[i]] -= g;
  }
}

const eqg_op_type eqg_op_softmax_xent = { "softmax_xent", softmax_xent_forward,
                                          softmax_xent_backward };

eqg_tensor *eqg_softmax_xent(eqg_tape *t, eqg_tensor *logits, const eqg_index *labels)
{
  if (t->status != EQG_OK) return NULL;
  if (!logits || !labels) return eqg_tape_fail(t, EQG_EINVAL, "softmax_xent: NULL input");
  size_t rows = logits->rows, C = logits->cols;
  if (rows == 0 || C == 0)
    return eqg_tape_fail(t, EQG_ESHAPE, "softmax_xent: logits are %zu x %zu, need at least "
                         "1 x 1", rows, C);
  for (size_t i = 0; i < rows; i++)
    if (labels[i] < 0 || (size_t)labels[i] >= C)
      return eqg_tape_fail(t, EQG_ERANGE, "softmax_xent: label %ld of row %zu is outside "
                           "[0, %zu)", (long)labels[i], i, C);
  eqg_tensor *in[1] = { logits };
  eqg_node *n = eqg_tape_push(t, EQG_OP_SOFTMAX_XENT, 1, in, 1, 1);
  if (!n) return NULL;
  eqg_real *lse = eqg_arena_push_uninit(t->arena, rows * sizeof *lse);
  if (!lse) return eqg_tape_fail(t, EQG_ENOMEM, "softmax_xent: saved lse: %s",
                                 eqg_error_message());
  n->aux = lse;
  n->index = labels;
  n->n_index = rows;
  return eqg_tape_run(t, n);
}
