/* test_metrics.c: accuracy, exact ROC/AUC with ties, background rejection
 * (interpolated and nearest-point), ant factor, mean +- std, against cases
 * computed by hand (the computation is in the comment beside each). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <math.h>
#include <stdlib.h>
#include <cmocka.h>

#include <gsl/gsl_rng.h>

#include "eqgnn.h"

#define N_OF(a) (sizeof(a) / sizeof *(a))

static void assert_inf(double x) { assert_true(isinf(x) && x > 0); }

/* |a - b| <= tol (cmocka 1.1.5 has no double comparison). */
#define assert_near(a, b, tol) near_((a), (b), (tol), #a, __FILE__, __LINE__)
static void near_(double a, double b, double tol, const char *what, const char *file, int line)
{
  if (fabs(a - b) <= tol) return;
  fail_msg("%s:%d: %s = %.17g, expected %.17g within %g", file, line, what, a, b, tol);
}

/* ROC points must equal the expected (eps_B, eps_S) list exactly (all the
 * hand cases below have dyadic rates, exactly representable). */
static void assert_roc_points(const eqg_roc *roc, const double (*pts)[2], size_t n)
{
  assert_int_equal(roc->n_points, n);
  for (size_t k = 0; k < n; k++) {
    assert_true(roc->eps_b[k] == pts[k][0]);
    assert_true(roc->eps_s[k] == pts[k][1]);
  }
}

static double rej_interp(const eqg_roc *roc, double eps_s)
{
  double r = -1;
  assert_int_equal(eqg_roc_rejection_interp(&r, roc, eps_s), EQG_OK);
  return r;
}

static double rej_nearest(const eqg_roc *roc, double eps_s, size_t expect_point)
{
  double r = -1;
  size_t k = 999;
  assert_int_equal(eqg_roc_rejection_nearest(&r, &k, roc, eps_s), EQG_OK);
  assert_int_equal(k, expect_point);
  return r;
}

/* Perfect separation.  signal {0.9, 0.8}, background {0.2, 0.1} (P = N = 2),
 * given shuffled.  Descending: 0.9 s, 0.8 s, 0.2 b, 0.1 b, so the points are
 *   (eps_B, eps_S) = (0,0) (0,1/2) (0,1) (1/2,1) (1,1).
 * AUC: all 4 pairs have s_sig > s_bkg -> 4/4 = 1.  Every eps_S in (0, 1] is
 * reached at eps_B = 0 -> rejection +INFINITY both ways. */
static void test_perfect_separation(void **state)
{
  (void)state;
  const eqg_real s[] = { 0.2, 0.9, 0.1, 0.8 };
  const eqg_index y[] = { 0, 1, 0, 1 };
  eqg_roc *roc = NULL;
  assert_int_equal(eqg_roc_alloc(&roc, s, y, N_OF(s)), EQG_OK);
  const double pts[][2] = { { 0, 0 }, { 0, 0.5 }, { 0, 1 }, { 0.5, 1 }, { 1, 1 } };
  assert_roc_points(roc, pts, N_OF(pts));
  double auc = -1;
  assert_int_equal(eqg_auc(&auc, s, y, N_OF(s)), EQG_OK);
  assert_true(auc == 1.0);
  assert_true(eqg_roc_auc(roc) == 1.0);
  assert_inf(rej_interp(roc, 0.3));
  assert_inf(rej_interp(roc, 0.5));
  assert_inf(rej_interp(roc, 1.0));     /* first eps_S >= 1 is (0,1) */
  assert_inf(rej_nearest(roc, 0.5, 1)); /* (0,1/2), distance 0 */
  assert_inf(rej_nearest(roc, 1.0, 2)); /* (0,1): first of the distance-0 points */
  double acc = -1;                      /* > 0.5: both signal right, both bkg right */
  assert_int_equal(eqg_accuracy(&acc, s, y, N_OF(s), 0.5), EQG_OK);
  assert_true(acc == 1.0);
  eqg_roc_free(roc);
}

/* Perfectly inverted.  signal {0.1, 0.2}, background {0.8, 0.9}.  Descending:
 * 0.9 b, 0.8 b, 0.2 s, 0.1 s -> (0,0) (1/2,0) (1,0) (1,1/2) (1,1).  AUC: no pair
 * has s_sig > s_bkg -> 0.  At eps_S = 0.5: the first point with eps_S >= 0.5 is
 * (1,1/2) -> eps_B = 1 -> rejection 1, by both conventions.  Accuracy at 0.5:
 * every example wrong -> 0. */
