/* test_probe.c: the generator probe -- exact so(3) and so(1,3) bases
 * (structure constants, zero closure residual, Killing forms, invariant
 * metrics), invariance under random changes of basis, non-closure of random
 * matrices, strict subspaces, rank-deficient sets, bad inputs, printing, the
 * named truth bases.
 * Each test prints its measured numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "eqgnn.h"

static const unsigned long SEED = 20240617UL;

#define assert_near(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static gsl_rng *rng_new(unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  assert_non_null(r);
  gsl_rng_set(r, seed);
  return r;
}

/* Levi-Civita symbol. */
static double eps3(size_t a, size_t b, size_t c)
{
  if (a == b || b == c || a == c) return 0;
  return ((b + 3 - a) % 3 == 1) ? 1 : -1;   /* cyclic (0,1,2) -> +1 */
}

/* out_a = sum_b M_ab L_b: (n, D) from M (n, n) and L (n, D). */
static void mix(double *out, const double *M, const double *L, size_t n, size_t D)
{
  for (size_t a = 0; a < n; a++)
    for (size_t i = 0; i < D; i++) {
      double s = 0;
      for (size_t b = 0; b < n; b++) s += M[a * n + b] * L[b * D + i];
      out[a * D + i] = s;
    }
}

static void random_matrix(double *M, size_t len, gsl_rng *r)
{
  for (size_t i = 0; i < len; i++) M[i] = gsl_ran_gaussian(r, 1.0);
}

static double f_err_max(const eqg_probe_report *r, const double *fexp, size_t n)
{
  double m = 0;
  for (size_t a = 0; a < n; a++)
    for (size_t b = 0; b < n; b++)
      for (size_t c = 0; c < n; c++)
        m = fmax(m, fabs(r->f[a][b][c] - fexp[(a * n + b) * n + c]));
  return m;
}

static void analyse_ok(eqg_probe_report *r, const double *L, size_t n, size_t d,
                       const char *truth)
{
  eqg_status st = eqg_probe_analyse(r, L, n, d, truth);
  if (st) print_message("unexpected: %s\n", eqg_error_message());
  assert_int_equal(st, EQG_OK);
}

/* ---- exact bases --------------------------------------------------------- */

static void test_so3_exact(void **state)
{
  (void)state;
  double L[27], fexp[27];
  eqg_rotation_generators(L);
  eqg_probe_report r;
  analyse_ok(&r, L, 3, 3, "so3");
  for (size_t a = 0; a < 3; a++)
    for (size_t b = 0; b < 3; b++)
      for (size_t c = 0; c < 3; c++) fexp[(a * 3 + b) * 3 + c] = eps3(a, b, c);
  const double ferr = f_err_max(&r, fexp, 3);
  double kerr = 0, merr = 0;
  for (size_t a = 0; a < 3; a++)
    for (size_t b = 0; b < 3; b++) {
      kerr = fmax(kerr, fabs(r.killing[a][b] - (a == b ? -2.0 : 0.0)));
      merr = fmax(merr, fabs(r.metric[a * 3 + b] - (a == b ? 1.0 : 0.0)));
    }
  print_message("so3: |f - eps| %.2e, closure rel %.2e abs %.2e, |B + 2I| %.2e, "
                "Killing eig %g %g %g, metric null %zu residual %.2e next sv %.3f, "
                "|A - I| %.2e, min cos %.17g, Grassmann %.2e\n", ferr, r.closure_rel_max,
                r.closure_abs_max, kerr, r.killing_eval[0], r.killing_eval[1],
                r.killing_eval[2], r.metric_null_dim, r.metric_residual, r.metric_sv[1],
                merr, r.min_cosine, r.grassmann);
  assert_int_equal(r.rank, 3);
  assert_true(ferr <= 1e-14);
  assert_int_equal(r.n_pairs, 3);
  assert_int_equal(r.n_pairs_zero, 0);
  assert_true(r.closure_rel_max <= 1e-14 && r.closure_abs_max <= 1e-14);
  assert_true(kerr <= 1e-14);
  assert_int_equal(r.killing_pos, 0);
  assert_int_equal(r.killing_neg, 3);
  assert_int_equal(r.killing_zero, 0);
  assert_int_equal(r.metric_unknowns, 6);
  assert_int_equal(r.metric_null_dim, 1);
  assert_true(r.metric_residual <= 1e-14);
  assert_true(r.metric_sv[1] > 0.1);           /* a real gap above the null space */
  assert_true(merr <= 1e-14);
  assert_int_equal(r.metric_pos, 3);
  /* against itself: identical span, identity alignment */
  assert_int_equal(r.n_angles, 3);
  assert_true(r.min_cosine >= 1 - 1e-14 && r.grassmann <= 1e-14);
  for (size_t a = 0; a < 3; a++) {
    assert_near(r.gen_cosine[a], 1.0, 1e-15);
    for (size_t c = 0; c < 3; c++) assert_near(r.align[a][c], a == c ? 1.0 : 0.0, 1e-15);
  }
}

