/* eqg_toptag_train.h: top-quark tagging with LorentzNet's conventions
 * (shared/reference/top_tagging.md), shared by experiments/toptag.c (one run),
 * toptag_boost.c (boosted test sets) and toptag_sweep.c (many runs in one
 * process).  Code: eqg_toptag_data.c (models, inputs, data, boosts, batches,
 * prediction) and eqg_toptag_train.c (training, checkpoints, results).
 *
 * Data.  The train/valid/test files of jets_gen (or the real Top Tagging
 * Reference Dataset converted by the LGN/LorentzNet tools: the same layout),
 * read by eqg_jet_dataset_load with the hardest `max_constituents`
 * constituents of each jet kept.  A jet is one graph:
 *   nodes   LorentzNet's two beam nodes (E, px, py, pz) = (sqrt 2, 0, 0, +-1)
 *           first (inputs.beams), then the constituents, pT-ordered
 *   x       four-momenta divided by inputs.p_scale (GeV; 1 = raw GeV as
 *           LorentzNet); the beams are not scaled (a direction of mass 1)
 *   h       node scalars psi([m_i, 0]) for constituents, psi([0, 1]) for beams,
 *           psi(z) = sgn(z) log(1 + |z|), m_i in GeV
 *   edges   fully connected without self loops (lorentznet, egnn, gnn,
 *           vecnet), the k = inputs.knn nearest neighbours in (eta, phi)
 *           (particlenet; beams have no direction and only fill k), none (pfn)
 *   label   is_signal (1 top, 0 QCD); the model's two logits l0, l1 give the
 *           score l1 - l0 (monotone in the top probability) and the class
 *           argmax (ties to QCD, as torch.argmax): accuracy = score > 0.
 *
 * Training.  Cross-entropy, AdamW (lr 1e-3, decoupled weight decay 0.01),
 * minibatch B with the last incomplete batch dropped, learning rate from
 * eqg_schedule, by `schedule`:
 *   EQG_TT_SCHEDULE_COSINE      per step: linear warm-up over `warmup` epochs,
 *                               then one cosine decay to 0 (the default);
 *   EQG_TT_SCHEDULE_LORENTZNET  per epoch, as LorentzNet-release's
 *                               top_tagging.py: warm-up over `warmup` epochs
 *                               (linear from 0: an assumption, its warm-up
 *                               class was not checked), cosine warm restarts
 *                               T0 = 4, T_mult = 2, and from 0-based epoch 32
 *                               on the rate halved every epoch.  The order of epoch e is a
 * Fisher-Yates shuffle by an mt19937 seeded from (seed, e) only, and the
 * dropout masks and boost augmentation of epoch e from (seed, e) as well, so
 * a resumed run is bitwise the uninterrupted one.  After each epoch: loss,
 * accuracy and AUC on the validation set; the parameters of the epoch with the
 * best validation accuracy (first on ties) are kept (in memory, in the
 * running checkpoint, and in the best checkpoint file), and at the end the
 * test set is evaluated with them: accuracy, AUC, 1/eps_B at eps_S = 0.3 and
 * 0.5 interpolated and nearest (eqg_binary_metrics), ant factors.
 *
 * Augmentation (augment_beta > 0): each training jet is boosted, before its
 * edges are built, along an isotropic random direction with beta uniform in
 * [0, augment_beta] (the beams with it if augment_beams).
 *
 * Checkpoints.  `checkpoint` (every epoch, atomic): eqg_checkpoint layout
 * (parameters, buffers, AdamW state) plus /toptag (settings, history, the best
 * parameters and buffers so far).  `best` (when validation improves): the
 * eqg_checkpoint layout without optimiser plus /toptag with the settings that
 * rebuild the model (eqg_tt_model_load), for toptag_boost. */
#ifndef EQG_TOPTAG_TRAIN_H
#define EQG_TOPTAG_TRAIN_H

#include <stdint.h>

#include "eqg_cli.h"
#include "data/eqg_jets.h"

/* ---- models ------------------------------------------------------------------ */

typedef enum eqg_tt_model_kind {
  EQG_TT_LORENTZNET,   /* preset lorentznet */
  EQG_TT_EGNN,         /* egnn_top */
  EQG_TT_GNN,          /* gnn_top */
  EQG_TT_PFN,          /* pfn_top */
  EQG_TT_PARTICLENET,  /* particlenet_top */
  EQG_TT_VECNET,       /* vecnet_top */
  EQG_TT_EGNN_MINKOWSKI, /* egnn_minkowski_top */
  EQG_TT_MODEL_COUNT
} eqg_tt_model_kind;

/* "lorentznet", "egnn", "gnn", "pfn", "particlenet", "vecnet", "egnn_minkowski". */
const char *eqg_tt_model_name(eqg_tt_model_kind k);
/* Kind by name; EQG_EINVAL with the list otherwise. */
eqg_status eqg_tt_model_find(const char *name, eqg_tt_model_kind *k);
/* Comma-separated list of kinds ("pfn,lorentznet"); EQG_EINVAL naming the bad one. */
eqg_status eqg_tt_model_list(const char *list, eqg_tt_model_kind *kinds, size_t cap,
                             size_t *n);

