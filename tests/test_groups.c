/* test_groups.c: symmetry groups -- registry and parameters, determinism,
 * Haar uniformity of SO(3) (KS tests that a non-Haar sampler fails), O(3)
 * parity, Lorentz identities up to rapidity 9, boost algebra, Lie-algebra
 * commutators, exp(generator) = sampled element, eqg_matrix_exp against a
 * long-double reference, invariant metrics, and the
 * affine action (translations move positions, not displacements). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>
#include <math.h>
#include <cmocka.h>

#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "eqgnn.h"

enum { N_HAAR = 20000 };   /* samples for the statistical tests */
static const unsigned long SEED = 20240611UL;

#define assert_near(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* ---- small helpers ------------------------------------------------------ */

static gsl_rng *rng_new(unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  assert_non_null(r);
  gsl_rng_set(r, seed);
  return r;
}

/* C = A B, all (d, d). */
static void matmul(eqg_real *C, const eqg_real *A, const eqg_real *B, size_t d)
{
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) {
      eqg_real s = 0;
      for (size_t k = 0; k < d; k++) s += A[i * d + k] * B[k * d + j];
      C[i * d + j] = s;
    }
}

/* C = [A, B] = A B - B A. */
static void commutator(eqg_real *C, const eqg_real *A, const eqg_real *B, size_t d)
{
  eqg_real AB[16], BA[16];
  matmul(AB, A, B, d);
  matmul(BA, B, A, d);
  for (size_t i = 0; i < d * d; i++) C[i] = AB[i] - BA[i];
}

static eqg_real max_abs_diff(const eqg_real *a, const eqg_real *b, size_t n)
{
  eqg_real m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
  return m;
}

static eqg_real max_abs(const eqg_real *a, size_t n)
{
  eqg_real m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
  return m;
}

/* max |(M^T G M - G)_ij|, all (d, d). */
static eqg_real metric_error(const eqg_real *M, const eqg_real *G, size_t d)
{
  eqg_real err = 0;
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) {
      eqg_real s = 0;
      for (size_t k = 0; k < d; k++)
        for (size_t l = 0; l < d; l++) s += M[k * d + i] * G[k * d + l] * M[l * d + j];
      err = fmax(err, fabs(s - G[i * d + j]));
    }
  return err;
}

static eqg_real det3(const eqg_real *R)
{
  return R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6])
       + R[2] * (R[3] * R[7] - R[4] * R[6]);
}

/* E = exp(A), (d <= 5, d), by scaling and squaring in long double: scale A
 * by 2^-s until |A|_inf <= 1/2, sum 30 Taylor terms (remainder < 2^-30 / 30!),
 * square s times, round once to double.  Accurate to ~1 ulp of the result for
 * the parameters used here, so comparisons can be tight. */
static void expm(eqg_real *E, const eqg_real *A, size_t d)
{
  long double S[25], T[25], P[25];
  long double norm = 0;
  for (size_t i = 0; i < d; i++) {
    long double row = 0;
    for (size_t j = 0; j < d; j++) row += fabsl((long double)A[i * d + j]);
    if (row > norm) norm = row;
  }
  int s = 0;
  while (norm > 0.5L) { norm /= 2; s++; }
  const long double scale = ldexpl(1.0L, -s);
  for (size_t i = 0; i < d * d; i++) {
    T[i] = (i % (d + 1) == 0) ? 1.0L : 0.0L;   /* term A^k / k!, starting at I */
    S[i] = T[i];
  }
  for (int k = 1; k <= 30; k++) {
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++) {
        long double acc = 0;
        for (size_t l = 0; l < d; l++) acc += T[i * d + l] * scale * A[l * d + j];
        P[i * d + j] = acc / k;
      }
    for (size_t i = 0; i < d * d; i++) { T[i] = P[i]; S[i] += P[i]; }
  }
  for (int q = 0; q < s; q++) {
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++) {
        long double acc = 0;
        for (size_t l = 0; l < d; l++) acc += S[i * d + l] * S[l * d + j];
        P[i * d + j] = acc;
      }
    memcpy(S, P, d * d * sizeof *S);
  }
  for (size_t i = 0; i < d * d; i++) E[i] = (eqg_real)S[i];
}

/* Levi-Civita symbol for indices 0..2. */
static int eps3(int a, int b, int c)
{
  return (a - b) * (b - c) * (c - a) / 2;
}

/* ---- Kolmogorov-Smirnov -------------------------------------------------- */

/* Asymptotic Kolmogorov survival function P(K > lambda). */
static double kolmogorov_q(double lambda)
{
  if (lambda <= 0) return 1;
  if (lambda < 1.18) {   /* P(K <= l) = sqrt(2 pi)/l sum exp(-(2j-1)^2 pi^2 / (8 l^2)) */
    double s = 0;
    for (int j = 1; j <= 20; j++) {
      const double k = 2 * j - 1;
      s += exp(-k * k * M_PI * M_PI / (8 * lambda * lambda));
    }
    return 1 - sqrt(2 * M_PI) / lambda * s;
  }
  double s = 0;          /* 2 sum (-1)^(j-1) exp(-2 j^2 l^2) */
  for (int j = 1; j <= 100; j++) s += (j % 2 ? 2 : -2) * exp(-2.0 * j * j * lambda * lambda);
  return s;
}

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* p-value of the one-sample KS test of x[0..n) (sorted in place) against cdf,
 * with Stephens' finite-n correction (sqrt n + 0.12 + 0.11 / sqrt n) D. */
static double ks_pvalue(double *x, size_t n, double (*cdf)(double))
{
  qsort(x, n, sizeof *x, cmp_double);
  double d = 0;
  for (size_t i = 0; i < n; i++) {
    const double F = cdf(x[i]);
    d = fmax(d, fmax((double)(i + 1) / (double)n - F, F - (double)i / (double)n));
  }
  const double sn = sqrt((double)n);
  return kolmogorov_q((sn + 0.12 + 0.11 / sn) * d);
}

/* Haar SO(3): rotation angle theta has density (1 - cos theta)/pi on [0, pi]. */
static double cdf_haar_angle(double th) { return (th - sin(th)) / M_PI; }
static double cdf_uniform_pm1(double z) { return 0.5 * (z + 1); }