static void test_perfectly_inverted(void **state)
{
  (void)state;
  const eqg_real s[] = { 0.1, 0.8, 0.2, 0.9 };
  const eqg_index y[] = { 1, 0, 1, 0 };
  eqg_roc *roc = NULL;
  assert_int_equal(eqg_roc_alloc(&roc, s, y, N_OF(s)), EQG_OK);
  const double pts[][2] = { { 0, 0 }, { 0.5, 0 }, { 1, 0 }, { 1, 0.5 }, { 1, 1 } };
  assert_roc_points(roc, pts, N_OF(pts));
  double auc = -1;
  assert_int_equal(eqg_auc(&auc, s, y, N_OF(s)), EQG_OK);
  assert_true(auc == 0.0);
  assert_true(eqg_roc_auc(roc) == 0.0);
  assert_true(rej_interp(roc, 0.5) == 1.0);
  assert_true(rej_nearest(roc, 0.5, 3) == 1.0);
  double acc = -1;
  assert_int_equal(eqg_accuracy(&acc, s, y, N_OF(s), 0.5), EQG_OK);
  assert_true(acc == 0.0);
  eqg_roc_free(roc);
}

/* All scores equal (0.7), labels {1,0,1,0,0}: P = 2, N = 3.  One group, so one
 * step: (0,0) threshold +inf -> (1,1) threshold 0.7.
 * AUC: 6 pairs, all tied -> 6 * 1/2 / 6 = 1/2.
 * Interpolation: eps_B = eps_S on the diagonal -> 1/0.5 = 2 at 0.5, 1/0.3 at 0.3.
 * Nearest at 0.5: |0 - 0.5| = |1 - 0.5| -> tie -> first point (0,0) -> eps_B 0
 * -> +INFINITY (what np.argmin in the reference gives).  At 0.3: (0,0) -> +INF.
 * Accuracy with a strict cut: threshold 0.7 -> all called background -> 3/5;
 * threshold 0.5 -> all called signal -> 2/5. */
static void test_all_equal_scores(void **state)
{
  (void)state;
  const eqg_real s[] = { 0.7, 0.7, 0.7, 0.7, 0.7 };
  const eqg_index y[] = { 1, 0, 1, 0, 0 };
  eqg_roc *roc = NULL;
  assert_int_equal(eqg_roc_alloc(&roc, s, y, N_OF(s)), EQG_OK);
  const double pts[][2] = { { 0, 0 }, { 1, 1 } };
  assert_roc_points(roc, pts, N_OF(pts));
  assert_true(isinf(roc->threshold[0]) && roc->threshold[0] > 0);
  assert_true(roc->threshold[1] == 0.7);
  assert_int_equal(roc->n_sig, 2);
  assert_int_equal(roc->n_bkg, 3);
  double auc = -1;
  assert_int_equal(eqg_auc(&auc, s, y, N_OF(s)), EQG_OK);
  assert_true(auc == 0.5);
  assert_true(eqg_roc_auc(roc) == 0.5);
  assert_true(rej_interp(roc, 0.5) == 2.0);
  assert_near(rej_interp(roc, 0.3), 1 / 0.3, 1e-12);
  assert_inf(rej_nearest(roc, 0.5, 0));
  assert_inf(rej_nearest(roc, 0.3, 0));
  double acc = -1;
  assert_int_equal(eqg_accuracy(&acc, s, y, N_OF(s), 0.7), EQG_OK);
  assert_true(acc == 3.0 / 5.0);
  assert_int_equal(eqg_accuracy(&acc, s, y, N_OF(s), 0.5), EQG_OK);
  assert_true(acc == 2.0 / 5.0);
  eqg_roc_free(roc);
}

