/* eqg_ops.h: the differentiable operations, as tape constructors.
 *
 * Each returns the output tensor (in the tape arena), or NULL after recording
 * a sticky error on the tape (see eqg_tape.h).  Shapes are (rows, cols).
 * Broadcasting (add/sub/mul/div): `a` is (n, m); `b` is (n, m), (1, m) (one row
 * reused for every row), (n, 1) (one value per row) or (1, 1). */
#ifndef EQG_OPS_H
#define EQG_OPS_H

#include "ad/eqg_tape.h"

typedef enum eqg_axis {
  EQG_AXIS_ROWS,   /* reduce over rows:  (n, m) -> (1, m) */
  EQG_AXIS_COLS,   /* reduce over cols:  (n, m) -> (n, 1) */
  EQG_AXIS_ALL     /* reduce everything: (n, m) -> (1, 1) */
} eqg_axis;

typedef enum eqg_metric {
  EQG_METRIC_EUCLIDEAN,  /* G = I */
  EQG_METRIC_MINKOWSKI,  /* G = diag(1, -1, -1, -1); needs 4 columns */
  EQG_METRIC_GENERAL     /* G given as a (d, d) tensor, may need a gradient */
} eqg_metric;

/* C = op(A) op(B); op(X) = X^T when the flag is set.  Through CBLAS dgemm. */
eqg_tensor *eqg_matmul(eqg_tape *t, eqg_tensor *a, bool trans_a,
                       eqg_tensor *b, bool trans_b);

/* Activations the fused affine ops below apply to their result (the same
 * functions as the elementwise ops of those names). */
typedef enum eqg_fuse_act {
  EQG_FUSE_NONE,        /* identity */
  EQG_FUSE_RELU,
  EQG_FUSE_LEAKY_RELU,  /* `slope` for x <= 0 */
  EQG_FUSE_SILU,
  EQG_FUSE_SIGMOID,
  EQG_FUSE_TANH,
  EQG_FUSE_ACT_COUNT
} eqg_fuse_act;

/* y (n, out) = f(x (n, in) W (in, out) + b): one op instead of matmul, add and
 * an activation.  b is NULL, (1, out) (added to every row) or (n, out).  The
 * bias is written into y and dgemm accumulates x W onto it; f runs in place
 * and, when a gradient will flow, saves f' at the pre-activation (n, out) for
 * the backward, which turns y's gradient into the pre-activation's IN PLACE
 * (y->grad no longer holds dL/dy after the backward sweep). */
eqg_tensor *eqg_affine(eqg_tape *t, eqg_tensor *x, eqg_tensor *w, eqg_tensor *b,
                       eqg_fuse_act act, eqg_real slope);

/* y (E, out) = f(u[dst[e]] + v[src[e]] + z_e W) for e < E = n_edges: the first
 * Linear of an edge MLP on [h_i, h_j, z_ij] from per-node projections
 * u = h W_i + b, v = h W_j (N, out), without materialising the two gathers or
 * their sum.  z (E, K) and W (K, out) are both NULL (no edge scalars) or both
 * given.  dst, src (E) index rows of u and v and must outlive the backward.
 * f and its gradient as eqg_affine. */
eqg_tensor *eqg_edge_affine(eqg_tape *t, eqg_tensor *u, const eqg_index *dst, eqg_tensor *v,
                            const eqg_index *src, size_t n_edges, eqg_tensor *z, eqg_tensor *w,
                            eqg_fuse_act act, eqg_real slope);

eqg_tensor *eqg_add(eqg_tape *t, eqg_tensor *a, eqg_tensor *b);
eqg_tensor *eqg_sub(eqg_tape *t, eqg_tensor *a, eqg_tensor *b);
eqg_tensor *eqg_mul(eqg_tape *t, eqg_tensor *a, eqg_tensor *b);
eqg_tensor *eqg_div(eqg_tape *t, eqg_tensor *a, eqg_tensor *b);
eqg_tensor *eqg_scale(eqg_tape *t, eqg_tensor *x, eqg_real s);
eqg_tensor *eqg_add_scalar(eqg_tape *t, eqg_tensor *x, eqg_real s);

eqg_tensor *eqg_sum(eqg_tape *t, eqg_tensor *x, eqg_axis axis);
eqg_tensor *eqg_mean(eqg_tape *t, eqg_tensor *x, eqg_axis axis);

/* (n, ma) | (n, mb) -> (n, ma + mb) */
eqg_tensor *eqg_concat_cols(eqg_tape *t, eqg_tensor *a, eqg_tensor *b);
/* (n, m) -> (n, count): columns first .. first + count - 1 */
eqg_tensor *eqg_slice_cols(eqg_tape *t, eqg_tensor *x, size_t first, size_t count);