typedef struct eqg_tt_model_spec {
  eqg_tt_model_kind kind;
  size_t width, depth;     /* 0: the preset's */
  double vec_fraction;     /* vecnet: equivariant fraction in [0, 1]; < 0: preset (0.5) */
} eqg_tt_model_spec;

/* The preset of spec->kind with the overrides applied. */
eqg_status eqg_tt_model_config(eqg_model_config *cfg, const eqg_tt_model_spec *spec);
/* Built and initialised from an mt19937 seeded with `seed`; NULL with a message. */
eqg_model *eqg_tt_model_alloc(const eqg_tt_model_spec *spec, unsigned long seed);

/* ---- inputs ------------------------------------------------------------------ */

/* What a non-geometric model (gnn, pfn, particlenet) sees as its four node
 * coordinates x: LorentzNet's four-momenta (scaled), or ParticleNet-style
 * jet-relative features with respect to the sum J of the jet's constituents
 * (beams: zeros), computed after any boost and after the kNN graph is built,
 * each brought to O(1) by a fixed affine map:
 *   (4 Delta eta, 4 Delta phi, 0.7 (log(pT / pT_J) + 4.7), 0.7 (log(E / E_J) + 4.7)),
 * the log-ratio standardisation of ParticleNet's (weaver's) top-tagging
 * inputs; the factor 4 on the angles is weaver's on Delta R (raw angles
 * spread by ~0.2).  rel is the default of the non-geometric models, as
 * their reference inputs are jet-relative (PFN: pT fraction, Delta y,
 * Delta phi; ParticleNet: the above): from raw four-momenta a
 * non-equivariant network has to learn the jet mass as a difference of
 * large squares (E^2 - |p|^2), and gnn / pfn stayed at ~0.63 accuracy in
 * short trainings.  The geometric models (lorentznet, egnn, vecnet) always
 * see four-momenta. */
typedef enum eqg_tt_features { EQG_TT_FEATURES_P4, EQG_TT_FEATURES_REL,
                               EQG_TT_FEATURES_COUNT } eqg_tt_features;
#define EQG_TT_REL_ANGLE_SCALE 4.0   /* Delta eta, Delta phi */
#define EQG_TT_REL_LOG_SHIFT (-4.7)  /* log pT / pT_J, log E / E_J: 0.7 (x + 4.7) */
#define EQG_TT_REL_LOG_SCALE 0.7
extern const char *const eqg_tt_features_name[EQG_TT_FEATURES_COUNT];   /* "p4", "rel" */

typedef struct eqg_tt_inputs {
  bool beams;              /* prepend LorentzNet's beam nodes (default true) */
  int knn;                 /* particlenet: neighbours (16); ignored by the others */
  double p_scale;          /* GeV per unit of the model's momenta */
  eqg_tt_features features;/* default p4 */
} eqg_tt_inputs;

/* Can model kind k take these features?  EQG_EINVAL with a message if not. */
eqg_status eqg_tt_inputs_check(eqg_tt_model_kind k, const eqg_tt_inputs *in);

/* Beams on, k = 16; p_scale 1 (raw GeV, LorentzNet's convention) for
 * lorentznet and vecnet (Minkowski products under psi), 100 GeV for egnn, gnn,
 * pfn and particlenet, which feed momenta (or their Euclidean distances)
 * straight into Linear layers; features rel for gnn, pfn and particlenet,
 * p4 for the geometric models. */
eqg_tt_inputs eqg_tt_inputs_default(eqg_tt_model_kind k);

/* ---- data ----------------------------------------------------------------------- */

typedef struct eqg_tt_split {
  size_t n;                /* jets */
  size_t P;                /* padded constituents per jet (<= max_constituents) */
  eqg_real *x;             /* (n, P, 4) momenta / p_scale, zero padded */
  eqg_real *h;             /* (n, P, 2) [psi(m_i), 0] */
  eqg_index *counts;       /* (n) constituents */
  eqg_index *labels;       /* (n) 1 top, 0 QCD */
  double p_scale;
  bool owner;              /* false for a head view */
} eqg_tt_split;

/* Load the first max_jets (0: all) jets of `path`, keeping the hardest
 * max_constituents (0: all) constituents; errors of eqg_jet_dataset_load
 * (naming the file), EQG_EINVAL for a file without jets. */
eqg_status eqg_tt_split_load(eqg_tt_split *s, const char *path, size_t max_jets,
                             size_t max_constituents, double p_scale);
void eqg_tt_split_clear(eqg_tt_split *s);   /* frees owned arrays; zeroed is fine */
/* The first n jets (n <= s->n), sharing s's arrays. */
eqg_tt_split eqg_tt_split_head(const eqg_tt_split *s, size_t n);
/* Signal jets among the n. */
size_t eqg_tt_split_n_signal(const eqg_tt_split *s);

enum { EQG_TT_PATH_MAX = 4096 };
extern const char *const eqg_tt_split_name[3];   /* "train", "valid", "test" */
/* path[k] = file[k] if given, else DATADIR/<split>.h5 (jets_gen's names). */
eqg_status eqg_tt_data_paths(char path[3][EQG_TT_PATH_MAX], const char *datadir,
                             const char *const file[3]);

