/* test_ad.c: the tape itself: recording, backward, sticky errors, reset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "eqgnn.h"
#include "core/eqg_blas.h"

static void test_registry_complete(void **state)
{
  (void)state;
  for (int k = 0; k < EQG_OP_COUNT; k++) {
    assert_non_null(eqg_op_types[k]);
    assert_non_null(eqg_op_types[k]->forward);
    assert_non_null(eqg_op_types[k]->backward);
    for (int j = 0; j < k; j++)
      assert_string_not_equal(eqg_op_types[k]->name, eqg_op_types[j]->name);
  }
}

/* y = sum(A B) with A (2,3), B (3,2) by hand: dy/dA = 1 B^T row sums. */
static void test_matmul_by_hand(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_real av[6] = { 1, 2, 3, 4, 5, 6 }, bv[6] = { 1, 0, 0, 1, 2, -1 };
  eqg_tensor *a = eqg_tape_input(t, 2, 3, av, true);
  eqg_tensor *b = eqg_tape_input(t, 3, 2, bv, true);
  eqg_tensor *c = eqg_matmul(t, a, false, b, false);
  assert_non_null(c);
  /* [1 2 3; 4 5 6] [1 0; 0 1; 2 -1] = [7 -1; 16 -1] */
  const eqg_real want[4] = { 7, -1, 16, -1 };
  for (int i = 0; i < 4; i++) assert_true(c->data[i] == want[i]);
  const eqg_real ones[4] = { 1, 1, 1, 1 };
  assert_int_equal(eqg_tape_backward_seed(t, c, ones), EQG_OK);
  /* dA[i][k] = sum_j B[k][j] = (1, 1, 1); dB[k][j] = sum_i A[i][k] = (5,5),(7,7),(9,9) */
  const eqg_real da[6] = { 1, 1, 1, 1, 1, 1 }, db[6] = { 5, 5, 7, 7, 9, 9 };
  for (int i = 0; i < 6; i++) {
    assert_true(a->grad[i] == da[i]);
    assert_true(b->grad[i] == db[i]);
  }
  eqg_tape_free(t);
}

/* eqg_gemm_trace records the shapes of the products of matmul's forward
 * (M, N, K) = (2, 2, 3) and backward (dA: (2, 3, 2), dB: (3, 2, 2), both
 * accumulating: beta 1), counts past its capacity, and stops when unset. */
static void test_gemm_trace(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_real av[6] = { 1, 2, 3, 4, 5, 6 }, bv[6] = { 1, 0, 0, 1, 2, -1 };
  eqg_gemm_shape shape[2];
  eqg_gemm_trace tr = { .shape = shape, .cap = 2 };
  eqg_gemm_trace_set(&tr);
  eqg_tensor *a = eqg_tape_input(t, 2, 3, av, true);
  eqg_tensor *b = eqg_tape_input(t, 3, 2, bv, true);
  eqg_tensor *c = eqg_matmul(t, a, false, b, false);
  assert_non_null(c);
  assert_int_equal(tr.n, 1);
  assert_true(!shape[0].trans_a && !shape[0].trans_b);
  assert_int_equal(shape[0].M, 2);
  assert_int_equal(shape[0].N, 2);
  assert_int_equal(shape[0].K, 3);
  assert_true(shape[0].beta == 0);
  const eqg_real ones[4] = { 1, 1, 1, 1 };
  assert_int_equal(eqg_tape_backward_seed(t, c, ones), EQG_OK);
  assert_int_equal(tr.n, 3);   /* the third is counted, not kept */
  assert_int_equal(shape[1].M, 2);   /* dA (2, 3) = dC (2, 2) B^T */
  assert_int_equal(shape[1].N, 3);
  assert_int_equal(shape[1].K, 2);
  assert_true(!shape[1].trans_a && shape[1].trans_b && shape[1].beta == 1);
  assert_true(eqg_gemm_trace_flops(&tr) == 2 * (2 * 2 * 3) + 2 * (2 * 3 * 2));
  eqg_gemm_trace_set(NULL);
  assert_non_null(eqg_matmul(t, a, false, b, false));
  assert_int_equal(tr.n, 3);
  eqg_tape_free(t);
}

/* x used twice: gradients from both uses accumulate. */
static void test_gradient_accumulates(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_real xv[3] = { 1, 2, 3 };
  eqg_tensor *x = eqg_tape_input(t, 1, 3, xv, true);
  eqg_tensor *y = eqg_mul(t, x, x);           /* x^2 */
  eqg_tensor *z = eqg_add(t, y, x);           /* x^2 + x */
  const eqg_real ones[3] = { 1, 1, 1 };
  assert_int_equal(eqg_tape_backward_seed(t, z, ones), EQG_OK);
  for (int i = 0; i < 3; i++) assert_true(x->grad[i] == 2 * xv[i] + 1);
  eqg_tape_free(t);
}

/* Each sweep starts the gradients of op outputs from zero (they are zeroed
 * lazily, just before the first accumulation) while leaves keep
 * accumulating: a second sweep on the same tape adds exactly the first
 * sweep's leaf gradient again (with stale intermediate gradients it would
 * add more).  Graph: x -> affine with SiLU -> x^2 -> sum of a product with x. */
static void test_second_sweep_restarts_intermediates(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_real xv[6] = { 0.5, -1, 2, 0.25, -0.75, 1.5 }, wv[4] = { 1, -2, 0.5, 3 };
  eqg_tensor *x = eqg_tape_input(t, 3, 2, xv, true);
  eqg_tensor *w = eqg_tape_input(t, 2, 2, wv, true);
  eqg_tensor *h = eqg_affine(t, x, w, NULL, EQG_FUSE_SILU, 0);
  eqg_tensor *y = eqg_mul(t, eqg_mul(t, h, h), x);
  const eqg_real dy[6] = { 1, 2, 3, 4, 5, 6 };
  assert_int_equal(eqg_tape_backward_seed(t, y, dy), EQG_OK);
  eqg_real gx[6], gw[4];
  memcpy(gx, x->grad, sizeof gx);
  memcpy(gw, w->grad, sizeof gw);
  assert_int_equal(eqg_tape_backward_seed(t, y, dy), EQG_OK);
  for (int i = 0; i < 6; i++) assert_true(x->grad[i] == 2 * gx[i] && gx[i] != 0);
  for (int i = 0; i < 4; i++) assert_true(w->grad[i] == 2 * gw[i] && gw[i] != 0);
  eqg_tape_free(t);
}

