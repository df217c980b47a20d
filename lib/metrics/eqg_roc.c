/* eqg_roc.c: exact tie-grouped ROC curve, AUC (trapezoid and Mann-Whitney)
 * and background rejection at a signal efficiency. */
#include "metrics/eqg_metrics.h"
#include "metrics/eqg_metrics_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

void eqg_roc_free(eqg_roc *roc)
{
  if (!roc) return;
  free(roc->eps_b);
  free(roc->eps_s);
  free(roc->threshold);
  free(roc->n_tp);
  free(roc->n_fp);
  free(roc);
}

eqg_status eqg_roc_alloc(eqg_roc **out, const eqg_real *scores, const eqg_index *labels,
                         size_t n)
{
  if (!out) return eqg_error_set(EQG_EINVAL, "eqg_roc_alloc: out is NULL");
  *out = NULL;
  eqg_scored *v;
  size_t p, q;
  eqg_status st = eqg_metrics_sorted(&v, &p, &q, scores, labels, n, "eqg_roc_alloc");
  if (st != EQG_OK) return st;

  /* At most n distinct scores: size for n + 1 points (n < SIZE_MAX here, the
   * sort copy of n examples exists). */
  const size_t cap = n + 1;
  eqg_roc *roc = calloc(1, sizeof *roc);
  if (roc) {
    roc->eps_b = malloc(cap * sizeof *roc->eps_b);
    roc->eps_s = malloc(cap * sizeof *roc->eps_s);
    roc->threshold = malloc(cap * sizeof *roc->threshold);
    roc->n_tp = malloc(cap * sizeof *roc->n_tp);
    roc->n_fp = malloc(cap * sizeof *roc->n_fp);
  }
  if (!roc || !roc->eps_b || !roc->eps_s || !roc->threshold || !roc->n_tp || !roc->n_fp) {
    free(v);
    eqg_roc_free(roc);
    return eqg_error_set(EQG_ENOMEM, "eqg_roc_alloc: no memory for %zu ROC points", cap);
  }
  roc->n_sig = p;
  roc->n_bkg = q;

  size_t m = 0, tp = 0, fp = 0;
  roc->n_tp[0] = 0;
  roc->n_fp[0] = 0;
  roc->threshold[0] = INFINITY;
  for (size_t i = 0; i < n;) {
    const eqg_real s = v[i].s;
    for (; i < n && v[i].s == s; i++) { /* one step per group of equal scores */
      tp += (size_t)v[i].y;
      fp += (size_t)(1 - v[i].y);
    }
    m++;
    roc->n_tp[m] = tp;
    roc->n_fp[m] = fp;
    roc->threshold[m] = s;
  }
  free(v);
  roc->n_points = m + 1;
  for (size_t k = 0; k < roc->n_points; k++) {
    roc->eps_s[k] = (double)roc->n_tp[k] / (double)p;
    roc->eps_b[k] = (double)roc->n_fp[k] / (double)q;
  }
  EQG_ASSERT(tp == p && fp == q);
  *out = roc;
  return EQG_OK;
}

void eqg_roc_drop_intermediate(eqg_roc *roc)
{
  /* sklearn works on points 1..last (before prepending the origin) and keeps
   * its first and last; interior k goes when both second differences vanish.
   * The test for k reads the original k-1, so compare against the previous
   * ORIGINAL point (kept in prev_*), not the last kept one. */
  if (!roc || roc->n_points <= 3) return;
  const size_t last = roc->n_points - 1;
  size_t w = 2;  /* points 0 and 1 stay in place */
  size_t prev_tp = roc->n_tp[1], prev_fp = roc->n_fp[1];
  for (size_t k = 2; k < last; k++) {
    const size_t tp = roc->n_tp[k], fp = roc->n_fp[k];
    /* Counts are non-decreasing, so the differences are unsigned-safe. */
    const bool straight = tp - prev_tp == roc->n_tp[k + 1] - tp &&
                          fp - prev_fp == roc->n_fp[k + 1] - fp;
    prev_tp = tp;
    prev_fp = fp;
    if (straight) continue;
    roc->eps_b[w] = roc->eps_b[k];
    roc->eps_s[w] = roc->eps_s[k];
    roc->threshold[w] = roc->threshold[k];
    roc->n_tp[w] = tp;
    roc->n_fp[w] = fp;
    w++;
  }
  roc->eps_b[w] = roc->eps_b[last];
  roc->eps_s[w] = roc->eps_s[last];
  roc->threshold[w] = roc->threshold[last];
  roc->n_tp[w] = roc->n_tp[last];
  roc->n_fp[w] = roc->n_fp[last];
  roc->n_points = w + 1;
}

