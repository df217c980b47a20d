/* gc_unary.c: gradient checks of the elementwise functions.
 *
 * Each op is checked twice:
 *   plain     y = f(x)       on 7 x 3: dL/dx = R f'(x) tests the derivative;
 *   times x   y = f(x) .* x  on 5 x 1: x reaches the loss along two paths, so
 *             a backward that assigns instead of accumulating fails, and for
 *             the piecewise-linear ops the gradient f'(x) x + f(x) depends on x.
 * Inputs stay inside the domain (log, sqrt: x in [0.5, 2]) and away from
 * kinks (relu, leaky_relu, abs, psi: |x| >= 0.1; clamp: >= 0.05 from lo, hi). */
#include "eqg_gc_util.h"

#include <math.h>
#include <stdio.h>

typedef enum { DOM_ANY, DOM_AWAY_FROM_0, DOM_POSITIVE } domain;

typedef struct {
  eqg_op_kind kind;
  eqg_real a, b;   /* slope (leaky_relu), lo and hi (clamp) */
  bool times_x;
} unary_ctx;

static eqg_tensor *apply(eqg_tape *t, const unary_ctx *c, eqg_tensor *x)
{
  switch (c->kind) {
  case EQG_OP_RELU:             return eqg_relu(t, x);
  case EQG_OP_LEAKY_RELU:       return eqg_leaky_relu(t, x, c->a);
  case EQG_OP_SILU:             return eqg_silu(t, x);
  case EQG_OP_SIGMOID:          return eqg_sigmoid(t, x);
  case EQG_OP_TANH:             return eqg_tanh(t, x);
  case EQG_OP_SOFTPLUS:         return eqg_softplus(t, x);
  case EQG_OP_SHIFTED_SOFTPLUS: return eqg_shifted_softplus(t, x);
  case EQG_OP_EXP:              return eqg_exp(t, x);
  case EQG_OP_LOG:              return eqg_log(t, x);
  case EQG_OP_SQRT:             return eqg_sqrt(t, x);
  case EQG_OP_ABS:              return eqg_abs(t, x);
  case EQG_OP_CLAMP:            return eqg_clamp(t, x, c->a, c->b);
  case EQG_OP_PSI:              return eqg_psi(t, x);
  default:
    fail_msg("gc_unary: kind %d is not elementwise", (int)c->kind);
    return NULL;
  }
}

static eqg_tensor *f_unary(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  const unary_ctx *c = ctx;
  eqg_tensor *y = apply(t, c, in[0]);
  return c->times_x ? eqg_mul(t, y, in[0]) : y;
}

/* Move values within `gap` of p to p +- gap (keeps finite differences off a kink). */
static void nudge_away(eqg_tensor *x, eqg_real p, eqg_real gap)
{
  for (size_t i = 0; i < eqg_tensor_size(x); i++)
    if (fabs(x->data[i] - p) < gap) x->data[i] = x->data[i] >= p ? p + gap : p - gap;
}

static eqg_tensor *sample(gsl_rng *r, domain d, size_t rows, size_t cols)
{
  switch (d) {
  case DOM_AWAY_FROM_0: return gc_tensor_away(r, rows, cols, 0.1, 2.5, true);
  case DOM_POSITIVE:    return gc_tensor(r, rows, cols, 0.5, 2, true);
  default:              return gc_tensor(r, rows, cols, -3, 3, true);
  }
}

static void check_unary(const char *name, eqg_op_kind kind, eqg_real a, eqg_real b, domain d,
                        unsigned long seed)
{
  gsl_rng *r = gc_rng(seed);
  for (int times_x = 0; times_x < 2; times_x++) {
    eqg_tensor *x = times_x ? sample(r, d, 5, 1) : sample(r, d, 7, 3);
    if (kind == EQG_OP_CLAMP) {
      if (isfinite(a)) nudge_away(x, a, 0.05);
      if (isfinite(b)) nudge_away(x, b, 0.05);
    }
    unary_ctx c = { kind, a, b, times_x };
    char label[96];
    snprintf(label, sizeof label, "%s(a=%g, b=%g)%s", name, a, b, times_x ? " * x" : "");
    gc_run(label, f_unary, &c, 1, &x);
    gc_tensor_free(x);
  }
  gsl_rng_free(r);
}

void gc_check_relu(void) { check_unary("relu", EQG_OP_RELU, 0, 0, DOM_AWAY_FROM_0, 21); }

void gc_check_leaky_relu(void)
{
  check_unary("leaky_relu", EQG_OP_LEAKY_RELU, 0.01, 0, DOM_AWAY_FROM_0, 22);
  check_unary("leaky_relu", EQG_OP_LEAKY_RELU, 0.3, 0, DOM_AWAY_FROM_0, 23);
  check_unary("leaky_relu", EQG_OP_LEAKY_RELU, -0.5, 0, DOM_AWAY_FROM_0, 24);
}

void gc_check_silu(void) { check_unary("silu", EQG_OP_SILU, 0, 0, DOM_ANY, 25); }
void gc_check_sigmoid(void) { check_unary("sigmoid", EQG_OP_SIGMOID, 0, 0, DOM_ANY, 26); }
void gc_check_tanh(void) { check_unary("tanh", EQG_OP_TANH, 0, 0, DOM_ANY, 27); }
void gc_check_softplus(void) { check_unary("softplus", EQG_OP_SOFTPLUS, 0, 0, DOM_ANY, 28); }

void gc_check_shifted_softplus(void)
{
  check_unary("shifted_softplus", EQG_OP_SHIFTED_SOFTPLUS, 0, 0, DOM_ANY, 29);
}

void gc_check_exp(void) { check_unary("exp", EQG_OP_EXP, 0, 0, DOM_ANY, 30); }
void gc_check_log(void) { check_unary("log", EQG_OP_LOG, 0, 0, DOM_POSITIVE, 31); }
void gc_check_sqrt(void) { check_unary("sqrt", EQG_OP_SQRT, 0, 0, DOM_POSITIVE, 32); }
void gc_check_abs(void) { check_unary("abs", EQG_OP_ABS, 0, 0, DOM_AWAY_FROM_0, 33); }

void gc_check_clamp(void)
{
  check_unary("clamp", EQG_OP_CLAMP, -0.5, 0.7, DOM_ANY, 34);       /* both bounds active */
  check_unary("clamp", EQG_OP_CLAMP, -INFINITY, 0.3, DOM_ANY, 35);  /* upper bound only */
  check_unary("clamp", EQG_OP_CLAMP, -1.2, INFINITY, DOM_ANY, 36);  /* lower bound only */
}

void gc_check_psi(void) { check_unary("psi", EQG_OP_PSI, 0, 0, DOM_AWAY_FROM_0, 37); }
