/* eqg_metrics_internal.h: input checks and the descending sort shared by the
 * metrics (not installed). */
#ifndef EQG_METRICS_INTERNAL_H
#define EQG_METRICS_INTERNAL_H

#include "core/eqg_core.h"

/* One example: score and 0/1 label. */
typedef struct eqg_scored {
  eqg_real s;
  eqg_index y;
} eqg_scored;

/* Check scores/labels (see eqg_metrics.h: n = 0, NULL, labels not 0/1, NaN
 * scores; with need_both also P = 0 or N = 0) and count the classes.
 * `what` names the caller in the message ("eqg_auc: ..."). */
eqg_status eqg_metrics_check(size_t *n_sig, size_t *n_bkg, const eqg_real *scores,
                             const eqg_index *labels, size_t n, bool need_both,
                             const char *what);

/* Checked input copied and sorted by descending score (order within equal
 * scores unspecified; callers group them).  *out is malloc'ed, NULL on error. */
eqg_status eqg_metrics_sorted(eqg_scored **out, size_t *n_sig, size_t *n_bkg,
                              const eqg_real *scores, const eqg_index *labels, size_t n,
                              const char *what);

#endif