static void test_so13_exact(void **state)
{
  (void)state;
  double L[96], fexp[216] = { 0 };
  eqg_lorentz_generators(L);
  eqg_probe_report r;
  analyse_ok(&r, L, 6, 4, "so13");
  /* [J_a, J_b] = eps J_c, [J_a, K_b] = eps K_c, [K_a, K_b] = -eps J_c */
  for (size_t a = 0; a < 3; a++)
    for (size_t b = 0; b < 3; b++)
      for (size_t c = 0; c < 3; c++) {
        const double e = eps3(a, b, c);
        fexp[(a * 6 + b) * 6 + c] = e;
        fexp[(a * 6 + b + 3) * 6 + c + 3] = e;
        fexp[((b + 3) * 6 + a) * 6 + c + 3] = -e;
        fexp[((a + 3) * 6 + b + 3) * 6 + c] = -e;
      }
  const double ferr = f_err_max(&r, fexp, 6);
  const double eta[4] = { 1, -1, -1, -1 };
  double kerr = 0, merr = 0;
  for (size_t a = 0; a < 6; a++)
    for (size_t b = 0; b < 6; b++)
      kerr = fmax(kerr, fabs(r.killing[a][b] - (a == b ? (a < 3 ? -4.0 : 4.0) : 0.0)));
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 4; j++)
      merr = fmax(merr, fabs(r.metric[i * 4 + j] - (i == j ? eta[i] : 0.0)));
  print_message("so13: |f - f_exact| %.2e, closure rel %.2e abs %.2e, "
                "|B - diag(-4,-4,-4,4,4,4)| %.2e, signature (+%zu,-%zu,0:%zu), metric null "
                "%zu residual %.2e next sv %.3f, |A - eta| %.2e, metric sig (+%zu,-%zu), "
                "min cos %.17g, Grassmann %.2e\n", ferr, r.closure_rel_max,
                r.closure_abs_max, kerr, r.killing_pos, r.killing_neg, r.killing_zero,
                r.metric_null_dim, r.metric_residual, r.metric_sv[1], merr, r.metric_pos,
                r.metric_neg, r.min_cosine, r.grassmann);
  assert_int_equal(r.rank, 6);
  assert_true(ferr <= 1e-14);
  assert_int_equal(r.n_pairs, 15);
  assert_true(r.closure_rel_max <= 1e-14 && r.closure_abs_max <= 1e-14);
  assert_true(kerr <= 1e-13);
  assert_int_equal(r.killing_pos, 3);          /* boosts */
  assert_int_equal(r.killing_neg, 3);          /* rotations */
  assert_int_equal(r.killing_zero, 0);
  assert_int_equal(r.metric_unknowns, 10);
  assert_int_equal(r.metric_null_dim, 1);
  assert_true(r.metric_sv[1] > 0.1);
  assert_true(merr <= 1e-14);                  /* diag(1, -1, -1, -1) exactly */
  assert_int_equal(r.metric_pos, 1);
  assert_int_equal(r.metric_neg, 3);
  assert_true(r.min_cosine >= 1 - 1e-14 && r.grassmann <= 1e-14);
}

