/* test_nn.c: parameter block, optimisers, schedules, linear layers and MLPs.
 *
 * Reference numbers for the optimisers and schedules were computed by hand
 * (the derivations are in the comments; multi-digit values were evaluated in
 * 40-digit decimal arithmetic from the textbook formulas) and are compared to
 * a few ulps, so a change in any formula fails the test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <gsl/gsl_rng.h>

#include "eqgnn.h"

/* |a - b| <= rel max(|a|, |b|), with the values in the failure message. */
#define ASSERT_CLOSE(a, b, rel)                                                        \
  do {                                                                                 \
    eqg_real a_ = (a), b_ = (b);                                                       \
    eqg_real d_ = fabs(a_ - b_), s_ = fmax(fabs(a_), fabs(b_));                        \
    if (!(d_ <= (rel) * s_))                                                           \
      fail_msg("%s = %.17g, expected %.17g (rel. diff %.3g > %.3g)", #a, a_, b_,        \
               s_ > 0 ? d_ / s_ : d_, (double)(rel));                                  \
  } while (0)

static gsl_rng *rng_new(unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  assert_non_null(r);
  gsl_rng_set(r, seed);
  return r;
}

/* ======================================================================== */
/* Parameter block                                                          */
/* ======================================================================== */

static void test_params_naming(void **state)
{
  (void)state;
  eqg_params *p = eqg_params_alloc();
  assert_non_null(p);
  assert_int_equal(eqg_params_add(p, "enc.0.weight", 3, 4, true), 0);
  assert_int_equal(eqg_params_add(p, "enc.0.bias", 1, 4, true), 1);
  assert_int_equal(eqg_params_add(p, "bn.running_mean", 1, 4, false), 2);
  assert_int_equal(eqg_params_find(p, "enc.0.bias"), 1);
  assert_int_equal(eqg_params_find(p, "bn.running_mean"), 2);
  assert_int_equal(eqg_params_find(p, "enc.0"), -1);
  assert_int_equal(eqg_params_count(p), 16);   /* buffers are not counted */
  assert_int_equal(p->buf_size, 4);

  /* Duplicates are rejected whether trainable or not, with a message. */
  eqg_error_clear();
  assert_int_equal(eqg_params_add(p, "enc.0.bias", 1, 4, true), -1);
  assert_non_null(strstr(eqg_error_message(), "duplicate"));
  assert_non_null(strstr(eqg_error_message(), "enc.0.bias"));
  assert_int_equal(eqg_params_add(p, "enc.0.weight", 2, 2, false), -1);

  /* Invalid names. */
  char longname[EQG_PARAM_NAME_MAX + 1];
  memset(longname, 'a', EQG_PARAM_NAME_MAX);
  longname[EQG_PARAM_NAME_MAX] = '\0';
  const char *bad[] = { "", ".x", "x.", "a..b", "a/b", "a b", "\xc3\xa4", longname };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    eqg_error_clear();
    assert_int_equal(eqg_params_add(p, bad[k], 1, 1, true), -1);
    assert_true(strlen(eqg_error_message()) > 0);
  }
  assert_int_equal(eqg_params_add(p, NULL, 1, 1, true), -1);
  longname[EQG_PARAM_NAME_MAX - 1] = '\0';     /* 127 characters: the longest allowed */
  assert_int_equal(eqg_params_add(p, longname, 1, 1, true), 3);
  assert_int_equal(eqg_params_add(p, "A-z_09.x-y", 1, 1, true), 4);

  /* Nothing was added by the failures. */
  assert_int_equal(p->n, 5);
  assert_int_equal(eqg_params_count(p), 18);
  assert_null(eqg_params_get(p, 5));
  assert_null(eqg_params_get(p, -1));
  eqg_params_free(p);
  eqg_params_free(NULL);
}

/* Views stay valid (re-pointed) after many adds grow the blocks. */
static void test_params_views_after_growth(void **state)
{
  (void)state;
  eqg_params *p = eqg_params_alloc();
  int a = eqg_params_add(p, "a", 2, 3, true);
  int b = eqg_params_add(p, "b", 1, 4, false);
  assert_true(a >= 0 && b >= 0);
  eqg_tensor *va = eqg_params_get(p, a), *vb = eqg_params_get(p, b);
  for (int i = 0; i < 6; i++) { va->data[i] = i + 1; va->grad[i] = -(i + 1); }
  for (int i = 0; i < 4; i++) vb->data[i] = 10 + i;
  assert_null(vb->grad);

  char name[32];
  for (int k = 0; k < 200; k++) {
    snprintf(name, sizeof name, "w%d", k);
    assert_int_equal(eqg_params_add(p, name, 10, 10, true), 2 + 2 * k);
    snprintf(name, sizeof name, "buf%d", k);
    assert_int_equal(eqg_params_add(p, name, 1, 3, false), 3 + 2 * k);
  }
  assert_int_equal(eqg_params_count(p), 6 + 200 * 100);
  assert_int_equal(p->buf_size, 4 + 200 * 3);
  assert_true(p->data_cap >= p->size && p->buf_cap >= p->buf_size);

  /* Every view points at its offset in the current blocks. */
  for (size_t k = 0; k < p->n; k++) {
    const eqg_param_info *in = &p->info[k];
    eqg_tensor *v = eqg_params_get(p, (int)k);
    assert_int_equal(v->rows, in->rows);
    assert_int_equal(v->cols, in->cols);
    if (in->trainable) {
      assert_ptr_equal(v->data, p->data + in->offset);
      assert_ptr_equal(v->grad, p->grad + in->offset);
    } else {
      assert_ptr_equal(v->data, p->buf + in->offset);
      assert_null(v->grad);
    }
  }
  /* Old contents survive, new entries are zero. */
  va = eqg_params_get(p, a);
  vb = eqg_params_get(p, b);
  for (int i = 0; i < 6; i++) {
    assert_true(va->data[i] == i + 1);
    assert_true(va->grad[i] == -(i + 1));
  }
  for (int i = 0; i < 4; i++) assert_true(vb->data[i] == 10 + i);
  eqg_tensor *last = eqg_params_get(p, eqg_params_find(p, "w199"));
  for (int i = 0; i < 100; i++) assert_true(last->data[i] == 0 && last->grad[i] == 0);
  /* Trainable entries are contiguous in declaration order. */
  assert_int_equal(p->info[eqg_params_find(p, "w0")].offset, 6);
  assert_int_equal(p->info[eqg_params_find(p, "w1")].offset, 106);

  eqg_params_zero_grad(p);
  for (size_t i = 0; i < p->size; i++) assert_true(p->grad[i] == 0);
  eqg_params_free(p);
}