/* Ties across classes: {0.9 s, 0.8 b, 0.8 s, 0.7 b, 0.6 s, 0.4 b, 0.4 b, 0.2 s},
 * P = N = 4.  Groups in descending order and cumulative (tp, fp):
 *   +inf: (0,0)  -> (eps_B, eps_S) = (0,    0   )
 *   0.9 s:       (1,0) -> (0,    1/4 )
 *   0.8 s+b:     (2,1) -> (1/4,  1/2 )   (a diagonal step: a tie across classes)
 *   0.7 b:       (2,2) -> (1/2,  1/2 )
 *   0.6 s:       (3,2) -> (1/2,  3/4 )
 *   0.4 b+b:     (3,4) -> (1,    3/4 )
 *   0.2 s:       (4,4) -> (1,    1   )
 * AUC by pairs (signal vs each of the 4 background 0.8, 0.7, 0.4, 0.4):
 *   s 0.9: beats all 4                     -> 4
 *   s 0.8: ties 0.8 (1/2), beats 0.7, 0.4, 0.4 -> 3.5
 *   s 0.6: beats 0.4, 0.4                  -> 2
 *   s 0.2: beats none                      -> 0
 *   total 9.5 / 16 = 0.59375.
 * Trapezoid: 1/4*(1/4+1/2)/2 + 1/4*1/2 + 1/2*3/4 = 3/32 + 4/32 + 12/32 = 19/32.
 * Rejection:
 *   eps_S = 0.3: interp on (0,1/4)-(1/4,1/2): eps_B = (0.05/0.25)*0.25 = 0.05
 *                -> 20; nearest: |1/4 - 0.3| = 0.05 beats |1/2 - 0.3| = 0.2
 *                -> point 1 (0, 1/4) -> +INFINITY.
 *   eps_S = 0.5: interp: first eps_S >= 0.5 is point 2 (1/4,1/2) -> 4; nearest:
 *                points 2 and 3 both at distance 0, first wins -> point 2 -> 4.
 *   eps_S = 0.75: point 4 (1/2, 3/4) both ways (4 and 5 tie at 0, 4 first) -> 2.
 *   eps_S = 1: point 6 (1,1) -> 1.
 * Accuracy (signal iff score > t):
 *   t = 0.5:  right: 0.9s 0.8s 0.6s 0.4b 0.4b; wrong: 0.8b 0.7b 0.2s -> 5/8
 *   t = 0.65: right: 0.9s 0.8s 0.4b 0.4b;      wrong: 0.8b 0.7b 0.6s 0.2s -> 4/8
 * Logits log(p/(1-p)) at t = 0 give the same 5/8. */
static const eqg_real tie_s[] = { 0.9, 0.8, 0.8, 0.7, 0.6, 0.4, 0.4, 0.2 };
static const eqg_index tie_y[] = { 1, 0, 1, 0, 1, 0, 0, 1 };

static void test_ties_across_classes(void **state)
{
  (void)state;
  eqg_roc *roc = NULL;
  assert_int_equal(eqg_roc_alloc(&roc, tie_s, tie_y, N_OF(tie_s)), EQG_OK);
  const double pts[][2] = { { 0, 0 },       { 0, 0.25 }, { 0.25, 0.5 }, { 0.5, 0.5 },
                            { 0.5, 0.75 }, { 1, 0.75 }, { 1, 1 } };
  assert_roc_points(roc, pts, N_OF(pts));
  const eqg_real thr[] = { INFINITY, 0.9, 0.8, 0.7, 0.6, 0.4, 0.2 };
  const size_t tp[] = { 0, 1, 2, 2, 3, 3, 4 }, fp[] = { 0, 0, 1, 2, 2, 4, 4 };
  for (size_t k = 0; k < N_OF(thr); k++) {
    assert_true(roc->threshold[k] == thr[k]);
    assert_int_equal(roc->n_tp[k], tp[k]);
    assert_int_equal(roc->n_fp[k], fp[k]);
  }
  double auc = -1;
  assert_int_equal(eqg_auc(&auc, tie_s, tie_y, N_OF(tie_s)), EQG_OK);
  assert_true(auc == 0.59375);
  assert_true(eqg_roc_auc(roc) == 0.59375);

  assert_near(rej_interp(roc, 0.3), 20.0, 1e-12);
  assert_inf(rej_nearest(roc, 0.3, 1));
  assert_true(rej_interp(roc, 0.5) == 4.0);
  assert_true(rej_nearest(roc, 0.5, 2) == 4.0);
  assert_true(rej_interp(roc, 0.75) == 2.0);
  assert_true(rej_nearest(roc, 0.75, 4) == 2.0);
  assert_true(rej_interp(roc, 1.0) == 1.0);
  assert_true(rej_nearest(roc, 1.0, 6) == 1.0);

  /* No interior point has both second differences zero (tp steps 1,1,0,1,0,1):
   * sklearn keeps all of them. */
  eqg_roc_drop_intermediate(roc);
  assert_roc_points(roc, pts, N_OF(pts));
  eqg_roc_free(roc);

  double acc = -1;
  assert_int_equal(eqg_accuracy(&acc, tie_s, tie_y, N_OF(tie_s), 0.5), EQG_OK);
  assert_true(acc == 0.625);
  assert_int_equal(eqg_accuracy(&acc, tie_s, tie_y, N_OF(tie_s), 0.65), EQG_OK);
  assert_true(acc == 0.5);
  eqg_real logit[N_OF(tie_s)];
  for (size_t i = 0; i < N_OF(tie_s); i++) logit[i] = log(tie_s[i] / (1 - tie_s[i]));
  assert_int_equal(eqg_accuracy(&acc, logit, tie_y, N_OF(tie_s), 0.0), EQG_OK);
  assert_true(acc == 0.625);

  /* The table row: accuracy, AUC and the rejections above. */
  eqg_binary_metrics m;
  assert_int_equal(eqg_binary_metrics_compute(&m, tie_s, tie_y, N_OF(tie_s), 0.5), EQG_OK);
  assert_int_equal(m.n_sig, 4);
  assert_int_equal(m.n_bkg, 4);
  assert_true(m.accuracy == 0.625);
  assert_true(m.auc == 0.59375);
  assert_near(m.rej30_interp, 20.0, 1e-12);
  assert_true(m.rej50_interp == 4.0);
  assert_inf(m.rej30_nearest);
  assert_true(m.rej50_nearest == 4.0);
}

