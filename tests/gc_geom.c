/* gc_geom.c: gradient checks of the row-wise bilinear form and squared norm. */
#include "eqg_gc_util.h"

#include <stdio.h>

typedef struct { eqg_metric metric; bool same; } bl_ctx;

/* in = { x, z, G } (z unused when same, G only for the general metric). */
static eqg_tensor *f_bilinear(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  const bl_ctx *c = ctx;
  eqg_tensor *z = c->same ? in[0] : in[1];
  eqg_tensor *G = c->metric == EQG_METRIC_GENERAL ? in[c->same ? 1 : 2] : NULL;
  return eqg_bilinear_rows(t, in[0], z, c->metric, G);
}

void gc_check_bilinear_rows(void)
{
  gsl_rng *r = gc_rng(41);
  const size_t n = 7;
  const eqg_metric metrics[3] = { EQG_METRIC_EUCLIDEAN, EQG_METRIC_MINKOWSKI,
                                  EQG_METRIC_GENERAL };
  const char *names[3] = { "euclidean", "minkowski", "general" };
  for (int m = 0; m < 3; m++) {
    size_t d = metrics[m] == EQG_METRIC_MINKOWSKI ? 4 : metrics[m] == EQG_METRIC_GENERAL ? 5 : 3;
    /* which: 0 grads to all, 1 to x only, 2 to z (and G) only, 3 x == z */
    for (int which = 0; which < 4; which++) {
      bl_ctx c = { metrics[m], which == 3 };
      eqg_tensor *x = gc_tensor(r, n, d, -1, 1, which != 2);
      eqg_tensor *z = c.same ? NULL : gc_tensor(r, n, d, -1, 1, which != 1);
      eqg_tensor *G = metrics[m] == EQG_METRIC_GENERAL
                        ? gc_tensor(r, d, d, -1, 1, which != 1) : NULL;
      eqg_tensor *in[3];
      size_t k = 0;
      in[k++] = x;
      if (z) in[k++] = z;
      if (G) in[k++] = G;
      char label[64];
      snprintf(label, sizeof label, "bilinear_rows %s %s", names[m],
               which == 0 ? "grad all" : which == 1 ? "grad x" : which == 2 ? "grad z, G"
                                                                            : "x == z");
      gc_run(label, f_bilinear, &c, k, in);
      gc_tensor_free(x);
      gc_tensor_free(z);
      gc_tensor_free(G);
    }
  }
  gsl_rng_free(r);
}

static eqg_tensor *f_sqnorm(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  (void)ctx;
  return eqg_sqnorm_rows(t, in[0]);
}

void gc_check_sqnorm_rows(void)
{
  gsl_rng *r = gc_rng(42);
  const size_t cols[2] = { 3, 5 };
  for (int s = 0; s < 2; s++) {
    eqg_tensor *x = gc_tensor(r, 9, cols[s], -2, 2, true);
    char label[64];
    snprintf(label, sizeof label, "sqnorm_rows 9 x %zu", cols[s]);
    gc_run(label, f_sqnorm, NULL, 1, &x);
    gc_tensor_free(x);
  }
  gsl_rng_free(r);
}