/* Gradient norm and clipping by hand: g = (3, 4 | 12), |g| = 13. */
static void test_params_clip_grad_norm(void **state)
{
  (void)state;
  eqg_params *p = eqg_params_alloc();
  int a = eqg_params_add(p, "a", 1, 2, true), b = eqg_params_add(p, "b", 1, 1, true);
  assert_int_equal(eqg_params_add(p, "buf", 1, 1, false), 2);
  p->buf[0] = 1e6;                          /* buffers have no gradient: ignored */
  const eqg_real g0[3] = { 3, 4, 12 };
  memcpy(p->grad, g0, sizeof g0);
  assert_true(eqg_params_grad_norm(p) == 13);

  /* max_norm above the norm: nothing changes (bitwise). */
  assert_true(eqg_params_clip_grad_norm(p, 100) == 13);
  assert_memory_equal(p->grad, g0, sizeof g0);

  /* max_norm 6.5: g *= 6.5 / (13 + 1e-6), as torch.nn.utils.clip_grad_norm_. */
  assert_true(eqg_params_clip_grad_norm(p, 6.5) == 13);
  const eqg_real c = 6.5 / (13 + 1e-6);
  for (int i = 0; i < 3; i++) assert_true(p->grad[i] == g0[i] * c);
  assert_true(eqg_params_get(p, a)->grad[1] == 4 * c);
  assert_true(eqg_params_get(p, b)->grad[0] == 12 * c);
  ASSERT_CLOSE(eqg_params_grad_norm(p), 6.5 * 13 / (13 + 1e-6), 1e-15);
  assert_true(eqg_params_grad_norm(p) <= 6.5);

  /* A non-finite norm leaves the gradients alone and is returned. */
  p->grad[0] = NAN;
  assert_true(isnan(eqg_params_clip_grad_norm(p, 1)));
  assert_true(p->grad[1] == 4 * c);
  eqg_params_free(p);
}

/* ======================================================================== */
/* Optimisers                                                               */
/* ======================================================================== */

/* Two parameters x0 = (1, -2), gradients g1 = (0.5, 0.2) then g2 = (-1, 0.3),
 * lr = 0.1.  Returns x after each of the two steps in x1, x2. */
static void two_steps(const eqg_optim_type *type, const eqg_optim_config *cfg,
                      eqg_real x1[2], eqg_real x2[2])
{
  eqg_params *p = eqg_params_alloc();
  assert_int_equal(eqg_params_add(p, "x", 1, 2, true), 0);
  p->data[0] = 1;
  p->data[1] = -2;
  eqg_optim *o = eqg_optim_alloc(type, cfg, p->size);
  assert_non_null(o);
  p->grad[0] = 0.5;
  p->grad[1] = 0.2;
  eqg_optim_step(o, p, cfg->lr);
  assert_int_equal(o->step, 1);
  memcpy(x1, p->data, 2 * sizeof *x1);
  p->grad[0] = -1;
  p->grad[1] = 0.3;
  eqg_optim_step(o, p, cfg->lr);
  assert_int_equal(o->step, 2);
  memcpy(x2, p->data, 2 * sizeof *x2);
  eqg_optim_free(o);
  eqg_params_free(p);
}

static const eqg_real OPT_TOL = 1e-15;   /* a few ulps (operation order differs) */

static void test_optim_sgd(void **state)
{
  (void)state;
  eqg_real x1[2], x2[2];
  eqg_optim_config c = eqg_optim_config_default();
  c.lr = 0.1;

  /* Plain SGD with L2 weight decay 0.1: g' = g + 0.1 x.
   * step 1: g' = (0.5 + 0.1, 0.2 - 0.2) = (0.6, 0)  -> x = (0.94, -2)
   * step 2: g' = (-1 + 0.094, 0.3 - 0.2) = (-0.906, 0.1) -> x = (1.0306, -2.01) */
  c.weight_decay = 0.1;
  two_steps(&eqg_optim_sgd, &c, x1, x2);
  ASSERT_CLOSE(x1[0], 0.94, OPT_TOL);
  ASSERT_CLOSE(x1[1], -2, OPT_TOL);
  ASSERT_CLOSE(x2[0], 1.0306, OPT_TOL);
  ASSERT_CLOSE(x2[1], -2.01, OPT_TOL);

  /* Momentum 0.9: b1 = g1, b2 = 0.9 b1 + g2.
   * step 1: b = (0.5, 0.2)                  -> x = (0.95, -2.02)
   * step 2: b = (0.45 - 1, 0.18 + 0.3) = (-0.55, 0.48) -> x = (1.005, -2.068) */
  c.weight_decay = 0;
  c.momentum = 0.9;
  two_steps(&eqg_optim_sgd, &c, x1, x2);
  ASSERT_CLOSE(x1[0], 0.95, OPT_TOL);
  ASSERT_CLOSE(x1[1], -2.02, OPT_TOL);
  ASSERT_CLOSE(x2[0], 1.005, OPT_TOL);
  ASSERT_CLOSE(x2[1], -2.068, OPT_TOL);

  /* Nesterov: d = g + 0.9 b.
   * step 1: d = (0.5 + 0.45, 0.2 + 0.18) = (0.95, 0.38)      -> x = (0.905, -2.038)
   * step 2: d = (-1 - 0.495, 0.3 + 0.432) = (-1.495, 0.732) -> x = (1.0545, -2.1112) */
  c.nesterov = true;
  two_steps(&eqg_optim_sgd, &c, x1, x2);
  ASSERT_CLOSE(x1[0], 0.905, OPT_TOL);
  ASSERT_CLOSE(x1[1], -2.038, OPT_TOL);
  ASSERT_CLOSE(x2[0], 1.0545, OPT_TOL);
  ASSERT_CLOSE(x2[1], -2.1112, OPT_TOL);

  /* Momentum with weight decay: the decay enters the buffer.
   * step 1: g' = (0.6, 0), b = g'               -> x = (0.94, -2)
   * step 2: g' = (-0.906, 0.1), b = (0.54 - 0.906, 0.1) -> x = (0.9766, -2.01) */
  c.nesterov = false;
  c.weight_decay = 0.1;
  two_steps(&eqg_optim_sgd, &c, x1, x2);
  ASSERT_CLOSE(x2[0], 0.9766, OPT_TOL);
  ASSERT_CLOSE(x2[1], -2.01, OPT_TOL);
}

