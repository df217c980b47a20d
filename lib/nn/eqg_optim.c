/* eqg_optim.c: SGD (momentum, Nesterov), Adam and AdamW, as torch.optim.
 *
 * Each update follows the order of operations of PyTorch's single-tensor
 * implementations (torch/optim/sgd.py, adam.py), so that a run can be compared
 * with a PyTorch one step by step.  Notation: x parameters, g gradient, t the
 * 1-based step, lr the learning rate of this step, wd the weight decay. */
#include "nn/eqg_optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

eqg_optim_config eqg_optim_config_default(void)
{
  return (eqg_optim_config){ .lr = 1e-3, .momentum = 0, .nesterov = false,
                             .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                             .weight_decay = 0 };
}

eqg_optim_config eqg_optim_config_for(const eqg_optim_type *type)
{
  eqg_optim_config c = eqg_optim_config_default();
  if (type == &eqg_optim_adamw) c.weight_decay = 0.01;
  return c;
}

/* ---- SGD ------------------------------------------------------------------
 *   g' = g + wd x                               (L2 penalty wd/2 |x|^2)
 *   b  = g'                     if t = 1        (momentum buffer)
 *   b  = mu b + g'              if t > 1        (dampening 0)
 *   d  = g' + mu b              (nesterov)  or  d = b   (otherwise)
 *   x  = x - lr d
 * With mu = 0 the buffer is unused and d = g'. */
static void sgd_step(eqg_optim *o, eqg_real *x, const eqg_real *g, size_t n, eqg_real lr)
{
  const eqg_real mu = o->cfg.momentum, wd = o->cfg.weight_decay;
  const bool nesterov = o->cfg.nesterov, first = o->step == 1;
  eqg_real *b = o->state[0];
  for (size_t i = 0; i < n; i++) {
    eqg_real gi = g[i];
    if (wd != 0) gi = gi + wd * x[i];
    if (mu != 0) {
      b[i] = first ? gi : b[i] * mu + gi;
      gi = nesterov ? gi + mu * b[i] : b[i];
    }
    x[i] = x[i] + (-lr) * gi;
  }
}

/* ---- Adam / AdamW ---------------------------------------------------------
 * Adam (L2 weight decay, torch.optim.Adam):
 *   g' = g + wd x
 * AdamW (decoupled weight decay, torch.optim.AdamW):
 *   x  = x (1 - lr wd),  g' = g
 * then both:
 *   m  = m + (1 - b1) (g' - m)          (= b1 m + (1 - b1) g', torch's lerp_)
 *   v  = b2 v + (1 - b2) g'^2
 *   c1 = 1 - b1^t,  c2 = 1 - b2^t       (bias corrections)
 *   x  = x - (lr / c1) m / (sqrt(v) / sqrt(c2) + eps)
 * Note eps is added after the bias correction of sqrt(v), as PyTorch does.
 *
 * The loop body is adam_loop() below, inlined once per (weight-decay mode,
 * lerp form) with both as constants, so each loop is branch-free over
 * restrict-qualified arrays (x, g and the moments never overlap). */

typedef enum { ADAM_WD_NONE, ADAM_WD_L2, ADAM_WD_DECOUPLED } adam_wd;

typedef struct adam_consts {
  eqg_real w1, b2, w2, eps, step_size, c2_sqrt, wd, shrink;
} adam_consts;

static inline void adam_loop(adam_wd mode, bool lerp_small, size_t n, eqg_real *restrict x,
                             const eqg_real *restrict g, eqg_real *restrict m,
                             eqg_real *restrict v, const adam_consts *k)
{
  const eqg_real w1 = k->w1, b2 = k->b2, w2 = k->w2, eps = k->eps, step_size = k->step_size;
  const eqg_real c2_sqrt = k->c2_sqrt, wd = k->wd, shrink = k->shrink;
  for (size_t i = 0; i < n; i++) {
    eqg_real gi = g[i];
    if (mode == ADAM_WD_DECOUPLED) x[i] = x[i] * shrink;
    if (mode == ADAM_WD_L2) gi = gi + wd * x[i];
    /* torch lerp_(end, w) with w < 0.5: self + w (end - self) */
    const eqg_real mi = lerp_small ? m[i] + w1 * (gi - m[i]) : gi - (gi - m[i]) * (1 - w1);
    const eqg_real vi = v[i] * b2 + w2 * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    x[i] = x[i] + (-step_size) * (mi / (sqrt(vi) / c2_sqrt + eps));
  }
}