static double rotation_angle(const eqg_real *R)
{
  const double c = 0.5 * (R[0] + R[4] + R[8] - 1);
  return acos(fmax(-1.0, fmin(1.0, c)));
}

/* A deliberately non-Haar sampler: ZYZ Euler angles each uniform
 * (Haar would need beta with density sin(beta)/2). */
static void sample_euler_uniform(eqg_real *R, gsl_rng *r)
{
  static const eqg_real ey[3] = { 0, 1, 0 }, ez[3] = { 0, 0, 1 };
  eqg_real A[9], B[9], C[9], AB[9];
  const double al = 2 * M_PI * gsl_rng_uniform(r), be = M_PI * gsl_rng_uniform(r),
               ga = 2 * M_PI * gsl_rng_uniform(r);
  assert_int_equal(eqg_rotation_matrix_axis_angle(A, ez, al), EQG_OK);
  assert_int_equal(eqg_rotation_matrix_axis_angle(B, ey, be), EQG_OK);
  assert_int_equal(eqg_rotation_matrix_axis_angle(C, ez, ga), EQG_OK);
  matmul(AB, A, B, 3);
  matmul(R, AB, C, 3);
}

/* ---- registry and parameters --------------------------------------------- */

static void test_registry(void **state)
{
  (void)state;
  size_t n = 0;
  for (const eqg_group_type *const *t = eqg_group_types; *t != NULL; t++, n++) {
    assert_ptr_equal(eqg_group_type_find((*t)->name), *t);
    assert_true(strlen((*t)->description) > 0);
    assert_true((*t)->dim == 3 || (*t)->dim == 4);
    assert_true((*t)->gen_dim == (*t)->dim || (*t)->gen_dim == (*t)->dim + 1);
    assert_true((*t)->n_generators >= 1 && (*t)->n_generators <= 6);
    assert_non_null((*t)->sample);
    assert_non_null((*t)->generators);
    assert_non_null((*t)->metric);
  }
  assert_int_equal(n, 7);
  eqg_error_clear();
  assert_null(eqg_group_type_find("poincare"));
  assert_non_null(strstr(eqg_error_message(), "poincare"));
  assert_null(eqg_group_type_find(NULL));
}

static void expect_rejected(const eqg_group_type *T, eqg_group_params p, const char *word)
{
  eqg_error_clear();
  eqg_group *g = eqg_group_alloc(T, &p);
  assert_null(g);
  assert_non_null(strstr(eqg_error_message(), word));
}

static void test_bad_params(void **state)
{
  (void)state;
  const eqg_group_params def = eqg_group_params_default();
  eqg_group_params p = def;
  p.rapidity = -1;
  expect_rejected(&eqg_group_boost, p, "rapidity");
  p = def; p.rapidity = NAN;
  expect_rejected(&eqg_group_boostz, p, "rapidity");
  p = def; p.rapidity_mode = EQG_RAPIDITY_MODE_COUNT;
  expect_rejected(&eqg_group_lorentz, p, "mode");
  p = def; p.rapidity_mode = EQG_RAPIDITY_VELOCITY; p.velocity_sigma = 0;
  expect_rejected(&eqg_group_lorentz, p, "sigma");
  p = def; p.rapidity_mode = EQG_RAPIDITY_VELOCITY; p.velocity_sigma = 1.5;
  expect_rejected(&eqg_group_lorentz, p, "sigma");
  p = def; p.fixed_axis = true; p.axis[0] = p.axis[1] = p.axis[2] = 0;
  expect_rejected(&eqg_group_boost, p, "axis");
  p = def; p.translation_sigma = -0.5;
  expect_rejected(&eqg_group_translation, p, "translation sigma");
  eqg_error_clear();
  assert_null(eqg_group_alloc(NULL, NULL));
  assert_true(strlen(eqg_error_message()) > 0);

  /* A negative *fixed* rapidity is a boost the other way: accepted. */
  p = def; p.rapidity_mode = EQG_RAPIDITY_FIXED; p.rapidity = -2;
  eqg_group *g = eqg_group_alloc(&eqg_group_boostz, &p);
  assert_non_null(g);
  eqg_group_free(g);
  eqg_group_free(NULL);

  /* The axis is normalised on alloc. */
  p = def; p.fixed_axis = true; p.axis[0] = 3; p.axis[1] = 0; p.axis[2] = 4;
  g = eqg_group_alloc(&eqg_group_boost, &p);
  assert_non_null(g);
  assert_near(g->params.axis[0], 0.6, 2 * DBL_EPSILON);
  assert_near(g->params.axis[2], 0.8, 2 * DBL_EPSILON);
  eqg_group_free(g);

  /* Matrix builders and the action check their arguments too. */
  eqg_real M[16];
  const eqg_real zero[3] = { 0, 0, 0 }, ez[3] = { 0, 0, 1 };
  assert_int_equal(eqg_boost_matrix(M, zero, 1.0), EQG_EINVAL);
  assert_int_equal(eqg_boost_matrix(M, ez, INFINITY), EQG_EINVAL);
  assert_int_equal(eqg_rotation_matrix_axis_angle(M, zero, 1.0), EQG_EINVAL);
  eqg_group_elem a, b;
  eqg_group_elem_identity(&a, 3);
  eqg_group_elem_identity(&b, 4);
  assert_int_equal(eqg_group_elem_compose(&a, &a, &b), EQG_ESHAPE);
  eqg_real v[3] = { 1, 2, 3 };
  assert_int_equal(eqg_group_act(v, &a, v, 1, EQG_VECTOR_KIND_COUNT), EQG_EINVAL);
}

/* Same seed -> bitwise identical samples; another seed -> different ones. */
static void test_determinism(void **state)
{
  (void)state;
  for (const eqg_group_type *const *t = eqg_group_types; *t != NULL; t++) {
    eqg_group *g = eqg_group_alloc(*t, NULL);
    assert_non_null(g);
    gsl_rng *r1 = rng_new(7), *r2 = rng_new(7), *r3 = rng_new(8);
    int differ = 0;
    for (int k = 0; k < 200; k++) {
      eqg_group_elem e1, e2, e3;
      memset(&e1, 0, sizeof e1); memset(&e2, 0, sizeof e2); memset(&e3, 0, sizeof e3);
      eqg_group_sample(g, r1, &e1);
      eqg_group_sample(g, r2, &e2);
      eqg_group_sample(g, r3, &e3);
      assert_int_equal(e1.dim, (*t)->dim);
      assert_memory_equal(&e1, &e2, sizeof e1);
      differ += memcmp(&e1, &e3, sizeof e1) != 0;
    }
    assert_int_equal(differ, 200);
    gsl_rng_free(r1); gsl_rng_free(r2); gsl_rng_free(r3);
    eqg_group_free(g);
  }
}

