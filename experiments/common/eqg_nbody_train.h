/* eqg_nbody_train.h: the N-body regression protocol of the EGNN paper (section
 * 5.1; shared/reference/nbody.md), shared by experiments/nbody.c (one run) and
 * experiments/nbody_sweep.c (sample efficiency: many runs in one process).
 *
 * Task.  Sample s of a split is trajectory s of an nbody_gen file: input the
 * positions x (P, 3) and velocities v (P, 3) at the input frame (30), target
 * the positions at the target frame (40), P = 5 particles.  A batch of B
 * samples is one eqg_graph_batch of B fully connected graphs (directed, no
 * self loops: P (P - 1) edges each) with edge attributes
 *   egnn, rf   a_ij = [q_i q_j, |x_i(0) - x_j(0)|^2]    (input-frame distance)
 *   gnn        a_ij = q_i q_j
 * and node scalar |v_i| for egnn (gnn gets [x, v] as node features from the
 * model itself; rf has no node features).  The linear baseline
 * x(t) = x(0) + v(0) t has a single learnable t (initially 0.7, as the
 * reference's Linear_dynamics) and needs no edges.
 *
 * Training.  Adam (torch semantics: L2 weight decay 1e-12 added to the
 * gradient), constant learning rate, batch B with the last incomplete batch
 * dropped, loss = MSE over all position coordinates of the batch.  The order of
 * epoch e (0-based) is a Fisher-Yates shuffle of 0 .. n-1 by an mt19937 seeded
 * with eqg_nbt_epoch_seed(seed, e): it depends on (seed, e) alone, so a run
 * resumed from a checkpoint sees exactly the batches an uninterrupted run sees.
 * The model is initialised from an mt19937 seeded with `seed`.  Every
 * `eval_every` epochs (and after the last one) the validation MSE (and the test
 * MSE) is computed; the reported result is the test MSE at the epoch of the
 * best (lowest, first on ties) validation MSE.  train_mse of an evaluated epoch
 * is the mean of that epoch's minibatch losses (as the reference code reports).
 *
 * Checkpoints.  One HDF5 file, written atomically (staged, then renamed): the
 * eqg_checkpoint.h layout (parameters, Adam moments and step, meta seed, step,
 * epoch, model_type = model name) plus a group /nbody with the run's settings
 * as attributes (model, seed, n_train, batch, lr, weight_decay, input_frame,
 * target_frame, eval_every, test_every_eval, train_seconds) and the evaluation
 * history so far (datasets eval_epoch, train_mse, valid_mse, test_mse; attribute
 * n_evals).  Resuming checks those settings against the current ones, loads
 * the parameters and optimiser, keeps the history up to the checkpoint's epoch
 * and continues with epoch + 1.  With the same --threads the final parameters
 * and every MSE are bitwise those of an uninterrupted run.
 *
 * Best parameters.  With cfg.best set, the parameters of the best validation
 * epoch are written (atomically) to that file whenever the validation MSE
 * improves: the eqg_checkpoint.h layout without optimiser (meta epoch = that
 * epoch) plus a group /nbody_best with attributes model, seed, epoch,
 * valid_mse, test_mse, input_frame, target_frame, n_train, n_test, batch, so
 * that the model
 * behind the reported test MSE can be loaded (eqg_nbt_model_load) and
 * examined (eqg_nbt_evaluate, analysis/nbody_errors).  A resumed run replays
 * the epochs after its checkpoint, so a best file written after the
 * checkpoint by the killed process is rewritten with the same bits; one that
 * holds another run's parameters or no longer the best epoch (deleted,
 * replaced) is reported on stderr when resuming, and rewritten at the next
 * improvement. */
#ifndef EQG_NBODY_TRAIN_H
#define EQG_NBODY_TRAIN_H

#include <stdint.h>

#include "eqg_cli.h"

/* ---- models ------------------------------------------------------------------ */

typedef enum eqg_nbt_model_kind {
  EQG_NBT_LINEAR,   /* x + v t, one parameter */
  EQG_NBT_GNN,      /* preset gnn_nbody */
  EQG_NBT_RF,       /* preset rf_nbody */
  EQG_NBT_EGNN,     /* preset egnn_nbody */
  EQG_NBT_MODEL_COUNT
} eqg_nbt_model_kind;

