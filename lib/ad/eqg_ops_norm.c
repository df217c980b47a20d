/* eqg_ops_norm.c: dropout, batch norm, layer norm.
 *
 * dropout: in[0] = x (n, m); out (n, m).  r[0] = p, r[1] = 1 / (1 - p);
 *   i[0] = 1 when active (t->training and p > 0), else the op is an identity
 *   copy.  aux = keep mask, uint8_t[n * m] in the tape arena, drawn at
 *   construction from t->rng (keep with probability 1 - p).
 *   y = x * mask / (1 - p)  (inverted dropout: E[y] = x).
 * batchnorm: in[0] = x (n, F), in[1] = gamma (1, F), in[2] = beta (1, F);
 *   out (n, F).  i[0] = 1 in training.  aux = bn_saved (below) in the arena:
 *   the caller's state plus mean / inv_std (F) used by forward and backward,
 *   and two (F) sums used as backward scratch.  PyTorch semantics: training
 *   normalises with the batch mean and biased variance and updates
 *   running = (1 - momentum) running + momentum batch with the UNBIASED
 *   variance; eval normalises with the running statistics.
 * layernorm: in[0] = x (n, F), in[1] = gamma (1, F), in[2] = beta (1, F);
 *   out (n, F).  r[0] = eps.  aux = [mean (n) | inv_std (n)] in the arena.
 *
 * For both norms xhat = (x - mean) * inv_std, inv_std = 1 / sqrt(var + eps),
 * y = gamma * xhat + beta.  xhat is recomputed in backward rather than saved. */
#include "ad/eqg_ops.h"

#include <math.h>
#include <string.h>

/* ---- dropout -------------------------------------------------------------- */

static void dropout_forward(eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  size_t m = eqg_tensor_size(x);
  if (!n->i[0]) {   /* identity */
    if (m) memcpy(n->out->data, x->data, m * sizeof(eqg_real));
    return;
  }
  const uint8_t *keep = n->aux;
  eqg_real scale = n->r[1];
  for (size_t e = 0; e < m; e++) n->out->data[e] = keep[e] ? scale * x->data[e] : 0;
}

/* dx += dy * mask / (1 - p) */
static void dropout_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  if (!x->grad) return;
  size_t m = eqg_tensor_size(x);
  const eqg_real *gy = n->out->grad;
  if (!n->i[0]) {
    for (size_t e = 0; e < m; e++) x->grad[e] += gy[e];
    return;
  }
  const uint8_t *keep = n->aux;
  eqg_real scale = n->r[1];
  for (size_t e = 0; e < m; e++)
    if (keep[e]) x->grad[e] += scale * gy[e];
}

const eqg_op_type eqg_op_dropout = { "dropout", dropout_forward, dropout_backward };

eqg_tensor *eqg_dropout(eqg_tape *t, eqg_tensor *x, eqg_real p)
{
  if (t->status != EQG_OK) return NULL;
  if (!x) return eqg_tape_fail(t, EQG_EINVAL, "dropout: NULL input");
  if (!(p >= 0 && p < 1))
    return eqg_tape_fail(t, EQG_EINVAL, "dropout: p = %g is outside [0, 1)", p);
  bool active = t->training && p > 0;
  if (active && !t->rng)
    return eqg_tape_fail(t, EQG_EINVAL, "dropout: training with p = %g needs a tape rng", p);
  eqg_tensor *in[1] = { x };
  eqg_node *n = eqg_tape_push(t, EQG_OP_DROPOUT, 1, in, x->rows, x->cols);
  if (!n) return NULL;
  n->r[0] = p;
  n->r[1] = 1 / (1 - p);
  n->i[0] = active;
  if (active) {
    size_t m = eqg_tensor_size(x);
    uint8_t *keep = eqg_arena_push_uninit(t->arena, m ? m : 1);
    if (!keep) return eqg_tape_fail(t, EQG_ENOMEM, "dropout: mask of %zu: %s", m,
                                    eqg_error_message());
    for (size_t e = 0; e < m; e++) keep[e] = gsl_rng_uniform(t->rng) >= p;  /* P = 1 - p */
    n->aux = keep;
  }
  return eqg_tape_run(t, n);
}

/* ---- batchnorm ------------------------------------------------------------ */