/* Interpolated and nearest rejection differ at eps_S = 0.5.  P = 8, N = 4:
 *   0.9 s, 0.85 s, 0.8 b, 0.7 s, 0.5 {s,s,s,b,b}, 0.3 b, 0.1 s, 0.05 s.
 * Points (tp, fp) -> (eps_B, eps_S):
 *   0 (0,0) (0,0)   1 (1,0) (0,1/8)   2 (2,0) (0,2/8)   3 (2,1) (1/4,2/8)
 *   4 (3,1) (1/4,3/8)   5 (6,3) (3/4,6/8)   6 (6,4) (1,6/8)   7 (7,4) (1,7/8)
 *   8 (8,4) (1,1)
 * eps_S = 0.5 = 4/8 lies on the tie segment 4 -> 5:
 *   interp: eps_B = 1/4 + (4/8 - 3/8)/(6/8 - 3/8) * (3/4 - 1/4) = 1/4 + 1/6 = 5/12
 *           -> rejection 12/5 = 2.4;
 *   nearest: |3/8 - 1/2| = 1/8 < |6/8 - 1/2| = 2/8 -> point 4 -> 1/(1/4) = 4.
 * AUC by pairs (background 0.8, 0.5, 0.5, 0.3): 0.9 s 4, 0.85 s 4, 0.7 s 3,
 *   each 0.5 s: 2 ties (1) + beats 0.3 (1) = 2 -> 6, 0.1 s and 0.05 s 0;
 *   total 17 / 32 = 0.53125.
 * sklearn's drop_intermediate: steps (dtp, dfp) into points 2..8 are
 *   (1,0) (0,1) (1,0) (3,2) (0,1) (1,0) (1,0); point 7 sits between two equal
 *   steps (1,0),(1,0) -> dropped; no other point does.  Area and interpolated
 *   rejection are unchanged (7 is collinear). */
static void test_interp_vs_nearest(void **state)
{
  (void)state;
  const eqg_real s[] = { 0.5, 0.9, 0.3, 0.5, 0.85, 0.05, 0.8, 0.5, 0.7, 0.5, 0.1, 0.5 };
  const eqg_index y[] = { 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0 };
  eqg_roc *roc = NULL;
  assert_int_equal(eqg_roc_alloc(&roc, s, y, N_OF(s)), EQG_OK);
  const double pts[][2] = { { 0, 0 },         { 0, 0.125 },  { 0, 0.25 },
                            { 0.25, 0.25 },   { 0.25, 0.375 }, { 0.75, 0.75 },
                            { 1, 0.75 },      { 1, 0.875 },  { 1, 1 } };
  assert_roc_points(roc, pts, N_OF(pts));
  double auc = -1;
  assert_int_equal(eqg_auc(&auc, s, y, N_OF(s)), EQG_OK);
  assert_true(auc == 0.53125);
  assert_true(eqg_roc_auc(roc) == 0.53125);
  assert_near(rej_interp(roc, 0.5), 2.4, 1e-12);
  assert_true(rej_nearest(roc, 0.5, 4) == 4.0);

  eqg_roc_drop_intermediate(roc);
  const double kept[][2] = { { 0, 0 },       { 0, 0.125 },    { 0, 0.25 },
                             { 0.25, 0.25 }, { 0.25, 0.375 }, { 0.75, 0.75 },
                             { 1, 0.75 },    { 1, 1 } };
  assert_roc_points(roc, kept, N_OF(kept));
  assert_true(roc->threshold[6] == 0.3 && roc->threshold[7] == 0.05);
  assert_true(eqg_roc_auc(roc) == 0.53125);
  assert_near(rej_interp(roc, 0.5), 2.4, 1e-12);
  assert_true(rej_nearest(roc, 0.5, 4) == 4.0);
  eqg_roc_free(roc);
}

/* Where sklearn's dropped points change the reference convention.  Four
 * groups, each one signal and one background: 0.9, 0.8, 0.7, 0.6 (P = N = 4).
 * Full curve: (0,0) (1/4,1/4) (1/2,1/2) (3/4,3/4) (1,1), all on the diagonal.
 * AUC: each signal ties its partner (1/2) and beats the lower ones:
 *   3.5 + 2.5 + 1.5 + 0.5 = 8 -> 8/16 = 1/2.
 * Nearest at 0.5 on the full curve: point 2 (1/2,1/2) -> 2.  sklearn drops the
 * interior points 2 and 3 (equal steps (1,1)) -> (0,0) (1/4,1/4) (1,1); nearest
 * at 0.5: |1/4-1/2| = 1/4 < 1/2 -> (1/4,1/4) -> 4, which is what the reference
 * code reports; at 0.3 also (1/4,1/4) -> 4.  Interpolation: 1/eps_S -> 2 at
 * 0.5, 1/0.3 at 0.3, on both curves. */