static void test_sticky_shape_error(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  eqg_tensor *a = eqg_tape_input(t, 2, 3, NULL, true);
  eqg_tensor *b = eqg_tape_input(t, 2, 3, NULL, true);
  assert_null(eqg_matmul(t, a, false, b, false));
  assert_int_equal(eqg_tape_status(t), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "matmul: inner sizes differ"));
  /* Later ops return NULL and keep the first message. */
  assert_null(eqg_add(t, a, b));
  assert_null(eqg_add(t, NULL, b));
  assert_non_null(strstr(eqg_error_message(), "matmul"));
  eqg_tensor *c = eqg_tape_input(t, 1, 1, NULL, true);
  assert_null(c);
  assert_int_equal(eqg_tape_backward(t, c), EQG_ESHAPE);
  eqg_tape_reset(t);
  assert_int_equal(eqg_tape_status(t), EQG_OK);
  /* Broadcast rejects a (2,2) b onto (2,3). */
  a = eqg_tape_input(t, 2, 3, NULL, false);
  b = eqg_tape_input(t, 2, 2, NULL, false);
  assert_null(eqg_sub(t, a, b));
  assert_non_null(strstr(eqg_error_message(), "cannot broadcast 2 x 2 onto 2 x 3"));
  eqg_tape_free(t);
  eqg_tape_free(NULL);
}

static void test_no_grad_without_inputs_needing_it(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  eqg_tensor *a = eqg_tape_input(t, 2, 2, NULL, false);
  eqg_tensor *b = eqg_tape_input(t, 2, 2, NULL, true);
  assert_null(eqg_add(t, a, a)->grad);
  assert_non_null(eqg_add(t, a, b)->grad);
  t->grad_enabled = false;
  assert_null(eqg_add(t, a, b)->grad);
  /* Backward from a loss that depends on nothing trainable is an error. */
  eqg_tensor *l = eqg_scale(t, eqg_tape_input(t, 1, 1, NULL, false), 2);
  assert_int_equal(eqg_tape_backward(t, l), EQG_EINVAL);
  eqg_tape_free(t);
}

/* Reset reuses memory: many steps of the same size do not grow the arena. */
static void test_reset_reuses_memory(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(1024, NULL);
  size_t cap = 0;
  for (int step = 0; step < 5; step++) {
    eqg_tape_reset(t);
    eqg_tensor *x = eqg_tape_input(t, 64, 64, NULL, true);
    for (int k = 0; k < 20; k++) x = eqg_scale(t, x, 0.5);
    assert_non_null(x);
    if (step == 1) cap = eqg_arena_capacity(t->arena);
    if (step > 1) assert_int_equal(eqg_arena_capacity(t->arena), cap);
  }
  eqg_tape_free(t);
}

/* ---- geometry, normalisation and loss ops at hand-computed points -------- */

/* |got - want| <= 1e-12 max(1, |want|) */
static void assert_close_geomnorm(eqg_real got, eqg_real want)
{
  if (!(fabs(got - want) <= 1e-12 * fmax(1, fabs(want))))
    fail_msg("got %.17g, want %.17g", got, want);
}

/* (5,1,2,3).(2,1,1,1) = 10 - 1 - 2 - 3 = 4; gradients eta z and eta x. */
static void test_minkowski_by_hand(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_real xv[8] = { 5, 1, 2, 3, 1, 0, 0, 0 }, zv[8] = { 2, 1, 1, 1, 3, 1, -1, 2 };
  eqg_tensor *x = eqg_tape_input(t, 2, 4, xv, true);
  eqg_tensor *z = eqg_tape_input(t, 2, 4, zv, true);
  eqg_tensor *y = eqg_bilinear_rows(t, x, z, EQG_METRIC_MINKOWSKI, NULL);
  assert_non_null(y);
  assert_true(y->rows == 2 && y->cols == 1);
  assert_true(y->data[0] == 4 && y->data[1] == 3);
  const eqg_real g[2] = { 1, 2 };
  assert_int_equal(eqg_tape_backward_seed(t, y, g), EQG_OK);
  /* dx_i = g_i eta z_i, dz_i = g_i eta x_i */
  const eqg_real dx[8] = { 2, -1, -1, -1, 6, -2, 2, -4 }, dz[8] = { 5, -1, -2, -3, 2, 0, 0, 0 };
  for (int k = 0; k < 8; k++) {
    assert_true(x->grad[k] == dx[k]);
    assert_true(z->grad[k] == dz[k]);
  }

  /* x == z: <p,p> = 25 - 1 - 4 - 9 = 11 and d<p,p>/dp = 2 eta p (both uses add up). */
  eqg_tape_reset(t);
  eqg_tensor *p = eqg_tape_input(t, 1, 4, xv, true);
  eqg_tensor *pp = eqg_bilinear_rows(t, p, p, EQG_METRIC_MINKOWSKI, NULL);
  assert_true(pp->data[0] == 11);
  const eqg_real one = 1;
  assert_int_equal(eqg_tape_backward_seed(t, pp, &one), EQG_OK);
  const eqg_real dp[4] = { 10, -2, -4, -6 };
  for (int k = 0; k < 4; k++) assert_true(p->grad[k] == dp[k]);

  /* The same product through a general metric tensor; dG = x z^T. */
  eqg_tape_reset(t);
  const eqg_real eta[16] = { 1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1 };
  x = eqg_tape_input(t, 1, 4, xv, false);
  z = eqg_tape_input(t, 1, 4, zv, false);
  eqg_tensor *G = eqg_tape_input(t, 4, 4, eta, true);
  y = eqg_bilinear_rows(t, x, z, EQG_METRIC_GENERAL, G);
  assert_true(y->data[0] == 4);
  assert_int_equal(eqg_tape_backward_seed(t, y, &one), EQG_OK);
  for (int a = 0; a < 4; a++)
    for (int b = 0; b < 4; b++) assert_true(G->grad[4 * a + b] == xv[a] * zv[b]);
  /* Euclidean and squared norm of (5,1,2,3). */
  assert_true(eqg_bilinear_rows(t, x, z, EQG_METRIC_EUCLIDEAN, NULL)->data[0] == 16);
  assert_true(eqg_sqnorm_rows(t, x)->data[0] == 39);

  /* Minkowski needs 4 columns; G only with the general metric. */
  eqg_tensor *x3 = eqg_tape_input(t, 2, 3, NULL, false);
  assert_null(eqg_bilinear_rows(t, x3, x3, EQG_METRIC_MINKOWSKI, NULL));
  assert_int_equal(eqg_tape_status(t), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "bilinear_rows: the Minkowski metric needs 4"));
  eqg_tape_reset(t);
  x = eqg_tape_input(t, 1, 4, xv, false);
  G = eqg_tape_input(t, 4, 4, eta, false);
  assert_null(eqg_bilinear_rows(t, x, x, EQG_METRIC_EUCLIDEAN, G));
  assert_int_equal(eqg_tape_status(t), EQG_EINVAL);
  eqg_tape_free(t);
}