typedef struct bn_saved {
  eqg_batchnorm_state *state;  /* caller-owned running statistics */
  eqg_real *mean;              /* (F) batch mean (training) or running mean (eval) */
  eqg_real *inv_std;           /* (F) 1 / sqrt(var + eps), var biased or running */
  eqg_real *sum_g;             /* (F) backward scratch: sum_i dy_if */
  eqg_real *sum_gx;            /* (F) backward scratch: sum_i dy_if xhat_if */
} bn_saved;

static void batchnorm_forward(eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  const eqg_real *gamma = n->in[1]->data, *beta = n->in[2]->data;
  bn_saved *s = n->aux;
  eqg_batchnorm_state *st = s->state;
  size_t rows = x->rows, F = x->cols;
  eqg_real *mean = s->mean, *inv_std = s->inv_std;
  if (n->i[0]) {
    /* Two passes over the rows: mean_f = (1/n) sum_i x_if, then
     * var_f = (1/n) sum_i (x_if - mean_f)^2 (biased, used to normalise). */
    eqg_real *var = s->sum_g;   /* scratch until backward */
    for (size_t f = 0; f < F; f++) mean[f] = var[f] = 0;
    for (size_t i = 0; i < rows; i++) {
      const eqg_real *xi = x->data + i * F;
      for (size_t f = 0; f < F; f++) mean[f] += xi[f];
    }
    for (size_t f = 0; f < F; f++) mean[f] /= (eqg_real)rows;
    for (size_t i = 0; i < rows; i++) {
      const eqg_real *xi = x->data + i * F;
      for (size_t f = 0; f < F; f++) {
        eqg_real c = xi[f] - mean[f];
        var[f] += c * c;
      }
    }
    eqg_real mom = st->momentum, unbias = (eqg_real)rows / (eqg_real)(rows - 1);
    for (size_t f = 0; f < F; f++) {
      var[f] /= (eqg_real)rows;
      inv_std[f] = 1 / sqrt(var[f] + st->eps);
      /* running = (1 - m) running + m batch, variance unbiased (n / (n - 1)) */
      st->running_mean[f] = (1 - mom) * st->running_mean[f] + mom * mean[f];
      st->running_var[f] = (1 - mom) * st->running_var[f] + mom * unbias * var[f];
    }
  } else {
    for (size_t f = 0; f < F; f++) {
      mean[f] = st->running_mean[f];
      inv_std[f] = 1 / sqrt(st->running_var[f] + st->eps);
    }
  }
  /* y_if = gamma_f (x_if - mean_f) inv_std_f + beta_f */
  for (size_t i = 0; i < rows; i++) {
    const eqg_real *xi = x->data + i * F;
    eqg_real *yi = n->out->data + i * F;
    for (size_t f = 0; f < F; f++) yi[f] = gamma[f] * (xi[f] - mean[f]) * inv_std[f] + beta[f];
  }
}

/* With G = sum_i dy_if and H = sum_i dy_if xhat_if (per feature f):
 *   dbeta_f += G;  dgamma_f += H;
 *   training: dx_if += gamma_f inv_std_f (dy_if - G / n - xhat_if H / n)
 *             (the mean and variance depend on x);
 *   eval:     dx_if += gamma_f inv_std_f dy_if (running statistics are constants). */
static void batchnorm_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0], *gam = n->in[1], *bet = n->in[2];
  const bn_saved *s = n->aux;
  const eqg_real *gy = n->out->grad, *mean = s->mean, *inv_std = s->inv_std;
  eqg_real *G = s->sum_g, *H = s->sum_gx;
  size_t rows = x->rows, F = x->cols;
  for (size_t f = 0; f < F; f++) G[f] = H[f] = 0;
  for (size_t i = 0; i < rows; i++) {
    const eqg_real *xi = x->data + i * F, *gi = gy + i * F;
    for (size_t f = 0; f < F; f++) {
      G[f] += gi[f];
      H[f] += gi[f] * (xi[f] - mean[f]) * inv_std[f];
    }
  }
  if (bet->grad)
    for (size_t f = 0; f < F; f++) bet->grad[f] += G[f];
  if (gam->grad)
    for (size_t f = 0; f < F; f++) gam->grad[f] += H[f];
  if (!x->grad) return;
  const eqg_real *gamma = gam->data;
  if (n->i[0]) {
    eqg_real inv_n = 1 / (eqg_real)rows;
    for (size_t f = 0; f < F; f++) {   /* fold constants: G/n, H/n */
      G[f] *= inv_n;
      H[f] *= inv_n;
    }
    for (size_t i = 0; i < rows; i++) {
      const eqg_real *xi = x->data + i * F, *gi = gy + i * F;
      eqg_real *dxi = x->grad + i * F;
      for (size_t f = 0; f < F; f++) {
        eqg_real xhat = (xi[f] - mean[f]) * inv_std[f];
        dxi[f] += gamma[f] * inv_std[f] * (gi[f] - G[f] - xhat * H[f]);
      }
    }
  } else {
    for (size_t i = 0; i < rows; i++) {
      const eqg_real *gi = gy + i * F;
      eqg_real *dxi = x->grad + i * F;
      for (size_t f = 0; f < F; f++) dxi[f] += gamma[f] * inv_std[f] * gi[f];
    }
  }
}

