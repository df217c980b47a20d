/* test_discover.c: symmetry-discovery losses (lib/probe/eqg_discover.h).
 *
 *   - every loss term's gradient against a fourth-order central finite
 *     difference (relative error <= 1e-7), alone and combined;
 *   - the Minkowski oracle (300 Gaussian points, N_g = 6) recovers so(1,3):
 *     smallest principal-angle cosine >= 0.99 and invariant-metric signature
 *     (1, 3) with the metric ~ diag(1, -1, -1, -1);
 *   - the norm oracle (N_g = 3) recovers so(3) with structure constants within
 *     0.015 of +-epsilon_abc (after alignment);
 *   - the pairs span loss recovers so(2) (about z, on R^3) and the z-boost;
 *   - bad inputs: wrong sizes, NaN generators, unknown oracle, zero samples;
 *   - the probe's "boostz" truth (K_z), eqg_probe_write_h5 and the result
 *     layout of eqg_probe_write_h5_result.
 * Every test prints its measured numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "eqgnn.h"

enum { NPTS = 300, STEPS = 6000 };
static const eqg_real LR = 1e-3;

static gsl_rng *rng_new(unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  assert_non_null(r);
  gsl_rng_set(r, seed);
  return r;
}

/* M for `oracle` from NPTS standard Gaussian points in R^d. */
static void oracle_moments(eqg_real *M, const char *oracle, size_t d, gsl_rng *r)
{
  eqg_real *X = malloc(NPTS * d * sizeof *X), *C = malloc(NPTS * d * d * sizeof *C);
  assert_non_null(X);
  assert_non_null(C);
  for (size_t k = 0; k < NPTS * d; k++) X[k] = gsl_ran_gaussian(r, 1);
  assert_int_equal(eqg_discover_oracle_samples(C, oracle, X, NPTS, d), EQG_OK);
  assert_int_equal(eqg_discover_moments(M, C, NPTS, d), EQG_OK);
  free(X);
  free(C);
}

/* ---- gradients ------------------------------------------------------------------ */

static eqg_real total_at(const eqg_real *W, size_t n, size_t d, const eqg_real *M,
                         const eqg_real *S, const eqg_discover_weights *w)
{
  eqg_discover_terms tm;
  assert_int_equal(eqg_discover_loss(&tm, NULL, W, n, d, M, S, w), EQG_OK);
  return tm.total;
}

static eqg_real gradcheck(const char *label, size_t n, size_t d, const eqg_real *M,
                          const eqg_real *S, const eqg_discover_weights *w, gsl_rng *r)
{
  const size_t q = d * d;
  eqg_real W[16 * 64], g[16 * 64];
  for (size_t k = 0; k < n * q; k++) W[k] = gsl_ran_gaussian(r, 0.7);
  eqg_discover_terms tm;
  assert_int_equal(eqg_discover_loss(&tm, g, W, n, d, M, S, w), EQG_OK);
  eqg_real worst = 0;
  const eqg_real h = 1e-3;
  for (size_t k = 0; k < n * q; k++) {
    eqg_real w0 = W[k], f[4];
    const eqg_real off[4] = { -2 * h, -h, h, 2 * h };
    for (int j = 0; j < 4; j++) {
      W[k] = w0 + off[j];
      f[j] = total_at(W, n, d, M, S, w);
    }
    W[k] = w0;
    eqg_real num = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h);
    eqg_real err = fabs(num - g[k]) / fmax(1, fabs(num) + fabs(g[k]));
    worst = fmax(worst, err);
  }
  print_message("  %-28s max rel. error %.3g over %zu entries (loss %.4g)\n", label, worst,
                n * q, tm.total);
  assert_true(worst <= 1e-7);
  return worst;
}