/* ---- SO(3) / O(3) --------------------------------------------------------- */

static void test_so3_orthogonal(void **state)
{
  (void)state;
  eqg_group *g = eqg_group_alloc(&eqg_group_so3, NULL);
  gsl_rng *r = rng_new(SEED);
  const eqg_real I[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
  eqg_real worst_orth = 0, worst_det = 0;
  for (int k = 0; k < N_HAAR; k++) {
    eqg_group_elem e;
    eqg_group_sample(g, r, &e);
    worst_orth = fmax(worst_orth, metric_error(e.M, I, 3));
    worst_det = fmax(worst_det, fabs(det3(e.M) - 1));
  }
  print_message("so3: max |R^T R - I| = %.2e, max |det R - 1| = %.2e over %d samples\n",
                worst_orth, worst_det, N_HAAR);
  assert_true(worst_orth <= 1e-14);
  assert_true(worst_det <= 1e-14);
  gsl_rng_free(r);
  eqg_group_free(g);
}

static void test_so3_haar_angle(void **state)
{
  (void)state;
  /* The p-value helper: Kolmogorov quantiles K_0.95 = 1.3581, median 0.8276;
   * both series agree where they switch. */
  assert_near(kolmogorov_q(1.3581), 0.05, 1e-4);
  assert_near(kolmogorov_q(0.8276), 0.5, 1e-4);
  assert_near(kolmogorov_q(1.18 - 1e-12), kolmogorov_q(1.18), 1e-10);
  eqg_group *g = eqg_group_alloc(&eqg_group_so3, NULL);
  gsl_rng *r = rng_new(SEED);
  double *th = malloc(N_HAAR * sizeof *th);
  assert_non_null(th);
  for (int k = 0; k < N_HAAR; k++) {
    eqg_group_elem e;
    eqg_group_sample(g, r, &e);
    th[k] = rotation_angle(e.M);
  }
  const double p_haar = ks_pvalue(th, N_HAAR, cdf_haar_angle);
  for (int k = 0; k < N_HAAR; k++) {
    eqg_real R[9];
    sample_euler_uniform(R, r);
    th[k] = rotation_angle(R);
  }
  const double p_euler = ks_pvalue(th, N_HAAR, cdf_haar_angle);
  print_message("so3 angle KS vs (theta - sin theta)/pi: p = %.4f (Shoemake), "
                "p = %.2e (uniform Euler angles)\n", p_haar, p_euler);
  assert_true(p_haar > 1e-3);
  assert_true(p_euler < 1e-3);
  free(th);
  gsl_rng_free(r);
  eqg_group_free(g);
}

/* R e_z is uniform on S^2: its z component is U[-1, 1], its mean is ~0. */
static void test_so3_sphere(void **state)
{
  (void)state;
  eqg_group *g = eqg_group_alloc(&eqg_group_so3, NULL);
  gsl_rng *r = rng_new(SEED + 1);
  double *z = malloc(N_HAAR * sizeof *z);
  assert_non_null(z);
  double mean[3] = { 0, 0, 0 };
  const eqg_real ez[3] = { 0, 0, 1 };
  for (int k = 0; k < N_HAAR; k++) {
    eqg_group_elem e;
    eqg_real v[3];
    eqg_group_sample(g, r, &e);
    assert_int_equal(eqg_group_act(v, &e, ez, 1, EQG_VECTOR_DISPLACEMENT), EQG_OK);
    for (int i = 0; i < 3; i++) mean[i] += v[i] / N_HAAR;
    z[k] = v[2];
  }
  const double p_haar = ks_pvalue(z, N_HAAR, cdf_uniform_pm1);
  /* each component has variance 1/3: the mean has standard error 1/sqrt(3N) */
  const double se = 1 / sqrt(3.0 * N_HAAR);
  for (int k = 0; k < N_HAAR; k++) {
    eqg_real R[9];
    sample_euler_uniform(R, r);
    z[k] = R[8];
  }
  const double p_euler = ks_pvalue(z, N_HAAR, cdf_uniform_pm1);
  print_message("so3 R e_z: KS of z vs U[-1,1] p = %.4f (Shoemake), p = %.2e (Euler); "
                "mean = (%.4f, %.4f, %.4f), standard error %.4f\n",
                p_haar, p_euler, mean[0], mean[1], mean[2], se);
  assert_true(p_haar > 1e-3);
  assert_true(p_euler < 1e-3);
  for (int i = 0; i < 3; i++) assert_true(fabs(mean[i]) < 5 * se);
  free(z);
  gsl_rng_free(r);
  eqg_group_free(g);
}

static void test_o3_parity(void **state)
{
  (void)state;
  eqg_group *g = eqg_group_alloc(&eqg_group_o3, NULL);
  gsl_rng *r = rng_new(SEED);
  const eqg_real I[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
  int n_neg = 0;
  eqg_real worst = 0;
  for (int k = 0; k < N_HAAR; k++) {
    eqg_group_elem e;
    eqg_group_sample(g, r, &e);
    const eqg_real d = det3(e.M);
    n_neg += d < 0;
    worst = fmax(worst, fmax(fabs(fabs(d) - 1), metric_error(e.M, I, 3)));
  }
  /* binomial(N, 1/2): standard deviation sqrt(N)/2 */
  print_message("o3: %d of %d samples have det -1 (expected %d +- %.0f)\n", n_neg,
                N_HAAR, N_HAAR / 2, sqrt((double)N_HAAR) / 2);
  assert_true(fabs(n_neg - N_HAAR / 2.0) < 5 * sqrt((double)N_HAAR) / 2);
  assert_true(worst <= 1e-14);
  gsl_rng_free(r);
  eqg_group_free(g);
}

/* ---- Lorentz ---------------------------------------------------------------- */

/* Tolerance for Lorentz identities at gamma = Lambda^0_0: the entries of
 * Lambda are O(gamma) (each carries a few ulps from cosh, sinh and the product
 * with R), and each entry of Lambda^T eta Lambda is a sum of four O(gamma^2)
 * products that cancel down to O(1).  The rounding error is therefore
 * c * gamma^2 * DBL_EPSILON with c a small constant (measured: c <= 7);
 * 1e-13 gamma^2 ~ 450 eps gamma^2.  The same bound holds for det (LU pivots on
 * gamma; the Schur complement cancels O(gamma) terms to O(1/gamma)).  These
 * identities cannot see a boost built from 1/sqrt(1 - beta^2): that is an
 * exact Lorentz matrix for a slightly wrong rapidity; test_boost_algebra
 * checks the rapidity itself. */
static eqg_real lorentz_tol(eqg_real gamma) { return 1e-13 * gamma * gamma; }

static void check_lorentz_type(const eqg_group_type *T, eqg_group_params p, int n,
                               const char *label)
{
  eqg_group *g = eqg_group_alloc(T, &p);
  assert_non_null(g);
  gsl_rng *r = rng_new(SEED);
  eqg_real worst_m = 0, worst_d = 0, gamma_max = 1, worst_mink = 0;
  for (int k = 0; k < n; k++) {
    eqg_group_elem e;
    eqg_real err, det, l00;
    eqg_group_sample(g, r, &e);
    eqg_group_check_lorentz(e.M, &err, &det, &l00);
    assert_true(l00 >= 1);
    assert_true(err <= lorentz_tol(l00));
    assert_true(fabs(det - 1) <= lorentz_tol(l00));
    worst_m = fmax(worst_m, err / (l00 * l00));
    worst_d = fmax(worst_d, fabs(det - 1) / (l00 * l00));
    gamma_max = fmax(gamma_max, l00);
    /* A massive four-vector keeps its Minkowski square: E'^2 - |p'|^2 is a
     * difference of O(gamma^2 E^2) terms, so relative to E^2 the same bound. */
    eqg_real x[4], y[4];
    x[1] = gsl_ran_gaussian(r, 1); x[2] = gsl_ran_gaussian(r, 1);
    x[3] = gsl_ran_gaussian(r, 1);
    const eqg_real m = 0.1 + gsl_rng_uniform(r);
    x[0] = sqrt(m * m + x[1] * x[1] + x[2] * x[2] + x[3] * x[3]);
    assert_int_equal(eqg_group_act(y, &e, x, 1, EQG_VECTOR_DISPLACEMENT), EQG_OK);
    const eqg_real m2 = x[0] * x[0] - x[1] * x[1] - x[2] * x[2] - x[3] * x[3];
    const eqg_real m2b = y[0] * y[0] - y[1] * y[1] - y[2] * y[2] - y[3] * y[3];
    const eqg_real rel = fabs(m2b - m2) / (x[0] * x[0]);
    assert_true(rel <= lorentz_tol(l00));
    assert_true(y[0] > 0);   /* orthochronous: future-pointing stays so */
    worst_mink = fmax(worst_mink, rel / (l00 * l00));
  }
  print_message("%-28s gamma <= %7.1f: max err/gamma^2 = %.2e (%.0f eps), "
                "max |det-1|/gamma^2 = %.2e, max |dm^2|/(E^2 gamma^2) = %.2e\n",
                label, gamma_max, worst_m, worst_m / DBL_EPSILON, worst_d, worst_mink);
  gsl_rng_free(r);
  eqg_group_free(g);
}

static void test_lorentz_identities(void **state)
{
  (void)state;
  eqg_group_params p = eqg_group_params_default();
  p.rapidity = 9;                                    /* gamma up to cosh 9 = 4051 */
  check_lorentz_type(&eqg_group_boostz, p, N_HAAR, "boostz U[-9,9]");
  check_lorentz_type(&eqg_group_boost, p, N_HAAR, "boost U[0,9]");
  check_lorentz_type(&eqg_group_lorentz, p, N_HAAR, "lorentz U[0,9]");
  p.fixed_axis = true; p.axis[0] = 1; p.axis[1] = -2; p.axis[2] = 0.5;
  check_lorentz_type(&eqg_group_lorentz, p, 2000, "lorentz U[0,9] fixed axis");
  p = eqg_group_params_default();
  p.rapidity_mode = EQG_RAPIDITY_FIXED; p.rapidity = 9;
  check_lorentz_type(&eqg_group_lorentz, p, 2000, "lorentz eta = 9");
  p.rapidity = 1e-8;
  check_lorentz_type(&eqg_group_boost, p, 2000, "boost eta = 1e-8");
  p = eqg_group_params_default();
  p.rapidity_mode = EQG_RAPIDITY_VELOCITY; p.velocity_sigma = 0.1;
  check_lorentz_type(&eqg_group_lorentz, p, 2000, "lorentz beta ~ N(0, 0.1^2)");
  p.velocity_sigma = 1;
  check_lorentz_type(&eqg_group_boostz, p, 2000, "boostz beta ~ N(0, 1)");
}

static void test_boost_algebra(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(SEED);
  eqg_real B[16], B1[16], B2[16], B12[16], P[16];
  const eqg_real I4[16] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 };

  /* Rapidity 0 is exactly the identity (== rather than memcmp: -0 is fine). */
  const eqg_real n0[3] = { 0.3, -1.2, 2.0 };
  assert_int_equal(eqg_boost_matrix(B, n0, 0.0), EQG_OK);
  assert_true(max_abs_diff(B, I4, 16) == 0);

  /* The rapidity is exact to rounding: entries are cosh, sinh and, for small
   * eta, gamma - 1 = 2 sinh^2(eta/2) with full relative accuracy (cosh(eta) - 1
   * would be 0 at eta = 1e-8; 1/sqrt(1 - tanh^2) is off by ~1e-9 at eta = 9). */
  const eqg_real rap[5] = { 1e-8, 1e-3, 0.5, 2.65, 9 };
  const eqg_real nxy[3] = { 1, 1, 0 };                  /* normalised inside */
  for (int k = 0; k < 5; k++) {
    const eqg_real eta = rap[k], h = sinh(eta / 2);
    assert_int_equal(eqg_boost_matrix(B, nxy, eta), EQG_OK);
    assert_near(B[0], cosh(eta), 2 * DBL_EPSILON * cosh(eta));
    assert_near(B[1], -sinh(eta) / sqrt(2.0), 2 * DBL_EPSILON * sinh(eta));
    assert_near(B[4 * 1 + 2], h * h, 4 * DBL_EPSILON * h * h);   /* (gamma-1)/2 */
  }

  /* Sign convention: a particle at rest, boosted with eta along +z, gets
   * p = (m cosh eta, 0, 0, -m sinh eta). */
  const eqg_real ez[3] = { 0, 0, 1 }, rest[4] = { 2, 0, 0, 0 };
  eqg_real moved[4];
  assert_int_equal(eqg_boost_matrix(B, ez, 0.7), EQG_OK);
  eqg_matrix_apply_rows(moved, B, rest, 1, 4);
  assert_near(moved[0], 2 * cosh(0.7), 1e-15);
  assert_near(moved[3], -2 * sinh(0.7), 1e-15);
  assert_true(moved[1] == 0 && moved[2] == 0);

  /* Same axis: rapidities add; B(n, eta) B(n, -eta) = I.  The product's
   * entries are sums of O(gamma1 gamma2) terms, hence the scale. */
  eqg_real worst = 0;
  for (int k = 0; k < 1000; k++) {
    eqg_real n[3];
    gsl_ran_dir_3d(r, &n[0], &n[1], &n[2]);
    const eqg_real a = 10 * gsl_rng_uniform(r) - 5, b = 10 * gsl_rng_uniform(r) - 5;
    assert_int_equal(eqg_boost_matrix(B1, n, a), EQG_OK);
    assert_int_equal(eqg_boost_matrix(B2, n, b), EQG_OK);
    assert_int_equal(eqg_boost_matrix(B12, n, a + b), EQG_OK);
    matmul(P, B1, B2, 4);
    const eqg_real scale = cosh(a) * cosh(b);
    const eqg_real d = max_abs_diff(P, B12, 16) / scale;
    worst = fmax(worst, d);
    assert_true(d <= 1e-14);
    assert_int_equal(eqg_boost_matrix(B2, n, -a), EQG_OK);
    matmul(P, B1, B2, 4);
    assert_true(max_abs_diff(P, I4, 16) <= 1e-14 * cosh(a) * cosh(a));
  }
  print_message("boost composition: max |B(a)B(b) - B(a+b)| / (cosh a cosh b) = %.2e "
                "for |a|, |b| <= 5\n", worst);

  /* The z-boost acts on (E, pz) as the 2x2 hyperbolic rotation and leaves
   * (px, py) alone; eqg_matrix_apply_rows handles batches and y == x. */
  eqg_real X[8] = { 5, 1, 2, 3, 7, -1, 0.5, -4 };
  const eqg_real X0[8] = { 5, 1, 2, 3, 7, -1, 0.5, -4 };
  assert_int_equal(eqg_boost_matrix(B, ez, 1.1), EQG_OK);
  eqg_matrix_apply_rows(X, B, X, 2, 4);
  for (int k = 0; k < 2; k++) {
    const eqg_real E = X0[4 * k], pz = X0[4 * k + 3];
    assert_near(X[4 * k], cosh(1.1) * E - sinh(1.1) * pz, 1e-14);
    assert_near(X[4 * k + 3], -sinh(1.1) * E + cosh(1.1) * pz, 1e-14);
    assert_true(X[4 * k + 1] == X0[4 * k + 1] && X[4 * k + 2] == X0[4 * k + 2]);
  }
  gsl_rng_free(r);
}

/* ---- Lie algebras ------------------------------------------------------------ */

static void test_so3_commutators(void **state)
{
  (void)state;
  eqg_real L[27], C[9];
  eqg_rotation_generators(L);
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) {
      commutator(C, L + 9 * a, L + 9 * b, 3);
      eqg_real want[9] = { 0 };
      for (int c = 0; c < 3; c++)
        for (int i = 0; i < 9; i++) want[i] += eps3(a, b, c) * L[9 * c + i];
      assert_memory_equal(C, want, sizeof C);       /* integer entries: exact */
    }
  /* L_a v = e_a x v */
  const eqg_real v[3] = { 0.3, -1.1, 2.5 };
  eqg_real w[3];
  eqg_matrix_apply_rows(w, L, v, 1, 3);              /* L_x v = (0, -v_z, v_y) */
  assert_true(w[0] == 0 && w[1] == -v[2] && w[2] == v[1]);
}