/* One training step with momentum 0.1 from running (0.5, -1) / (1, 2):
 * column 0 = (1,2,3,4): mean 2.5, biased var 1.25, unbiased 5/3;
 * column 1 = (2,2,2,6): mean 3, biased var 3, unbiased 4.
 * running_mean = 0.9 old + 0.1 mean = (0.7, -0.6);
 * running_var = 0.9 old + 0.1 unbiased = (0.9 + 1/6, 2.2). */
static void test_batchnorm_running_stats(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  eqg_real rm[2] = { 0.5, -1 }, rv[2] = { 1, 2 };
  eqg_batchnorm_state st = { rm, rv, 0.1, 1e-5 };
  const eqg_real xv[8] = { 1, 2, 2, 2, 3, 2, 4, 6 }, gv[2] = { 2, 1 }, bv[2] = { 0, 0.5 };
  eqg_tensor *x = eqg_tape_input(t, 4, 2, xv, true);
  eqg_tensor *gamma = eqg_tape_input(t, 1, 2, gv, true);
  eqg_tensor *beta = eqg_tape_input(t, 1, 2, bv, true);
  t->training = true;
  eqg_tensor *y = eqg_batchnorm(t, x, gamma, beta, &st);
  assert_non_null(y);
  assert_close_geomnorm(rm[0], 0.7);
  assert_close_geomnorm(rm[1], -0.6);
  assert_close_geomnorm(rv[0], 0.9 + 1.0 / 6.0);
  assert_close_geomnorm(rv[1], 2.2);
  /* Training output uses the batch mean and the BIASED variance. */
  const eqg_real mean[2] = { 2.5, 3 }, var[2] = { 1.25, 3 };
  for (int i = 0; i < 4; i++)
    for (int f = 0; f < 2; f++)
      assert_close_geomnorm(y->data[2 * i + f],
                            gv[f] * (xv[2 * i + f] - mean[f]) / sqrt(var[f] + 1e-5) + bv[f]);

  /* Eval: the running statistics normalise, and stay unchanged. */
  eqg_tape_reset(t);
  t->training = false;
  const eqg_real ev[4] = { 1, 2, -3, 0.25 };
  x = eqg_tape_input(t, 2, 2, ev, true);
  gamma = eqg_tape_input(t, 1, 2, gv, true);
  beta = eqg_tape_input(t, 1, 2, bv, true);
  y = eqg_batchnorm(t, x, gamma, beta, &st);
  assert_non_null(y);
  const eqg_real rmw[2] = { 0.7, -0.6 }, rvw[2] = { 0.9 + 1.0 / 6.0, 2.2 };
  for (int i = 0; i < 2; i++)
    for (int f = 0; f < 2; f++)
      assert_close_geomnorm(y->data[2 * i + f],
                            gv[f] * (ev[2 * i + f] - rmw[f]) / sqrt(rvw[f] + 1e-5) + bv[f]);
  for (int f = 0; f < 2; f++) {
    assert_close_geomnorm(rm[f], rmw[f]);
    assert_close_geomnorm(rv[f], rvw[f]);
  }
  /* Eval: dx = gamma dy / sqrt(running_var + eps) (statistics are constants). */
  const eqg_real ones[4] = { 1, 1, 1, 1 };
  assert_int_equal(eqg_tape_backward_seed(t, y, ones), EQG_OK);
  for (int i = 0; i < 2; i++)
    for (int f = 0; f < 2; f++)
      assert_close_geomnorm(x->grad[2 * i + f], gv[f] / sqrt(rvw[f] + 1e-5));
  assert_close_geomnorm(beta->grad[0], 2);

  /* Training needs at least two rows. */
  eqg_tape_reset(t);
  t->training = true;
  x = eqg_tape_input(t, 1, 2, xv, false);
  gamma = eqg_tape_input(t, 1, 2, gv, false);
  beta = eqg_tape_input(t, 1, 2, bv, false);
  assert_null(eqg_batchnorm(t, x, gamma, beta, &st));
  assert_int_equal(eqg_tape_status(t), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "batchnorm: training needs at least 2 rows"));
  eqg_tape_free(t);
}

/* p = 0.25 on 10100 ones: about 75% kept (within 5 sd), each as 1/(1-p);
 * the same seed repeats the mask; eval is the identity. */