double eqg_roc_auc(const eqg_roc *roc)
{
  EQG_ASSERT(roc && roc->n_points >= 2);
  double a = 0;
  for (size_t k = 1; k < roc->n_points; k++)
    a += (roc->eps_b[k] - roc->eps_b[k - 1]) * (roc->eps_s[k] + roc->eps_s[k - 1]) / 2;
  return a;
}

eqg_status eqg_auc(double *auc, const eqg_real *scores, const eqg_index *labels, size_t n)
{
  if (!auc) return eqg_error_set(EQG_EINVAL, "eqg_auc: auc is NULL");
  eqg_scored *v;
  size_t p, q;
  eqg_status st = eqg_metrics_sorted(&v, &p, &q, scores, labels, n, "eqg_auc");
  if (st != EQG_OK) return st;
  /* twice the Mann-Whitney U: each (signal, background) pair counts 2 when the
   * signal scores higher, 1 when tied.  <= 2 P N <= n^2 / 2: fits in 64 bits
   * for n < 6e9. */
  uint64_t u2 = 0, sig_above = 0;
  for (size_t i = 0; i < n;) {
    const eqg_real s = v[i].s;
    uint64_t gs = 0, gb = 0;
    for (; i < n && v[i].s == s; i++) {
      gs += (uint64_t)v[i].y;
      gb += (uint64_t)(1 - v[i].y);
    }
    u2 += gb * (2 * sig_above + gs);
    sig_above += gs;
  }
  free(v);
  *auc = (double)u2 / (2.0 * (double)p * (double)q);
  return EQG_OK;
}

static eqg_status check_eps(const eqg_roc *roc, double eps_s, const char *what)
{
  if (!roc) return eqg_error_set(EQG_EINVAL, "%s: roc is NULL", what);
  if (!(eps_s > 0 && eps_s <= 1))
    return eqg_error_set(EQG_EINVAL, "%s: signal efficiency %g is outside (0, 1]", what,
                         eps_s);
  return EQG_OK;
}

static double inverse(double eps_b) { return eps_b > 0 ? 1 / eps_b : INFINITY; }

eqg_status eqg_roc_rejection_interp(double *rejection, const eqg_roc *roc, double eps_s)
{
  eqg_status st = check_eps(roc, eps_s, "eqg_roc_rejection_interp");
  if (st != EQG_OK) return st;
  if (!rejection) return eqg_error_set(EQG_EINVAL, "eqg_roc_rejection_interp: output is NULL");
  /* Binary search for the first k with eps_S[k] >= eps_s; eps_S[0] = 0 <
   * eps_s <= 1 = eps_S[last], so 1 <= k <= last. */
  size_t lo = 0, hi = roc->n_points - 1;  /* eps_S[lo] < eps_s <= eps_S[hi] */
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    if (roc->eps_s[mid] >= eps_s) hi = mid;
    else lo = mid;
  }
  const double s0 = roc->eps_s[lo], s1 = roc->eps_s[hi];
  const double b0 = roc->eps_b[lo], b1 = roc->eps_b[hi];
  const double eps_b = eps_s == s1 ? b1 : b0 + (eps_s - s0) / (s1 - s0) * (b1 - b0);
  *rejection = inverse(eps_b);
  return EQG_OK;
}

eqg_status eqg_roc_rejection_nearest(double *rejection, size_t *point, const eqg_roc *roc,
                                     double eps_s)
{
  eqg_status st = check_eps(roc, eps_s, "eqg_roc_rejection_nearest");
  if (st != EQG_OK) return st;
  if (!rejection)
    return eqg_error_set(EQG_EINVAL, "eqg_roc_rejection_nearest: output is NULL");
  /* A linear scan like np.argmin: strict < keeps the first of equal distances. */
  size_t best = 0;
  double dbest = fabs(roc->eps_s[0] - eps_s);
  for (size_t k = 1; k < roc->n_points; k++) {
    const double d = fabs(roc->eps_s[k] - eps_s);
    if (d < dbest) {
      dbest = d;
      best = k;
    }
  }
  if (point) *point = best;
  *rejection = inverse(roc->eps_b[best]);
  return EQG_OK;
}