static void test_sklearn_points(void **state)
{
  (void)state;
  const eqg_real s[] = { 0.9, 0.9, 0.8, 0.8, 0.7, 0.7, 0.6, 0.6 };
  const eqg_index y[] = { 1, 0, 0, 1, 1, 0, 0, 1 };
  eqg_roc *roc = NULL;
  assert_int_equal(eqg_roc_alloc(&roc, s, y, N_OF(s)), EQG_OK);
  const double pts[][2] = { { 0, 0 }, { 0.25, 0.25 }, { 0.5, 0.5 }, { 0.75, 0.75 }, { 1, 1 } };
  assert_roc_points(roc, pts, N_OF(pts));
  assert_true(rej_nearest(roc, 0.5, 2) == 2.0);
  eqg_roc_drop_intermediate(roc);
  const double kept[][2] = { { 0, 0 }, { 0.25, 0.25 }, { 1, 1 } };
  assert_roc_points(roc, kept, N_OF(kept));
  assert_true(rej_nearest(roc, 0.5, 1) == 4.0);
  assert_true(rej_interp(roc, 0.5) == 2.0);
  assert_true(eqg_roc_auc(roc) == 0.5);
  eqg_roc_free(roc);

  /* An sklearn oracle (1.5.2, quoted in a public test suite):
   * roc_curve([0,0,0,0,1,1,1,1], [0.1,...,0.8]) gives
   * fpr [0,0,0,1], tpr [0,0.25,1,1], thresholds [inf,0.8,0.5,0.1]. */
  const eqg_real so[] = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8 };
  const eqg_index yo[] = { 0, 0, 0, 0, 1, 1, 1, 1 };
  assert_int_equal(eqg_roc_alloc(&roc, so, yo, N_OF(so)), EQG_OK);
  assert_int_equal(roc->n_points, 9);
  eqg_roc_drop_intermediate(roc);
  const double oracle[][2] = { { 0, 0 }, { 0, 0.25 }, { 0, 1 }, { 1, 1 } };
  assert_roc_points(roc, oracle, N_OF(oracle));
  assert_true(isinf(roc->threshold[0]) && roc->threshold[1] == 0.8 &&
              roc->threshold[2] == 0.5 && roc->threshold[3] == 0.1);
  eqg_roc_free(roc);

  eqg_binary_metrics m;
  assert_int_equal(eqg_binary_metrics_compute(&m, s, y, N_OF(s), 0.5), EQG_OK);
  assert_true(m.auc == 0.5);
  assert_true(m.rej50_interp == 2.0);
  assert_near(m.rej30_interp, 1 / 0.3, 1e-12);
  assert_true(m.rej50_nearest == 4.0);
  assert_true(m.rej30_nearest == 4.0);
  assert_true(m.accuracy == 0.5);  /* all > 0.5: 4 signal right, 4 bkg wrong */
}

/* Random scores with many ties: labels Bernoulli(0.4); score u (background) or
 * sqrt(u) (signal), u uniform, rounded to 2 decimals (101 values).  Checks:
 * Mann-Whitney AUC == trapezoid area to 1e-12; == a brute-force pair count
 * exactly; the curve has (distinct scores + 1) points. */
static void make_random(gsl_rng *r, eqg_real *s, eqg_index *y, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    y[i] = gsl_rng_uniform(r) < 0.4;
    const double u = gsl_rng_uniform(r);
    s[i] = round(100 * (y[i] ? sqrt(u) : u)) / 100;
  }
}

