/* eqg_mlp.h: multilayer perceptrons built from a widths array.
 *
 * widths = (in, h1, ..., h_{L-1}, out) gives L linear layers.  Hidden layer k
 * (k < L - 1) computes
 *     h = dropout(act(norm(h W_k + b_k)))
 * and the last layer h W_{L-1} + b_{L-1}, followed by act only if act_last
 * (no norm and no dropout on the last layer).  Train/eval mode is the tape's
 * `training` flag: dropout is active and batch norm uses (and updates)
 * batch statistics only in training mode; in eval mode batch norm uses the
 * running statistics, so each row's output is independent of the batch.
 *
 * Parameters of layer k in the block (prefix "mlp", k = 0, 1, ...):
 *     mlp.<k>.weight (in_k, out_k), mlp.<k>.bias (1, out_k)       linear
 *     mlp.<k>.gamma (1, out_k) = 1, mlp.<k>.beta (1, out_k) = 0   norm affine
 *     mlp.<k>.running_mean (1, out_k) = 0,                        batch norm
 *     mlp.<k>.running_var (1, out_k) = 1                          buffers
 * The linear layers are initialised in order k = 0, 1, ... from the rng (see
 * eqg_linear.h); norm parameters take no draws. */
#ifndef EQG_MLP_H
#define EQG_MLP_H

#include "nn/eqg_linear.h"

typedef enum eqg_activation {
  EQG_ACT_NONE,
  EQG_ACT_RELU,
  EQG_ACT_LEAKY_RELU,        /* x > 0 ? x : slope x */
  EQG_ACT_SILU,              /* x sigmoid(x) */
  EQG_ACT_TANH,
  EQG_ACT_SIGMOID,
  EQG_ACT_SOFTPLUS,          /* ln(1 + e^x) */
  EQG_ACT_SHIFTED_SOFTPLUS,  /* ln(0.5 e^x + 0.5), SchNet */
  EQG_ACT_COUNT
} eqg_activation;

/* "none", "relu", "leaky_relu", "silu", "tanh", "sigmoid", "softplus",
 * "shifted_softplus"; find returns -1 if unknown. */
const char *eqg_activation_name(eqg_activation a);
int eqg_activation_find(const char *name);

/* x -> act(x) on the tape (x itself for EQG_ACT_NONE); slope: leaky ReLU only. */
eqg_tensor *eqg_activation_apply(eqg_tape *t, eqg_activation a, eqg_real slope, eqg_tensor *x);

/* The fused form of `a` for the affine ops (eqg_ops.h), or -1 if it has
 * none (softplus, shifted softplus, or an unknown value). */
int eqg_activation_fused(eqg_activation a);

/* act(x W + b) for the Linear l: eqg_linear_forward_fused when the
 * activation has a fused form, else eqg_linear_forward then
 * eqg_activation_apply. */
eqg_tensor *eqg_linear_forward_act(eqg_tape *t, eqg_params *p, const eqg_linear *l,
                                   eqg_tensor *x, eqg_activation act, eqg_real slope);

typedef enum eqg_norm_kind {
  EQG_NORM_NONE,
  EQG_NORM_BATCH,   /* per-feature over the rows of the batch */
  EQG_NORM_LAYER,   /* per-row over the features */
  EQG_NORM_KIND_COUNT
} eqg_norm_kind;

const char *eqg_norm_kind_name(eqg_norm_kind k);   /* "none", "batch", "layer" */
int eqg_norm_kind_find(const char *name);

typedef struct eqg_mlp_config {
  const size_t *widths;      /* (n_widths): in, hidden..., out; all > 0 */
  size_t n_widths;           /* >= 2 */
  eqg_activation act;        /* after every hidden layer */
  eqg_real leaky_slope;      /* EQG_ACT_LEAKY_RELU: 0.01 */
  bool act_last;             /* activation after the last layer too */
  eqg_norm_kind norm;        /* after every hidden linear, before act */
  eqg_real norm_eps;         /* 1e-5 */
  eqg_real bn_momentum;      /* batch norm running statistics: 0.1 */
  eqg_real dropout;          /* drop probability after hidden activations; 0 = off */
  bool bias;                 /* linear biases: true */
  eqg_init_kind init;        /* EQG_INIT_TORCH_DEFAULT */
  eqg_real init_gain;        /* Xavier/Kaiming gain: 1 */
} eqg_mlp_config;

/* Defaults as noted above; act EQG_ACT_SILU, act_last false, no norm. */
eqg_mlp_config eqg_mlp_config_default(const size_t *widths, size_t n_widths);

typedef struct eqg_mlp_layer {
  eqg_linear lin;
  int gamma_id, beta_id;     /* norm affine (1, out), -1 without norm */
  int mean_id, var_id;       /* batch-norm buffers (1, out), -1 otherwise */
} eqg_mlp_layer;

typedef struct eqg_mlp {
  eqg_mlp_config cfg;        /* cfg.widths points at `widths` below */
  size_t *widths;            /* (n_layers + 1) owned copy */
  size_t n_layers;
  eqg_mlp_layer *layer;      /* (n_layers) */
} eqg_mlp;

/* Register the parameters under `prefix` in p and initialise them from rng.
 * NULL with a message on an invalid config or a failed add (p may then hold
 * part of the entries: discard it). */
eqg_mlp *eqg_mlp_alloc(eqg_params *p, const char *prefix, const eqg_mlp_config *cfg,
                       gsl_rng *rng);
void eqg_mlp_free(eqg_mlp *m);   /* NULL is fine */

/* x (n, in) -> (n, out).  Batch norm states point into p->buf, re-derived at
 * every call (the block may have moved since the MLP was built), and live in
 * the tape arena until the next reset. */
eqg_tensor *eqg_mlp_forward(eqg_tape *t, eqg_params *p, const eqg_mlp *m, eqg_tensor *x);

#endif
