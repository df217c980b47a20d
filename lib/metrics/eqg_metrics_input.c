/* eqg_metrics_input.c: input checks and the descending sort under every
 * ranking metric. */
#include "metrics/eqg_metrics_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

eqg_status eqg_metrics_check(size_t *n_sig, size_t *n_bkg, const eqg_real *scores,
                             const eqg_index *labels, size_t n, bool need_both,
                             const char *what)
{
  if (n == 0) return eqg_error_set(EQG_EINVAL, "%s: no examples (n = 0)", what);
  if (!scores || !labels)
    return eqg_error_set(EQG_EINVAL, "%s: scores or labels is NULL", what);
  size_t p = 0;
  for (size_t i = 0; i < n; i++) {
    if (labels[i] != 0 && labels[i] != 1)
      return eqg_error_set(EQG_EINVAL, "%s: label %ld at index %zu is not 0 or 1", what,
                           (long)labels[i], i);
    if (isnan(scores[i]))
      return eqg_error_set(EQG_ENONFINITE, "%s: score at index %zu is NaN", what, i);
    p += (size_t)labels[i];
  }
  if (need_both && (p == 0 || p == n))
    return eqg_error_set(EQG_EINVAL,
                         "%s: need both classes, got %zu signal and %zu background", what, p,
                         n - p);
  *n_sig = p;
  *n_bkg = n - p;
  return EQG_OK;
}

/* Descending by score; NaN was rejected, so this is a total preorder. */
static int cmp_desc(const void *a, const void *b)
{
  const eqg_real x = ((const eqg_scored *)a)->s, y = ((const eqg_scored *)b)->s;
  return (x < y) - (x > y);
}

eqg_status eqg_metrics_sorted(eqg_scored **out, size_t *n_sig, size_t *n_bkg,
                              const eqg_real *scores, const eqg_index *labels, size_t n,
                              const char *what)
{
  *out = NULL;
  eqg_status st = eqg_metrics_check(n_sig, n_bkg, scores, labels, n, true, what);
  if (st != EQG_OK) return st;
  eqg_scored *v = n <= SIZE_MAX / sizeof *v ? malloc(n * sizeof *v) : NULL;
  if (!v) return eqg_error_set(EQG_ENOMEM, "%s: cannot sort %zu scores", what, n);
  for (size_t i = 0; i < n; i++) v[i] = (eqg_scored){ scores[i], labels[i] };
  qsort(v, n, sizeof *v, cmp_desc);
  *out = v;
  return EQG_OK;
}