static void test_lorentz_commutators(void **state)
{
  (void)state;
  eqg_real G[96], C[16];
  eqg_lorentz_generators(G);
  const eqg_real *J = G, *K = G + 48;
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) {
      eqg_real wJ[16] = { 0 }, wK[16] = { 0 };
      for (int c = 0; c < 3; c++)
        for (int i = 0; i < 16; i++) {
          wJ[i] += eps3(a, b, c) * J[16 * c + i];
          wK[i] += eps3(a, b, c) * K[16 * c + i];
        }
      commutator(C, J + 16 * a, J + 16 * b, 4);      /* [J_a, J_b] = eps J_c */
      assert_memory_equal(C, wJ, sizeof C);
      commutator(C, J + 16 * a, K + 16 * b, 4);      /* [J_a, K_b] = eps K_c */
      assert_memory_equal(C, wK, sizeof C);
      commutator(C, K + 16 * a, K + 16 * b, 4);      /* [K_a, K_b] = -eps J_c */
      for (int i = 0; i < 16; i++) wJ[i] = -wJ[i];
      assert_true(max_abs_diff(C, wJ, 16) == 0);
    }
}

/* Checks every registered type's basis: the right count, Frobenius-orthogonal
 * (hence independent), and infinitesimally metric preserving,
 * L^T G + G L = 0 on the linear (dim, dim) block. */
