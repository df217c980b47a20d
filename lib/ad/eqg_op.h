/* eqg_op.h: op types and the registry of every differentiable operation.
 *
 * An op type is a const struct with a name, a forward and a backward.  The
 * public constructor (eqg_matmul, eqg_relu, ... in eqg_ops.h) checks shapes,
 * allocates the output on the tape and records an eqg_node; forward then fills
 * node->out from node->in, writing EVERY element (the output is allocated
 * uninitialised; a forward that accumulates zeroes its output first).
 * backward reads node->out->grad and ACCUMULATES (+=) into every
 * node->in[k]->grad that is not NULL (the sweep has zeroed it: see
 * eqg_tape_push).
 *
 * Every kind below has exactly one entry in eqg_op_types[] (checked at compile
 * time) and one gradient-check case in tests/test_ad_gradcheck.c (checked at
 * run time), so an op cannot exist without a passing finite-difference test. */
#ifndef EQG_OP_H
#define EQG_OP_H

#include "core/eqg_tensor.h"

enum { EQG_OP_MAX_IN = 4 };

typedef enum eqg_op_kind {
  /* linear algebra and arithmetic (eqg_ops_arith.c) */
  EQG_OP_MATMUL,          /* C = op(A) op(B), either transposed */
  /* fused affine maps with an activation (eqg_ops_fused.c) */
  EQG_OP_AFFINE,          /* f(x W + b), b none, one row (broadcast) or a full matrix */
  EQG_OP_EDGE_AFFINE,     /* f(u[dst] + v[src] + z W): an edge MLP's first layer */
  EQG_OP_ADD,             /* a + b, b broadcast over rows/cols/all */
  EQG_OP_SUB,
  EQG_OP_MUL,
  EQG_OP_DIV,
  EQG_OP_SCALE,           /* s * x */
  EQG_OP_ADD_SCALAR,      /* x + s */
  /* reductions and reshaping (eqg_ops_shape.c) */
  EQG_OP_SUM,             /* over rows, cols or all */
  EQG_OP_MEAN,
  EQG_OP_CONCAT_COLS,     /* [a | b] */
  EQG_OP_SLICE_COLS,      /* x[:, c0:c0+n] */
  EQG_OP_GATHER_ROWS,     /* y[e] = x[idx[e]]        (node -> edge) */
  EQG_OP_SCATTER_ADD_ROWS,/* y[idx[e]] += x[e]       (segment sum) */
  EQG_OP_SEGMENT_MEAN,    /* y[s] = mean_{idx[e]=s} x[e], empty segment -> 0 */
  /* elementwise functions (eqg_ops_unary.c) */
  EQG_OP_RELU,
  EQG_OP_LEAKY_RELU,
  EQG_OP_SILU,
  EQG_OP_SIGMOID,
  EQG_OP_TANH,
  EQG_OP_SOFTPLUS,
  EQG_OP_SHIFTED_SOFTPLUS,/* ln(0.5 e^x + 0.5) */
  EQG_OP_EXP,
  EQG_OP_LOG,
  EQG_OP_SQRT,
  EQG_OP_ABS,
  EQG_OP_CLAMP,
  EQG_OP_PSI,             /* sgn(z) log(1 + |z|) */
  /* geometry (eqg_ops_geom.c) */
  EQG_OP_BILINEAR_ROWS,   /* y_i = x_i^T G z_i, G Euclidean, Minkowski or a tensor */
  EQG_OP_SQNORM_ROWS,     /* y_i = |x_i|^2 (Euclidean) */
  /* normalisation and regularisation (eqg_ops_norm.c) */
  EQG_OP_DROPOUT,
  EQG_OP_BATCHNORM,
  EQG_OP_LAYERNORM,
  /* losses (eqg_ops_loss.c) */
  EQG_OP_MSE,
  EQG_OP_BCE_LOGITS,
  EQG_OP_SOFTMAX_XENT,
  EQG_OP_COUNT
} eqg_op_kind;

typedef struct eqg_node eqg_node;

typedef struct eqg_op_type {
  const char *name;
  void (*forward)(eqg_node *n);
  void (*backward)(const eqg_node *n);
} eqg_op_type;

/* One recorded application of an op.  Attribute slots are op-specific and
 * documented in the op's source file. */
struct eqg_node {
  const eqg_op_type *type;
  eqg_op_kind kind;
  eqg_tensor *out;
  eqg_tensor *in[EQG_OP_MAX_IN];
  int n_in;
  const eqg_index *index;   /* gather/scatter/labels: n_index entries */
  size_t n_index;
  eqg_real r[4];            /* real attributes (scale, slope, bounds, eps ...) */
  long i[4];                /* integer attributes (axis, transpose flags ...) */
  void *aux;                /* saved state in the tape arena or caller-owned state */
};

extern const eqg_op_type *const eqg_op_types[EQG_OP_COUNT];

/* The op types, one per kind (defined next to their kernels). */
extern const eqg_op_type eqg_op_matmul, eqg_op_affine, eqg_op_edge_affine, eqg_op_add,
  eqg_op_sub, eqg_op_mul, eqg_op_div, eqg_op_scale, eqg_op_add_scalar, eqg_op_sum, eqg_op_mean,
  eqg_op_concat_cols, eqg_op_slice_cols, eqg_op_gather_rows,
  eqg_op_scatter_add_rows, eqg_op_segment_mean, eqg_op_relu, eqg_op_leaky_relu,
  eqg_op_silu, eqg_op_sigmoid, eqg_op_tanh, eqg_op_softplus,
  eqg_op_shifted_softplus, eqg_op_exp, eqg_op_log, eqg_op_sqrt, eqg_op_abs,
  eqg_op_clamp, eqg_op_psi, eqg_op_bilinear_rows, eqg_op_sqnorm_rows,
  eqg_op_dropout, eqg_op_batchnorm, eqg_op_layernorm, eqg_op_mse,
  eqg_op_bce_logits, eqg_op_softmax_xent;

#endif