const eqg_op_type eqg_op_batchnorm = { "batchnorm", batchnorm_forward, batchnorm_backward };

/* Shared checks of x (n, F), gamma (1, F), beta (1, F). */
static bool norm_check_affine(eqg_tape *t, const char *op, const eqg_tensor *x,
                              const eqg_tensor *gamma, const eqg_tensor *beta)
{
  if (!x || !gamma || !beta) {
    eqg_tape_fail(t, EQG_EINVAL, "%s: NULL input", op);
    return false;
  }
  if (gamma->rows != 1 || gamma->cols != x->cols || beta->rows != 1 || beta->cols != x->cols) {
    eqg_tape_fail(t, EQG_ESHAPE, "%s: gamma is %zu x %zu and beta %zu x %zu, need 1 x %zu",
                  op, gamma->rows, gamma->cols, beta->rows, beta->cols, x->cols);
    return false;
  }
  return true;
}

eqg_tensor *eqg_batchnorm(eqg_tape *t, eqg_tensor *x, eqg_tensor *gamma,
                          eqg_tensor *beta, eqg_batchnorm_state *state)
{
  if (t->status != EQG_OK) return NULL;
  if (!norm_check_affine(t, "batchnorm", x, gamma, beta)) return NULL;
  if (!state || !state->running_mean || !state->running_var)
    return eqg_tape_fail(t, EQG_EINVAL, "batchnorm: NULL state or running statistics");
  if (!(state->eps > 0) || !isfinite(state->eps))
    return eqg_tape_fail(t, EQG_EINVAL, "batchnorm: eps = %g must be positive", state->eps);
  if (!(state->momentum >= 0 && state->momentum <= 1))
    return eqg_tape_fail(t, EQG_EINVAL, "batchnorm: momentum = %g is outside [0, 1]",
                         state->momentum);
  size_t F = x->cols;
  if (t->training && x->rows < 2)
    return eqg_tape_fail(t, EQG_ESHAPE, "batchnorm: training needs at least 2 rows, got %zu",
                         x->rows);
  if (!t->training)
    for (size_t f = 0; f < F; f++)
      if (!(state->running_var[f] + state->eps > 0))
        return eqg_tape_fail(t, EQG_EINVAL, "batchnorm: running_var[%zu] = %g is invalid",
                             f, state->running_var[f]);
  eqg_tensor *in[3] = { x, gamma, beta };
  eqg_node *n = eqg_tape_push(t, EQG_OP_BATCHNORM, 3, in, x->rows, F);
  if (!n) return NULL;
  size_t nbuf = F > 0 ? 4 * F : 1;   /* mean, inv_std, sum_g, sum_gx */
  bn_saved *s = eqg_arena_push_uninit(t->arena, sizeof *s);
  eqg_real *buf = s ? eqg_arena_push_uninit(t->arena, nbuf * sizeof *buf) : NULL;
  if (!buf) return eqg_tape_fail(t, EQG_ENOMEM, "batchnorm: saved statistics: %s",
                                 eqg_error_message());
  *s = (bn_saved){ state, buf, buf + F, buf + 2 * F, buf + 3 * F };
  n->aux = s;
  n->i[0] = t->training;
  return eqg_tape_run(t, n);
}

/* ---- layernorm ------------------------------------------------------------ */