static void test_optim_adam(void **state)
{
  (void)state;
  eqg_real x1[2], x2[2];
  eqg_optim_config c = eqg_optim_config_default();   /* betas 0.9/0.999, eps 1e-8 */
  c.lr = 0.1;

  /* Adam, no decay.  Step 1 with bias correction: m^ = g, v^ = g^2, so
   *   x1 = x0 - lr g / (|g| + eps) = (1 - 0.05 / (0.5 + 1e-8), -2 - 0.02 / (0.2 + 1e-8)).
   * Step 2: m = 0.9 m1 + 0.1 g2 = (-0.055, 0.048), v = 0.999 v1 + 0.001 g2^2
   * = (0.00124975, 0.00012996), c1 = 1 - 0.81 = 0.19, c2 = 1 - 0.998001 = 0.001999,
   *   x2 = x1 - lr (m / c1) / (sqrt(v / c2) + eps). */
  two_steps(&eqg_optim_adam, &c, x1, x2);
  ASSERT_CLOSE(x1[0], 1 - 0.05 / (0.5 + 1e-8), OPT_TOL);
  ASSERT_CLOSE(x1[1], -2 - 0.02 / (0.2 + 1e-8), OPT_TOL);
  ASSERT_CLOSE(x1[0], 0.90000000199999997, OPT_TOL);
  ASSERT_CLOSE(x2[0], 0.9366103542405656, OPT_TOL);
  ASSERT_CLOSE(x2[1], -2.1990807175677736, OPT_TOL);

  /* Adam with L2 weight decay 0.1 (added to the gradient):
   * g1' = (0.5 + 0.1, 0.2 - 0.2) = (0.6, 0): the second parameter has m = v = 0
   * and does not move (0 / (0 + eps)); x1 = (1 - 0.06 / (0.6 + 1e-8) ... = 0.9000000016666666, -2). */
  c.weight_decay = 0.1;
  two_steps(&eqg_optim_adam, &c, x1, x2);
  ASSERT_CLOSE(x1[0], 0.9000000016666666, OPT_TOL);
  assert_true(x1[1] == -2);
  ASSERT_CLOSE(x2[0], 0.92526351944560636, OPT_TOL);
  ASSERT_CLOSE(x2[1], -2.0744136718356474, OPT_TOL);
}

static void test_optim_adamw(void **state)
{
  (void)state;
  eqg_real x1[2], x2[2];
  eqg_optim_config c = eqg_optim_config_for(&eqg_optim_adamw);
  assert_true(c.weight_decay == 0.01);
  assert_true(eqg_optim_config_for(&eqg_optim_adam).weight_decay == 0);
  c.lr = 0.1;
  c.weight_decay = 0.1;

  /* Decoupled decay: x <- x (1 - lr wd) = 0.99 x first, then the plain Adam
   * step (moments see the raw gradient).  Step 1: x1 = 0.99 x0 - 0.1 g/(|g| + eps)
   * = (0.99 - 0.05 / (0.5 + 1e-8), -1.98 - 0.02 / (0.2 + 1e-8)); step 2 uses
   * the same m, v as Adam above on 0.99 x1. */
  two_steps(&eqg_optim_adamw, &c, x1, x2);
  ASSERT_CLOSE(x1[0], 0.99 - 0.05 / (0.5 + 1e-8), OPT_TOL);
  ASSERT_CLOSE(x1[1], -1.98 - 0.02 / (0.2 + 1e-8), OPT_TOL);
  ASSERT_CLOSE(x2[0], 0.91771035422056557, OPT_TOL);
  ASSERT_CLOSE(x2[1], -2.1582807176177732, OPT_TOL);
}

static void test_optim_types_and_config(void **state)
{
  (void)state;
  assert_ptr_equal(eqg_optim_type_find("sgd"), &eqg_optim_sgd);
  assert_ptr_equal(eqg_optim_type_find("adam"), &eqg_optim_adam);
  assert_ptr_equal(eqg_optim_type_find("adamw"), &eqg_optim_adamw);
  assert_null(eqg_optim_type_find("rmsprop"));
  assert_null(eqg_optim_type_find(NULL));
  for (size_t k = 0; eqg_optim_types[k]; k++) {
    const eqg_optim_type *T = eqg_optim_types[k];
    assert_true(T->n_state >= 1 && T->n_state <= 2);
    for (int s = 0; s < T->n_state; s++) assert_non_null(T->state_names[s]);
    eqg_optim_config c = eqg_optim_config_for(T);
    eqg_optim *o = eqg_optim_alloc(T, &c, 7);
    assert_non_null(o);
    for (int s = 0; s < T->n_state; s++)
      for (int i = 0; i < 7; i++) assert_true(o->state[s][i] == 0);
    assert_int_equal(o->step, 0);
    eqg_optim_free(o);
  }
  eqg_optim_free(NULL);

  eqg_optim_config c = eqg_optim_config_default();
  assert_true(c.lr == 1e-3 && c.beta1 == 0.9 && c.beta2 == 0.999 && c.eps == 1e-8);
  c.lr = -1;
  assert_null(eqg_optim_alloc(&eqg_optim_adam, &c, 3));
  assert_non_null(strstr(eqg_error_message(), "lr"));
  c = eqg_optim_config_default();
  c.beta2 = 1;
  assert_null(eqg_optim_alloc(&eqg_optim_adamw, &c, 3));
  c = eqg_optim_config_default();
  c.nesterov = true;                    /* without momentum */
  assert_null(eqg_optim_alloc(&eqg_optim_sgd, &c, 3));
  assert_non_null(strstr(eqg_error_message(), "nesterov"));
}

/* ======================================================================== */
/* Schedules                                                                */
/* ======================================================================== */

static const eqg_real SCHED_TOL = 1e-15;

