/* eqg_mlp.c: MLP builder and forward (see eqg_mlp.h). */
#include "nn/eqg_mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- activations ----------------------------------------------------------- */

static const char *const act_names[] = {
  [EQG_ACT_NONE] = "none",
  [EQG_ACT_RELU] = "relu",
  [EQG_ACT_LEAKY_RELU] = "leaky_relu",
  [EQG_ACT_SILU] = "silu",
  [EQG_ACT_TANH] = "tanh",
  [EQG_ACT_SIGMOID] = "sigmoid",
  [EQG_ACT_SOFTPLUS] = "softplus",
  [EQG_ACT_SHIFTED_SOFTPLUS] = "shifted_softplus",
};
_Static_assert(sizeof act_names / sizeof *act_names == EQG_ACT_COUNT,
               "one name per activation");

const char *eqg_activation_name(eqg_activation a)
{
  return (a >= 0 && a < EQG_ACT_COUNT) ? act_names[a] : "unknown";
}

int eqg_activation_find(const char *name)
{
  if (!name) return -1;
  for (int k = 0; k < EQG_ACT_COUNT; k++)
    if (strcmp(act_names[k], name) == 0) return k;
  return -1;
}

eqg_tensor *eqg_activation_apply(eqg_tape *t, eqg_activation a, eqg_real slope, eqg_tensor *x)
{
  switch (a) {
  case EQG_ACT_NONE: return x;
  case EQG_ACT_RELU: return eqg_relu(t, x);
  case EQG_ACT_LEAKY_RELU: return eqg_leaky_relu(t, x, slope);
  case EQG_ACT_SILU: return eqg_silu(t, x);
  case EQG_ACT_TANH: return eqg_tanh(t, x);
  case EQG_ACT_SIGMOID: return eqg_sigmoid(t, x);
  case EQG_ACT_SOFTPLUS: return eqg_softplus(t, x);
  case EQG_ACT_SHIFTED_SOFTPLUS: return eqg_shifted_softplus(t, x);
  default: return eqg_tape_fail(t, EQG_EINVAL, "activation: unknown kind %d", (int)a);
  }
}

int eqg_activation_fused(eqg_activation a)
{
  switch (a) {
  case EQG_ACT_NONE: return EQG_FUSE_NONE;
  case EQG_ACT_RELU: return EQG_FUSE_RELU;
  case EQG_ACT_LEAKY_RELU: return EQG_FUSE_LEAKY_RELU;
  case EQG_ACT_SILU: return EQG_FUSE_SILU;
  case EQG_ACT_TANH: return EQG_FUSE_TANH;
  case EQG_ACT_SIGMOID: return EQG_FUSE_SIGMOID;
  default: return -1;
  }
}

eqg_tensor *eqg_linear_forward_act(eqg_tape *t, eqg_params *p, const eqg_linear *l,
                                   eqg_tensor *x, eqg_activation act, eqg_real slope)
{
  const int f = eqg_activation_fused(act);
  if (f < 0) return eqg_activation_apply(t, act, slope, eqg_linear_forward(t, p, l, x));
  return eqg_linear_forward_fused(t, p, l, x, (eqg_fuse_act)f, slope);
}

/* ---- norms ------------------------------------------------------------------ */

static const char *const norm_names[] = {
  [EQG_NORM_NONE] = "none",
  [EQG_NORM_BATCH] = "batch",
  [EQG_NORM_LAYER] = "layer",
};
_Static_assert(sizeof norm_names / sizeof *norm_names == EQG_NORM_KIND_COUNT,
               "one name per norm kind");

const char *eqg_norm_kind_name(eqg_norm_kind k)
{
  return (k >= 0 && k < EQG_NORM_KIND_COUNT) ? norm_names[k] : "unknown";
}

int eqg_norm_kind_find(const char *name)
{
  if (!name) return -1;
  for (int k = 0; k < EQG_NORM_KIND_COUNT; k++)
    if (strcmp(norm_names[k], name) == 0) return k;
  return -1;
}

/* ---- building --------------------------------------------------------------- */

