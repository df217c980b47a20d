/* eqg_metrics.h: binary-classification metrics for taggers (accuracy, exact ROC
 * and AUC with ties, background rejection), the ant factor, mean +- std over
 * seeds.
 *
 * Conventions.  scores[i] is the classifier output for example i, higher = more
 * signal-like (a probability or a logit); labels[i] is 1 for signal (top) and 0
 * for background (QCD), as the class index of eqg_softmax_xent.  P = number of
 * signal, N = number of background examples.  A cut at threshold t selects the
 * examples with score >= t (the ROC convention of sklearn.metrics.roc_curve):
 *     eps_S(t) = #{signal with s >= t} / P        (TPR, signal efficiency)
 *     eps_B(t) = #{background with s >= t} / N    (FPR, background mistag rate)
 * background rejection = 1 / eps_B.
 *
 * Input checks (every function below that takes scores and labels): n = 0,
 * NULL arrays or a label other than 0/1 give EQG_EINVAL, a NaN score gives
 * EQG_ENONFINITE, each with a message naming the first bad index; ranking
 * metrics (ROC, AUC, rejection) also need P > 0 and N > 0 (EQG_EINVAL).
 * +-Inf scores are accepted (they order correctly).  Cost: O(n log n) time
 * (one sort), O(n) memory. */
#ifndef EQG_METRICS_H
#define EQG_METRICS_H

#include "core/eqg_core.h"

/* Fraction of examples classified correctly when "signal" means score >
 * threshold (strictly greater: at threshold 0.5 a probability of exactly 0.5
 * counts as background, as argmax over two equal logits picks class 0 in the
 * reference code).  Use 0.5 on probabilities, 0 on logits.  Accuracy is
 * well defined with one class only, so P = 0 or N = 0 is accepted here;
 * threshold must not be NaN (EQG_EINVAL). */
eqg_status eqg_accuracy(double *accuracy, const eqg_real *scores, const eqg_index *labels,
                        size_t n, double threshold);

/* The exact ROC curve: one point per distinct score (equal scores are one
 * step, so a tie between classes is a diagonal segment) plus the origin.
 * Point 0 is (eps_B, eps_S) = (0, 0) with threshold +INFINITY; point k >= 1 is
 * the cut at the k-th largest distinct score; the last point is (1, 1).  Both
 * eps arrays are non-decreasing; thresholds strictly decreasing.  This is
 * sklearn's roc_curve(..., drop_intermediate=False) exactly (same points, same
 * order, threshold[0] = inf as in sklearn >= 1.3). */
typedef struct eqg_roc {
  size_t n_points;      /* distinct scores + 1 */
  size_t n_sig, n_bkg;  /* P, N */
  double *eps_b;        /* (n_points) FPR = n_fp / N */
  double *eps_s;        /* (n_points) TPR = n_tp / P */
  eqg_real *threshold;  /* (n_points) cut: score >= threshold */
  size_t *n_tp;         /* (n_points) signal passing the cut */
  size_t *n_fp;         /* (n_points) background passing the cut */
} eqg_roc;

/* Sort and build the curve; *out is NULL on error.  _free(NULL) is fine. */
eqg_status eqg_roc_alloc(eqg_roc **out, const eqg_real *scores, const eqg_index *labels,
                         size_t n);
void eqg_roc_free(eqg_roc *roc);

/* Remove the points sklearn's roc_curve drops by default
 * (drop_intermediate=True): among points 1..n_points-1, an interior point k is
 * removed when both n_fp and n_tp have zero second difference at k (it lies in
 * the middle of a straight run of equal steps).  Point 0, point 1 and the last
 * point stay.  The area and eqg_roc_rejection_interp are unchanged (removed
 * points are collinear); eqg_roc_rejection_nearest can change, and on the
 * dropped curve it reproduces the reference code (sklearn default + argmin). */
void eqg_roc_drop_intermediate(eqg_roc *roc);

/* Trapezoid area under the curve, sum_k (eps_B[k] - eps_B[k-1])
 * (eps_S[k] + eps_S[k-1]) / 2, from the stored doubles. */
double eqg_roc_auc(const eqg_roc *roc);

/* Exact AUC from the sorted scores (Mann-Whitney U with ties):
 *     AUC = P(s_sig > s_bkg) + 1/2 P(s_sig = s_bkg)
 *         = sum over score groups g (descending) of
 *           n_bkg(g) * (2 * #signal above g + n_sig(g)) / (2 P N),
 * counted in 64-bit integers and divided once, so the result is the exact
 * ratio rounded once.  Equals the trapezoid area of the tie-grouped ROC
 * (eqg_roc_auc) up to rounding.  Invariant under any strictly increasing
 * transform of the scores (only the order enters). */