static void test_gradients(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(3);
  eqg_real M[256], S[256];
  oracle_moments(M, "minkowski", 4, r);
  oracle_moments(S, "norm", 4, r);   /* any PSD matrix will do for the span term */
  const struct { const char *label; eqg_discover_weights w; } cases[] = {
    { "invariance", { .inv = 1 } },
    { "span", { .span = 1 } },
    { "normalisation", { .norm = 1 } },
    { "orthogonality", { .orth = 1 } },
    { "closure", { .closure = 1 } },
    { "all, mixed weights", { .inv = 2, .span = 0.5, .norm = 0.3, .orth = 1.5, .closure = 0.7 } },
  };
  eqg_real M3[81], S3[81];
  oracle_moments(M3, "norm", 3, r);
  oracle_moments(S3, "norm", 3, r);
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    gradcheck(cases[c].label, 6, 4, M, S, &cases[c].w, r);
    gradcheck(cases[c].label, 3, 3, M3, S3, &cases[c].w, r);
  }
  gsl_rng_free(r);
}

/* ---- oracles ----------------------------------------------------------------- */

/* Fit n generators of side d (n d^2 <= 96) to the moments of `oracle` (NPTS
 * points, then STEPS Adam steps on inv + norm + orth + closure, all drawn from
 * one mt19937 seeded with seed) and probe them against truth. */
static void fit_oracle(eqg_probe_report *rep, eqg_discover_terms *fin, const char *oracle,
                       size_t n, size_t d, unsigned long seed, const char *truth)
{
  gsl_rng *r = rng_new(seed);
  eqg_real M[256], W[6 * 16];
  oracle_moments(M, oracle, d, r);
  const eqg_discover_weights w = { .inv = 1, .norm = 1, .orth = 1, .closure = 1 };
  assert_int_equal(eqg_discover_fit(W, n, d, M, NULL, &w, STEPS, LR, r, NULL, fin), EQG_OK);
  assert_int_equal(eqg_probe_analyse(rep, W, n, d, truth), EQG_OK);
  gsl_rng_free(r);
}

static void test_minkowski_so13(void **state)
{
  (void)state;
  eqg_discover_terms fin;
  eqg_probe_report rep;
  fit_oracle(&rep, &fin, "minkowski", 6, 4, 11, "so13");
  size_t sig[3];
  eqg_probe_signature(sig, rep.metric_eval, 4, 1e-3);
  print_message("  minkowski N_g = 6, %d steps: loss %.3e (inv %.2e norm %.2e orth %.2e "
                "closure %.2e); min cosine %.9f, Grassmann %.3e; metric diag %.5f %.5f %.5f "
                "%.5f, signature (+%zu, -%zu), residual %.2e\n", STEPS, fin.total, fin.inv,
                fin.norm, fin.orth, fin.closure, rep.min_cosine, rep.grassmann, rep.metric[0],
                rep.metric[5], rep.metric[10], rep.metric[15], sig[0], sig[1],
                rep.metric_residual);
  assert_int_equal(rep.learned_dim, 6);
  assert_true(rep.min_cosine >= 0.99);
  assert_int_equal(sig[0], 1);
  assert_int_equal(sig[1], 3);
  assert_true(fabs(rep.metric[0] - 1) < 1e-2);
  for (size_t i = 1; i < 4; i++) assert_true(fabs(rep.metric[5 * i] + 1) < 1e-2);
  assert_int_equal(rep.killing_pos, 3);
  assert_int_equal(rep.killing_neg, 3);
}

static void test_norm_so3(void **state)
{
  (void)state;
  eqg_discover_terms fin;
  eqg_probe_report rep;
  fit_oracle(&rep, &fin, "norm", 3, 3, 12, "so3");
  eqg_real ferr = eqg_discover_so3_structure_error(&rep);
  print_message("  norm N_g = 3: loss %.3e; min cosine %.9f, Grassmann %.3e, structure "
                "constants max |f - eps| %.3e; Killing signature (+%zu, -%zu)\n", fin.total,
                rep.min_cosine, rep.grassmann, ferr, rep.killing_pos, rep.killing_neg);
  assert_true(rep.min_cosine >= 0.99);
  assert_true(ferr <= 0.015);
  assert_int_equal(rep.killing_neg, 3);
}

/* ---- pairs -------------------------------------------------------------------- */