eqg_mlp_config eqg_mlp_config_default(const size_t *widths, size_t n_widths)
{
  return (eqg_mlp_config){ .widths = widths, .n_widths = n_widths, .act = EQG_ACT_SILU,
                           .leaky_slope = 0.01, .act_last = false, .norm = EQG_NORM_NONE,
                           .norm_eps = 1e-5, .bn_momentum = 0.1, .dropout = 0,
                           .bias = true, .init = EQG_INIT_TORCH_DEFAULT, .init_gain = 1 };
}

static eqg_status config_check(const char *prefix, const eqg_mlp_config *c)
{
  if (!c->widths || c->n_widths < 2)
    return eqg_error_set(EQG_EINVAL, "mlp %s: need at least 2 widths (in, out)", prefix);
  for (size_t k = 0; k < c->n_widths; k++)
    if (c->widths[k] == 0)
      return eqg_error_set(EQG_EINVAL, "mlp %s: width %zu is 0", prefix, k);
  if (c->act < 0 || c->act >= EQG_ACT_COUNT)
    return eqg_error_set(EQG_EINVAL, "mlp %s: unknown activation %d", prefix, (int)c->act);
  if (c->norm < 0 || c->norm >= EQG_NORM_KIND_COUNT)
    return eqg_error_set(EQG_EINVAL, "mlp %s: unknown norm %d", prefix, (int)c->norm);
  if (c->norm != EQG_NORM_NONE && !(isfinite(c->norm_eps) && c->norm_eps > 0))
    return eqg_error_set(EQG_EINVAL, "mlp %s: norm eps %g must be positive", prefix, c->norm_eps);
  if (c->norm == EQG_NORM_BATCH && !(c->bn_momentum >= 0 && c->bn_momentum <= 1))
    return eqg_error_set(EQG_EINVAL, "mlp %s: batch-norm momentum %g outside [0, 1]", prefix,
                         c->bn_momentum);
  if (!(c->dropout >= 0 && c->dropout < 1))
    return eqg_error_set(EQG_EINVAL, "mlp %s: dropout %g outside [0, 1)", prefix, c->dropout);
  if (!isfinite(c->leaky_slope))
    return eqg_error_set(EQG_EINVAL, "mlp %s: invalid leaky slope %g", prefix, c->leaky_slope);
  return EQG_OK;
}

/* Add "<prefix>.<k>.<leaf>" (1, width) filled with `value`; id or -1. */
static int add_vector(eqg_params *p, const char *prefix, size_t k, const char *leaf,
                      size_t width, bool trainable, eqg_real value)
{
  char name[EQG_PARAM_NAME_MAX];
  int n = snprintf(name, sizeof name, "%s.%zu.%s", prefix, k, leaf);
  if (n < 0 || (size_t)n >= sizeof name) {
    eqg_error_set(EQG_EINVAL, "mlp: name \"%s.%zu.%s\" too long", prefix, k, leaf);
    return -1;
  }
  int id = eqg_params_add(p, name, 1, width, trainable);
  if (id < 0) {
    eqg_error_prefix(EQG_EINVAL, "mlp: ");
    return -1;
  }
  eqg_tensor_fill(eqg_params_get(p, id), value);
  return id;
}

eqg_mlp *eqg_mlp_alloc(eqg_params *p, const char *prefix, const eqg_mlp_config *cfg,
                       gsl_rng *rng)
{
  if (!prefix || !cfg) {
    eqg_error_set(EQG_EINVAL, "mlp: NULL prefix or config");
    return NULL;
  }
  if (config_check(prefix, cfg) != EQG_OK) return NULL;
  size_t L = cfg->n_widths - 1;
  eqg_mlp *m = calloc(1, sizeof *m);
  if (m) {
    m->widths = malloc(cfg->n_widths * sizeof *m->widths);
    m->layer = calloc(L, sizeof *m->layer);
  }
  if (!m || !m->widths || !m->layer) {
    eqg_mlp_free(m);
    eqg_error_set(EQG_ENOMEM, "mlp %s: cannot allocate", prefix);
    return NULL;
  }
  memcpy(m->widths, cfg->widths, cfg->n_widths * sizeof *m->widths);
  m->cfg = *cfg;
  m->cfg.widths = m->widths;
  m->n_layers = L;

  char lp[EQG_PARAM_NAME_MAX];
  for (size_t k = 0; k < L; k++) {
    eqg_mlp_layer *ly = &m->layer[k];
    ly->gamma_id = ly->beta_id = ly->mean_id = ly->var_id = -1;
    size_t out = m->widths[k + 1];
    int n = snprintf(lp, sizeof lp, "%s.%zu", prefix, k);
    if (n < 0 || (size_t)n >= sizeof lp) {
      eqg_error_set(EQG_EINVAL, "mlp: prefix \"%s\" too long", prefix);
      goto fail;
    }
    if (eqg_linear_init(&ly->lin, p, lp, m->widths[k], out, cfg->bias, cfg->init,
                        cfg->init_gain, rng) != EQG_OK)
      goto fail;
    bool hidden = k + 1 < L;
    if (!hidden || cfg->norm == EQG_NORM_NONE) continue;
    if ((ly->gamma_id = add_vector(p, prefix, k, "gamma", out, true, 1)) < 0 ||
        (ly->beta_id = add_vector(p, prefix, k, "beta", out, true, 0)) < 0)
      goto fail;
    if (cfg->norm == EQG_NORM_BATCH &&
        ((ly->mean_id = add_vector(p, prefix, k, "running_mean", out, false, 0)) < 0 ||
         (ly->var_id = add_vector(p, prefix, k, "running_var", out, false, 1)) < 0))
      goto fail;
  }
  return m;
fail:
  eqg_mlp_free(m);
  return NULL;
}