eqg_status eqg_auc(double *auc, const eqg_real *scores, const eqg_index *labels, size_t n);

/* Background rejection 1/eps_B at signal efficiency eps_s in (0, 1]
 * (EQG_EINVAL otherwise, NaN included).  Both return +INFINITY when the eps_B
 * found is 0 (the signal efficiency is reached with no background passing). */

/* (a) Linear interpolation of eps_B in eps_S along the curve: k is the first
 * point with eps_S[k] >= eps_s (so on a horizontal run at exactly eps_s the
 * smallest eps_B, i.e. the best working point, is taken) and
 *     eps_B = eps_B[k-1] + (eps_s - eps_S[k-1]) / (eps_S[k] - eps_S[k-1])
 *                          * (eps_B[k] - eps_B[k-1]).
 * A tie group across eps_s therefore contributes its diagonal (the expected
 * rate of a random tie break). */
eqg_status eqg_roc_rejection_interp(double *rejection, const eqg_roc *roc, double eps_s);

/* (b) The reference code's convention (LorentzNet/LGN/PELICAN buildROC:
 * idx = argmin |tpr - eps_s|, rejection 1 / fpr[idx]): the point whose eps_S
 * is nearest to eps_s, distances evaluated as fabs(eps_S[k] - eps_s) in double
 * as numpy does.  On an exact tie in distance the FIRST such point wins (as
 * np.argmin): the one with the smaller eps_S, hence the smaller eps_B and the
 * larger rejection.  E.g. with all scores equal the curve is (0,0) -> (1,1)
 * and eps_s = 0.5 picks (0,0): rejection +INFINITY.  The reference uses
 * sklearn's default curve: call eqg_roc_drop_intermediate first to match it
 * exactly (sklearn >= 0.22 always prepends the origin, as here; older versions
 * omitted it when the top score group had no background, which matters only
 * if the origin is the nearest point).  *point (may be NULL) receives the
 * index chosen. */
eqg_status eqg_roc_rejection_nearest(double *rejection, size_t *point, const eqg_roc *roc,
                                     double eps_s);

/* The published table row for one trained model.  rej*_nearest use the
 * reference convention on sklearn's default (dropped) curve. */
typedef struct eqg_binary_metrics {
  size_t n_sig, n_bkg;
  double accuracy;                     /* at the threshold given */
  double auc;                          /* eqg_auc */
  double rej30_interp, rej50_interp;   /* 1/eps_B at eps_S = 0.3, 0.5, (a) */
  double rej30_nearest, rej50_nearest; /* same, (b) */
} eqg_binary_metrics;

eqg_status eqg_binary_metrics_compute(eqg_binary_metrics *m, const eqg_real *scores,
                                      const eqg_index *labels, size_t n, double threshold);

/* Ant factor (Murnane, Thais, Wong 2022): rejection per learnable parameter,
 * ant = rejection / n_params.  n_params = 0, a NaN or a rejection below 1
 * (impossible: eps_B <= 1) give EQG_EINVAL; rejection = +INFINITY gives
 * +INFINITY. */
eqg_status eqg_ant_factor(double *ant, double rejection, size_t n_params);

/* Mean and sample standard deviation (divisor n - 1) of x[0..n), e.g. a metric
 * over training seeds, reported as mean +- std.  Two-pass (mean, then squared
 * deviations).  n = 0 or x NULL: EQG_EINVAL; a NaN in x: EQG_ENONFINITE.
 * n = 1: *std = NaN (one seed carries no spread; NaN prints as "nan" instead of
 * a falsely precise +- 0).  +-Inf values are accepted (a rejection can be
 * infinite): the mean is then infinite (NaN with both signs) and std NaN.
 * std may be NULL. */
eqg_status eqg_mean_std(double *mean, double *std, const double *x, size_t n);

/* Welch's two-sample t-test of the difference of two means, e.g. a metric over
 * the seeds of two implementations:
 *   se_k = s_k / sqrt(n_k)  (s_k the sample std),  t = (mean_a - mean_b) / se,
 *   se^2 = se_a^2 + se_b^2,  df = se^4 / (se_a^4 / (n_a - 1) + se_b^4 / (n_b - 1))
 *   (Welch-Satterthwaite),  p = 2 P(T_df > |t|)  (two-sided).
 * Needs at least two finite values per group and some spread (se > 0):
 * EQG_EINVAL otherwise, EQG_ENONFINITE for a NaN or infinity. */
typedef struct eqg_welch {
  double mean_a, mean_b, se_a, se_b;   /* means and standard errors */
  double t, df, p;
} eqg_welch;
eqg_status eqg_welch_test(eqg_welch *w, const double *a, size_t n_a, const double *b,
                          size_t n_b);

#endif
