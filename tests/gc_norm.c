/* gc_norm.c: gradient checks of dropout, batch norm and layer norm. */
#include "eqg_gc_util.h"

#include <stdio.h>

typedef struct { eqg_real p; bool training; } do_ctx;

/* The harness reseeds the tape rng before every evaluation, so the mask drawn
 * at construction is the same in the analytic and every numeric pass.  The
 * square first makes the gradient depend on x, not only on the mask. */
static eqg_tensor *f_dropout(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  const do_ctx *c = ctx;
  t->training = c->training;
  return eqg_dropout(t, eqg_mul(t, in[0], in[0]), c->p);
}

void gc_check_dropout(void)
{
  gsl_rng *r = gc_rng(51);
  const do_ctx cases[3] = { { 0.3, true }, { 0.3, false }, { 0.0, true } };
  for (int s = 0; s < 3; s++) {
    eqg_tensor *x = gc_tensor(r, 7, 5, -1, 1, true);
    char label[64];
    snprintf(label, sizeof label, "dropout p=%g %s", cases[s].p,
             cases[s].training ? "training" : "eval");
    gc_run(label, f_dropout, (void *)&cases[s], 1, &x);
    gc_tensor_free(x);
  }
  gsl_rng_free(r);
}

typedef struct { eqg_batchnorm_state st; bool training; } bn_ctx;

static eqg_tensor *f_batchnorm(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  bn_ctx *c = ctx;
  t->training = c->training;
  return eqg_batchnorm(t, in[0], in[1], in[2], &c->st);
}

void gc_check_batchnorm(void)
{
  gsl_rng *r = gc_rng(52);
  enum { N = 7, F = 5 };
  for (int training = 1; training >= 0; training--) {
    /* Eval uses running statistics that are far from (0, 1) so that a
     * backward ignoring them would fail. */
    eqg_real rm[F], rv[F];
    for (int f = 0; f < F; f++) {
      rm[f] = training ? 0 : 0.3 * (f + 1) - 0.8;
      rv[f] = training ? 1 : 0.4 + 0.5 * f;
    }
    bn_ctx c = { { rm, rv, 0.1, 1e-5 }, training };
    eqg_tensor *in[3] = {
      gc_tensor(r, N, F, -1, 2, true),
      gc_tensor(r, 1, F, 0.5, 1.5, true),
      gc_tensor(r, 1, F, -1, 1, true),
    };
    gc_run(training ? "batchnorm training" : "batchnorm eval", f_batchnorm, &c, 3, in);
    for (int k = 0; k < 3; k++) gc_tensor_free(in[k]);
  }
  gsl_rng_free(r);
}

static eqg_tensor *f_layernorm(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  (void)ctx;
  return eqg_layernorm(t, in[0], in[1], in[2], 1e-5);
}

void gc_check_layernorm(void)
{
  gsl_rng *r = gc_rng(53);
  eqg_tensor *in[3] = {
    gc_tensor(r, 7, 5, -1, 2, true),
    gc_tensor(r, 1, 5, 0.5, 1.5, true),
    gc_tensor(r, 1, 5, -1, 1, true),
  };
  gc_run("layernorm", f_layernorm, NULL, 3, in);
  for (int k = 0; k < 3; k++) gc_tensor_free(in[k]);
  gsl_rng_free(r);
}
