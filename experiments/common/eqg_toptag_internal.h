/* eqg_toptag_internal.h: what the top-tagging trainer (eqg_toptag_train.c)
 * shares with the inputs and evaluation code (eqg_toptag_data.c): batch
 * staging, per-jet boosts, batch building and prediction.  Private to
 * experiments/common. */
#ifndef EQG_TOPTAG_INTERNAL_H
#define EQG_TOPTAG_INTERNAL_H

#include <gsl/gsl_rng.h>

#include "eqg_toptag_train.h"

enum { EQG_TT_D = 4, EQG_TT_S = 2, EQG_TT_N_BEAMS = 2 };

/* Staging for batches of at most `cap` jets. */
typedef struct tt_work {
  size_t cap;
  eqg_graph_batch *b;
  eqg_index *labels;   /* (cap) */
  size_t *seq;         /* (n_seq) 0 .. n_seq - 1 */
  eqg_index *ids;      /* (cap) */
} tt_work;

/* How jet k of a batch is boosted: by `fixed` (evaluation), or randomly
 * (augmentation: isotropic direction, beta ~ U[0, beta_max]), or not at all. */
typedef struct tt_boosting {
  const eqg_tt_boost *fixed;
  gsl_rng *rng;            /* augmentation */
  double beta_max;
  bool beams;
} tt_boosting;

eqg_status eqg_tt_work_alloc(tt_work *w, size_t cap, size_t n_seq);
void eqg_tt_work_free(tt_work *w);

/* Batch of jets ids[0 .. nb-1] of s: beams prepended (in->beams), node
 * scalars, boosts (bo may be NULL), edges for m's family (full, eta-phi kNN
 * or none), jet-relative features if asked; labels in w->labels. */
eqg_status eqg_tt_build_batch(tt_work *w, const eqg_model *m, const eqg_tt_inputs *in,
                              const eqg_tt_split *s, const size_t *ids, size_t nb,
                              const tt_boosting *bo);

/* eqg_tt_predict with the caller's tape and staging (eval mode). */
eqg_status eqg_tt_predict_work(eqg_real *scores, double *loss, eqg_tape *t, tt_work *w,
                               eqg_model *m, const eqg_tt_inputs *in, const eqg_tt_split *s,
                               const eqg_tt_boost *boost);

#endif