static void layernorm_forward(eqg_node *n)
{
  const eqg_tensor *x = n->in[0];
  const eqg_real *gamma = n->in[1]->data, *beta = n->in[2]->data;
  size_t rows = x->rows, F = x->cols;
  eqg_real *mean = n->aux, *inv_std = mean + rows, eps = n->r[0];
  for (size_t i = 0; i < rows; i++) {
    const eqg_real *xi = x->data + i * F;
    eqg_real *yi = n->out->data + i * F;
    /* mean_i = (1/F) sum_f x_if;  var_i = (1/F) sum_f (x_if - mean_i)^2 */
    eqg_real mu = 0, var = 0;
    for (size_t f = 0; f < F; f++) mu += xi[f];
    mu /= (eqg_real)F;
    for (size_t f = 0; f < F; f++) var += (xi[f] - mu) * (xi[f] - mu);
    eqg_real is = 1 / sqrt(var / (eqg_real)F + eps);
    mean[i] = mu;
    inv_std[i] = is;
    for (size_t f = 0; f < F; f++) yi[f] = gamma[f] * (xi[f] - mu) * is + beta[f];
  }
}

/* Per row i, with gh_f = dy_if gamma_f, A = (1/F) sum_f gh_f and
 * B = (1/F) sum_f gh_f xhat_if:  dx_if += inv_std_i (gh_f - A - xhat_if B);
 * dgamma_f += sum_i dy_if xhat_if;  dbeta_f += sum_i dy_if. */
static void layernorm_backward(const eqg_node *n)
{
  const eqg_tensor *x = n->in[0], *gam = n->in[1], *bet = n->in[2];
  const eqg_real *gamma = gam->data, *gy = n->out->grad;
  size_t rows = x->rows, F = x->cols;
  const eqg_real *mean = n->aux, *inv_std = mean + rows;
  eqg_real inv_F = 1 / (eqg_real)F;
  for (size_t i = 0; i < rows; i++) {
    const eqg_real *xi = x->data + i * F, *gi = gy + i * F;
    eqg_real mu = mean[i], is = inv_std[i];
    if (bet->grad)
      for (size_t f = 0; f < F; f++) bet->grad[f] += gi[f];
    if (gam->grad)
      for (size_t f = 0; f < F; f++) gam->grad[f] += gi[f] * (xi[f] - mu) * is;
    if (!x->grad) continue;
    eqg_real A = 0, B = 0;
    for (size_t f = 0; f < F; f++) {
      eqg_real gh = gi[f] * gamma[f];
      A += gh;
      B += gh * (xi[f] - mu) * is;
    }
    A *= inv_F;
    B *= inv_F;
    eqg_real *dxi = x->grad + i * F;
    for (size_t f = 0; f < F; f++)
      dxi[f] += is * (gi[f] * gamma[f] - A - (xi[f] - mu) * is * B);
  }
}

const eqg_op_type eqg_op_layernorm = { "layernorm", layernorm_forward, layernorm_backward };

eqg_tensor *eqg_layernorm(eqg_tape *t, eqg_tensor *x, eqg_tensor *gamma,
                          eqg_tensor *beta, eqg_real eps)
{
  if (t->status != EQG_OK) return NULL;
  if (!norm_check_affine(t, "layernorm", x, gamma, beta)) return NULL;
  if (x->cols == 0)
    return eqg_tape_fail(t, EQG_ESHAPE, "layernorm: x has no columns");
  if (!(eps > 0) || !isfinite(eps))
    return eqg_tape_fail(t, EQG_EINVAL, "layernorm: eps = %g must be positive", eps);
  eqg_tensor *in[3] = { x, gamma, beta };
  eqg_node *n = eqg_tape_push(t, EQG_OP_LAYERNORM, 3, in, x->rows, x->cols);
  if (!n) return NULL;
  size_t rows = x->rows;
  size_t nbuf = rows > 0 ? 2 * rows : 1;   /* mean, inv_std */
  eqg_real *buf = eqg_arena_push_uninit(t->arena, nbuf * sizeof *buf);
  if (!buf) return eqg_tape_fail(t, EQG_ENOMEM, "layernorm: saved statistics: %s",
                                 eqg_error_message());
  n->aux = buf;
  n->r[0] = eps;
  return eqg_tape_run(t, n);
}
