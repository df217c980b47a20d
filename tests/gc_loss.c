/* gc_loss.c: gradient checks of the losses. */
#include "eqg_gc_util.h"

static eqg_tensor *f_mse(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  (void)ctx;
  return eqg_mse(t, in[0], in[1]);
}

void gc_check_mse(void)
{
  gsl_rng *r = gc_rng(61);
  for (int which = 0; which < 2; which++) {   /* grads to both, to a only */
    eqg_tensor *in[2] = { gc_tensor(r, 7, 3, -1, 1, true),
                          gc_tensor(r, 7, 3, -1, 1, which == 0) };
    gc_run(which == 0 ? "mse grad a, b" : "mse grad a", f_mse, NULL, 2, in);
    gc_tensor_free(in[0]);
    gc_tensor_free(in[1]);
  }
  gsl_rng_free(r);
}

/* in[1] (targets) has no grad buffer: the op gives targets no gradient. */
static eqg_tensor *f_bce(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  (void)ctx;
  return eqg_bce_logits(t, in[0], in[1]);
}

void gc_check_bce_logits(void)
{
  gsl_rng *r = gc_rng(62);
  eqg_tensor *in[2] = { gc_tensor_away(r, 9, 1, 0.1, 4, true),
                        gc_tensor(r, 9, 1, 0, 1, false) };   /* fractional targets */
  gc_run("bce_logits", f_bce, NULL, 2, in);
  gc_tensor_free(in[0]);
  gc_tensor_free(in[1]);
  gsl_rng_free(r);
}

static eqg_tensor *f_xent(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  return eqg_softmax_xent(t, in[0], ctx);
}

void gc_check_softmax_xent(void)
{
  gsl_rng *r = gc_rng(63);
  static const eqg_index labels[5] = { 0, 2, 1, 2, 0 };
  eqg_tensor *x = gc_tensor(r, 5, 3, -3, 3, true);
  gc_run("softmax_xent 5 x 3", f_xent, (void *)labels, 1, &x);
  gc_tensor_free(x);
  gsl_rng_free(r);
}
