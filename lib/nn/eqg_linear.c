/* eqg_linear.c: y = x W + b (see eqg_linear.h for the initialisations). */
#include "nn/eqg_linear.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const init_names[] = {
  [EQG_INIT_TORCH_DEFAULT] = "torch_default",
  [EQG_INIT_XAVIER_UNIFORM] = "xavier_uniform",
  [EQG_INIT_KAIMING_UNIFORM] = "kaiming_uniform",
  [EQG_INIT_ZERO] = "zero",
};
_Static_assert(sizeof init_names / sizeof *init_names == EQG_INIT_KIND_COUNT,
               "one name per init kind");

const char *eqg_init_kind_name(eqg_init_kind k)
{
  return (k >= 0 && k < EQG_INIT_KIND_COUNT) ? init_names[k] : "unknown";
}

int eqg_init_kind_find(const char *name)
{
  if (!name) return -1;
  for (int k = 0; k < EQG_INIT_KIND_COUNT; k++)
    if (strcmp(init_names[k], name) == 0) return k;
  return -1;
}

void eqg_init_uniform(eqg_tensor *w, eqg_real a, gsl_rng *rng)
{
  size_t m = eqg_tensor_size(w);
  for (size_t i = 0; i < m; i++) w->data[i] = -a + 2 * a * gsl_rng_uniform(rng);
}

/* "<prefix>.<leaf>" into buf, or EQG_EINVAL if it does not fit. */
static eqg_status join_name(char buf[EQG_PARAM_NAME_MAX], const char *prefix, const char *leaf)
{
  int n = snprintf(buf, EQG_PARAM_NAME_MAX, "%s.%s", prefix, leaf);
  if (n < 0 || n >= EQG_PARAM_NAME_MAX)
    return eqg_error_set(EQG_EINVAL, "linear: name \"%s.%s\" too long", prefix, leaf);
  return EQG_OK;
}

eqg_status eqg_linear_init(eqg_linear *l, eqg_params *p, const char *prefix, size_t in,
                           size_t out, bool bias, eqg_init_kind init, eqg_real gain,
                           gsl_rng *rng)
{
  *l = (eqg_linear){ .in = in, .out = out, .w_id = -1, .b_id = -1 };
  if (!prefix) return eqg_error_set(EQG_EINVAL, "linear: NULL prefix");
  if (in == 0 || out == 0)
    return eqg_error_set(EQG_EINVAL, "linear %s: sizes %zu -> %zu must be positive", prefix, in, out);
  if (init < 0 || init >= EQG_INIT_KIND_COUNT)
    return eqg_error_set(EQG_EINVAL, "linear %s: unknown init kind %d", prefix, (int)init);
  if ((init == EQG_INIT_XAVIER_UNIFORM || init == EQG_INIT_KAIMING_UNIFORM) &&
      !(isfinite(gain) && gain >= 0))
    return eqg_error_set(EQG_EINVAL, "linear %s: invalid gain %g", prefix, gain);
  if (init != EQG_INIT_ZERO && !rng)
    return eqg_error_set(EQG_EINVAL, "linear %s: init %s needs an rng", prefix, init_names[init]);

  char name[EQG_PARAM_NAME_MAX];
  eqg_status st;
  if ((st = join_name(name, prefix, "weight")) != EQG_OK) return st;
  int w_id = eqg_params_add(p, name, in, out, true);
  if (w_id < 0) return eqg_error_prefix(EQG_EINVAL, "linear: ");
  int b_id = -1;
  if (bias) {
    if ((st = join_name(name, prefix, "bias")) != EQG_OK) return st;
    b_id = eqg_params_add(p, name, 1, out, true);
    if (b_id < 0) return eqg_error_prefix(EQG_EINVAL, "linear: ");
  }
  l->w_id = w_id;
  l->b_id = b_id;

  /* Views are taken after both adds: the second may have moved the block. */
  eqg_tensor *w = eqg_params_get(p, w_id), *b = bias ? eqg_params_get(p, b_id) : NULL;
  const eqg_real fan_in = (eqg_real)in, fan_out = (eqg_real)out;
  switch (init) {
  case EQG_INIT_TORCH_DEFAULT:
    eqg_init_uniform(w, 1 / sqrt(fan_in), rng);
    if (b) eqg_init_uniform(b, 1 / sqrt(fan_in), rng);
    break;
  case EQG_INIT_XAVIER_UNIFORM:
    eqg_init_uniform(w, gain * sqrt(6 / (fan_in + fan_out)), rng);
    if (b) eqg_tensor_fill(b, 0);
    break;
  case EQG_INIT_KAIMING_UNIFORM:
    eqg_init_uniform(w, gain * sqrt(3 / fan_in), rng);
    if (b) eqg_tensor_fill(b, 0);
    break;
  default:
    eqg_tensor_fill(w, 0);
    if (b) eqg_tensor_fill(b, 0);
    break;
  }
  return EQG_OK;
}

eqg_tensor *eqg_linear_forward(eqg_tape *t, eqg_params *p, const eqg_linear *l, eqg_tensor *x)
{
  return eqg_linear_forward_fused(t, p, l, x, EQG_FUSE_NONE, 0);
}

eqg_tensor *eqg_linear_forward_fused(eqg_tape *t, eqg_params *p, const eqg_linear *l,
                                     eqg_tensor *x, eqg_fuse_act act, eqg_real slope)
{
  if (t->status != EQG_OK) return NULL;
  if (!x) return eqg_tape_fail(t, EQG_EINVAL, "linear: NULL input");
  if (l->w_id < 0 || (size_t)l->w_id >= p->n)
    return eqg_tape_fail(t, EQG_EINVAL, "linear: layer not initialised for this parameter block");
  const eqg_param_info *wi = &p->info[l->w_id];
  if (wi->rows != l->in || wi->cols != l->out || (l->b_id >= 0 && (size_t)l->b_id >= p->n))
    return eqg_tape_fail(t, EQG_EINVAL, "linear %s: layer does not match this parameter block",
                         wi->name);
  if (x->cols != l->in)
    return eqg_tape_fail(t, EQG_ESHAPE, "linear %s: input has %zu columns, expected %zu",
                         wi->name, x->cols, l->in);
  eqg_tensor *w = eqg_params_get(p, l->w_id);                      /* (in, out) */
  eqg_tensor *b = l->b_id >= 0 ? eqg_params_get(p, l->b_id) : NULL;  /* (1, out) */
  if (!b && act == EQG_FUSE_NONE) return eqg_matmul(t, x, false, w, false);  /* (n, out) */
  return eqg_affine(t, x, w, b, act, slope);                        /* act(x W + b) */
}