static void test_schedule_simple(void **state)
{
  (void)state;
  eqg_schedule s = eqg_schedule_constant(0.01);
  assert_int_equal(eqg_schedule_check(&s), EQG_OK);
  assert_true(eqg_schedule_lr(&s, 0) == 0.01 && eqg_schedule_lr(&s, 100000) == 0.01);

  /* Step: 0.1 * 0.5^floor(t / 3). */
  s = eqg_schedule_step(0.1, 3, 0.5);
  assert_true(eqg_schedule_lr(&s, 0) == 0.1);
  assert_true(eqg_schedule_lr(&s, 2) == 0.1);
  assert_true(eqg_schedule_lr(&s, 3) == 0.05);
  assert_true(eqg_schedule_lr(&s, 5) == 0.05);
  assert_true(eqg_schedule_lr(&s, 6) == 0.025);
  assert_true(eqg_schedule_lr(&s, 9) == 0.0125);

  /* Cosine 1 -> 0.1 over T = 10: 0.1 + 0.9 (1 + cos(pi t / 10)) / 2.
   * t = 5: 0.55; t = 10 and after: 0.1; t = 2: 0.1 + 0.45 (1 + cos(pi/5)). */
  s = eqg_schedule_cosine(1, 10, 0.1);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 0), 1, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 5), 0.55, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 2), 0.1 + 0.45 * (1 + 0.80901699437494742), SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 10), 0.1, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 25), 0.1, SCHED_TOL);

  /* Invalid configs. */
  s = eqg_schedule_step(0.1, 0, 0.5);
  assert_int_equal(eqg_schedule_check(&s), EQG_EINVAL);
  assert_true(isnan(eqg_schedule_lr(&s, 1)));
  s = eqg_schedule_cosine(0.1, 0, 0);
  assert_int_equal(eqg_schedule_check(&s), EQG_EINVAL);
  s = eqg_schedule_warmup_restarts(0.1, 2, 0, 2, 0);
  assert_int_equal(eqg_schedule_check(&s), EQG_EINVAL);
  s = eqg_schedule_constant(NAN);
  assert_int_equal(eqg_schedule_check(&s), EQG_EINVAL);
  s = eqg_schedule_constant(0.1);
  s.halve_last = 5;
  s.total = 5;
  assert_int_equal(eqg_schedule_check(&s), EQG_EINVAL);

  for (int k = 0; k < EQG_SCHEDULE_KIND_COUNT; k++)
    assert_int_equal(eqg_schedule_kind_find(eqg_schedule_kind_name(k)), k);
  assert_int_equal(eqg_schedule_kind_find("linear"), -1);
}

/* Warm-up W = 4, then cosine restarts T0 = 4, T_mult = 2 (cycles of 4, 8, 16,
 * 32 epochs starting at t = 4, 8, 16, 32), lr = 1e-3, lr_min = 0. */
static void test_schedule_warmup_restarts(void **state)
{
  (void)state;
  const eqg_real lr = 1e-3;
  eqg_schedule s = eqg_schedule_warmup_restarts(lr, 4, 4, 2, 0);
  assert_int_equal(eqg_schedule_check(&s), EQG_OK);
  /* Linear warm-up lr t / 4. */
  assert_true(eqg_schedule_lr(&s, 0) == 0);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 1), 2.5e-4, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 3), 7.5e-4, SCHED_TOL);
  /* Warm-up end = start of the first cycle: the full rate. */
  ASSERT_CLOSE(eqg_schedule_lr(&s, 4), lr, SCHED_TOL);
  /* First cycle (T_i = 4): T_cur = 2 -> lr / 2; T_cur = 3 -> lr (1 + cos(3 pi / 4)) / 2. */
  ASSERT_CLOSE(eqg_schedule_lr(&s, 6), 0.5e-3, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 7), lr * (1 - 0.70710678118654752) / 2, 1e-14);
  /* Restart at t = 8 (second cycle, T_i = 8). */
  ASSERT_CLOSE(eqg_schedule_lr(&s, 8), lr, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 12), 0.5e-3, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 15), lr * (1 - 0.92387953251128674) / 2, 1e-13);
  /* Restart at t = 16 (T_i = 16): T_cur = 15 -> lr (1 + cos(15 pi / 16)) / 2. */
  ASSERT_CLOSE(eqg_schedule_lr(&s, 16), lr, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 24), 0.5e-3, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 31), lr * (1 - 0.98078528040323043) / 2, 1e-13);
  /* Restart at t = 32 (T_i = 32). */
  ASSERT_CLOSE(eqg_schedule_lr(&s, 32), lr, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 48), 0.5e-3, SCHED_TOL);

  /* With a floor: lr_min + (lr - lr_min) (1 + cos) / 2. */
  s.lr_min = 1e-4;
  ASSERT_CLOSE(eqg_schedule_lr(&s, 6), 1e-4 + 0.9e-3 / 2, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 8), lr, SCHED_TOL);

  /* T_mult = 1: a restart every T0 = 4 after the warm-up. */
  s = eqg_schedule_warmup_restarts(lr, 2, 4, 1, 0);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 2), lr, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 4), 0.5e-3, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 6), lr, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 402), lr, SCHED_TOL);

  /* No warm-up: t = 0 is the first cycle's start. */
  s = eqg_schedule_warmup_restarts(lr, 0, 4, 2, 0);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 0), lr, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 4), lr, SCHED_TOL);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 8), 0.5e-3, SCHED_TOL);
}

/* LorentzNet: total 35 epochs, the last 3 halve the rate each epoch. */
static void test_schedule_halving(void **state)
{
  (void)state;
  const eqg_real lr = 1e-3;
  eqg_schedule s = eqg_schedule_warmup_restarts(lr, 4, 4, 2, 0);
  s.total = 35;
  s.halve_last = 3;
  assert_int_equal(eqg_schedule_check(&s), EQG_OK);
  eqg_schedule plain = eqg_schedule_warmup_restarts(lr, 4, 4, 2, 0);
  /* Unchanged before epoch 32. */
  for (long t = 0; t < 32; t++) assert_true(eqg_schedule_lr(&s, t) == eqg_schedule_lr(&plain, t));
  /* lr(31) = lr (1 + cos(15 pi / 16)) / 2 (end of the third cycle); then /2, /4, /8. */
  const eqg_real l31 = lr * (1 - 0.98078528040323043) / 2;
  ASSERT_CLOSE(eqg_schedule_lr(&s, 31), l31, 1e-13);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 32), l31 / 2, 1e-13);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 33), l31 / 4, 1e-13);
  ASSERT_CLOSE(eqg_schedule_lr(&s, 34), l31 / 8, 1e-13);
  assert_true(eqg_schedule_lr(&s, 33) == eqg_schedule_lr(&s, 32) / 2);   /* exact halving */
  /* Without halving, epoch 32 would restart at the full rate. */
  ASSERT_CLOSE(eqg_schedule_lr(&plain, 32), lr, SCHED_TOL);

  /* On a constant schedule: 10 epochs, last 3 halved. */
  s = eqg_schedule_constant(0.2);
  s.total = 10;
  s.halve_last = 3;
  assert_true(eqg_schedule_lr(&s, 6) == 0.2);
  assert_true(eqg_schedule_lr(&s, 7) == 0.1);
  assert_true(eqg_schedule_lr(&s, 8) == 0.05);
  assert_true(eqg_schedule_lr(&s, 9) == 0.025);
}

/* ======================================================================== */
/* Linear layer                                                             */
/* ======================================================================== */