/* ---- basis independence -------------------------------------------------- */

/* Mix the exact basis with a random invertible matrix (random scale too) and
 * compare with the unmixed report. */
static void check_mixed(const double *L, size_t n, size_t d, const char *truth,
                        gsl_rng *rng)
{
  const size_t D = d * d;
  double M[36], Lm[96];
  random_matrix(M, n * n, rng);
  mix(Lm, M, L, n, D);
  eqg_probe_report r0, r;
  analyse_ok(&r0, L, n, d, truth);
  analyse_ok(&r, Lm, n, d, truth);
  double merr = 0;
  for (size_t i = 0; i < D; i++) merr = fmax(merr, fabs(r.metric[i] - r0.metric[i]));
  print_message("%s mixed (gen sv %.3g .. %.3g): min cos 1 - %.2e, Grassmann %.2e, "
                "closure rel %.2e, Killing (+%zu,-%zu,0:%zu), metric null %zu, "
                "|A - A0| %.2e, min gen cosine 1 - %.2e\n", truth, r.gen_sv[0],
                r.gen_sv[n - 1], 1 - r.min_cosine, r.grassmann, r.closure_rel_max,
                r.killing_pos, r.killing_neg, r.killing_zero, r.metric_null_dim, merr,
                1 - r.gen_cosine[0]);
  assert_int_equal(r.rank, n);
  assert_true(r.min_cosine >= 1 - 1e-12);
  assert_true(r.grassmann <= 1e-6);
  assert_true(r.closure_rel_max <= 1e-12);
  assert_int_equal(r.killing_pos, r0.killing_pos);
  assert_int_equal(r.killing_neg, r0.killing_neg);
  assert_int_equal(r.killing_zero, r0.killing_zero);
  assert_int_equal(r.metric_null_dim, 1);
  assert_int_equal(r.metric_pos, r0.metric_pos);
  assert_int_equal(r.metric_neg, r0.metric_neg);
  assert_true(merr <= 1e-12);                  /* the metric is basis-free */
  for (size_t a = 0; a < n; a++) assert_true(r.gen_cosine[a] >= 1 - 1e-12);
}

static void test_random_change_of_basis(void **state)
{
  (void)state;
  gsl_rng *rng = rng_new(SEED);
  double L3[27], L4[96];
  eqg_rotation_generators(L3);
  eqg_lorentz_generators(L4);
  for (int rep = 0; rep < 3; rep++) {
    check_mixed(L3, 3, 3, "so3", rng);
    check_mixed(L4, 6, 4, "so13", rng);
  }
  gsl_rng_free(rng);
}

/* ---- non-closure, subspaces, rank deficiency ------------------------------ */

static void test_random_generic(void **state)
{
  (void)state;
  gsl_rng *rng = rng_new(SEED + 1);
  double L[27];
  random_matrix(L, 27, rng);
  eqg_probe_report r;
  analyse_ok(&r, L, 3, 3, "so3");
  print_message("random 3 x 3: closure rel max %.3f rms %.3f, min cos to so3 %.3f "
                "(cosines %.3f %.3f %.3f), Grassmann %.3f, metric null %zu residual %.3f\n",
                r.closure_rel_max, r.closure_rel_rms, r.min_cosine, r.cosines[0],
                r.cosines[1], r.cosines[2], r.grassmann, r.metric_null_dim,
                r.metric_residual);
  assert_int_equal(r.rank, 3);
  assert_true(r.closure_rel_max > 0.1);
  assert_true(r.min_cosine < 0.9);
  assert_int_equal(r.metric_null_dim, 0);     /* generic matrices preserve no metric */
  assert_true(r.metric_residual > 1e-3);
  gsl_rng_free(rng);
}