static void test_mann_whitney_equals_trapezoid(void **state)
{
  (void)state;
  enum { N = 10000 };
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 12345);
  eqg_real *s = malloc(N * sizeof *s);
  eqg_index *y = malloc(N * sizeof *y);
  assert_non_null(s);
  assert_non_null(y);
  make_random(r, s, y, N);

  double auc = -1;
  assert_int_equal(eqg_auc(&auc, s, y, N), EQG_OK);
  eqg_roc *roc = NULL;
  assert_int_equal(eqg_roc_alloc(&roc, s, y, N), EQG_OK);
  assert_near(eqg_roc_auc(roc), auc, 1e-12);

  /* Brute force: 2U = sum over pairs of 2 [s_sig > s_bkg] + [s_sig == s_bkg]. */
  uint64_t u2 = 0, p = 0, q = 0;
  for (size_t i = 0; i < N; i++) {
    p += (uint64_t)y[i];
    q += (uint64_t)!y[i];
    if (!y[i]) continue;
    for (size_t j = 0; j < N; j++)
      if (!y[j]) u2 += (uint64_t)(2 * (s[i] > s[j]) + (s[i] == s[j]));
  }
  assert_true(auc == (double)u2 / (2.0 * (double)p * (double)q));
  assert_true(auc > 0.6 && auc < 0.8);  /* sqrt(u) vs u: AUC = 2/3 before rounding */

  int seen[101] = { 0 }, distinct = 0;
  for (size_t i = 0; i < N; i++) {
    const int b = (int)lround(s[i] * 100);
    distinct += !seen[b];
    seen[b] = 1;
  }
  assert_int_equal(roc->n_points, (size_t)distinct + 1);
  assert_int_equal(roc->n_tp[roc->n_points - 1], p);
  assert_int_equal(roc->n_fp[roc->n_points - 1], q);

  /* Dropping sklearn's intermediate points keeps area and interpolation. */
  double r50 = 0, r30 = 0, r50d = 0, r30d = 0;
  assert_int_equal(eqg_roc_rejection_interp(&r50, roc, 0.5), EQG_OK);
  assert_int_equal(eqg_roc_rejection_interp(&r30, roc, 0.3), EQG_OK);
  eqg_roc_drop_intermediate(roc);
  assert_near(eqg_roc_auc(roc), auc, 1e-12);
  assert_int_equal(eqg_roc_rejection_interp(&r50d, roc, 0.5), EQG_OK);
  assert_int_equal(eqg_roc_rejection_interp(&r30d, roc, 0.3), EQG_OK);
  assert_near(r50d, r50, 1e-12 * r50);
  assert_near(r30d, r30, 1e-12 * r30);

  eqg_roc_free(roc);
  free(s);
  free(y);
  gsl_rng_free(r);
}

/* Only the order of the scores matters: logits z (rounded to 2 decimals in
 * [-6, 6], so with ties) and sigmoid(z) = 1/(1+exp(-z)) (strictly increasing;
 * distinct z differ by >= 0.01, far above rounding) give the same AUC and the
 * same curve, exactly. */
static void test_monotone_invariance(void **state)
{
  (void)state;
  enum { N = 3000 };
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 7);
  eqg_real z[N], p[N];
  eqg_index y[N];
  for (size_t i = 0; i < N; i++) {
    y[i] = gsl_rng_uniform(r) < 0.5;
    z[i] = round(100 * (12 * gsl_rng_uniform(r) - 6 + (y[i] ? 1.0 : 0.0))) / 100;
    z[i] = fmin(6, z[i]);
    p[i] = 1 / (1 + exp(-z[i]));
  }
  double az = -1, ap = -2;
  assert_int_equal(eqg_auc(&az, z, y, N), EQG_OK);
  assert_int_equal(eqg_auc(&ap, p, y, N), EQG_OK);
  assert_true(az == ap);
  eqg_roc *rz = NULL, *rp = NULL;
  assert_int_equal(eqg_roc_alloc(&rz, z, y, N), EQG_OK);
  assert_int_equal(eqg_roc_alloc(&rp, p, y, N), EQG_OK);
  assert_int_equal(rz->n_points, rp->n_points);
  assert_true(rz->n_points < N); /* there are ties */
  for (size_t k = 0; k < rz->n_points; k++) {
    assert_true(rz->eps_b[k] == rp->eps_b[k]);
    assert_true(rz->eps_s[k] == rp->eps_s[k]);
  }
  eqg_roc_free(rz);
  eqg_roc_free(rp);
  gsl_rng_free(r);
}

/* Mean and sample std.
 *   {2,4,4,4,5,5,7,9}: mean 40/8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32;
 *   std = sqrt(32/7).
 *   {1,3}: mean 2, std sqrt((1+1)/1) = sqrt(2).
 *   {3}: mean 3, std NaN (documented choice).
 *   {1, +inf}: mean +inf, std NaN. */
/* Welch's t-test by hand.
 *   a = {0, 2}, b = {3, 5}: means 1 and 4, s^2 = 2, se^2 = 1 each, t = -3/sqrt(2),
 *   df = 4 / (1 + 1) = 2, where the two-sided p has the closed form
 *   1 - |t| / sqrt(t^2 + 2) = 1 - sqrt(4.5 / 6.5).
 *   a = {1, 2, 3}, b = {4, 5, 6, 7}: se^2 = 1/3 and 5/12, t = -3.5 / sqrt(0.75),
 *   df = 0.5625 / ((1/9)/2 + (25/144)/3) = 243/49; p = 0.0100769433 by numerical
 *   integration of the t density (independent of GSL).
 * Swapping the groups flips t only; too few values, no spread, NaN refused. */