/* S from exact algebra elements D_s = z_s T (one generator T of side d). */
static void span_recovers(const char *truth, const eqg_real *T, size_t d, gsl_rng *r)
{
  const size_t q = d * d, ns = 50;
  eqg_real D[50 * 16], S[256], W[16];
  for (size_t s = 0; s < ns; s++) {
    eqg_real z = gsl_ran_gaussian(r, 1);
    for (size_t i = 0; i < q; i++) D[s * q + i] = z * T[i] + gsl_ran_gaussian(r, 1e-4);
  }
  assert_int_equal(eqg_discover_moments(S, D, ns, d), EQG_OK);
  for (size_t k = 0; k < q * q; k++) S[k] /= (eqg_real)q;
  const eqg_discover_weights w = { .span = 1, .norm = 1 };
  eqg_discover_terms fin;
  assert_int_equal(eqg_discover_fit(W, 1, d, NULL, S, &w, 3000, 1e-2, r, NULL, &fin), EQG_OK);
  eqg_probe_report rep;
  assert_int_equal(eqg_probe_analyse(&rep, W, 1, d, truth), EQG_OK);
  print_message("  pairs %s: span loss %.3e, cosine %.9f\n", truth, fin.span, rep.min_cosine);
  assert_true(rep.min_cosine >= 0.999);
}

static void test_pairs_span(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(13);
  eqg_real L3[27], L4[96];
  eqg_rotation_generators(L3);
  eqg_lorentz_generators(L4);
  span_recovers("so2", L3 + 18, 3, r);
  span_recovers("boostz", L4 + 5 * 16, 4, r);
  gsl_rng_free(r);
}

/* ---- bad inputs ----------------------------------------------------------------- */

static void test_bad_inputs(void **state)
{
  (void)state;
  eqg_real M[256] = { 0 }, W[6 * 16] = { 0 }, C[16] = { 0 }, X[4] = { 1, 2, 3, 4 };
  eqg_discover_terms tm;
  const eqg_discover_weights w = { .inv = 1, .norm = 1 };
  for (size_t i = 0; i < 16; i++) M[i * 17] = 1.0 / 16;
  W[0] = 1;
  assert_int_equal(eqg_discover_loss(&tm, NULL, W, 0, 4, M, NULL, &w), EQG_EINVAL);
  assert_int_equal(eqg_discover_loss(&tm, NULL, W, 17, 4, M, NULL, &w), EQG_EINVAL);
  assert_int_equal(eqg_discover_loss(&tm, NULL, W, 6, 9, M, NULL, &w), EQG_EINVAL);
  assert_int_equal(eqg_discover_loss(&tm, NULL, W, 6, 4, NULL, NULL, &w), EQG_EINVAL);
  W[7] = NAN;
  assert_int_equal(eqg_discover_loss(&tm, NULL, W, 6, 4, M, NULL, &w), EQG_ENONFINITE);
  print_message("  NaN generator: %s\n", eqg_error_message());
  W[7] = 0;
  /* closure with dependent generators (all zero but one) */
  const eqg_discover_weights wc = { .closure = 1 };
  assert_int_equal(eqg_discover_loss(&tm, NULL, W, 6, 4, NULL, NULL, &wc), EQG_EINVAL);
  assert_int_equal(eqg_discover_oracle_samples(C, "energy", X, 1, 4), EQG_EINVAL);
  print_message("  unknown oracle: %s\n", eqg_error_message());
  assert_int_equal(eqg_discover_oracle_samples(C, "minkowski", X, 1, 3), EQG_EINVAL);
  assert_int_equal(eqg_discover_moments(M, C, 0, 4), EQG_EINVAL);
  assert_int_equal(eqg_discover_moments(M, C, 1, 4), EQG_EINVAL);   /* all zero */
  C[3] = INFINITY;
  assert_int_equal(eqg_discover_moments(M, C, 1, 4), EQG_ENONFINITE);
  assert_int_equal(eqg_discover_fit(W, 6, 4, M, NULL, &w, 10, -1, NULL, NULL, NULL),
                   EQG_EINVAL);
  eqg_probe_report rep = { .n = 0 };
  assert_true(isnan(eqg_discover_so3_structure_error(&rep)));
  assert_true(isnan(eqg_discover_so3_structure_error(NULL)));
}