static void test_generators_all_types(void **state)
{
  (void)state;
  for (const eqg_group_type *const *t = eqg_group_types; *t != NULL; t++) {
    const size_t d = (*t)->dim, h = (*t)->gen_dim, n = (*t)->n_generators;
    eqg_real L[6 * 16], G[16];
    (*t)->generators(L);
    (*t)->metric(G);
    for (size_t a = 0; a < n; a++) {
      const eqg_real *La = L + a * h * h;
      for (size_t b = 0; b < n; b++) {
        eqg_real dot = 0;
        for (size_t i = 0; i < h * h; i++) dot += La[i] * L[b * h * h + i];
        if (a == b) assert_true(dot > 0);
        else assert_true(dot == 0);
      }
      for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
          eqg_real s = 0;   /* (L^T G + G L)_ij */
          for (size_t k = 0; k < d; k++)
            s += La[k * h + i] * G[k * d + j] + G[i * d + k] * La[k * h + j];
          assert_true(s == 0);
        }
    }
  }
  /* so2z is L_z, boostz is K_z, translations commute and are nilpotent. */
  eqg_real L3[27], L4[96], one[16], T[48], C[16];
  eqg_rotation_generators(L3);
  eqg_lorentz_generators(L4);
  eqg_group_so2z.generators(one);
  assert_memory_equal(one, L3 + 18, 9 * sizeof *one);
  eqg_group_boostz.generators(one);
  assert_memory_equal(one, L4 + 80, 16 * sizeof *one);
  eqg_group_translation.generators(T);
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) {
      commutator(C, T + 16 * a, T + 16 * b, 4);
      assert_true(max_abs(C, 16) == 0);
      matmul(C, T + 16 * a, T + 16 * b, 4);
      assert_true(max_abs(C, 16) == 0);
    }
}