static void test_linear_forward_by_hand(void **state)
{
  (void)state;
  eqg_params *p = eqg_params_alloc();
  eqg_linear l;
  assert_int_equal(eqg_linear_init(&l, p, "lin", 2, 3, true, EQG_INIT_ZERO, 1, NULL), EQG_OK);
  assert_int_equal(eqg_params_find(p, "lin.weight"), l.w_id);
  assert_int_equal(eqg_params_find(p, "lin.bias"), l.b_id);
  eqg_tensor *W = eqg_params_get(p, l.w_id), *b = eqg_params_get(p, l.b_id);
  assert_int_equal(W->rows, 2);
  assert_int_equal(W->cols, 3);
  assert_int_equal(b->rows, 1);
  assert_int_equal(b->cols, 3);
  const eqg_real wv[6] = { 1, 2, 3, 4, 5, 6 }, bv[3] = { 0.5, -1, 2 };
  memcpy(W->data, wv, sizeof wv);
  memcpy(b->data, bv, sizeof bv);

  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_real xv[4] = { 1, -1, 2, 0.5 };
  eqg_tensor *x = eqg_tape_input(t, 2, 2, xv, false);
  eqg_tensor *y = eqg_linear_forward(t, p, &l, x);
  assert_non_null(y);
  /* [1 -1; 2 0.5] [1 2 3; 4 5 6] = [-3 -3 -3; 4 6.5 9], + b per row. */
  const eqg_real want[6] = { -2.5, -4, -1, 4.5, 5.5, 11 };
  for (int i = 0; i < 6; i++) assert_true(y->data[i] == want[i]);
  /* dW = x^T 1 = column sums of x per row of W; db = (2, 2, 2). */
  const eqg_real ones[6] = { 1, 1, 1, 1, 1, 1 };
  eqg_params_zero_grad(p);
  assert_int_equal(eqg_tape_backward_seed(t, y, ones), EQG_OK);
  const eqg_real dW[6] = { 3, 3, 3, -0.5, -0.5, -0.5 };
  for (int i = 0; i < 6; i++) assert_true(W->grad[i] == dW[i]);
  for (int i = 0; i < 3; i++) assert_true(b->grad[i] == 2);

  /* Wrong input width: sticky shape error naming the layer. */
  eqg_tape_reset(t);
  x = eqg_tape_input(t, 2, 3, NULL, false);
  assert_null(eqg_linear_forward(t, p, &l, x));
  assert_int_equal(eqg_tape_status(t), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "lin.weight"));

  /* Without bias: only the weight is registered; y = x W. */
  eqg_linear l2;
  assert_int_equal(eqg_linear_init(&l2, p, "nob", 2, 3, false, EQG_INIT_ZERO, 1, NULL), EQG_OK);
  assert_int_equal(l2.b_id, -1);
  assert_int_equal(eqg_params_find(p, "nob.bias"), -1);
  memcpy(eqg_params_get(p, l2.w_id)->data, wv, sizeof wv);
  eqg_tape_reset(t);
  x = eqg_tape_input(t, 2, 2, xv, false);
  y = eqg_linear_forward(t, p, &l2, x);
  assert_true(y->data[0] == -3 && y->data[5] == 9);
  /* Duplicate prefix fails with the params message. */
  assert_int_equal(eqg_linear_init(&l2, p, "nob", 2, 3, false, EQG_INIT_ZERO, 1, NULL), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "duplicate"));
  eqg_tape_free(t);
  eqg_params_free(p);
}

/* Sample mean and variance of a view. */
static void moments(const eqg_tensor *w, eqg_real *mean, eqg_real *var, eqg_real *amax)
{
  size_t n = eqg_tensor_size(w);
  eqg_real s = 0, s2 = 0, m = 0;
  for (size_t i = 0; i < n; i++) {
    s += w->data[i];
    s2 += w->data[i] * w->data[i];
    m = fmax(m, fabs(w->data[i]));
  }
  *mean = s / (eqg_real)n;
  *var = s2 / (eqg_real)n - *mean * *mean;
  *amax = m;
}

static void test_linear_init(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(7);
  eqg_params *p = eqg_params_alloc();
  eqg_linear lx, lk, lt;
  /* Xavier uniform, gain 2: a = 2 sqrt(6 / (30 + 50)); 1500 draws. */
  assert_int_equal(eqg_linear_init(&lx, p, "x", 30, 50, true, EQG_INIT_XAVIER_UNIFORM, 2, r), EQG_OK);
  /* Kaiming uniform, gain sqrt(2): a = sqrt(2) sqrt(3 / 40). */
  assert_int_equal(eqg_linear_init(&lk, p, "k", 40, 25, true, EQG_INIT_KAIMING_UNIFORM, sqrt(2), r),
                   EQG_OK);
  /* torch default: W, b ~ U(-1/sqrt(64), 1/sqrt(64)). */
  assert_int_equal(eqg_linear_init(&lt, p, "t", 64, 30, true, EQG_INIT_TORCH_DEFAULT, 1, r), EQG_OK);

  struct { const eqg_linear *l; eqg_real a; bool zero_bias; } cases[] = {
    { &lx, 2 * sqrt(6.0 / 80), true },
    { &lk, sqrt(2) * sqrt(3.0 / 40), true },
    { &lt, 1 / sqrt(64.0), false },
  };
  for (size_t c = 0; c < 3; c++) {
    eqg_real mean, var, amax, a = cases[c].a;
    eqg_tensor *W = eqg_params_get(p, cases[c].l->w_id), *b = eqg_params_get(p, cases[c].l->b_id);
    moments(W, &mean, &var, &amax);
    /* The bound holds, is nearly reached, and the spread is that of U(-a, a):
     * var = a^2 / 3 (to 10%: the estimate's relative s.d. is ~ 2-3% here). */
    assert_true(amax <= a);
    assert_true(amax > 0.97 * a);
    assert_true(fabs(mean) < 0.1 * a);
    assert_true(fabs(var / (a * a / 3) - 1) < 0.1);
    if (cases[c].zero_bias) {
      for (size_t i = 0; i < b->cols; i++) assert_true(b->data[i] == 0);
    } else {
      moments(b, &mean, &var, &amax);
      assert_true(amax <= a && amax > 0.5 * a);
    }
  }

  /* Same seed -> bitwise-identical parameters; another seed -> different. */
  eqg_params *q = eqg_params_alloc(), *q2 = eqg_params_alloc();
  gsl_rng_set(r, 7);
  eqg_linear tmp;
  assert_int_equal(eqg_linear_init(&tmp, q, "x", 30, 50, true, EQG_INIT_XAVIER_UNIFORM, 2, r), EQG_OK);
  assert_int_equal(eqg_linear_init(&tmp, q, "k", 40, 25, true, EQG_INIT_KAIMING_UNIFORM, sqrt(2), r),
                   EQG_OK);
  assert_int_equal(eqg_linear_init(&tmp, q, "t", 64, 30, true, EQG_INIT_TORCH_DEFAULT, 1, r), EQG_OK);
  assert_int_equal(q->size, p->size);
  assert_memory_equal(q->data, p->data, p->size * sizeof(eqg_real));
  gsl_rng_set(r, 8);
  assert_int_equal(eqg_linear_init(&tmp, q2, "x", 30, 50, true, EQG_INIT_XAVIER_UNIFORM, 2, r), EQG_OK);
  assert_true(memcmp(q2->data, p->data, q2->size * sizeof(eqg_real)) != 0);

  /* Errors. */
  assert_int_equal(eqg_linear_init(&tmp, q2, "z", 0, 3, true, EQG_INIT_ZERO, 1, NULL), EQG_EINVAL);
  assert_int_equal(eqg_linear_init(&tmp, q2, "z", 2, 3, true, EQG_INIT_XAVIER_UNIFORM, 1, NULL),
                   EQG_EINVAL);
  assert_int_equal(eqg_linear_init(&tmp, q2, "z", 2, 3, true, EQG_INIT_XAVIER_UNIFORM, -1, r),
                   EQG_EINVAL);
  for (int k = 0; k < EQG_INIT_KIND_COUNT; k++)
    assert_int_equal(eqg_init_kind_find(eqg_init_kind_name(k)), k);
  eqg_params_free(q);
  eqg_params_free(q2);
  eqg_params_free(p);
  gsl_rng_free(r);
}