/* (n, m) -> (n_idx, m): y[e] = x[idx[e]].  idx must outlive the backward. */
eqg_tensor *eqg_gather_rows(eqg_tape *t, eqg_tensor *x, const eqg_index *idx, size_t n_idx);
/* (E, m) -> (n_out, m): y[s] = sum_{e: idx[e] = s} x[e]; E = x->rows. */
eqg_tensor *eqg_scatter_add_rows(eqg_tape *t, eqg_tensor *x, const eqg_index *idx, size_t n_out);
/* Same with the mean over each segment; empty segments give 0, never NaN. */
eqg_tensor *eqg_segment_mean(eqg_tape *t, eqg_tensor *x, const eqg_index *idx, size_t n_out);

eqg_tensor *eqg_relu(eqg_tape *t, eqg_tensor *x);
eqg_tensor *eqg_leaky_relu(eqg_tape *t, eqg_tensor *x, eqg_real slope);
eqg_tensor *eqg_silu(eqg_tape *t, eqg_tensor *x);
eqg_tensor *eqg_sigmoid(eqg_tape *t, eqg_tensor *x);
eqg_tensor *eqg_tanh(eqg_tape *t, eqg_tensor *x);
eqg_tensor *eqg_softplus(eqg_tape *t, eqg_tensor *x);
eqg_tensor *eqg_shifted_softplus(eqg_tape *t, eqg_tensor *x);  /* ln(0.5 e^x + 0.5) */
eqg_tensor *eqg_exp(eqg_tape *t, eqg_tensor *x);
eqg_tensor *eqg_log(eqg_tape *t, eqg_tensor *x);
eqg_tensor *eqg_sqrt(eqg_tape *t, eqg_tensor *x);
eqg_tensor *eqg_abs(eqg_tape *t, eqg_tensor *x);
eqg_tensor *eqg_clamp(eqg_tape *t, eqg_tensor *x, eqg_real lo, eqg_real hi);
eqg_tensor *eqg_psi(eqg_tape *t, eqg_tensor *x);                /* sgn(z) log(1+|z|) */

/* (n, d), (n, d) -> (n, 1): y_i = x_i^T G z_i.  G is NULL unless metric is
 * EQG_METRIC_GENERAL, where it is a (d, d) tensor that may carry a gradient
 * (the gradient is the unsymmetrised sum_i g_i x_i z_i^T). */
eqg_tensor *eqg_bilinear_rows(eqg_tape *t, eqg_tensor *x, eqg_tensor *z,
                              eqg_metric metric, eqg_tensor *G);
/* (n, d) -> (n, 1): y_i = sum_k x_ik^2 */
eqg_tensor *eqg_sqnorm_rows(eqg_tape *t, eqg_tensor *x);

/* Inverted dropout with keep probability 1 - p; identity when !t->training. */
eqg_tensor *eqg_dropout(eqg_tape *t, eqg_tensor *x, eqg_real p);

/* Running statistics of a batch norm (caller-owned, e.g. parameter buffers). */
typedef struct eqg_batchnorm_state {
  eqg_real *running_mean;  /* (F) */
  eqg_real *running_var;   /* (F), unbiased, as PyTorch */
  eqg_real momentum;       /* PyTorch convention: new = (1-m) old + m batch; 0.1 */
  eqg_real eps;            /* 1e-5 */
} eqg_batchnorm_state;

/* (n, F) -> (n, F); gamma, beta are (1, F).  Training: batch statistics
 * (biased variance) and an update of the running ones; eval: running ones. */
eqg_tensor *eqg_batchnorm(eqg_tape *t, eqg_tensor *x, eqg_tensor *gamma,
                          eqg_tensor *beta, eqg_batchnorm_state *state);
/* (n, F) -> (n, F): per-row normalisation, then gamma * . + beta ((1, F)). */
eqg_tensor *eqg_layernorm(eqg_tape *t, eqg_tensor *x, eqg_tensor *gamma,
                          eqg_tensor *beta, eqg_real eps);

/* Mean over all elements of (a - b)^2 -> (1, 1). */
eqg_tensor *eqg_mse(eqg_tape *t, eqg_tensor *a, eqg_tensor *b);
/* logits (n, 1), targets (n, 1) in [0, 1] (no gradient to targets) -> (1, 1)
 * mean of the numerically stable BCE-with-logits. */
eqg_tensor *eqg_bce_logits(eqg_tape *t, eqg_tensor *logits, eqg_tensor *targets);
/* logits (n, C), labels[n] in [0, C) -> (1, 1) mean softmax cross-entropy. */
eqg_tensor *eqg_softmax_xent(eqg_tape *t, eqg_tensor *logits, const eqg_index *labels);

#endif