static void test_welch_test(void **state)
{
  (void)state;
  eqg_welch w;
  const double a2[] = { 0, 2 }, b2[] = { 3, 5 };
  assert_int_equal(eqg_welch_test(&w, a2, 2, b2, 2), EQG_OK);
  assert_true(w.mean_a == 1 && w.mean_b == 4);
  assert_near(w.se_a, 1, 1e-15);
  assert_near(w.t, -3 / sqrt(2.0), 1e-15);
  assert_near(w.df, 2, 1e-14);
  assert_near(w.p, 1 - sqrt(4.5 / 6.5), 1e-12);
  const double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6, 7 };
  assert_int_equal(eqg_welch_test(&w, a, 3, b, 4), EQG_OK);
  assert_near(w.t, -3.5 / sqrt(0.75), 1e-14);
  assert_near(w.df, 243.0 / 49.0, 1e-13);
  assert_near(w.p, 0.0100769433, 1e-9);
  eqg_welch v;
  assert_int_equal(eqg_welch_test(&v, b, 4, a, 3), EQG_OK);
  assert_true(v.t == -w.t && v.df == w.df && v.p == w.p);

  const double one[] = { 1 }, flat[] = { 2, 2 }, bad[] = { 1, NAN };
  assert_int_equal(eqg_welch_test(&w, one, 1, b, 4), EQG_EINVAL);
  assert_int_equal(eqg_welch_test(&w, flat, 2, flat, 2), EQG_EINVAL);
  assert_int_equal(eqg_welch_test(&w, a, 3, bad, 2), EQG_ENONFINITE);
  assert_int_equal(eqg_welch_test(NULL, a, 3, b, 4), EQG_EINVAL);
}