static void test_strict_subspace(void **state)
{
  (void)state;
  double L3[27];
  eqg_rotation_generators(L3);
  const double *Lz = L3 + 18, *Lx = L3;
  eqg_probe_report r;
  /* L_z against so(3): one angle, zero; the learned span is 1 of 3 dims */
  analyse_ok(&r, Lz, 1, 3, "so3");
  print_message("L_z vs so3: dims %zu/%zu, %zu angle, cos 1 - %.2e, Grassmann %.2e, "
                "align (%g, %g, %g), Killing (+%zu,-%zu,0:%zu), metric null %zu\n",
                r.learned_dim, r.truth_dim, r.n_angles, 1 - r.cosines[0], r.grassmann,
                r.align[0][0], r.align[0][1], r.align[0][2], r.killing_pos,
                r.killing_neg, r.killing_zero, r.metric_null_dim);
  assert_int_equal(r.learned_dim, 1);
  assert_int_equal(r.truth_dim, 3);
  assert_int_equal(r.n_angles, 1);
  assert_true(r.cosines[0] >= 1 - 1e-15 && r.min_cosine >= 1 - 1e-15);
  assert_true(r.grassmann <= 1e-15);
  assert_near(r.gen_cosine[0], 1.0, 1e-15);
  assert_near(r.align[0][0], 0.0, 1e-15);
  assert_near(r.align[0][1], 0.0, 1e-15);
  assert_near(r.align[0][2], 1.0, 1e-15);
  assert_int_equal(r.n_pairs, 0);
  assert_true(r.closure_rel_max == 0 && r.closure_abs_max == 0);
  assert_int_equal(r.killing_zero, 1);         /* abelian */
  assert_int_equal(r.metric_null_dim, 2);      /* a I_xy + c e_z e_z^T */
  /* so3 against the so2 truth: the larger learned space contains it */
  analyse_ok(&r, L3, 3, 3, "so2");
  assert_int_equal(r.learned_dim, 3);
  assert_int_equal(r.truth_dim, 1);
  assert_int_equal(r.n_angles, 1);
  assert_true(r.min_cosine >= 1 - 1e-15);
  assert_near(r.gen_cosine[0], 0.0, 1e-15);   /* L_x is orthogonal to L_z */
  assert_near(r.gen_cosine[2], 1.0, 1e-15);
  /* L_x against so2 (= L_z): orthogonal, angle pi/2 */
  analyse_ok(&r, Lx, 1, 3, "so2");
  print_message("L_x vs so2: cos %.2e angle %.17g\n", r.cosines[0], r.angles[0]);
  assert_true(r.min_cosine <= 1e-15);
  assert_near(r.grassmann, M_PI / 2, 1e-15);
  /* so2 in the plane: invariant metric is the identity */
  const double J[4] = { 0, -2.5, 2.5, 0 };
  analyse_ok(&r, J, 1, 2, "so2");
  assert_int_equal(r.metric_null_dim, 1);
  assert_near(r.metric[0], 1.0, 1e-15);
  assert_near(r.metric[1], 0.0, 1e-15);
  assert_near(r.metric[3], 1.0, 1e-15);
  assert_true(r.min_cosine >= 1 - 1e-15);
  assert_near(r.align[0][0], 2.5, 1e-14);
}