/* ======================================================================== */
/* MLP                                                                      */
/* ======================================================================== */

static void test_mlp_build(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(1);
  eqg_params *p = eqg_params_alloc();
  const size_t w[4] = { 3, 16, 8, 2 };
  eqg_mlp_config c = eqg_mlp_config_default(w, 4);
  c.norm = EQG_NORM_BATCH;
  eqg_mlp *m = eqg_mlp_alloc(p, "enc", &c, r);
  assert_non_null(m);
  assert_int_equal(m->n_layers, 3);
  /* Linear: 3*16+16 + 16*8+8 + 8*2+2; batch-norm affine on the 2 hidden layers: 2*(16+8). */
  assert_int_equal(eqg_params_count(p), 64 + 136 + 18 + 48);
  assert_int_equal(p->buf_size, 2 * (16 + 8));
  const char *trainable[] = { "enc.0.weight", "enc.0.bias", "enc.0.gamma", "enc.0.beta",
                              "enc.1.weight", "enc.1.gamma", "enc.2.weight", "enc.2.bias" };
  for (size_t k = 0; k < sizeof trainable / sizeof *trainable; k++) {
    int id = eqg_params_find(p, trainable[k]);
    assert_true(id >= 0);
    assert_true(p->info[id].trainable);
  }
  const char *buffers[] = { "enc.0.running_mean", "enc.0.running_var", "enc.1.running_mean",
                            "enc.1.running_var" };
  for (size_t k = 0; k < 4; k++) {
    int id = eqg_params_find(p, buffers[k]);
    assert_true(id >= 0);
    assert_false(p->info[id].trainable);
    eqg_tensor *v = eqg_params_get(p, id);
    for (size_t i = 0; i < v->cols; i++) assert_true(v->data[i] == (k % 2 ? 1 : 0));
  }
  assert_int_equal(eqg_params_find(p, "enc.2.gamma"), -1);   /* no norm on the output layer */
  assert_true(eqg_params_get(p, eqg_params_find(p, "enc.1.gamma"))->data[7] == 1);

  /* Invalid configs. */
  c.n_widths = 1;
  assert_null(eqg_mlp_alloc(p, "e2", &c, r));
  c.n_widths = 4;
  c.dropout = 1;
  assert_null(eqg_mlp_alloc(p, "e2", &c, r));
  c.dropout = 0;
  assert_null(eqg_mlp_alloc(p, "enc", &c, r));               /* names taken */
  assert_non_null(strstr(eqg_error_message(), "duplicate"));

  for (int k = 0; k < EQG_ACT_COUNT; k++)
    assert_int_equal(eqg_activation_find(eqg_activation_name(k)), k);
  for (int k = 0; k < EQG_NORM_KIND_COUNT; k++)
    assert_int_equal(eqg_norm_kind_find(eqg_norm_kind_name(k)), k);
  eqg_mlp_free(m);
  eqg_mlp_free(NULL);
  eqg_params_free(p);
  gsl_rng_free(r);
}

/* Full-batch training of `m` on (X, Y) for `steps` steps; returns the MSE
 * at each step in hist (steps + 1 values: the last is after training). */
static void train_mlp(eqg_params *p, const eqg_mlp *m, eqg_optim *o, const eqg_schedule *s,
                      gsl_rng *rng, const eqg_real *X, const eqg_real *Y, size_t n, long steps,
                      eqg_real *hist)
{
  eqg_tape *t = eqg_tape_alloc(1 << 20, rng);
  assert_non_null(t);
  for (long k = 0; k <= steps; k++) {
    eqg_tape_reset(t);
    eqg_tensor *x = eqg_tape_input(t, n, m->widths[0], X, false);
    eqg_tensor *y = eqg_tape_input(t, n, m->widths[m->n_layers], Y, false);
    eqg_tensor *loss = eqg_mse(t, eqg_mlp_forward(t, p, m, x), y);
    if (!loss) fail_msg("forward failed: %s", eqg_error_message());
    hist[k] = loss->data[0];
    if (k == steps) break;
    eqg_params_zero_grad(p);
    assert_int_equal(eqg_tape_backward(t, loss), EQG_OK);
    eqg_optim_step(o, p, eqg_schedule_lr(s, k));
  }
  eqg_tape_free(t);
}

/* f(x, y) = sin(x) cos(y) on a 16 x 16 grid over [-pi, pi]^2 (256 points),
 * widths 2-32-32-1, SiLU, Adam (lr 1e-2 cosine-annealed to 1e-4 over 3000
 * full-batch steps).  Measured (seed 42, OpenBLAS 0.3.21, x86-64, gcc 12):
 * MSE 0.283 at the start, 6.9e-6 after training, i.e. 2.4e-5 of the initial;
 * the test prints both. */