static void test_dropout_keep_rate(void **state)
{
  (void)state;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 7);
  eqg_tape *t = eqg_tape_alloc(0, r);
  enum { N = 100, M = 101 };
  const eqg_real p = 0.25, scale = 1 / (1 - p);
  eqg_tensor *x = eqg_tape_input(t, N, M, NULL, true);
  eqg_tensor_fill(x, 1);
  t->training = true;
  eqg_tensor *y = eqg_dropout(t, x, p);
  assert_non_null(y);
  size_t kept = 0;
  for (size_t e = 0; e < (size_t)N * M; e++) {
    assert_true(y->data[e] == 0 || y->data[e] == scale);
    kept += y->data[e] != 0;
  }
  double n = (double)N * M, sd = sqrt(n * p * (1 - p));
  assert_true(fabs((double)kept - n * (1 - p)) < 5 * sd);
  /* Backward applies the same mask and scale. */
  eqg_tensor *ones = eqg_tape_input(t, N, M, NULL, false);
  eqg_tensor_fill(ones, 1);
  assert_int_equal(eqg_tape_backward_seed(t, y, ones->data), EQG_OK);
  for (size_t e = 0; e < (size_t)N * M; e++) assert_true(x->grad[e] == y->data[e]);
  /* Same seed, same mask. */
  gsl_rng_set(r, 7);
  eqg_tensor *y2 = eqg_dropout(t, x, p);
  for (size_t e = 0; e < (size_t)N * M; e++) assert_true(y2->data[e] == y->data[e]);

  /* Eval: identity (also without an rng), gradient passes unchanged. */
  eqg_tape *te = eqg_tape_alloc(0, NULL);
  te->training = false;
  const eqg_real xv[5] = { 1.5, -2, 0.25, 3, -0.125 };
  eqg_tensor *xe = eqg_tape_input(te, 1, 5, xv, true);
  eqg_tensor *ye = eqg_dropout(te, xe, 0.5);
  assert_non_null(ye);
  for (int k = 0; k < 5; k++) assert_true(ye->data[k] == xv[k]);
  assert_int_equal(eqg_tape_backward_seed(te, ye, xv), EQG_OK);
  for (int k = 0; k < 5; k++) assert_true(xe->grad[k] == xv[k]);
  /* p = 0 in training is the identity too and needs no rng. */
  te->training = true;
  ye = eqg_dropout(te, xe, 0);
  assert_non_null(ye);
  for (int k = 0; k < 5; k++) assert_true(ye->data[k] == xv[k]);
  /* Rejected: training without an rng, p outside [0, 1). */
  assert_null(eqg_dropout(te, xe, 0.5));
  assert_int_equal(eqg_tape_status(te), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "dropout: training with p = 0.5 needs a tape rng"));
  const eqg_real bad[3] = { 1, -0.1, NAN };
  for (int k = 0; k < 3; k++) {
    eqg_tape_reset(t);
    assert_null(eqg_dropout(t, eqg_tape_input(t, 1, 5, xv, false), bad[k]));
    assert_int_equal(eqg_tape_status(t), EQG_EINVAL);
    assert_non_null(strstr(eqg_error_message(), "dropout: p = "));
  }
  eqg_tape_free(te);
  eqg_tape_free(t);
  gsl_rng_free(r);
}

/* Rows (x, y): (0, 0.5) -> log 2; (1000, 1) -> 0; (-1000, 1) -> 1000;
 * (2, 0) -> log(1 + e^2).  dL/dx_i = (sigmoid(x_i) - y_i) / 4. */
static void test_bce_logits_by_hand(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_real xv[4] = { 0, 1000, -1000, 2 }, yv[4] = { 0.5, 1, 1, 0 };
  eqg_tensor *x = eqg_tape_input(t, 4, 1, xv, true);
  eqg_tensor *y = eqg_tape_input(t, 4, 1, yv, true);
  eqg_tensor *l = eqg_bce_logits(t, x, y);
  assert_non_null(l);
  assert_true(isfinite(l->data[0]));
  assert_close_geomnorm(l->data[0], (log(2.0) + 0 + 1000 + log(1 + exp(2.0))) / 4);
  assert_int_equal(eqg_tape_backward(t, l), EQG_OK);
  const eqg_real dx[4] = { 0, 0, -0.25, 1 / (1 + exp(-2.0)) / 4 };
  for (int i = 0; i < 4; i++) {
    assert_true(isfinite(x->grad[i]));
    assert_close_geomnorm(x->grad[i], dx[i]);
    assert_true(y->grad[i] == 0);   /* targets never receive a gradient */
  }
  /* Targets outside [0, 1] are rejected. */
  eqg_tape_reset(t);
  const eqg_real badv[2] = { 0.5, 1.5 };
  assert_null(eqg_bce_logits(t, eqg_tape_input(t, 2, 1, xv, true),
                             eqg_tape_input(t, 2, 1, badv, false)));
  assert_int_equal(eqg_tape_status(t), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "bce_logits: target of row 1"));
  eqg_tape_free(t);
}

/* Rows: (0,0,0) label 1 -> log 3; (1000,0,-1000) label 0 -> 0;
 * (1000,0,-1000) label 2 -> 2000; mean over 3 rows.
 * dL/dx_ic = (softmax_ic - [c == label_i]) / 3. */
static void test_softmax_xent_by_hand(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_real xv[9] = { 0, 0, 0, 1000, 0, -1000, 1000, 0, -1000 };
  const eqg_index labels[3] = { 1, 0, 2 };
  eqg_tensor *x = eqg_tape_input(t, 3, 3, xv, true);
  eqg_tensor *l = eqg_softmax_xent(t, x, labels);
  assert_non_null(l);
  assert_true(isfinite(l->data[0]));
  assert_close_geomnorm(l->data[0], (log(3.0) + 0 + 2000) / 3);
  assert_int_equal(eqg_tape_backward(t, l), EQG_OK);
  const eqg_real dx[9] = { 1.0 / 9, -2.0 / 9, 1.0 / 9, 0, 0, 0, 1.0 / 3, 0, -1.0 / 3 };
  for (int k = 0; k < 9; k++) {
    assert_true(isfinite(x->grad[k]));
    assert_close_geomnorm(x->grad[k], dx[k]);
  }
  eqg_tape_free(t);
}

static void test_softmax_xent_bad_labels(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_index too_big[3] = { 0, 3, 1 }, negative[3] = { 0, 1, -1 };
  eqg_tensor *x = eqg_tape_input(t, 3, 3, NULL, true);
  assert_null(eqg_softmax_xent(t, x, too_big));
  assert_int_equal(eqg_tape_status(t), EQG_ERANGE);
  assert_non_null(strstr(eqg_error_message(), "softmax_xent: label 3 of row 1 is outside [0, 3)"));
  eqg_tape_reset(t);
  x = eqg_tape_input(t, 3, 3, NULL, true);
  assert_null(eqg_softmax_xent(t, x, negative));
  assert_int_equal(eqg_tape_status(t), EQG_ERANGE);
  assert_non_null(strstr(eqg_error_message(), "label -1 of row 2"));
  eqg_tape_free(t);
}

/* ---- shape and elementwise ops by hand (eqg_ops_shape.c, eqg_ops_unary.c) -- */

/* 7 rows of width 2 onto 5 segments of sizes 2, 1, 0, 4, 0 (powers of two, so
 * every mean is exact): empty segments give exactly 0 and no NaN, forward and
 * backward; scatter_add_rows gives the plain sums. */
