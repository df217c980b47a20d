/* eqg_gradcheck.c: see eqg_gradcheck.h. */
#include "ad/eqg_gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  eqg_gradcheck_fn f;
  void *ctx;
  eqg_tensor *const *inputs;
  eqg_tape *tape;
  unsigned long seed;
} gc_run;

static eqg_tensor *gc_eval(gc_run *g)
{
  eqg_tape_reset(g->tape);
  gsl_rng_set(g->tape->rng, g->seed);
  eqg_tensor *y = g->f(g->tape, g->inputs, g->ctx);
  if (!y && eqg_tape_status(g->tape) == EQG_OK)
    eqg_tape_fail(g->tape, EQG_EINVAL, "gradcheck: function returned NULL");
  return y;
}

static eqg_real dot(const eqg_real *a, const eqg_real *b, size_t n)
{
  eqg_real s = 0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

eqg_status eqg_gradcheck(eqg_gradcheck_fn f, void *ctx, size_t n_inputs,
                         eqg_tensor *const inputs[], eqg_real h, unsigned long seed,
                         eqg_gradcheck_result *res)
{
  *res = (eqg_gradcheck_result){ 0 };
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  eqg_tape *tape = rng ? eqg_tape_alloc(1 << 16, rng) : NULL;
  eqg_real *R = NULL, **analytic = calloc(n_inputs ? n_inputs : 1, sizeof *analytic);
  eqg_status st = EQG_OK;
  if (!tape || !analytic) {
    st = eqg_error_set(EQG_ENOMEM, "gradcheck: cannot allocate");
    goto done;
  }
  gc_run g = { f, ctx, inputs, tape, seed };

  /* Analytic pass. */
  for (size_t k = 0; k < n_inputs; k++)
    if (inputs[k]->grad) memset(inputs[k]->grad, 0, eqg_tensor_size(inputs[k]) * sizeof(eqg_real));
  eqg_tensor *y = gc_eval(&g);
  if (!y) { st = eqg_tape_status(tape); goto done; }
  if ((st = eqg_tensor_check_finite(y, "gradcheck output")) != EQG_OK) goto done;
  size_t ny = eqg_tensor_size(y);
  R = malloc((ny ? ny : 1) * sizeof *R);
  if (!R) { st = eqg_error_set(EQG_ENOMEM, "gradcheck: cannot allocate"); goto done; }
  gsl_rng *rr = gsl_rng_alloc(gsl_rng_mt19937);
  if (!rr) { st = eqg_error_set(EQG_ENOMEM, "gradcheck: cannot allocate"); goto done; }
  gsl_rng_set(rr, seed ^ 0x9e3779b9UL);
  for (size_t i = 0; i < ny; i++) R[i] = 2 * gsl_rng_uniform(rr) - 1;
  gsl_rng_free(rr);
  if (y->grad && (st = eqg_tape_backward_seed(tape, y, R)) != EQG_OK) goto done;
  for (size_t k = 0; k < n_inputs; k++) {
    if (!inputs[k]->grad) continue;
    size_t m = eqg_tensor_size(inputs[k]);
    analytic[k] = malloc((m ? m : 1) * sizeof(eqg_real));
    if (!analytic[k]) { st = eqg_error_set(EQG_ENOMEM, "gradcheck: cannot allocate"); goto done; }
    memcpy(analytic[k], inputs[k]->grad, m * sizeof(eqg_real));
  }

  /* Numeric pass, element by element. */
  for (size_t k = 0; k < n_inputs; k++) {
    if (!analytic[k]) continue;
    size_t m = eqg_tensor_size(inputs[k]);
    eqg_real amax = 0;
    for (size_t e = 0; e < m; e++) amax = fmax(amax, fabs(analytic[k][e]));
    for (size_t e = 0; e < m; e++) {
      /* L at x0 + o h for o = +1, -1, +2, -2. */
      const eqg_real x0 = inputs[k]->data[e], offs[4] = { 1, -1, 2, -2 };
      eqg_real l[4];
      for (int o = 0; o < 4; o++) {
        inputs[k]->data[e] = x0 + offs[o] * h;
        eqg_tensor *yo = gc_eval(&g);
        inputs[k]->data[e] = x0;
        if (!yo) { st = eqg_tape_status(tape); goto done; }
        l[o] = dot(yo->data, R, ny);
      }
      eqg_real num = (8 * (l[0] - l[1]) - (l[2] - l[3])) / (12 * h), ana = analytic[k][e];
      eqg_real den = fmax(fmax(fabs(ana), fabs(num)), 1e-3 * amax);
      eqg_real err = den > 0 ? fabs(ana - num) / den : 0;
      if (!isfinite(err)) err = INFINITY;
      res->n_checked++;
      if (err >= res->max_err) {
        *res = (eqg_gradcheck_result){ err, k, e, ana, num, res->n_checked };
      }
    }
    memcpy(inputs[k]->grad, analytic[k], m * sizeof(eqg_real));
  }

done:
  if (analytic)
    for (size_t k = 0; k < n_inputs; k++) free(analytic[k]);
  free(analytic);
  free(R);
  eqg_tape_free(tape);
  gsl_rng_free(rng);
  return st;
}