static void test_mlp_fit(void **state)
{
  (void)state;
  enum { G = 16, N = G * G };
  const eqg_real pi = 3.14159265358979323846;
  eqg_real X[2 * N], Y[N];
  for (int i = 0; i < G; i++)
    for (int j = 0; j < G; j++) {
      int r = i * G + j;
      X[2 * r] = -pi + 2 * pi * (i + 0.5) / G;
      X[2 * r + 1] = -pi + 2 * pi * (j + 0.5) / G;
      Y[r] = sin(X[2 * r]) * cos(X[2 * r + 1]);
    }
  gsl_rng *r = rng_new(42);
  eqg_params *p = eqg_params_alloc();
  const size_t w[4] = { 2, 32, 32, 1 };
  eqg_mlp_config c = eqg_mlp_config_default(w, 4);
  c.act = EQG_ACT_SILU;
  eqg_mlp *m = eqg_mlp_alloc(p, "f", &c, r);
  assert_non_null(m);
  eqg_optim_config oc = eqg_optim_config_default();
  eqg_optim *o = eqg_optim_alloc(&eqg_optim_adam, &oc, p->size);
  const long steps = 3000;
  eqg_schedule s = eqg_schedule_cosine(1e-2, steps, 1e-4);
  static eqg_real hist[3001];
  train_mlp(p, m, o, &s, r, X, Y, N, steps, hist);
  eqg_real mse0 = hist[0], mse = hist[steps];
  print_message("mlp fit of sin(x) cos(y): MSE %.4g -> %.4g after %ld Adam steps\n", mse0, mse,
                steps);
  assert_true(mse < 1e-3);
  assert_true(mse < 0.01 * mse0);
  eqg_optim_free(o);
  eqg_mlp_free(m);
  eqg_params_free(p);
  gsl_rng_free(r);
}

/* 50 Adam steps of a dropout MLP from seed `seed` (init and dropout masks
 * both drawn from it); returns the parameter block. */
static eqg_params *run_seeded(unsigned long seed)
{
  gsl_rng *r = rng_new(seed);
  eqg_params *p = eqg_params_alloc();
  const size_t w[4] = { 2, 16, 16, 1 };
  eqg_mlp_config c = eqg_mlp_config_default(w, 4);
  c.init = EQG_INIT_XAVIER_UNIFORM;
  c.dropout = 0.1;
  c.norm = EQG_NORM_LAYER;
  eqg_mlp *m = eqg_mlp_alloc(p, "net", &c, r);
  assert_non_null(m);
  enum { N = 32 };
  eqg_real X[2 * N], Y[N];
  for (int i = 0; i < N; i++) {
    X[2 * i] = 0.1 * i;
    X[2 * i + 1] = 1 - 0.05 * i;
    Y[i] = X[2 * i] * X[2 * i + 1];
  }
  eqg_optim_config oc = eqg_optim_config_for(&eqg_optim_adamw);
  eqg_optim *o = eqg_optim_alloc(&eqg_optim_adamw, &oc, p->size);
  eqg_schedule s = eqg_schedule_warmup_restarts(1e-2, 5, 10, 2, 0);
  eqg_real hist[51];
  train_mlp(p, m, o, &s, r, X, Y, N, 50, hist);
  eqg_optim_free(o);
  eqg_mlp_free(m);
  gsl_rng_free(r);
  return p;
}

static void test_mlp_deterministic(void **state)
{
  (void)state;
  eqg_params *a = run_seeded(123), *b = run_seeded(123), *c = run_seeded(124);
  assert_int_equal(a->size, b->size);
  assert_memory_equal(a->data, b->data, a->size * sizeof(eqg_real));
  assert_true(memcmp(a->data, c->data, a->size * sizeof(eqg_real)) != 0);
  eqg_params_free(a);
  eqg_params_free(b);
  eqg_params_free(c);
}

/* Eval-mode batch norm uses the running statistics: a row's output does not
 * depend on the rest of the batch, and eval forwards leave the buffers alone. */
static void test_mlp_batchnorm_eval(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(5);
  eqg_params *p = eqg_params_alloc();
  const size_t w[4] = { 3, 16, 16, 2 };
  eqg_mlp_config c = eqg_mlp_config_default(w, 4);
  c.norm = EQG_NORM_BATCH;
  c.act = EQG_ACT_RELU;
  eqg_mlp *m = eqg_mlp_alloc(p, "bn", &c, r);
  assert_non_null(m);
  enum { N = 8 };
  eqg_real X[3 * N], Y[2 * N];
  for (int i = 0; i < 3 * N; i++) X[i] = 2 * gsl_rng_uniform(r) - 0.5;
  for (int i = 0; i < 2 * N; i++) Y[i] = gsl_rng_uniform(r);

  /* Some training steps move the running statistics off (0, 1). */
  eqg_optim_config oc = eqg_optim_config_default();
  eqg_optim *o = eqg_optim_alloc(&eqg_optim_adam, &oc, p->size);
  eqg_schedule s = eqg_schedule_constant(1e-2);
  eqg_real hist[21];
  train_mlp(p, m, o, &s, r, X, Y, N, 20, hist);
  const eqg_real *rm = eqg_params_get(p, eqg_params_find(p, "bn.0.running_mean"))->data;
  eqg_real moved = 0;
  for (int f = 0; f < 16; f++) moved = fmax(moved, fabs(rm[f]));
  assert_true(moved > 1e-2);

  eqg_real *buf0 = malloc(p->buf_size * sizeof *buf0);
  assert_non_null(buf0);
  memcpy(buf0, p->buf, p->buf_size * sizeof *buf0);
  eqg_tape *t = eqg_tape_alloc(0, r);
  t->training = false;
  t->grad_enabled = false;
  eqg_tensor *yb = eqg_mlp_forward(t, p, m, eqg_tape_input(t, N, 3, X, false));
  assert_non_null(yb);
  for (int i = 0; i < N; i++) {
    eqg_tensor *y1 = eqg_mlp_forward(t, p, m, eqg_tape_input(t, 1, 3, X + 3 * i, false));
    assert_non_null(y1);
    /* Equal up to BLAS summation order for 1 vs 8 rows. */
    for (int k = 0; k < 2; k++) ASSERT_CLOSE(y1->data[k], yb->data[2 * i + k], 1e-13);
  }
  assert_memory_equal(buf0, p->buf, p->buf_size * sizeof *buf0);

  /* Training mode on the same batch uses batch statistics: a different output. */
  eqg_real eval_out[2 * N];
  memcpy(eval_out, yb->data, sizeof eval_out);
  eqg_tape_reset(t);
  t->training = true;
  eqg_tensor *yt = eqg_mlp_forward(t, p, m, eqg_tape_input(t, N, 3, X, false));
  assert_non_null(yt);
  eqg_real diff = 0;
  for (int i = 0; i < 2 * N; i++) diff = fmax(diff, fabs(yt->data[i] - eval_out[i]));
  assert_true(diff > 1e-6);
  free(buf0);
  eqg_tape_free(t);
  eqg_optim_free(o);
  eqg_mlp_free(m);
  eqg_params_free(p);
  gsl_rng_free(r);
}

