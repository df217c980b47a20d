/* eqg_lie_metric.h: lie_discover --metric-train -- does a recovered invariant
 * metric G work inside a LorentzNet-style model?
 *
 * Model: the lorentznet preset with width 16, depth 2, no readout dropout and
 * the general metric G_sym = (G + G^T) / 2 in every Minkowski product (lgeb
 * layers, EQG_METRIC_GENERAL).  Task: events of 4 massive four-momenta
 * (eqg_lie_random_jets, 256 training and 256 held-out events); label 1 when
 * the invariant mass^2 (sum_i p_i)^T eta (sum_i p_i) is above the training
 * median.  Training: `steps` full-batch Adam steps at lr 3e-3 on the softmax
 * cross-entropy.  Accuracy: class 1 when logit_1 - logit_0 > 0 (eqg_accuracy
 * at threshold 0).  Invariance: for 20 sampled Lorentz transformations Lambda
 * (eqg_group_lorentz defaults: rapidity <= 1) applied to every momentum of
 * the training events, the max relative change of the logits,
 * max |y(Lambda p) - y(p)| / max |y(p)|, once with G_sym and once with the
 * same weights and eta. */
#ifndef EQG_LIE_METRIC_H
#define EQG_LIE_METRIC_H

#include <gsl/gsl_rng.h>

#include "eqg_cli.h"

typedef struct eqg_lie_metric_result {
  eqg_real loss0, loss1, acc, test_acc;    /* first and last training loss, train and
                                              held-out accuracy */
  eqg_real metric_err;                     /* max |G_sym - eta| */
  eqg_real inv_recovered, inv_eta;         /* max relative invariance error */
  size_t steps;
} eqg_lie_metric_result;

/* Train and measure with G (4, 4), drawing from r.  EQG_ENOMEM, or the errors of
 * the model, the tape or the metrics (prefixed "metric model: " where the
 * model fails). */
eqg_status eqg_lie_metric_train(eqg_lie_metric_result *res, const eqg_real *G, size_t steps,
                                gsl_rng *r);

#endif