/* exp(generator * parameter) equals the sampled / constructed element. */
static void test_exp_generators(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(SEED);
  eqg_real L3[27], L4[96], A[16], E[16], M[16];
  eqg_rotation_generators(L3);
  eqg_lorentz_generators(L4);
  eqg_real worst_rot = 0, worst_boost = 0;

  /* so2z: every sample is exp(theta L_z) with theta read off the sample. */
  eqg_group *g = eqg_group_alloc(&eqg_group_so2z, NULL);
  for (int k = 0; k < 200; k++) {
    eqg_group_elem e;
    eqg_group_sample(g, r, &e);
    const eqg_real th = atan2(e.M[3], e.M[0]);
    for (int i = 0; i < 9; i++) A[i] = th * L3[18 + i];
    expm(E, A, 3);
    worst_rot = fmax(worst_rot, max_abs_diff(E, e.M, 9));
  }
  eqg_group_free(g);

  /* exp(theta n.L) = axis-angle rotation; exp(theta J_a) = diag(1, R_a). */
  for (int k = 0; k < 200; k++) {
    eqg_real n[3];
    gsl_ran_dir_3d(r, &n[0], &n[1], &n[2]);
    const eqg_real th = M_PI * (2 * gsl_rng_uniform(r) - 1);
    for (int i = 0; i < 9; i++) A[i] = th * (n[0] * L3[i] + n[1] * L3[9 + i] + n[2] * L3[18 + i]);
    expm(E, A, 3);
    assert_int_equal(eqg_rotation_matrix_axis_angle(M, n, th), EQG_OK);
    worst_rot = fmax(worst_rot, max_abs_diff(E, M, 9));
    const int a = k % 3;
    const eqg_real ea[3] = { a == 0, a == 1, a == 2 };
    for (int i = 0; i < 16; i++) A[i] = th * L4[16 * a + i];
    expm(E, A, 4);
    eqg_real R3[9], R4[16];
    assert_int_equal(eqg_rotation_matrix_axis_angle(R3, ea, th), EQG_OK);
    eqg_lorentz_embed_rotation(R4, R3);
    worst_rot = fmax(worst_rot, max_abs_diff(E, R4, 16));
  }

  /* boostz with fixed rapidity: the sample is exp(eta K_z). */
  const eqg_real etas[3] = { 1.7, -0.6, 4.0 };
  for (int k = 0; k < 3; k++) {
    eqg_group_params p = eqg_group_params_default();
    p.rapidity_mode = EQG_RAPIDITY_FIXED; p.rapidity = etas[k];
    g = eqg_group_alloc(&eqg_group_boostz, &p);
    eqg_group_elem e;
    eqg_group_sample(g, r, &e);
    for (int i = 0; i < 16; i++) A[i] = etas[k] * L4[80 + i];
    expm(E, A, 4);
    worst_boost = fmax(worst_boost, max_abs_diff(E, e.M, 16) / cosh(etas[k]));
    eqg_group_free(g);
  }
  /* boost with fixed axis and rapidity: exp(eta n.K) = B(n, eta). */
  for (int k = 0; k < 200; k++) {
    eqg_group_params p = eqg_group_params_default();
    gsl_ran_dir_3d(r, &p.axis[0], &p.axis[1], &p.axis[2]);
    p.fixed_axis = true;
    p.rapidity_mode = EQG_RAPIDITY_FIXED;
    p.rapidity = 6 * gsl_rng_uniform(r) - 3;
    g = eqg_group_alloc(&eqg_group_boost, &p);
    eqg_group_elem e;
    eqg_group_sample(g, r, &e);
    for (int i = 0; i < 16; i++)
      A[i] = p.rapidity * (p.axis[0] * L4[48 + i] + p.axis[1] * L4[64 + i]
                           + p.axis[2] * L4[80 + i]);
    expm(E, A, 4);
    assert_int_equal(eqg_boost_matrix(M, p.axis, p.rapidity), EQG_OK);
    assert_memory_equal(M, e.M, sizeof M);
    worst_boost = fmax(worst_boost, max_abs_diff(E, e.M, 16) / cosh(p.rapidity));
    eqg_group_free(g);
  }

  /* translation: the homogeneous matrix of a sample is exp(sum t_a T_a). */
  eqg_real T[48], H[16];
  eqg_group_translation.generators(T);
  g = eqg_group_alloc(&eqg_group_translation, NULL);
  for (int k = 0; k < 20; k++) {
    eqg_group_elem e;
    eqg_group_sample(g, r, &e);
    for (int i = 0; i < 16; i++) A[i] = e.t[0] * T[i] + e.t[1] * T[16 + i] + e.t[2] * T[32 + i];
    expm(E, A, 4);
    eqg_group_elem_homogeneous(H, &e);
    assert_true(max_abs_diff(E, H, 16) <= 1e-15 * (1 + max_abs(e.t, 3)));
  }
  eqg_group_free(g);

  print_message("exp(generator): max rotation error %.2e, max boost error / gamma %.2e\n",
                worst_rot, worst_boost);
  assert_true(worst_rot <= 3e-15);
  assert_true(worst_boost <= 3e-15);
  gsl_rng_free(r);
}