/* "linear", "gnn", "rf", "egnn". */
const char *eqg_nbt_model_name(eqg_nbt_model_kind k);
/* The kind by name; EQG_EINVAL with the list of names otherwise (schnet and
 * vecnet get a message saying why they have no N-body configuration). */
eqg_status eqg_nbt_model_find(const char *name, eqg_nbt_model_kind *k);
/* Learning rate of the protocol: EGNN 5e-4, GNN 1e-3, RF 2e-4 (nbody.md);
 * linear 1e-3 (our choice: the paper gives none; t settles within a few
 * epochs at any rate of this order). */
double eqg_nbt_default_lr(eqg_nbt_model_kind k);

typedef struct eqg_nbt_model {
  eqg_nbt_model_kind kind;
  eqg_model *net;          /* NULL for linear */
  eqg_params *params;      /* net->params, or the linear model's own block */
  int time_id;             /* linear: "linear.time" (1, 1); else -1 */
  size_t n_scalars;        /* node scalars in a batch (egnn: 1) */
  size_t n_edge_attr;      /* edge attributes in a batch (0, 1 or 2) */
} eqg_nbt_model;

/* Build and initialise from an mt19937 seeded with `seed`; NULL with a message. */
eqg_nbt_model *eqg_nbt_model_alloc(eqg_nbt_model_kind kind, unsigned long seed);
void eqg_nbt_model_free(eqg_nbt_model *m);   /* NULL is fine */
/* One line for checkpoints and result files. */
void eqg_nbt_model_describe(const eqg_nbt_model *m, char *buf, size_t n);

/* ---- data ----------------------------------------------------------------------- */

typedef struct eqg_nbt_split {
  size_t n;                /* samples */
  size_t n_particles;      /* P */
  eqg_real *x;             /* (n, P, 3) positions at the input frame */
  eqg_real *v;             /* (n, P, 3) velocities at the input frame */
  eqg_real *q;             /* (n, P) charges */
  eqg_real *y;             /* (n, P, 3) positions at the target frame */
  size_t n_frames;         /* frames in the file */
  size_t sample_freq;      /* the file's sample_freq attribute (default 100) */
} eqg_nbt_split;

/* Default frames when none are given: 30 -> 40 (nbody.md, sample_freq 100
 * data: steps 3100 -> 4100), 6 -> 8 for sample_freq 500 data (the paper's
 * sweep files: steps 3500 -> 4500), and 3 -> 7 in quick mode (nbody_gen
 * --quick files have 9 frames). */
void eqg_nbt_default_frames(size_t sample_freq, bool quick, long *input_frame,
                            long *target_frame);

/* Load the first n trajectories of an nbody_gen file and keep the two frames;
 * a negative *input_frame / *target_frame is first replaced by its default for
 * this file (eqg_nbt_default_frames with the file's sample_freq and `quick`).
 * EQG_EIO / EQG_EFORMAT / EQG_ESHAPE / EQG_ENONFINITE from the loader (message
 * naming the file); EQG_EINVAL if the file has fewer than n trajectories, fewer
 * than 2 particles or no such frame.  n = 0: every trajectory. */
eqg_status eqg_nbt_split_load(eqg_nbt_split *s, const char *path, size_t n, bool quick,
                              long *input_frame, long *target_frame);
void eqg_nbt_split_clear(eqg_nbt_split *s);   /* frees the arrays; zeroed is fine */
/* The first n samples of s (n <= s->n): shares s's arrays. */
eqg_nbt_split eqg_nbt_split_head(const eqg_nbt_split *s, size_t n);

/* ---- training ------------------------------------------------------------------- */

/* The three data files, in the order train, valid, test. */
enum { EQG_NBT_PATH_MAX = 4096 };
extern const char *const eqg_nbt_split_name[3];   /* "train", "valid", "test" */

/* path[k] = file[k] if given, else DATADIR/nbody_<split>.h5.  EQG_EINVAL with
 * a message naming the option for an empty name or a path that is too long. */
eqg_status eqg_nbt_data_paths(char path[3][EQG_NBT_PATH_MAX], const char *datadir,
                              const char *const file[3]);

typedef struct eqg_nbt_result eqg_nbt_result;