static void test_segment_mean_by_hand(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_real xv[14] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
  const eqg_index idx[7] = { 3, 3, 0, 1, 3, 0, 3 };
  eqg_tensor *x = eqg_tape_input(t, 7, 2, xv, true);
  eqg_tensor *y = eqg_segment_mean(t, x, idx, 5);
  eqg_tensor *s = eqg_scatter_add_rows(t, x, idx, 5);
  assert_non_null(y);
  assert_non_null(s);
  assert_int_equal(y->rows, 5);
  assert_int_equal(y->cols, 2);
  /* seg 0: rows 2, 5 -> (5 + 11, 6 + 12) / 2; seg 1: row 3; seg 3: rows 0, 1,
   * 4, 6 -> (1 + 3 + 9 + 13, 2 + 4 + 10 + 14) / 4; seg 2, 4 empty. */
  const eqg_real want_mean[10] = { 8, 9, 7, 8, 0, 0, 6.5, 7.5, 0, 0 };
  const eqg_real want_sum[10] = { 16, 18, 7, 8, 0, 0, 26, 30, 0, 0 };
  for (int i = 0; i < 10; i++) {
    assert_false(isnan(y->data[i]));
    assert_true(y->data[i] == want_mean[i]);
    assert_true(s->data[i] == want_sum[i]);
  }
  /* dx[e] = dy[idx[e]] / |segment idx[e]|; dy on empty segments goes nowhere. */
  const eqg_real dy[10] = { 1, 10, 2, 11, 3, 12, 4, 13, 5, 14 };
  assert_int_equal(eqg_tape_backward_seed(t, y, dy), EQG_OK);
  const eqg_real want_dx[14] = { 1, 3.25, 1, 3.25, 0.5, 5, 2, 11, 1, 3.25, 0.5, 5, 1, 3.25 };
  for (int i = 0; i < 14; i++) {
    assert_false(isnan(x->grad[i]));
    assert_true(x->grad[i] == want_dx[i]);
  }
  eqg_tape_free(t);
}

/* Constructors reject out-of-range indices with EQG_ERANGE, naming the index. */
static void test_index_out_of_range(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  const eqg_index past_end[3] = { 0, 5, 1 }, negative[3] = { 0, -1, 1 };
  const eqg_index ok[3] = { 0, 3, 3 }, past_out[3] = { 0, 2, 4 };

  eqg_tensor *x = eqg_tape_input(t, 5, 2, NULL, true);
  assert_null(eqg_gather_rows(t, x, past_end, 3));   /* rows are 0 .. 4 */
  assert_int_equal(eqg_tape_status(t), EQG_ERANGE);
  assert_non_null(strstr(eqg_error_message(), "gather_rows: index 5 at position 1"));
  eqg_tape_reset(t);
  x = eqg_tape_input(t, 5, 2, NULL, true);
  assert_null(eqg_gather_rows(t, x, negative, 3));
  assert_int_equal(eqg_tape_status(t), EQG_ERANGE);
  assert_non_null(strstr(eqg_error_message(), "gather_rows: index -1 at position 1"));

  eqg_tape_reset(t);
  x = eqg_tape_input(t, 3, 2, NULL, true);
  assert_non_null(eqg_scatter_add_rows(t, x, ok, 4));
  assert_null(eqg_scatter_add_rows(t, x, past_out, 4));   /* segments are 0 .. 3 */
  assert_int_equal(eqg_tape_status(t), EQG_ERANGE);
  assert_non_null(strstr(eqg_error_message(), "scatter_add_rows: index 4 at position 2"));
  eqg_tape_reset(t);
  x = eqg_tape_input(t, 3, 2, NULL, true);
  assert_null(eqg_segment_mean(t, x, negative, 4));
  assert_int_equal(eqg_tape_status(t), EQG_ERANGE);
  assert_non_null(strstr(eqg_error_message(), "segment_mean: index -1 at position 1"));
  eqg_tape_reset(t);
  x = eqg_tape_input(t, 3, 2, NULL, true);
  assert_null(eqg_segment_mean(t, x, ok, 0));   /* no output rows at all */
  assert_int_equal(eqg_tape_status(t), EQG_ERANGE);
  assert_non_null(strstr(eqg_error_message(), "segment_mean: index 0 at position 0"));
  eqg_tape_free(t);
}

static void test_shape_op_errors(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  eqg_tensor *x = eqg_tape_input(t, 3, 4, NULL, true);
  assert_null(eqg_slice_cols(t, x, 2, 3));   /* columns 2 .. 4 of 0 .. 3 */
  assert_int_equal(eqg_tape_status(t), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "slice_cols:"));
  eqg_tape_reset(t);
  x = eqg_tape_input(t, 3, 4, NULL, true);
  assert_null(eqg_slice_cols(t, x, 5, 0));   /* start past the end */
  assert_int_equal(eqg_tape_status(t), EQG_ESHAPE);
  eqg_tape_reset(t);
  x = eqg_tape_input(t, 3, 4, NULL, true);
  assert_null(eqg_slice_cols(t, x, 1, SIZE_MAX));   /* first + count overflows */
  assert_int_equal(eqg_tape_status(t), EQG_ESHAPE);
  eqg_tape_reset(t);
  x = eqg_tape_input(t, 3, 4, NULL, true);
  eqg_tensor *z = eqg_tape_input(t, 2, 4, NULL, true);
  assert_null(eqg_concat_cols(t, x, z));
  assert_int_equal(eqg_tape_status(t), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "concat_cols: row counts differ"));
  eqg_tape_free(t);
}

/* y = f(x) and dy/dx at hand-computed points of 1 x N inputs. */
static void check_unary_points(eqg_tensor *(*f)(eqg_tape *, eqg_tensor *), size_t n,
                               const eqg_real *x, const eqg_real *want_y,
                               const eqg_real *want_dy)
{
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  eqg_tensor *xt = eqg_tape_input(t, 1, n, x, true);
  eqg_tensor *y = f(t, xt);
  assert_non_null(y);
  eqg_real ones[8];
  assert_true(n <= 8);
  for (size_t i = 0; i < n; i++) ones[i] = 1;
  assert_int_equal(eqg_tape_backward_seed(t, y, ones), EQG_OK);
  for (size_t i = 0; i < n; i++) {
    if (!(fabs(y->data[i] - want_y[i]) <= 1e-15 * fabs(want_y[i])))
      fail_msg("f(%.17g) = %.17g, want %.17g", x[i], y->data[i], want_y[i]);
    if (!(fabs(xt->grad[i] - want_dy[i]) <= 1e-15 * fabs(want_dy[i])))
      fail_msg("f'(%.17g) = %.17g, want %.17g", x[i], xt->grad[i], want_dy[i]);
  }
  eqg_tape_free(t);
}

