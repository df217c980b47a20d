/* eqg_classify.c: accuracy at a threshold and the published table row
 * (accuracy, AUC, rejections at eps_S = 0.3 and 0.5). */
#include "metrics/eqg_metrics.h"
#include "metrics/eqg_metrics_internal.h"

#include <math.h>

eqg_status eqg_accuracy(double *accuracy, const eqg_real *scores, const eqg_index *labels,
                        size_t n, double threshold)
{
  if (!accuracy) return eqg_error_set(EQG_EINVAL, "eqg_accuracy: accuracy is NULL");
  if (isnan(threshold)) return eqg_error_set(EQG_EINVAL, "eqg_accuracy: threshold is NaN");
  size_t p, q;
  eqg_status st = eqg_metrics_check(&p, &q, scores, labels, n, false, "eqg_accuracy");
  if (st != EQG_OK) return st;
  size_t correct = 0;
  for (size_t i = 0; i < n; i++)
    correct += (size_t)((scores[i] > threshold) == (labels[i] == 1));
  *accuracy = (double)correct / (double)n;
  return EQG_OK;
}

eqg_status eqg_binary_metrics_compute(eqg_binary_metrics *m, const eqg_real *scores,
                                      const eqg_index *labels, size_t n, double threshold)
{
  if (!m) return eqg_error_set(EQG_EINVAL, "eqg_binary_metrics_compute: output is NULL");
  eqg_binary_metrics r = { 0 };
  eqg_status st = eqg_accuracy(&r.accuracy, scores, labels, n, threshold);
  if (st == EQG_OK) st = eqg_auc(&r.auc, scores, labels, n);
  eqg_roc *roc = NULL;
  if (st == EQG_OK) st = eqg_roc_alloc(&roc, scores, labels, n);
  if (st != EQG_OK)
    return eqg_error_prefix(st, "eqg_binary_metrics_compute: ");
  r.n_sig = roc->n_sig;
  r.n_bkg = roc->n_bkg;
  /* Interpolation first (unchanged by dropping, but keep it on the full curve),
   * then the reference convention on sklearn's default point set. */
  st = eqg_roc_rejection_interp(&r.rej30_interp, roc, 0.3);
  if (st == EQG_OK) st = eqg_roc_rejection_interp(&r.rej50_interp, roc, 0.5);
  eqg_roc_drop_intermediate(roc);
  if (st == EQG_OK) st = eqg_roc_rejection_nearest(&r.rej30_nearest, NULL, roc, 0.3);
  if (st == EQG_OK) st = eqg_roc_rejection_nearest(&r.rej50_nearest, NULL, roc, 0.5);
  eqg_roc_free(roc);
  EQG_ASSERT(st == EQG_OK);  /* 0.3 and 0.5 are valid efficiencies */
  *m = r;
  return EQG_OK;
}