static void test_boostz_truth_and_h5(void **state)
{
  (void)state;
  eqg_real L4[96], L3[27];
  eqg_lorentz_generators(L4);
  eqg_rotation_generators(L3);
  eqg_probe_report rep;
  assert_int_equal(eqg_probe_analyse(&rep, L4 + 80, 1, 4, "boostz"), EQG_OK);
  assert_true(fabs(rep.min_cosine - 1) < 1e-15);
  assert_int_equal(eqg_probe_analyse(&rep, L4 + 64, 1, 4, "boostz"), EQG_OK);   /* K_y */
  assert_true(rep.min_cosine < 1e-12);
  assert_int_equal(eqg_probe_analyse(&rep, L3, 3, 3, "boostz"), EQG_ESHAPE);
  /* the full so(1,3) against boostz: the boost is a strict subspace */
  assert_int_equal(eqg_probe_analyse(&rep, L4, 6, 4, "boostz"), EQG_OK);
  assert_int_equal(rep.n_angles, 1);
  assert_true(fabs(rep.min_cosine - 1) < 1e-12);
  /* written to HDF5 and read back */
  char path[] = "/tmp/eqg_discover_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(f >= 0);
  assert_int_equal(eqg_probe_analyse(&rep, L4, 6, 4, "so13"), EQG_OK);
  assert_int_equal(eqg_probe_write_h5(f, &rep), EQG_OK);
  eqg_real metric[16], mc;
  assert_int_equal(eqg_h5_read_matrix(f, "metric", metric, 4, 4), EQG_OK);
  assert_int_equal(eqg_h5_read_attr_double(f, "min_cosine", &mc), EQG_OK);
  assert_true(metric[0] == rep.metric[0] && metric[5] == rep.metric[5] && mc == rep.min_cosine);
  assert_true(fabs(metric[0] - 1) < 1e-12 && fabs(metric[5] + 1) < 1e-12);
  assert_int_equal(eqg_probe_write_h5(f, NULL), EQG_EINVAL);
  /* the result layout (generators, n, d, recovered_metric, probe/) in a group */
  hid_t g = eqg_h5_group_create(f, "result");
  assert_true(g >= 0);
  assert_int_equal(eqg_probe_write_h5_result(g, L4, &rep), EQG_OK);
  eqg_real gens[96];
  long n, d;
  assert_int_equal(eqg_h5_read_matrix(g, "generators", gens, 6, 16), EQG_OK);
  assert_memory_equal(gens, L4, sizeof gens);
  assert_int_equal(eqg_h5_read_attr_long(g, "n", &n), EQG_OK);
  assert_int_equal(eqg_h5_read_attr_long(g, "d", &d), EQG_OK);
  assert_true(n == 6 && d == 4);
  assert_int_equal(eqg_h5_read_matrix(g, "recovered_metric", metric, 4, 4), EQG_OK);
  assert_memory_equal(metric, rep.metric, sizeof metric);
  hid_t gp = eqg_h5_group_open(g, "probe");
  assert_true(gp >= 0);
  assert_int_equal(eqg_h5_read_attr_double(gp, "min_cosine", &mc), EQG_OK);
  assert_true(mc == rep.min_cosine);
  eqg_h5_close(gp);
  assert_int_equal(eqg_probe_write_h5_generators(g, NULL, &rep), EQG_EINVAL);
  assert_int_equal(eqg_probe_write_h5_result(g, L4, NULL), EQG_EINVAL);
  eqg_h5_close(g);
  H5Fclose(f);
  remove(path);
}

int main(void)
{
  eqg_gsl_route_errors();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_gradients),
    cmocka_unit_test(test_minkowski_so13),
    cmocka_unit_test(test_norm_so3),
    cmocka_unit_test(test_pairs_span),
    cmocka_unit_test(test_bad_inputs),
    cmocka_unit_test(test_boostz_truth_and_h5),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