static void test_psi_shifted_softplus_by_hand(void **state)
{
  (void)state;
  const eqg_real e = exp(1.0), ln2 = log(2.0);
  /* psi(z) = sgn(z) ln(1 + |z|), psi'(z) = 1 / (1 + |z|) */
  const eqg_real pz[5] = { 0, e - 1, -(e * e - 1), 3, -0.5 };
  const eqg_real py[5] = { 0, 1, -2, 2 * ln2, -log(1.5) };
  const eqg_real pd[5] = { 1, 1 / e, 1 / (e * e), 0.25, 1 / 1.5 };
  check_unary_points(eqg_psi, 5, pz, py, pd);
  /* ssp(x) = ln(0.5 e^x + 0.5), ssp'(x) = sigmoid(x); near 0 it is x/2 + x^2/8,
   * and +-1000 must not overflow. */
  const eqg_real sx[6] = { 0, log(3.0), -log(3.0), 1e-10, 1000, -1000 };
  const eqg_real sy[6] = { 0, ln2, log(2.0 / 3.0), 5e-11 + 1.25e-21, 1000 - ln2, -ln2 };
  const eqg_real sd[6] = { 0.5, 0.75, 0.25, 0.5 + 2.5e-11, 1, 0 };
  check_unary_points(eqg_shifted_softplus, 6, sx, sy, sd);
}

/* Large |x| must not overflow: sigmoid, softplus and silu at +-1000. */
static void test_unary_large_inputs(void **state)
{
  (void)state;
  const eqg_real x[2] = { 1000, -1000 };
  const eqg_real sig_y[2] = { 1, 0 }, sig_d[2] = { 0, 0 };
  check_unary_points(eqg_sigmoid, 2, x, sig_y, sig_d);
  const eqg_real sp_y[2] = { 1000, 0 }, sp_d[2] = { 1, 0 };
  check_unary_points(eqg_softplus, 2, x, sp_y, sp_d);
  const eqg_real silu_y[2] = { 1000, 0 }, silu_d[2] = { 1, 0 };
  check_unary_points(eqg_silu, 2, x, silu_y, silu_d);
}

/* ---- fused affine ops, uninitialised outputs, the backward sweep --------- */

/* Deterministic test values in about [-1.5, 1.5]. */
static void fill_values(eqg_real *v, size_t n, double phase)
{
  for (size_t i = 0; i < n; i++) v[i] = 1.5 * sin(1.37 * (double)i + phase);
}

static bool close_to(eqg_real a, eqg_real b) { return fabs(a - b) <= 1e-14 * fmax(1, fabs(b)); }

/* The unfused form of a fused activation. */
static eqg_tensor *unfused_act(eqg_tape *t, eqg_fuse_act act, eqg_tensor *x)
{
  switch (act) {
  case EQG_FUSE_RELU: return eqg_relu(t, x);
  case EQG_FUSE_LEAKY_RELU: return eqg_leaky_relu(t, x, 0.1);
  case EQG_FUSE_SILU: return eqg_silu(t, x);
  case EQG_FUSE_SIGMOID: return eqg_sigmoid(t, x);
  case EQG_FUSE_TANH: return eqg_tanh(t, x);
  default: return x;
  }
}

/* eqg_affine(x, W, b, f) = f(x W + b) as matmul, add and the elementwise op,
 * in value and in every gradient, for each activation and bias shape. */
static void test_affine_matches_unfused(void **state)
{
  (void)state;
  enum { N = 7, K = 5, M = 6 };
  eqg_real xv[N * K], wv[K * M], bv[N * M], rv[N * M];
  fill_values(xv, N * K, 0.1);
  fill_values(wv, K * M, 0.7);
  fill_values(bv, N * M, 1.3);
  fill_values(rv, N * M, 2.9);
  for (int act = 0; act < EQG_FUSE_ACT_COUNT; act++)
    for (int bias = 0; bias < 3; bias++) {   /* none, one row, full */
      eqg_real y[2][N * M], gx[2][N * K], gw[2][K * M], gb[2][N * M];
      const size_t b_rows = bias == 2 ? N : 1;
      for (int fused = 0; fused < 2; fused++) {
        eqg_tape *t = eqg_tape_alloc(0, NULL);
        eqg_tensor *x = eqg_tape_input(t, N, K, xv, true);
        eqg_tensor *w = eqg_tape_input(t, K, M, wv, true);
        eqg_tensor *b = bias ? eqg_tape_input(t, b_rows, M, bv, true) : NULL;
        eqg_tensor *out;
        if (fused) {
          out = eqg_affine(t, x, w, b, (eqg_fuse_act)act, 0.1);
        } else {
          out = eqg_matmul(t, x, false, w, false);
          if (b) out = eqg_add(t, out, b);
          out = unfused_act(t, (eqg_fuse_act)act, out);
        }
        assert_non_null(out);
        memcpy(y[fused], out->data, sizeof y[fused]);
        assert_int_equal(eqg_tape_backward_seed(t, out, rv), EQG_OK);
        memcpy(gx[fused], x->grad, sizeof gx[fused]);
        memcpy(gw[fused], w->grad, sizeof gw[fused]);
        if (b) memcpy(gb[fused], b->grad, b_rows * M * sizeof(eqg_real));
        eqg_tape_free(t);
      }
      for (int i = 0; i < N * M; i++)
        if (!close_to(y[1][i], y[0][i]))
          fail_msg("act %d bias %d: y[%d] = %.17g, unfused %.17g", act, bias, i, y[1][i], y[0][i]);
      for (int i = 0; i < N * K; i++) assert_true(close_to(gx[1][i], gx[0][i]));
      for (int i = 0; i < K * M; i++) assert_true(close_to(gw[1][i], gw[0][i]));
      for (size_t i = 0; bias && i < b_rows * M; i++) assert_true(close_to(gb[1][i], gb[0][i]));
    }
}

/* eqg_edge_affine = f(u[dst] + v[src] + z W) by hand, and its gradients
 * against gathers, add, affine and the activation op. */