/* Every type: M^T G M = G for samples (rapidities up to 9 where relevant). */
static void test_metric_preserved(void **state)
{
  (void)state;
  eqg_group_params p = eqg_group_params_default();
  p.rapidity = 9;
  p.translation_sigma = 100;
  for (const eqg_group_type *const *t = eqg_group_types; *t != NULL; t++) {
    eqg_group *g = eqg_group_alloc(*t, &p);
    gsl_rng *r = rng_new(SEED);
    eqg_real G[16], worst = 0;
    (*t)->metric(G);
    const size_t d = (*t)->dim;
    for (int k = 0; k < 2000; k++) {
      eqg_group_elem e;
      eqg_group_sample(g, r, &e);
      const eqg_real s = fmax(1, max_abs(e.M, d * d));
      const eqg_real err = metric_error(e.M, G, d) / (s * s);
      worst = fmax(worst, err);
      assert_true(err <= 1e-13);
    }
    print_message("%-12s max |M^T G M - G| / max(1, |M|_max)^2 = %.2e\n", (*t)->name, worst);
    gsl_rng_free(r);
    eqg_group_free(g);
  }
}

/* ---- the action ---------------------------------------------------------------- */

static void test_translation_action(void **state)
{
  (void)state;
  eqg_group_params p = eqg_group_params_default();
  p.translation_sigma = 3;
  eqg_group *g = eqg_group_alloc(&eqg_group_translation, &p);
  gsl_rng *r = rng_new(SEED);
  enum { N = 5 };
  eqg_real x[3 * N], y[3 * N], dx[3 * (N - 1)], dy[3 * (N - 1)], v[3 * N];
  for (int i = 0; i < 3 * N; i++) x[i] = gsl_ran_gaussian(r, 1);
  for (int k = 0; k < 100; k++) {
    eqg_group_elem e;
    eqg_group_sample(g, r, &e);
    assert_true(max_abs(e.t, 3) > 0);
    /* positions move by t */
    assert_int_equal(eqg_group_act(y, &e, x, N, EQG_VECTOR_POSITION), EQG_OK);
    for (int i = 0; i < N; i++)
      for (int c = 0; c < 3; c++) assert_true(y[3 * i + c] == x[3 * i + c] + e.t[c]);
    /* displacements do not move ... */
    assert_int_equal(eqg_group_act(v, &e, x, N, EQG_VECTOR_DISPLACEMENT), EQG_OK);
    assert_memory_equal(v, x, sizeof v);
    /* ... and differences of moved positions are the old differences */
    for (int i = 0; i + 1 < N; i++)
      for (int c = 0; c < 3; c++) {
        dx[3 * i + c] = x[3 * (i + 1) + c] - x[3 * i + c];
        dy[3 * i + c] = y[3 * (i + 1) + c] - y[3 * i + c];
      }
    assert_true(max_abs_diff(dx, dy, 3 * (N - 1)) <= 1e-14 * (max_abs(x, 3 * N) + max_abs(e.t, 3)));
  }
  /* in place */
  eqg_group_elem e;
  eqg_group_sample(g, r, &e);
  memcpy(v, x, sizeof v);
  assert_int_equal(eqg_group_act(v, &e, v, N, EQG_VECTOR_POSITION), EQG_OK);
  assert_int_equal(eqg_group_act(y, &e, x, N, EQG_VECTOR_POSITION), EQG_OK);
  assert_memory_equal(v, y, sizeof v);

  /* (translation o rotation)(x) = t + R x for positions, R x for displacements. */
  eqg_group *rot = eqg_group_alloc(&eqg_group_so3, NULL);
  eqg_group_elem er, ec;
  eqg_group_sample(rot, r, &er);
  assert_int_equal(eqg_group_elem_compose(&ec, &e, &er), EQG_OK);
  eqg_real a[3 * N], b[3 * N];
  assert_int_equal(eqg_group_act(a, &er, x, N, EQG_VECTOR_POSITION), EQG_OK);
  assert_int_equal(eqg_group_act(a, &e, a, N, EQG_VECTOR_POSITION), EQG_OK);
  assert_int_equal(eqg_group_act(b, &ec, x, N, EQG_VECTOR_POSITION), EQG_OK);
  assert_true(max_abs_diff(a, b, 3 * N) <= 1e-14 * (max_abs(x, 3 * N) + max_abs(e.t, 3)));
  assert_int_equal(eqg_group_act(a, &er, x, N, EQG_VECTOR_DISPLACEMENT), EQG_OK);
  assert_int_equal(eqg_group_act(b, &ec, x, N, EQG_VECTOR_DISPLACEMENT), EQG_OK);
  assert_true(max_abs_diff(a, b, 3 * N) <= 1e-15 * max_abs(x, 3 * N));
  /* a linear element moves positions and displacements alike */
  assert_int_equal(eqg_group_act(a, &er, x, N, EQG_VECTOR_POSITION), EQG_OK);
  assert_memory_equal(a, b, sizeof a);
  eqg_group_free(rot);
  gsl_rng_free(r);
  eqg_group_free(g);
}

/* eqg_matrix_exp against the long-double expm above: rotations theta n.L
 * (|theta| <= pi) and mixed so(1,3) elements theta n.J + eta m.K (|eta| <= 3),
 * random (d, d) matrices, d = 1..5, with entries N(0, s^2), s = 1e-3 .. 2
 * (0 to 7 squarings), a block-diagonal d = 8 matrix (exp acts per block,
 * zero blocks stay exactly zero), exp(A) exp(-A) = I, exact and aliased cases
 * and bad inputs.  Errors relative to max |exp(A)_ij|. */