static void adam_update(eqg_optim *o, eqg_real *x, const eqg_real *g, size_t n, eqg_real lr,
                        bool decoupled)
{
  const eqg_real b1 = o->cfg.beta1, b2 = o->cfg.beta2, eps = o->cfg.eps;
  const eqg_real wd = o->cfg.weight_decay, t = (eqg_real)o->step;
  const eqg_real c1 = 1 - pow(b1, t), c2 = 1 - pow(b2, t);
  const adam_consts k = { .w1 = 1 - b1, .b2 = b2, .w2 = 1 - b2, .eps = eps,
                          .step_size = lr / c1, .c2_sqrt = sqrt(c2), .wd = wd,
                          .shrink = 1 - lr * wd };
  const adam_wd mode = wd == 0 ? ADAM_WD_NONE : decoupled ? ADAM_WD_DECOUPLED : ADAM_WD_L2;
  eqg_real *m = o->state[0], *v = o->state[1];
  if (k.w1 < 0.5) {
    switch (mode) {
    case ADAM_WD_NONE: adam_loop(ADAM_WD_NONE, true, n, x, g, m, v, &k); break;
    case ADAM_WD_L2: adam_loop(ADAM_WD_L2, true, n, x, g, m, v, &k); break;
    case ADAM_WD_DECOUPLED: adam_loop(ADAM_WD_DECOUPLED, true, n, x, g, m, v, &k); break;
    }
  } else {
    switch (mode) {
    case ADAM_WD_NONE: adam_loop(ADAM_WD_NONE, false, n, x, g, m, v, &k); break;
    case ADAM_WD_L2: adam_loop(ADAM_WD_L2, false, n, x, g, m, v, &k); break;
    case ADAM_WD_DECOUPLED: adam_loop(ADAM_WD_DECOUPLED, false, n, x, g, m, v, &k); break;
    }
  }
}

static void adam_step(eqg_optim *o, eqg_real *x, const eqg_real *g, size_t n, eqg_real lr)
{
  adam_update(o, x, g, n, lr, false);
}

static void adamw_step(eqg_optim *o, eqg_real *x, const eqg_real *g, size_t n, eqg_real lr)
{
  adam_update(o, x, g, n, lr, true);
}

const eqg_optim_type eqg_optim_sgd = { "sgd", 1, { "momentum", NULL }, sgd_step };
const eqg_optim_type eqg_optim_adam = { "adam", 2, { "m", "v" }, adam_step };
const eqg_optim_type eqg_optim_adamw = { "adamw", 2, { "m", "v" }, adamw_step };

const eqg_optim_type *const eqg_optim_types[] = {
  &eqg_optim_sgd, &eqg_optim_adam, &eqg_optim_adamw, NULL
};

const eqg_optim_type *eqg_optim_type_find(const char *name)
{
  if (!name) return NULL;
  for (size_t k = 0; eqg_optim_types[k]; k++)
    if (strcmp(eqg_optim_types[k]->name, name) == 0) return eqg_optim_types[k];
  return NULL;
}

static bool nonneg(eqg_real v) { return isfinite(v) && v >= 0; }

static eqg_status config_check(const eqg_optim_type *type, const eqg_optim_config *c)
{
  if (!nonneg(c->lr)) return eqg_error_set(EQG_EINVAL, "%s: invalid lr %g", type->name, c->lr);
  if (!nonneg(c->weight_decay))
    return eqg_error_set(EQG_EINVAL, "%s: invalid weight decay %g", type->name, c->weight_decay);
  if (type == &eqg_optim_sgd) {
    if (!nonneg(c->momentum))
      return eqg_error_set(EQG_EINVAL, "sgd: invalid momentum %g", c->momentum);
    if (c->nesterov && c->momentum <= 0)
      return eqg_error_set(EQG_EINVAL, "sgd: nesterov needs a positive momentum");
  } else {
    if (!nonneg(c->beta1) || c->beta1 >= 1 || !nonneg(c->beta2) || c->beta2 >= 1)
      return eqg_error_set(EQG_EINVAL, "%s: betas (%g, %g) outside [0, 1)", type->name,
                           c->beta1, c->beta2);
    if (!nonneg(c->eps)) return eqg_error_set(EQG_EINVAL, "%s: invalid eps %g", type->name, c->eps);
  }
  return EQG_OK;
}

eqg_optim *eqg_optim_alloc(const eqg_optim_type *type, const eqg_optim_config *cfg, size_t n)
{
  if (!type || !cfg) {
    eqg_error_set(EQG_EINVAL, "optim: NULL type or config");
    return NULL;
  }
  EQG_ASSERT(type->n_state >= 0 && type->n_state <= 2);
  if (config_check(type, cfg) != EQG_OK) return NULL;
  eqg_optim *o = calloc(1, sizeof *o);
  if (!o) goto nomem;
  o->type = type;
  o->cfg = *cfg;
  o->n = n;
  for (int k = 0; k < type->n_state; k++) {
    o->state[k] = calloc(n ? n : 1, sizeof(eqg_real));
    if (!o->state[k]) goto nomem;
  }
  return o;
nomem:
  eqg_optim_free(o);
  eqg_error_set(EQG_ENOMEM, "%s: cannot allocate state for %zu parameters", type->name, n);
  return NULL;
}

void eqg_optim_free(eqg_optim *o)
{
  if (!o) return;
  free(o->state[0]);
  free(o->state[1]);
  free(o);
}

void eqg_optim_step(eqg_optim *o, eqg_params *p, eqg_real lr)
{
  EQG_ASSERT(o->n == p->size);
  o->step++;
  o->type->step(o, p->data, p->grad, p->size, lr);
}