static void test_edge_affine_matches_unfused(void **state)
{
  (void)state;
  enum { N = 4, E = 6, K = 2, M = 3 };
  const eqg_index dst[E] = { 0, 0, 1, 2, 3, 3 }, src[E] = { 1, 2, 0, 3, 1, 2 };
  eqg_real uv[N * M], vv[N * M], zv[E * K], wv[K * M], rv[E * M];
  fill_values(uv, N * M, 0.2);
  fill_values(vv, N * M, 0.9);
  fill_values(zv, E * K, 1.7);
  fill_values(wv, K * M, 2.3);
  fill_values(rv, E * M, 3.1);
  eqg_real y[2][E * M], gu[2][N * M], gv[2][N * M], gz[2][E * K], gw[2][K * M];
  for (int fused = 0; fused < 2; fused++) {
    eqg_tape *t = eqg_tape_alloc(0, NULL);
    eqg_tensor *u = eqg_tape_input(t, N, M, uv, true), *v = eqg_tape_input(t, N, M, vv, true);
    eqg_tensor *z = eqg_tape_input(t, E, K, zv, true), *w = eqg_tape_input(t, K, M, wv, true);
    eqg_tensor *out = fused
      ? eqg_edge_affine(t, u, dst, v, src, E, z, w, EQG_FUSE_SILU, 0)
      : eqg_silu(t, eqg_affine(t, z, w, eqg_add(t, eqg_gather_rows(t, u, dst, E),
                                                 eqg_gather_rows(t, v, src, E)),
                               EQG_FUSE_NONE, 0));
    assert_non_null(out);
    memcpy(y[fused], out->data, sizeof y[fused]);
    assert_int_equal(eqg_tape_backward_seed(t, out, rv), EQG_OK);
    memcpy(gu[fused], u->grad, sizeof gu[fused]);
    memcpy(gv[fused], v->grad, sizeof gv[fused]);
    memcpy(gz[fused], z->grad, sizeof gz[fused]);
    memcpy(gw[fused], w->grad, sizeof gw[fused]);
    eqg_tape_free(t);
  }
  for (int e = 0; e < E; e++)   /* by hand */
    for (int c = 0; c < M; c++) {
      double p = uv[dst[e] * M + c] + vv[src[e] * M + c];
      for (int k = 0; k < K; k++) p += zv[e * K + k] * wv[k * M + c];
      assert_true(close_to(y[1][e * M + c], p / (1 + exp(-p))));
    }
  for (int i = 0; i < E * M; i++) assert_true(close_to(y[1][i], y[0][i]));
  for (int i = 0; i < N * M; i++) assert_true(close_to(gu[1][i], gu[0][i]));
  for (int i = 0; i < N * M; i++) assert_true(close_to(gv[1][i], gv[0][i]));
  for (int i = 0; i < E * K; i++) assert_true(close_to(gz[1][i], gz[0][i]));
  for (int i = 0; i < K * M; i++) assert_true(close_to(gw[1][i], gw[0][i]));
}

/* Op outputs are allocated uninitialised: the ops that accumulate into their
 * output (sums over rows, scatter-add, segment mean, empty products) must
 * zero it themselves.  The arena is first filled with garbage, then reset,
 * so that the outputs land on it. */
static void test_outputs_after_reset(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(1 << 16, NULL);
  eqg_tensor *junk = eqg_tape_input(t, 1000, 8, NULL, false);
  assert_non_null(junk);
  eqg_tensor_fill(junk, 12345.0);
  eqg_tape_reset(t);
  const eqg_real xv[6] = { 1, 2, 3, 4, 5, 6 };
  const eqg_index idx[3] = { 1, 1, 3 };
  eqg_tensor *x = eqg_tape_input(t, 3, 2, xv, false);
  eqg_tensor *sum = eqg_sum(t, x, EQG_AXIS_ROWS);                 /* (1, 2) */
  eqg_tensor *sc = eqg_scatter_add_rows(t, x, idx, 4);             /* (4, 2) */
  eqg_tensor *sm = eqg_segment_mean(t, x, idx, 4);                 /* (4, 2) */
  eqg_tensor *e0 = eqg_tape_input(t, 3, 0, NULL, false);           /* (3, 0) */
  eqg_tensor *w0 = eqg_tape_input(t, 0, 2, NULL, false);           /* (0, 2) */
  eqg_tensor *mm = eqg_matmul(t, e0, false, w0, false);            /* (3, 2) of 0 */
  eqg_tensor *af = eqg_affine(t, e0, w0, NULL, EQG_FUSE_NONE, 0);  /* (3, 2) of 0 */
  eqg_tensor *b = eqg_tape_input(t, 1, 2, xv, false);
  eqg_tensor *ab = eqg_affine(t, e0, w0, b, EQG_FUSE_NONE, 0);     /* (3, 2) rows of b */
  assert_int_equal(eqg_tape_status(t), EQG_OK);
  assert_true(sum->data[0] == 9 && sum->data[1] == 12);
  const eqg_real sc_want[8] = { 0, 0, 4, 6, 0, 0, 5, 6 }, sm_want[8] = { 0, 0, 2, 3, 0, 0, 5, 6 };
  for (int i = 0; i < 8; i++) {
    assert_true(sc->data[i] == sc_want[i]);
    assert_true(sm->data[i] == sm_want[i]);
  }
  for (int i = 0; i < 6; i++) {
    assert_true(mm->data[i] == 0);
    assert_true(af->data[i] == 0);
    assert_true(ab->data[i] == xv[i % 2]);
  }
  eqg_tape_free(t);
}

/* silu and sigmoid compute every element alone: the vector lanes and the
 * scalar tail give the same bits, within 1e-15 of the libm formula (NaN stays
 * NaN, +-inf saturate, no overflow at +-1000). */