static void test_rank_deficient(void **state)
{
  (void)state;
  double L[36];
  eqg_rotation_generators(L);
  for (size_t i = 0; i < 9; i++) L[27 + i] = L[i] - 3 * L[9 + i];   /* L_x - 3 L_y */
  eqg_probe_report r;
  analyse_ok(&r, L, 4, 3, "so3");
  print_message("so3 + dependent: rank %zu, closure rel %.2e, Killing (+%zu,-%zu,0:%zu), "
                "min cos 1 - %.2e\n", r.rank, r.closure_rel_max, r.killing_pos,
                r.killing_neg, r.killing_zero, 1 - r.min_cosine);
  assert_int_equal(r.rank, 3);
  assert_true(r.closure_rel_max <= 1e-14);
  assert_int_equal(r.killing_neg, 3);          /* B' = M B M^T, M (4, 3) */
  assert_int_equal(r.killing_zero, 1);
  assert_int_equal(r.n_angles, 3);
  assert_true(r.min_cosine >= 1 - 1e-14);
}

/* Exact power-of-two scaling: a huge and a tiny copy of so(3) give the
 * structure constants times the scale and the same scale-free numbers. */
static void test_scaling(void **state)
{
  (void)state;
  double L[27], Lb[27];
  eqg_rotation_generators(L);
  eqg_probe_report r0, r;
  analyse_ok(&r0, L, 3, 3, "so3");
  const double scales[2] = { 1e150, 3e-160 };
  for (int k = 0; k < 2; k++) {
    for (size_t i = 0; i < 27; i++) Lb[i] = scales[k] * L[i];
    analyse_ok(&r, Lb, 3, 3, "so3");
    assert_near(r.f[0][1][2] / scales[k], 1.0, 1e-14);
    assert_near(r.killing_eval[0] / (scales[k] * scales[k]), -2.0, 1e-13);
    assert_true(r.closure_rel_max <= 1e-14);
    assert_int_equal(r.killing_neg, 3);
    assert_int_equal(r.metric_null_dim, 1);
    assert_near(r.metric[4], 1.0, 1e-14);
    assert_true(r.min_cosine >= 1 - 1e-14);
  }
}

/* ---- errors, signature, printing ------------------------------------------ */

static void expect_error(eqg_status want, const char *needle, const double *L, size_t n,
                         size_t d, const char *truth)
{
  eqg_probe_report r;
  eqg_error_clear();
  eqg_status st = eqg_probe_analyse(&r, L, n, d, truth);
  print_message("  rejected (%s): %s\n", eqg_status_string(st), eqg_error_message());
  assert_int_equal(st, want);
  assert_non_null(strstr(eqg_error_message(), needle));
}

static void test_bad_inputs(void **state)
{
  (void)state;
  double L[27 * 6] = { 0 };
  eqg_rotation_generators(L);
  eqg_probe_report r;
  assert_int_equal(eqg_probe_analyse(NULL, L, 3, 3, NULL), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "NULL report"));
  assert_int_equal(eqg_probe_analyse(&r, NULL, 3, 3, NULL), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "NULL generators"));
  expect_error(EQG_EINVAL, "0 generators", L, 0, 3, NULL);
  expect_error(EQG_EINVAL, "17 generators", L, 17, 1, NULL);
  expect_error(EQG_EINVAL, "d = 0", L, 1, 0, NULL);
  expect_error(EQG_EINVAL, "d = 9", L, 1, 9, NULL);
  double Z[9] = { 0 };
  expect_error(EQG_EINVAL, "all 1 generators are zero", Z, 1, 3, NULL);
  L[13] = NAN;                                   /* generator 1, entry (1, 1) */
  expect_error(EQG_ENONFINITE, "generator 1 entry (1, 1)", L, 3, 3, NULL);
  L[13] = -INFINITY;
  expect_error(EQG_ENONFINITE, "is -inf", L, 3, 3, NULL);
  L[13] = 0;
  expect_error(EQG_ESHAPE, "'so3' acts on R^3", L, 1, 4, "so3");
  expect_error(EQG_ESHAPE, "'so13' acts on R^4", L, 3, 3, "so13");
  expect_error(EQG_ESHAPE, "'so2' acts on R^2 or R^3", L, 1, 4, "so2");
  expect_error(EQG_EINVAL, "unknown truth algebra 'su2'", L, 3, 3, "su2");
  assert_int_equal(eqg_probe_print(NULL, &r), EQG_EINVAL);
}

