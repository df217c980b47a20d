/* eqg_lie_task.h: the "task" source of lie_discover (issue 6) -- generators
 * learned by an L-conv model (lib/layers/eqg_layer_lconv.c) trained on the
 * N-body data of nbody_gen.
 *
 * Model: embed h = Linear(|v_i|) (1 -> width), then `depth` lconv blocks on the
 * vector channels [x, v] (n_vec 2) with edge attributes
 * [q_i q_j, |x_i - x_j|^2] on fully connected graphs of the P particles; the
 * prediction is vector channel 0.  Loss: MSE against the positions at the
 * target frame (eqg_nbt_split_load's frames; quick mode as nbody's).
 * Training: Adam at lr, batches of B = min(n_train, 100) samples in an order
 * shuffled each epoch by r (the last incomplete batch dropped); after every
 * epoch the mean training-batch MSE and the validation MSE (chunks of
 * min(n_valid, B), the remainder dropped).  The generators of every layer are
 * returned; the caller probes layer 0. */
#ifndef EQG_LIE_TASK_H
#define EQG_LIE_TASK_H

#include <gsl/gsl_rng.h>

#include "eqg_cli.h"

typedef struct eqg_lie_task_config {
  const char *datadir;     /* nbody_gen output: nbody_train.h5, nbody_valid.h5 */
  size_t n_gen;            /* generators per layer */
  size_t depth, width;     /* lconv blocks (1..16), hidden width */
  size_t epochs;
  double lr;
  bool quick;              /* nbody_gen --quick data: quick frames */
  unsigned long seed;      /* checkpoint meta */
  const char *model_out;   /* eqgnn checkpoint of the trained model, or NULL */
  const char *program;     /* checkpoint meta */
} eqg_lie_task_config;

/* Train; gens (depth, n_gen, 3, 3) = the layers' generators, history
 * (epochs, 2) = train, valid MSE per epoch.  Errors from loading the data,
 * building the model, training (EQG_ENONFINITE: diverged) or saving, with the
 * prefix "task source: ". */
eqg_status eqg_lie_task_train(eqg_real *gens, eqg_real *history, const eqg_lie_task_config *c,
                              gsl_rng *r);

#endif