static void test_sigmoid_lanes_and_accuracy(void **state)
{
  (void)state;
  const eqg_real vals[] = { 0.0, -0.0, 1e-300, -1e-300, 0.5, -0.5, 3, -3, 20, -20, 36.5, -36.5,
                            707.9, -707.9, 708, -708, 709, -709, 1000, -1000, INFINITY,
                            -INFINITY, NAN };
  enum { R = 11 };   /* 2 x 4 AVX lanes (or 4 x 2 SSE2 lanes) and a scalar tail of 3 */
  for (size_t k = 0; k < sizeof vals / sizeof *vals; k++) {
    eqg_real x[R];
    for (int i = 0; i < R; i++) x[i] = vals[k];
    eqg_tape *t = eqg_tape_alloc(0, NULL);
    eqg_tensor *xt = eqg_tape_input(t, 1, R, x, true);
    eqg_tensor *s = eqg_sigmoid(t, xt), *q = eqg_silu(t, xt);
    eqg_tensor *f = eqg_affine(t, eqg_tape_input(t, 1, 1, NULL, false),
                               eqg_tape_input(t, 1, R, NULL, false), xt, EQG_FUSE_SILU,
                               0);   /* 0 0 + x: the fused silu of x */
    assert_non_null(f);
    for (int i = 1; i < R; i++) {
      assert_memory_equal(&s->data[i], &s->data[0], sizeof(eqg_real));
      assert_memory_equal(&q->data[i], &q->data[0], sizeof(eqg_real));
      /* (0 W + x is +0 for x = -0, so compare values, not bits) */
      assert_true(f->data[i] == q->data[0] || (isnan(f->data[i]) && isnan(q->data[0])));
    }
    const double v = vals[k];
    const double e = exp(-fabs(v)), ref = (v >= 0 ? 1 : e) / (1 + e);
    if (isnan(v)) {
      assert_true(isnan(s->data[0]) && isnan(q->data[0]));
    } else if (!(fabs(s->data[0] - ref) <= 1e-15 * ref + 1e-300)) {
      fail_msg("sigmoid(%g) = %.17g, libm %.17g", v, s->data[0], ref);
    } else if (isfinite(v) && !(fabs(q->data[0] - v * ref) <= 1e-15 * fabs(v * ref) + 1e-300)) {
      fail_msg("silu(%g) = %.17g, libm %.17g", v, q->data[0], v * ref);
    }
    eqg_tape_free(t);
  }
  /* a sweep: relative error against libm below 1e-15 (about 4 ulp) */
  enum { S = 4001 };
  static eqg_real sx[S];
  for (int i = 0; i < S; i++) sx[i] = -40 + 0.02 * i;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  eqg_tensor *s = eqg_sigmoid(t, eqg_tape_input(t, 1, S, sx, false));
  for (int i = 0; i < S; i++) {
    const double e = exp(-fabs(sx[i])), ref = (sx[i] >= 0 ? 1 : e) / (1 + e);
    if (!(fabs(s->data[i] - ref) <= 1e-15 * ref))
      fail_msg("sigmoid(%.17g) = %.17g, libm %.17g", sx[i], s->data[i], ref);
  }
  eqg_tape_free(t);
}

/* The sweep runs only the nodes the seeded output depends on (an unused
 * branch is skipped), finds the producer of a view into an output's rows,
 * and the optional profile counts calls only while it is set. */
static void test_backward_liveness_and_profile(void **state)
{
  (void)state;
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  assert_null(t->profile);
  eqg_tape_profile prof;
  eqg_tape_profile_clear(&prof);
  t->profile = &prof;
  const eqg_real xv[6] = { 0.5, -1, 2, 0.25, -0.75, 1.5 };
  eqg_tensor *x = eqg_tape_input(t, 2, 3, xv, true);
  eqg_tensor *dead = eqg_tanh(t, x);                 /* feeds nothing */
  eqg_tensor *sq = eqg_mul(t, x, x);                 /* (2, 3) */
  /* a view of row 1 of sq, sharing its data and gradient */
  eqg_tensor view = { .rows = 1, .cols = 3, .data = sq->data + 3, .grad = sq->grad + 3 };
  eqg_tensor *y = eqg_sum(t, &view, EQG_AXIS_ALL);
  assert_non_null(dead);
  assert_non_null(y);
  assert_true(prof.forward_calls[EQG_OP_TANH] == 1 && prof.forward_calls[EQG_OP_MUL] == 1);
  assert_int_equal(eqg_tape_backward(t, y), EQG_OK);
  assert_true(prof.backward_calls[EQG_OP_TANH] == 0);   /* skipped */
  assert_true(prof.backward_calls[EQG_OP_MUL] == 1);    /* found through the view */
  assert_true(prof.backward_calls[EQG_OP_SUM] == 1);
  for (int i = 0; i < 6; i++) assert_true(x->grad[i] == (i < 3 ? 0 : 2 * xv[i]));
  /* without a profile nothing is counted */
  t->profile = NULL;
  eqg_tape_reset(t);
  assert_non_null(eqg_tanh(t, eqg_tape_input(t, 1, 1, xv, false)));
  assert_true(prof.forward_calls[EQG_OP_TANH] == 1);
  assert_true(prof.forward_s[EQG_OP_MUL] >= 0 && prof.alloc_s >= 0);
  eqg_tape_free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_registry_complete),
    cmocka_unit_test(test_matmul_by_hand),
    cmocka_unit_test(test_gemm_trace),
    cmocka_unit_test(test_gradient_accumulates),
    cmocka_unit_test(test_sticky_shape_error),
    cmocka_unit_test(test_no_grad_without_inputs_needing_it),
    cmocka_unit_test(test_reset_reuses_memory),
    cmocka_unit_test(test_segment_mean_by_hand),
    cmocka_unit_test(test_index_out_of_range),
    cmocka_unit_test(test_shape_op_errors),
    cmocka_unit_test(test_psi_shifted_softplus_by_hand),
    cmocka_unit_test(test_unary_large_inputs),
    cmocka_unit_test(test_minkowski_by_hand),
    cmocka_unit_test(test_batchnorm_running_stats),
    cmocka_unit_test(test_dropout_keep_rate),
    cmocka_unit_test(test_bce_logits_by_hand),
    cmocka_unit_test(test_softmax_xent_by_hand),
    cmocka_unit_test(test_softmax_xent_bad_labels),
    cmocka_unit_test(test_affine_matches_unfused),
    cmocka_unit_test(test_edge_affine_matches_unfused),
    cmocka_unit_test(test_outputs_after_reset),
    cmocka_unit_test(test_sigmoid_lanes_and_accuracy),
    cmocka_unit_test(test_backward_liveness_and_profile),
    cmocka_unit_test(test_second_sweep_restarts_intermediates),
  };
  return cmocka_run_group_tests_name("ad", tests, NULL, NULL);
}