static void test_signature_and_print(void **state)
{
  (void)state;
  const double ev[5] = { -3, 1e-12, 2, 0, 5 };
  size_t c[3];
  eqg_probe_signature(c, ev, 5, 1e-8);
  assert_int_equal(c[0], 2);
  assert_int_equal(c[1], 1);
  assert_int_equal(c[2], 2);
  eqg_probe_signature(c, ev, 5, 1e-14);          /* 1e-12 now counts as positive */
  assert_int_equal(c[0], 3);

  double L[96];
  eqg_lorentz_generators(L);
  eqg_probe_report r;
  analyse_ok(&r, L, 6, 4, "so13");
  FILE *f = tmpfile();
  assert_non_null(f);
  assert_int_equal(eqg_probe_print(f, &r), EQG_OK);
  const long len = ftell(f);
  rewind(f);
  char buf[8192] = { 0 };
  const size_t got = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  assert_true(len > 0 && got == (size_t)len);
  assert_non_null(strstr(buf, "signature (+3, -3, 0:0)"));
  assert_non_null(strstr(buf, "signature (+1, -3, 0:0)"));
  assert_non_null(strstr(buf, "truth so13"));
}

/* eqg_probe_truth_basis: every named basis is the lib/groups one, wrong sides
 * give EQG_ESHAPE, unknown names and NULL EQG_EINVAL. */
static void test_truth_basis(void **state)
{
  (void)state;
  eqg_real L3[27], L4[96], T[EQG_PROBE_MAX_TRUTH * 16];
  const eqg_real Lz2[4] = { 0, -1, 1, 0 };
  eqg_rotation_generators(L3);
  eqg_lorentz_generators(L4);
  const struct { const char *name; size_t d, k; const eqg_real *basis; } ok[] = {
    { "so3", 3, 3, L3 }, { "so2", 3, 1, L3 + 18 }, { "so2", 2, 1, Lz2 },
    { "so13", 4, 6, L4 }, { "boostz", 4, 1, L4 + 80 },
  };
  for (size_t c = 0; c < sizeof ok / sizeof *ok; c++) {
    size_t k = 0;
    assert_int_equal(eqg_probe_truth_basis(T, &k, ok[c].name, ok[c].d), EQG_OK);
    assert_int_equal(k, ok[c].k);
    assert_memory_equal(T, ok[c].basis, k * ok[c].d * ok[c].d * sizeof *T);
  }
  const struct { const char *name; size_t d; } shape[] = {
    { "so3", 4 }, { "so13", 3 }, { "boostz", 3 }, { "so2", 4 },
  };
  size_t k;
  for (size_t c = 0; c < sizeof shape / sizeof *shape; c++)
    assert_int_equal(eqg_probe_truth_basis(T, &k, shape[c].name, shape[c].d), EQG_ESHAPE);
  assert_int_equal(eqg_probe_truth_basis(T, &k, "so5", 3), EQG_EINVAL);
  assert_int_equal(eqg_probe_truth_basis(NULL, &k, "so3", 3), EQG_EINVAL);
  assert_int_equal(eqg_probe_truth_basis(T, NULL, "so3", 3), EQG_EINVAL);
  assert_int_equal(eqg_probe_truth_basis(T, &k, NULL, 3), EQG_EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_so3_exact),
    cmocka_unit_test(test_so13_exact),
    cmocka_unit_test(test_random_change_of_basis),
    cmocka_unit_test(test_random_generic),
    cmocka_unit_test(test_strict_subspace),
    cmocka_unit_test(test_rank_deficient),
    cmocka_unit_test(test_scaling),
    cmocka_unit_test(test_bad_inputs),
    cmocka_unit_test(test_signature_and_print),
    cmocka_unit_test(test_truth_basis),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