typedef struct eqg_nbt_config {
  eqg_nbt_model_kind model;
  unsigned long seed;
  double lr;
  double weight_decay;     /* 1e-12 */
  size_t batch;            /* 100 */
  long epochs;             /* total epochs of the run */
  long eval_every;         /* 5 */
  bool test_every_eval;    /* false: the test set is evaluated only when the
                              validation MSE improves (its value elsewhere is
                              NaN); the reported result is the same */
  long input_frame, target_frame;   /* recorded in checkpoints, checked on resume */
  /* checkpointing (path NULL: none) */
  const char *checkpoint;
  long checkpoint_every;   /* epochs; the last epoch is always saved */
  bool resume;             /* start from `checkpoint` */
  const char *best;        /* parameters of the best validation epoch (NULL: none) */
  long stop_after;         /* > 0: stop after this epoch (saved), as if killed */
  const char *program;     /* checkpoint meta */
  /* output */
  const char *label;       /* progress bar label */
  bool table;              /* eval rows on stdout */
  /* called after every checkpoint save with the results so far (may be NULL) */
  eqg_status (*on_checkpoint)(void *ctx, const eqg_nbt_result *partial);
  void *ctx;
} eqg_nbt_config;

/* The protocol's defaults for `model` (lr from eqg_nbt_default_lr, weight decay
 * 1e-12, batch 100, 10000 epochs, eval every 5, test at every evaluation,
 * frames 30 -> 40, checkpoint every 50 epochs, no checkpoint path). */
eqg_nbt_config eqg_nbt_config_default(eqg_nbt_model_kind model);

struct eqg_nbt_result {
  size_t n_evals, cap;
  double *eval_epoch, *train_mse, *valid_mse, *test_mse;   /* (n_evals) */
  long best_epoch;         /* 0 if no evaluation yet */
  double best_valid, test_at_best;
  long epoch;              /* epochs completed */
  long step;               /* optimiser steps taken */
  long start_epoch;        /* epoch the run started from (checkpoint's, or 0) */
  bool stopped;            /* stop_after reached before `epochs` */
  size_t n_params;
  double train_seconds;    /* wall time of training and evaluation, summed over
                              every process of the run (resumes included) */
  double seconds_this_run; /* this process's part of it */
  uint64_t digest;         /* FNV-1a 64 of the parameter bytes */
  char model_config[1024];
};

void eqg_nbt_result_clear(eqg_nbt_result *r);   /* frees the history; zeroed is fine */

/* Train cfg->model on train (all of its samples), evaluating on valid and test.
 * *res must be zeroed (or cleared) before the call; it holds the history and
 * the outcome (also on error, up to the failure).  Errors: EQG_EINVAL (bad
 * configuration, checkpoint settings that do not match), EQG_EIO/EQG_EFORMAT
 * (checkpoint I/O), EQG_ENONFINITE (training diverged). */
eqg_status eqg_nbt_train(eqg_nbt_result *res, const eqg_nbt_config *cfg,
                         const eqg_nbt_split *train, const eqg_nbt_split *valid,
                         const eqg_nbt_split *test);

/* ---- trained models ----------------------------------------------------------------- */

/* Information of a best-parameters file (its /nbody_best group). */
typedef struct eqg_nbt_best_info {
  eqg_nbt_model_kind model;
  unsigned long seed;
  long epoch, input_frame, target_frame;
  unsigned long n_train, n_test, batch;
  double valid_mse, test_mse;
} eqg_nbt_best_info;

/* A new model with the parameters of a best-parameters file (cfg.best).
 * EQG_EIO / EQG_EFORMAT naming the file for a missing or corrupt file or one
 * that is not an N-body best file; *info (may be NULL) gets its group. */
eqg_status eqg_nbt_model_load(eqg_nbt_model **out, eqg_nbt_best_info *info, const char *path);

/* MSE of m over every position coordinate of s, evaluated as training does (in
 * batches of `batch` samples, summed in sample order: the bits of the MSE that
 * training reported for the same parameters and split), and if per_sample is
 * not NULL the MSE of each sample (s->n).  EQG_ENONFINITE if it is not finite. */
eqg_status eqg_nbt_evaluate(eqg_nbt_model *m, const eqg_nbt_split *s, size_t batch,
                            double *mse, double *per_sample);

/* mt19937 seed of epoch e's shuffle: SplitMix64 of (seed << 32 | e), low 32 bits. */
unsigned long eqg_nbt_epoch_seed(unsigned long seed, long epoch);

#endif