/* ---- evaluation ---------------------------------------------------------------------- */

typedef enum eqg_tt_axis { EQG_TT_AXIS_X, EQG_TT_AXIS_JET, EQG_TT_AXIS_COUNT } eqg_tt_axis;
extern const char *const eqg_tt_axis_name[EQG_TT_AXIS_COUNT];   /* "x", "jet" */

/* A boost of every test jet by velocity beta in [0, 1) along +x or along the
 * jet's own axis (the sum of its constituents' momenta), in the active sense
 * (p along the axis grows: p' = gamma (p + beta E)); built from the rapidity
 * atanh(beta).  beams: the beam nodes are boosted too (else left fixed). */
typedef struct eqg_tt_boost {
  double beta;
  eqg_tt_axis axis;
  bool beams;
} eqg_tt_boost;

/* scores[i] = l1 - l0 of jet i of s (eval mode), in batches of `batch`; *loss
 * (may be NULL) the mean cross-entropy.  boost NULL: none. */
eqg_status eqg_tt_predict(eqg_real *scores, double *loss, eqg_model *m,
                          const eqg_tt_inputs *in, const eqg_tt_split *s,
                          const eqg_tt_boost *boost, size_t batch);

/* ---- training ------------------------------------------------------------------------ */

typedef struct eqg_tt_result eqg_tt_result;

typedef enum eqg_tt_schedule {
  EQG_TT_SCHEDULE_COSINE,
  EQG_TT_SCHEDULE_LORENTZNET,
  EQG_TT_SCHEDULE_COUNT
} eqg_tt_schedule;

/* "cosine", "lorentznet" */
extern const char *const eqg_tt_schedule_name[EQG_TT_SCHEDULE_COUNT];

typedef struct eqg_tt_config {
  eqg_tt_model_spec model;
  eqg_tt_inputs inputs;
  size_t max_constituents; /* recorded (the splits are already cut) */
  unsigned long seed;
  double lr;               /* 1e-3 */
  double weight_decay;     /* AdamW, 0.01 */
  size_t batch;            /* 32 */
  long epochs;
  long warmup;             /* epochs of linear warm-up (< epochs) */
  eqg_tt_schedule schedule;
  double augment_beta;     /* 0: off */
  bool augment_beams;
  const char *checkpoint;  /* running state, every epoch (NULL: none) */
  const char *best;        /* best-validation checkpoint (NULL: none) */
  bool resume;
  long stop_after;         /* > 0: stop after this epoch, as if killed */
  const char *program;
  const char *label;       /* progress bar */
  bool table;              /* one line per epoch on stdout */
  /* after every epoch (checkpoint written), with the history so far */
  eqg_status (*on_epoch)(void *ctx, const eqg_tt_result *partial);
  void *ctx;
} eqg_tt_config;

/* Defaults above; epochs 35, warm-up 5 (LorentzNet), inputs per model. */
eqg_tt_config eqg_tt_config_default(eqg_tt_model_kind model);

struct eqg_tt_result {
  size_t n, cap;           /* epochs recorded */
  double *epoch, *lr, *train_loss, *train_acc, *valid_loss, *valid_acc, *valid_auc;
  long best_epoch;         /* 0 before the first epoch */
  double best_valid_acc;
  long epoch_done, step, start_epoch;
  bool stopped;            /* stop_after reached */
  size_t n_params;
  double train_seconds;    /* summed over every process of the run */
  double seconds_this_run;
  double step_seconds;     /* this run: mean wall time of one training step */
  uint64_t digest;         /* FNV-1a 64 of the final (not best) parameters */
  char model_config[1024];
  /* test set, evaluated with the best parameters (tested = true) */
  bool tested;
  double test_loss;
  eqg_binary_metrics test;
  double ant30, ant50;     /* (1/eps_B interpolated at 0.3, 0.5) / parameters */
  size_t n_test;
  eqg_real *test_scores;   /* (n_test) */
  eqg_index *test_labels;  /* (n_test) */
};

void eqg_tt_result_clear(eqg_tt_result *r);

/* Train cfg->model on train, validating on valid each epoch, then test the
 * best parameters on test (skipped when stopped early).  *res zeroed first. */
eqg_status eqg_tt_train(eqg_tt_result *res, const eqg_tt_config *cfg,
                        const eqg_tt_split *train, const eqg_tt_split *valid,
                        const eqg_tt_split *test);

/* A model and its inputs from a best checkpoint (or a running one: then its
 * current parameters); *max_constituents as trained. */
eqg_status eqg_tt_model_load(const char *path, eqg_model **m, eqg_tt_model_spec *spec,
                             eqg_tt_inputs *in, size_t *max_constituents);

/* Write the ROC of scores/labels as CSV "eps_s,eps_b,threshold" (sklearn's
 * dropped curve). */
eqg_status eqg_tt_write_roc_csv(const char *path, const eqg_real *scores,
                                const eqg_index *labels, size_t n);

#endif