static void test_mean_std(void **state)
{
  (void)state;
  double m = -1, sd = -1;
  const double a[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
  assert_int_equal(eqg_mean_std(&m, &sd, a, N_OF(a)), EQG_OK);
  assert_true(m == 5.0);
  assert_near(sd, sqrt(32.0 / 7.0), 1e-15);
  const double b[] = { 1, 3 };
  assert_int_equal(eqg_mean_std(&m, &sd, b, N_OF(b)), EQG_OK);
  assert_true(m == 2.0);
  assert_near(sd, sqrt(2.0), 1e-15);
  const double c[] = { 3 };
  assert_int_equal(eqg_mean_std(&m, &sd, c, 1), EQG_OK);
  assert_true(m == 3.0);
  assert_true(isnan(sd));
  assert_int_equal(eqg_mean_std(&m, NULL, c, 1), EQG_OK);
  const double d[] = { 1, INFINITY };
  assert_int_equal(eqg_mean_std(&m, &sd, d, 2), EQG_OK);
  assert_inf(m);
  assert_true(isnan(sd));
  /* Shifted data keep the same spread (two-pass, not sum of squares). */
  const double e[] = { 1e9 + 2, 1e9 + 4, 1e9 + 4, 1e9 + 4, 1e9 + 5, 1e9 + 5, 1e9 + 7, 1e9 + 9 };
  assert_int_equal(eqg_mean_std(&m, &sd, e, N_OF(e)), EQG_OK);
  assert_true(m == 1e9 + 5);
  assert_near(sd, sqrt(32.0 / 7.0), 1e-12);

  const double bad[] = { 1, NAN };
  assert_int_equal(eqg_mean_std(&m, &sd, bad, 2), EQG_ENONFINITE);
  assert_non_null(strstr(eqg_error_message(), "index 1"));
  assert_int_equal(eqg_mean_std(&m, &sd, a, 0), EQG_EINVAL);
  assert_int_equal(eqg_mean_std(&m, &sd, NULL, 3), EQG_EINVAL);
}

/* Ant factor = rejection / n_params: 500 / 1000 = 0.5; LorentzNet's table row
 * 498 / 224000 = 2.2232142857...e-3. */
static void test_ant_factor(void **state)
{
  (void)state;
  double a = -1;
  assert_int_equal(eqg_ant_factor(&a, 500, 1000), EQG_OK);
  assert_true(a == 0.5);
  assert_int_equal(eqg_ant_factor(&a, 498, 224000), EQG_OK);
  assert_near(a, 498.0 / 224000.0, 0);
  assert_near(a, 2.2232142857142857e-3, 1e-18);
  assert_int_equal(eqg_ant_factor(&a, INFINITY, 10), EQG_OK);
  assert_inf(a);
  assert_int_equal(eqg_ant_factor(&a, 500, 0), EQG_EINVAL);
  assert_int_equal(eqg_ant_factor(&a, 0.5, 10), EQG_EINVAL);
  assert_int_equal(eqg_ant_factor(&a, NAN, 10), EQG_EINVAL);
}

/* Bad inputs are rejected with a status and a message; outputs untouched or
 * NULL. */
static void test_bad_inputs(void **state)
{
  (void)state;
  const eqg_real s[] = { 0.9, 0.1, 0.5 };
  const eqg_index y[] = { 1, 0, 1 };
  double v = -7;
  eqg_roc dummy = { 0 };
  eqg_roc *roc = &dummy;  /* must come back NULL */

  eqg_error_clear();
  assert_int_equal(eqg_auc(&v, s, y, 0), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "n = 0"));
  assert_int_equal(eqg_roc_alloc(&roc, s, y, 0), EQG_EINVAL);
  assert_null(roc);
  assert_int_equal(eqg_accuracy(&v, s, y, 0, 0.5), EQG_EINVAL);
  assert_int_equal(eqg_auc(&v, NULL, y, 3), EQG_EINVAL);
  assert_int_equal(eqg_auc(&v, s, NULL, 3), EQG_EINVAL);

  const eqg_index y2[] = { 1, 0, 2 }, ym[] = { 1, -1, 0 };
  assert_int_equal(eqg_auc(&v, s, y2, 3), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "label 2 at index 2"));
  assert_int_equal(eqg_accuracy(&v, s, ym, 3, 0.5), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "label -1 at index 1"));

  const eqg_real sn[] = { 0.9, NAN, 0.5 };
  assert_int_equal(eqg_auc(&v, sn, y, 3), EQG_ENONFINITE);
  assert_non_null(strstr(eqg_error_message(), "index 1 is NaN"));
  assert_int_equal(eqg_roc_alloc(&roc, sn, y, 3), EQG_ENONFINITE);
  assert_null(roc);
  assert_int_equal(eqg_accuracy(&v, sn, y, 3, 0.5), EQG_ENONFINITE);
  assert_int_equal(eqg_accuracy(&v, s, y, 3, NAN), EQG_EINVAL);

  const eqg_index all1[] = { 1, 1, 1 }, all0[] = { 0, 0, 0 };
  assert_int_equal(eqg_auc(&v, s, all1, 3), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "3 signal and 0 background"));
  assert_int_equal(eqg_roc_alloc(&roc, s, all0, 3), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "0 signal and 3 background"));
  assert_null(roc);
  eqg_binary_metrics m;
  assert_int_equal(eqg_binary_metrics_compute(&m, s, all0, 3, 0.5), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "eqg_binary_metrics_compute: "));
  /* Accuracy is defined with one class: 0.9, 0.5 > 0.5? 0.9 yes, 0.1 no, 0.5
   * no -> 1/3 right. */
  assert_int_equal(eqg_accuracy(&v, s, all1, 3, 0.5), EQG_OK);
  assert_true(v == 1.0 / 3.0);

  assert_int_equal(eqg_roc_alloc(&roc, s, y, 3), EQG_OK);
  const double bad_eps[] = { 0.0, -0.1, 1.5, NAN, INFINITY };
  for (size_t i = 0; i < N_OF(bad_eps); i++) {
    v = -7;
    assert_int_equal(eqg_roc_rejection_interp(&v, roc, bad_eps[i]), EQG_EINVAL);
    assert_non_null(strstr(eqg_error_message(), "outside (0, 1]"));
    assert_int_equal(eqg_roc_rejection_nearest(&v, NULL, roc, bad_eps[i]), EQG_EINVAL);
    assert_true(v == -7);
  }
  assert_int_equal(eqg_roc_rejection_interp(&v, NULL, 0.5), EQG_EINVAL);
  /* eps_S = 1 is allowed: needs every signal, i.e. the cut at 0.5 with
   * background 0.1 below -> eps_B 0 -> +INFINITY. */
  assert_int_equal(eqg_roc_rejection_interp(&v, roc, 1.0), EQG_OK);
  assert_inf(v);
  eqg_roc_free(roc);
  eqg_roc_free(NULL);
  eqg_roc_drop_intermediate(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_perfect_separation),
    cmocka_unit_test(test_perfectly_inverted),
    cmocka_unit_test(test_all_equal_scores),
    cmocka_unit_test(test_ties_across_classes),
    cmocka_unit_test(test_interp_vs_nearest),
    cmocka_unit_test(test_sklearn_points),
    cmocka_unit_test(test_mann_whitney_equals_trapezoid),
    cmocka_unit_test(test_monotone_invariance),
    cmocka_unit_test(test_mean_std),
    cmocka_unit_test(test_welch_test),
    cmocka_unit_test(test_ant_factor),
    cmocka_unit_test(test_bad_inputs),
  };
  return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
