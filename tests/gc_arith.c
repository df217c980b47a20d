/* gc_arith.c: gradient checks of matmul and the broadcasting arithmetic. */
#include "eqg_gc_util.h"

typedef struct { bool ta, tb; } mm_ctx;

static eqg_tensor *f_matmul(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  const mm_ctx *c = ctx;
  return eqg_matmul(t, in[0], c->ta, in[1], c->tb);
}

void gc_check_matmul(void)
{
  gsl_rng *r = gc_rng(1);
  const size_t M = 5, K = 3, N = 7;
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (int which = 0; which < 3; which++) {   /* grad to A, B, both */
        eqg_tensor *in[2] = {
          gc_tensor(r, ta ? K : M, ta ? M : K, -1, 1, which != 1),
          gc_tensor(r, tb ? N : K, tb ? K : N, -1, 1, which != 0),
        };
        mm_ctx c = { ta, tb };
        char label[64];
        snprintf(label, sizeof label, "matmul ta=%d tb=%d grad=%d", ta, tb, which);
        gc_run(label, f_matmul, &c, 2, in);
        gc_tensor_free(in[0]);
        gc_tensor_free(in[1]);
      }
  gsl_rng_free(r);
}

typedef eqg_tensor *(*binary_fn)(eqg_tape *, eqg_tensor *, eqg_tensor *);

static eqg_tensor *f_binary(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  return (*(binary_fn *)ctx)(t, in[0], in[1]);
}

/* Every broadcast shape of b against a (5, 3); divisors kept away from 0. */
static void check_binary(const char *name, binary_fn fn, bool b_away_from_zero)
{
  gsl_rng *r = gc_rng(2);
  const size_t n = 5, m = 3;
  const size_t shapes[4][2] = { { n, m }, { 1, m }, { n, 1 }, { 1, 1 } };
  for (int s = 0; s < 4; s++) {
    eqg_tensor *in[2] = {
      gc_tensor(r, n, m, -1, 1, true),
      b_away_from_zero ? gc_tensor_away(r, shapes[s][0], shapes[s][1], 0.5, 1.5, true)
                       : gc_tensor(r, shapes[s][0], shapes[s][1], -1, 1, true),
    };
    char label[64];
    snprintf(label, sizeof label, "%s b=%zux%zu", name, shapes[s][0], shapes[s][1]);
    gc_run(label, f_binary, &fn, 2, in);
    gc_tensor_free(in[0]);
    gc_tensor_free(in[1]);
  }
  gsl_rng_free(r);
}

void gc_check_add(void) { check_binary("add", eqg_add, false); }
void gc_check_sub(void) { check_binary("sub", eqg_sub, false); }
void gc_check_mul(void) { check_binary("mul", eqg_mul, false); }
void gc_check_div(void) { check_binary("div", eqg_div, true); }

static eqg_tensor *f_scale(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  (void)ctx;
  return eqg_scale(t, in[0], -1.7);
}

static eqg_tensor *f_add_scalar(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  (void)ctx;
  /* Square first so the gradient depends on x (a constant shift alone
   * would pass with any backward that copies dy). */
  return eqg_add_scalar(t, eqg_mul(t, in[0], in[0]), 0.3);
}

void gc_check_scale(void)
{
  gsl_rng *r = gc_rng(3);
  eqg_tensor *x = gc_tensor(r, 7, 3, -1, 1, true);
  gc_run("scale", f_scale, NULL, 1, &x);
  gc_tensor_free(x);
  gsl_rng_free(r);
}

void gc_check_add_scalar(void)
{
  gsl_rng *r = gc_rng(4);
  eqg_tensor *x = gc_tensor(r, 7, 3, -1, 1, true);
  gc_run("add_scalar", f_add_scalar, NULL, 1, &x);
  gc_tensor_free(x);
  gsl_rng_free(r);
}
