/* eqg_model.h: embedding -> N message-passing layers -> readout.
 *
 *   inputs   x (N, D), v (N, D) or none, node scalars h0 (N, S), edge attrs a (E, A)
 *            from an eqg_graph_batch; a non-geometric family (gnn) gets
 *            [h0, x, v] as its node scalars instead, i.e. coordinates as features
 *   embed    h = h0 W_e + b_e                        (N, F)    (if cfg.embed)
 *   layers   (h, x, vec) <- layer_k(h, x, vec), k = 0 .. depth-1; the raw
 *            scalars h0 are passed to every block as s if cfg.scalars_to_blocks;
 *            the last block skips its x update if !cfg.last_updates_x
 *   readout  EQG_TASK_GRAPH:  y_g = MLP(pool_{i in g} h_i)      (G, n_out)  invariant
 *            EQG_TASK_NODE_X: y_i = x_i (families that update x), vec_i channel 0
 *                             (vecnet), or MLP(h_i) -> D (others: not equivariant)
 *
 * Parameters are named "embed.*", "layer<k>.*", "readout.*" / "decoder.*". */
#ifndef EQG_MODEL_H
#define EQG_MODEL_H

#include "layers/eqg_layer.h"

typedef enum eqg_model_task {
  EQG_TASK_GRAPH,   /* n_out invariant numbers per graph (logits, regression) */
  EQG_TASK_NODE_X   /* D equivariant numbers per node (positions, four-vectors) */
} eqg_model_task;

typedef enum eqg_pool { EQG_POOL_MEAN, EQG_POOL_SUM } eqg_pool;

typedef struct eqg_model_config {
  const eqg_layer_type *family;
  eqg_layer_config layer;     /* dim, width, n_edge_attr, ...; layer.n_scalars is set
                                 from n_in when scalars_to_blocks */
  size_t depth;               /* layers */
  size_t n_in;                /* node scalars in the batch (b->n_scalars) */
  bool with_v;                /* the batch carries velocities v (b->has_v) */
  bool embed;                 /* Linear(n_in' -> width); false: h is not used (rf) */
  bool scalars_to_blocks;     /* LorentzNet: raw scalars fed to every block */
  bool last_updates_x;        /* LorentzNet: false */
  eqg_model_task task;
  size_t n_out;               /* graph task: outputs per graph */
  eqg_pool pool;
  eqg_activation readout_act;
  eqg_real readout_dropout;   /* LorentzNet: 0.2 */
} eqg_model_config;

/* A neutral configuration: embedding, `depth` layers of `width`, mean pool,
 * readout MLP width -> width -> n_out with the layer activation. */
eqg_model_config eqg_model_config_default(const eqg_layer_type *family, size_t dim,
                                          size_t width, size_t depth, eqg_model_task task);

/* Published configurations, by name:
 *   "lorentznet"  LGEB x 6, width 72, 2 input scalars, c = 0.005, ReLU,
 *                 readout Lin-ReLU-Dropout(0.2)-Lin(-> 2)      224,072 parameters
 *   "egnn_nbody"  EGNN velocity variant x 4, width 64, |v| input, edge attrs
 *                 [q_i q_j, |x_i - x_j|^2], output x           134,020 parameters
 *   "gnn_nbody"   generic GCL x 4, width 64, input [x, v], edge attr q_i q_j,
 *                 decoder Lin-SiLU-Lin(-> 3)                   104,387 parameters
 *   "rf_nbody"    radial field x 4, width 64, edge attrs as egnn, output x
 * Top-tagging baselines (our sizes, trainable on two cores), two node scalars
 * [psi(m_i), beam flag], readout Lin-act-Lin(-> 2), mean pooling unless noted:
 *   "egnn_top"        EGNN x 4, width 64, SiLU, four-momenta as points of R^4
 *                     (Euclidean |x_i - x_j|^2), no x update in the last block
 *                                                              116,738 parameters
 *   "egnn_minkowski_top"  the same with the Minkowski metric: d2_ij =
 *                     (p_i - p_j)^2, Lorentz-equivariant (ablation) 116,738
 *   "gnn_top"         generic GCL x 4, width 64, SiLU, sum aggregation (as the
 *                     EGNN reference code's GCL), [scalars, x] as features
 *                                                              104,066 parameters
 *   "pfn_top"         deepsets x 2 (plain ReLU blocks), width 128, SUM pooling:
 *                     a PFN                                     83,714 parameters
 * The non-geometric presets (gnn_top, pfn_top, particlenet_top) take
 * whatever four node coordinates the caller gives as plain features; for top
 * tagging they should be the jet-relative, standardised ones of the reference
 * PFN / ParticleNet inputs (experiments/common/eqg_toptag_train.h,
 * eqg_tt_features: the toptag default), not raw four-momenta, from which a
 * non-equivariant network has to learn the jet mass as E^2 - |p|^2 of large
 * numbers (issue 5 follow-up: 0.63 accuracy after 280 steps instead of 0.88).
 *   "particlenet_top" edgeconv x 3, width 64, ReLU, readout dropout 0.1 (the
 *                     edges are the caller's: eta-phi kNN)      67,714 parameters
 *   "vecnet_top"      vecnet x 4, width 64, ReLU, 4 vector channels, fraction
 *                     0.5 equivariant (set layer.equivariant_fraction), Minkowski,
 *                     c = 0.005, scalars to every block        112,034 parameters
 * EQG_EINVAL with the list of names for an unknown one. */
eqg_status eqg_model_config_preset(eqg_model_config *cfg, const char *name);

typedef struct eqg_model {
  eqg_model_config cfg;
  eqg_params *params;         /* owned */
  eqg_linear embed;           /* if cfg.embed */
  void **layers;              /* (depth) family objects */
  eqg_mlp *head;              /* readout (graph) or decoder (node, no coords) or NULL */
} eqg_model;

/* Build and initialise from rng (a fixed order of draws: embed, layers, head).
 * NULL with a message on a bad configuration. */
eqg_model *eqg_model_alloc(const eqg_model_config *cfg, gsl_rng *rng);
void eqg_model_free(eqg_model *m);   /* NULL is fine */

size_t eqg_model_param_count(const eqg_model *m);

/* One line describing the configuration ("family=egnn dim=3 width=64 ..."),
 * stored in checkpoints; returns the length snprintf would write. */
int eqg_model_describe(const eqg_model *m, char *buf, size_t n);

/* The model's inputs as tape leaves built from the batch (no gradients). */
eqg_status eqg_model_inputs(eqg_tape *t, const eqg_model *m, const eqg_graph_batch *b,
                            eqg_layer_io *io);

/* Forward from given inputs io (x, v, h = raw node scalars h0 or NULL, a);
 * io is consumed.  Returns (G, n_out) or (N, D), or NULL (tape error). */
eqg_tensor *eqg_model_forward_io(eqg_tape *t, eqg_model *m, const eqg_graph_batch *b,
                                 eqg_layer_io io);

/* eqg_model_inputs + eqg_model_forward_io. */
eqg_tensor *eqg_model_forward(eqg_tape *t, eqg_model *m, const eqg_graph_batch *b);

#endif