static void test_matrix_exp(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(SEED + 7);
  eqg_real L3[27], L4[96], A[64], E[64], R[64], Ei[64], P[64];
  eqg_real worst_gen = 0, worst_rand = 0, worst_inv = 0;
  eqg_rotation_generators(L3);
  eqg_lorentz_generators(L4);
  for (int k = 0; k < 200; k++) {
    eqg_real n[3], m[3];
    gsl_ran_dir_3d(r, &n[0], &n[1], &n[2]);
    gsl_ran_dir_3d(r, &m[0], &m[1], &m[2]);
    const eqg_real th = M_PI * (2 * gsl_rng_uniform(r) - 1), eta = 6 * gsl_rng_uniform(r) - 3;
    for (int i = 0; i < 9; i++) A[i] = th * (n[0] * L3[i] + n[1] * L3[9 + i] + n[2] * L3[18 + i]);
    assert_int_equal(eqg_matrix_exp(E, A, 3), EQG_OK);
    expm(R, A, 3);
    worst_gen = fmax(worst_gen, max_abs_diff(E, R, 9) / max_abs(R, 9));
    for (int i = 0; i < 16; i++)
      A[i] = th * (n[0] * L4[i] + n[1] * L4[16 + i] + n[2] * L4[32 + i]) +
             eta * (m[0] * L4[48 + i] + m[1] * L4[64 + i] + m[2] * L4[80 + i]);
    assert_int_equal(eqg_matrix_exp(E, A, 4), EQG_OK);
    expm(R, A, 4);
    worst_gen = fmax(worst_gen, max_abs_diff(E, R, 16) / max_abs(R, 16));
  }
  for (int k = 0; k < 500; k++) {
    const size_t d = 1 + (size_t)k % 5;
    const eqg_real s = 1e-3 * pow(2000, gsl_rng_uniform(r));
    for (size_t i = 0; i < d * d; i++) A[i] = gsl_ran_gaussian(r, s);
    assert_int_equal(eqg_matrix_exp(E, A, d), EQG_OK);
    expm(R, A, d);
    worst_rand = fmax(worst_rand, max_abs_diff(E, R, d * d) / max_abs(R, d * d));
    for (size_t i = 0; i < d * d; i++) A[i] = -A[i];
    assert_int_equal(eqg_matrix_exp(Ei, A, d), EQG_OK);
    matmul(P, E, Ei, d);
    for (size_t i = 0; i < d * d; i++) P[i] -= (eqg_real)(i % (d + 1) == 0);
    worst_inv = fmax(worst_inv, max_abs(P, d * d) / (max_abs(E, d * d) * max_abs(Ei, d * d)));
  }
  print_message("matrix exp vs long double (relative to max |exp(A)|): generators %.2e "
                "(%.0f eps), random %.2e (%.0f eps); max |exp(A) exp(-A) - I| / (max |exp(A)| "
                "max |exp(-A)|) %.2e\n", worst_gen, worst_gen / DBL_EPSILON, worst_rand,
                worst_rand / DBL_EPSILON, worst_inv);
  assert_true(worst_gen <= 128 * DBL_EPSILON);
  assert_true(worst_rand <= 256 * DBL_EPSILON);
  assert_true(worst_inv <= 256 * DBL_EPSILON);

  /* d = 8, block diagonal: the blocks are the 4 x 4 exponentials */
  eqg_real B1[16], B2[16], R1[16], R2[16];
  for (int i = 0; i < 16; i++) B1[i] = gsl_ran_gaussian(r, 0.7), B2[i] = gsl_ran_gaussian(r, 0.7);
  memset(A, 0, sizeof A);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) A[i * 8 + j] = B1[i * 4 + j], A[(i + 4) * 8 + j + 4] = B2[i * 4 + j];
  assert_int_equal(eqg_matrix_exp(E, A, 8), EQG_OK);
  expm(R1, B1, 4);
  expm(R2, B2, 4);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      assert_true(E[i * 8 + j + 4] == 0 && E[(i + 4) * 8 + j] == 0);
      assert_true(fabs(E[i * 8 + j] - R1[i * 4 + j]) <= 128 * DBL_EPSILON * max_abs(R1, 16));
      assert_true(fabs(E[(i + 4) * 8 + j + 4] - R2[i * 4 + j]) <= 128 * DBL_EPSILON * max_abs(R2, 16));
    }

  /* exp(0) = I exactly; E may alias A; d = 1 is the scalar exp */
  memset(A, 0, sizeof A);
  assert_int_equal(eqg_matrix_exp(E, A, 5), EQG_OK);
  for (int i = 0; i < 25; i++) assert_true(E[i] == (i % 6 == 0));
  for (int i = 0; i < 9; i++) A[i] = 0.8 * L3[9 + i];
  assert_int_equal(eqg_matrix_exp(E, A, 3), EQG_OK);
  assert_int_equal(eqg_matrix_exp(A, A, 3), EQG_OK);
  assert_memory_equal(A, E, 9 * sizeof *A);
  eqg_real worst_scalar = 0;
  for (int k = -20; k <= 20; k++) {
    const eqg_real a = 0.37 * k;
    assert_int_equal(eqg_matrix_exp(E, &a, 1), EQG_OK);
    worst_scalar = fmax(worst_scalar, fabs(E[0] - exp(a)) / exp(a));
  }
  print_message("matrix exp of a scalar |a| <= 7.4: relative error %.2e\n", worst_scalar);
  assert_true(worst_scalar <= 64 * DBL_EPSILON);

  /* bad inputs */
  A[0] = 1;
  assert_int_equal(eqg_matrix_exp(E, A, 0), EQG_EINVAL);
  assert_int_equal(eqg_matrix_exp(E, A, EQG_MATRIX_EXP_MAX_D + 1), EQG_EINVAL);
  assert_int_equal(eqg_matrix_exp(NULL, A, 2), EQG_EINVAL);
  assert_int_equal(eqg_matrix_exp(E, NULL, 2), EQG_EINVAL);
  A[3] = NAN;
  assert_int_equal(eqg_matrix_exp(E, A, 2), EQG_ENONFINITE);
  A[3] = -INFINITY;
  assert_int_equal(eqg_matrix_exp(E, A, 2), EQG_ENONFINITE);
  gsl_rng_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_registry),
    cmocka_unit_test(test_bad_params),
    cmocka_unit_test(test_determinism),
    cmocka_unit_test(test_so3_orthogonal),
    cmocka_unit_test(test_so3_haar_angle),
    cmocka_unit_test(test_so3_sphere),
    cmocka_unit_test(test_o3_parity),
    cmocka_unit_test(test_lorentz_identities),
    cmocka_unit_test(test_boost_algebra),
    cmocka_unit_test(test_so3_commutators),
    cmocka_unit_test(test_lorentz_commutators),
    cmocka_unit_test(test_generators_all_types),
    cmocka_unit_test(test_exp_generators),
    cmocka_unit_test(test_matrix_exp),
    cmocka_unit_test(test_metric_preserved),
    cmocka_unit_test(test_translation_action),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