void eqg_mlp_free(eqg_mlp *m)
{
  if (!m) return;
  free(m->widths);
  free(m->layer);
  free(m);
}

/* ---- forward ---------------------------------------------------------------- */

/* h (n, F) -> norm(h) (n, F) for hidden layer ly. */
static eqg_tensor *mlp_norm(eqg_tape *t, eqg_params *p, const eqg_mlp *m,
                            const eqg_mlp_layer *ly, eqg_tensor *h)
{
  eqg_tensor *gamma = eqg_params_get(p, ly->gamma_id);   /* (1, F) */
  eqg_tensor *beta = eqg_params_get(p, ly->beta_id);     /* (1, F) */
  if (m->cfg.norm == EQG_NORM_LAYER) return eqg_layernorm(t, h, gamma, beta, m->cfg.norm_eps);
  /* Batch norm: the running statistics are buffers, whose block may have
   * moved since the MLP was built; the state lives until the tape reset. */
  eqg_batchnorm_state *st = eqg_arena_push(t->arena, sizeof *st);
  if (!st) return eqg_tape_fail(t, EQG_ENOMEM, "mlp: batch-norm state: %s", eqg_error_message());
  *st = (eqg_batchnorm_state){ .running_mean = eqg_params_get(p, ly->mean_id)->data,
                               .running_var = eqg_params_get(p, ly->var_id)->data,
                               .momentum = m->cfg.bn_momentum, .eps = m->cfg.norm_eps };
  return eqg_batchnorm(t, h, gamma, beta, st);
}

eqg_tensor *eqg_mlp_forward(eqg_tape *t, eqg_params *p, const eqg_mlp *m, eqg_tensor *x)
{
  if (t->status != EQG_OK) return NULL;
  if (!x) return eqg_tape_fail(t, EQG_EINVAL, "mlp: NULL input");
  if (x->cols != m->widths[0])
    return eqg_tape_fail(t, EQG_ESHAPE, "mlp: input has %zu columns, expected %zu", x->cols,
                         m->widths[0]);
  const eqg_mlp_config *c = &m->cfg;
  eqg_tensor *h = x;                                        /* (n, widths[0]) */
  for (size_t k = 0; k < m->n_layers; k++) {
    const eqg_mlp_layer *ly = &m->layer[k];
    const bool hidden = k + 1 < m->n_layers;
    if (hidden && c->norm != EQG_NORM_NONE) {   /* linear, norm, act */
      h = eqg_linear_forward(t, p, &ly->lin, h);            /* (n, widths[k+1]) */
      h = mlp_norm(t, p, m, ly, h);
      h = eqg_activation_apply(t, c->act, c->leaky_slope, h);
    } else {                                      /* act(linear) as one op if possible */
      h = eqg_linear_forward_act(t, p, &ly->lin, h,
                                 hidden || c->act_last ? c->act : EQG_ACT_NONE, c->leaky_slope);
    }
    if (hidden && c->dropout > 0) h = eqg_dropout(t, h, c->dropout);
  }
  return h;
}