/* ---- gradient check through a whole MLP, parameters as inputs ------------ */

typedef struct {
  eqg_params *p;
  const eqg_mlp *m;
  bool training;
} gc_ctx;

static eqg_tensor *gc_mlp(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  gc_ctx *c = ctx;
  t->training = c->training;
  return eqg_mlp_forward(t, c->p, c->m, in[0]);
}

static void gradcheck_mlp(eqg_norm_kind norm, eqg_activation act, eqg_real dropout,
                          bool training, const char *label)
{
  gsl_rng *r = rng_new(11);
  eqg_params *p = eqg_params_alloc();
  const size_t w[4] = { 3, 6, 5, 2 };
  eqg_mlp_config c = eqg_mlp_config_default(w, 4);
  c.norm = norm;
  c.act = act;
  c.dropout = dropout;
  c.act_last = true;
  eqg_mlp *m = eqg_mlp_alloc(p, "g", &c, r);
  assert_non_null(m);
  /* Non-trivial affine parameters and running statistics. */
  for (size_t k = 0; k < p->n; k++) {
    const char *nm = p->info[k].name;
    eqg_tensor *v = eqg_params_get(p, (int)k);
    size_t len = strlen(nm);
    bool is = len >= 5 && strcmp(nm + len - 5, "gamma") == 0;
    bool ib = len >= 4 && strcmp(nm + len - 4, "beta") == 0;
    bool rv = len >= 3 && strcmp(nm + len - 3, "var") == 0;
    bool rm = len >= 4 && strcmp(nm + len - 4, "mean") == 0;
    for (size_t i = 0; i < eqg_tensor_size(v); i++) {
      if (is || rv) v->data[i] = 0.5 + gsl_rng_uniform(r);
      if (ib || rm) v->data[i] = gsl_rng_uniform(r) - 0.5;
    }
  }
  eqg_arena *ar = eqg_arena_alloc(0);
  eqg_tensor *x = eqg_tensor_new(ar, 7, 3, true);
  for (size_t i = 0; i < 21; i++) x->data[i] = 2 * gsl_rng_uniform(r) - 1;
  eqg_tensor *inputs[16];
  const char *names[16];
  size_t n_in = 0;
  names[n_in] = "x";
  inputs[n_in++] = x;
  /* In training mode a batch norm removes the mean over the batch, so the
   * bias of the linear before it gets an exactly-zero gradient (both sides
   * are round-off): those are checked apart, below. */
  bool bn_train = norm == EQG_NORM_BATCH && training;
  int skipped[4];
  size_t n_skip = 0;
  for (size_t l = 0; bn_train && l + 1 < m->n_layers; l++) skipped[n_skip++] = m->layer[l].lin.b_id;
  for (size_t k = 0; k < p->n && n_in < 16; k++) {
    bool skip = false;
    for (size_t j = 0; j < n_skip; j++) skip |= skipped[j] == (int)k;
    if (p->info[k].trainable && !skip) {
      names[n_in] = p->info[k].name;
      inputs[n_in++] = eqg_params_get(p, (int)k);
    }
  }

  gc_ctx ctx = { p, m, training };
  eqg_params_zero_grad(p);
  eqg_gradcheck_result res;
  eqg_status st = eqg_gradcheck(gc_mlp, &ctx, n_in, inputs, EQG_GRADCHECK_STEP, 99, &res);
  if (st != EQG_OK) fail_msg("%s: gradcheck failed: %s", label, eqg_error_message());
  size_t n_skipped = 0;
  for (size_t j = 0; j < n_skip; j++) n_skipped += eqg_tensor_size(eqg_params_get(p, skipped[j]));
  assert_int_equal(res.n_checked, 21 + p->size - n_skipped);   /* x and the parameters */
  /* The skipped biases got (from the single analytic backward) a gradient
   * that is round-off next to the others. */
  eqg_real gmax = 0;
  for (size_t i = 0; i < p->size; i++) gmax = fmax(gmax, fabs(p->grad[i]));
  for (size_t j = 0; j < n_skip; j++) {
    const eqg_tensor *b = eqg_params_get(p, skipped[j]);
    for (size_t i = 0; i < eqg_tensor_size(b); i++) assert_true(fabs(b->grad[i]) <= 1e-12 * gmax);
  }
  if (!(res.max_err <= 1e-6))
    fail_msg("%s: max rel. error %.3g at input %zu (%s) element %zu: analytic %.10g, numeric %.10g",
             label, res.max_err, res.worst_input, names[res.worst_input], res.worst_elem,
             res.analytic, res.numeric);
  eqg_arena_free(ar);
  eqg_mlp_free(m);
  eqg_params_free(p);
  gsl_rng_free(r);
}

static void test_mlp_gradcheck(void **state)
{
  (void)state;
  gradcheck_mlp(EQG_NORM_LAYER, EQG_ACT_SILU, 0, true, "layer norm, silu");
  gradcheck_mlp(EQG_NORM_LAYER, EQG_ACT_TANH, 0.3, true, "layer norm, tanh, dropout");
  gradcheck_mlp(EQG_NORM_BATCH, EQG_ACT_SILU, 0, true, "batch norm (train), silu");
  gradcheck_mlp(EQG_NORM_BATCH, EQG_ACT_SOFTPLUS, 0, false, "batch norm (eval), softplus");
  gradcheck_mlp(EQG_NORM_NONE, EQG_ACT_SHIFTED_SOFTPLUS, 0, true, "no norm, ssp");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_params_naming),
    cmocka_unit_test(test_params_views_after_growth),
    cmocka_unit_test(test_params_clip_grad_norm),
    cmocka_unit_test(test_optim_sgd),
    cmocka_unit_test(test_optim_adam),
    cmocka_unit_test(test_optim_adamw),
    cmocka_unit_test(test_optim_types_and_config),
    cmocka_unit_test(test_schedule_simple),
    cmocka_unit_test(test_schedule_warmup_restarts),
    cmocka_unit_test(test_schedule_halving),
    cmocka_unit_test(test_linear_forward_by_hand),
    cmocka_unit_test(test_linear_init),
    cmocka_unit_test(test_mlp_build),
    cmocka_unit_test(test_mlp_fit),
    cmocka_unit_test(test_mlp_deterministic),
    cmocka_unit_test(test_mlp_batchnorm_eval),
    cmocka_unit_test(test_mlp_gradcheck),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
