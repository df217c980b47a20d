/* eqg_edge_linear.h: the first Linear of an edge MLP, applied to
 * [u_i, u_j, z_ij] without building that (E, 2F + K) concatenation (private
 * to lib/layers; header-only so that no build file changes).
 *
 * The layer is an ordinary eqg_linear Lin(2F + K -> out), registered by
 * eqg_linear_init with in = 2F + K, so names, shapes, initialisation draws and
 * checkpoints are those of a single Linear.  Its (in, out) row-major weight
 * splits by rows into three contiguous blocks,
 *
 *   W = [W_i; W_j; W_z]   W_i (F, out) acts on u_i, W_j (F, out) on u_j,
 *                         W_z (K, out) on the K edge scalars z_ij,
 *
 * so that, with i = dst[e] and j = src[e],
 *
 *   y_e = act([u_i, u_j, z_e] W + b)
 *       = act((u W_i + b)[dst[e]] + (u W_j)[src[e]] + z_e W_z).
 *
 * The node projections cost 2 N F out multiply-adds instead of E 2F out; the
 * gathers, their sum, the edge-scalar product and the activation are one
 * eqg_edge_affine op (no (E, out) intermediate but its output).  W_i, W_j and
 * W_z are VIEWS of the parameter (pointer offsets into its data and grad, in
 * the tape arena): a row block of a row-major matrix is itself a row-major
 * matrix, and the ops' backward accumulates (+=) into their inputs' grad, so
 * the three blocks' gradients land in the right rows of the one parameter
 * gradient without any copy or extra op.  The views are rebuilt at every
 * forward (the parameter block may move). */
#ifndef EQG_EDGE_LINEAR_H
#define EQG_EDGE_LINEAR_H

#include "graph/eqg_graph_ops.h"
#include "nn/eqg_mlp.h"

/* Rows first .. first + count - 1 of a (rows, cols) tensor w as a (count, cols)
 * view sharing w's data and grad (tape arena); NULL after a sticky error. */
static inline eqg_tensor *eqg_layer_row_view(eqg_tape *t, eqg_tensor *w, size_t first,
                                             size_t count)
{
  if (t->status != EQG_OK) return NULL;
  if (!w) return eqg_tape_fail(t, EQG_EINVAL, "row view: NULL tensor");
  if (first + count > w->rows)
    return eqg_tape_fail(t, EQG_ESHAPE, "row view: rows %zu .. %zu of a %zu x %zu tensor",
                         first, first + count, w->rows, w->cols);
  eqg_tensor *v = eqg_arena_push(t->arena, sizeof *v);
  if (!v) return eqg_tape_fail(t, EQG_ENOMEM, "row view: %s", eqg_error_message());
  *v = (eqg_tensor){ .rows = count, .cols = w->cols, .data = w->data + first * w->cols,
                     .grad = w->grad ? w->grad + first * w->cols : NULL };
  return v;
}

/* y (E, out) = act([u[dst], u[src], z] W + b) for the Linear l with
 * l->in = 2 u->cols + K; u (N, F) node rows, z (E, K) edge scalars (NULL iff
 * K = 0); act EQG_ACT_NONE for the affine map alone, slope for leaky ReLU.
 * Sticky tape errors as any op. */
static inline eqg_tensor *eqg_layer_edge_linear(eqg_tape *t, eqg_params *p, const eqg_linear *l,
                                                const eqg_graph_batch *b, eqg_tensor *u,
                                                eqg_tensor *z, eqg_activation act,
                                                eqg_real slope)
{
  if (t->status != EQG_OK) return NULL;
  if (!u) return eqg_tape_fail(t, EQG_EINVAL, "edge linear: NULL node input");
  if (u->rows != b->n_nodes)
    return eqg_tape_fail(t, EQG_ESHAPE, "edge linear: input has %zu rows, the batch has %zu "
                         "nodes", u->rows, b->n_nodes);
  const size_t F = u->cols, K = z ? z->cols : 0;
  if (l->w_id < 0 || (size_t)l->w_id >= p->n || l->in != 2 * F + K ||
      p->info[l->w_id].rows != l->in || p->info[l->w_id].cols != l->out)
    return eqg_tape_fail(t, EQG_ESHAPE, "edge linear: a Linear of %zu inputs cannot take "
                         "[u_i, u_j, z] with %zu + %zu + %zu columns", l->in, F, F, K);
  eqg_tensor *W = eqg_params_get(p, l->w_id);                              /* (2F + K, out) */
  eqg_tensor *W_i = eqg_layer_row_view(t, W, 0, F);                         /* (F, out) */
  eqg_tensor *bias = l->b_id >= 0 ? eqg_params_get(p, l->b_id) : NULL;      /* (1, out) */
  eqg_tensor *u_i = bias ? eqg_affine(t, u, W_i, bias, EQG_FUSE_NONE, 0)
                         : eqg_matmul(t, u, false, W_i, false);            /* (N, out) */
  eqg_tensor *u_j = eqg_matmul(t, u, false, eqg_layer_row_view(t, W, F, F), false);  /* (N, out) */
  eqg_tensor *W_z = K > 0 ? eqg_layer_row_view(t, W, 2 * F, K) : NULL;      /* (K, out) */
  const int f = eqg_activation_fused(act);
  eqg_tensor *y = eqg_edge_affine(t, u_i, b->dst, u_j, b->src, b->n_edges, K > 0 ? z : NULL,
                                  W_z, f < 0 ? EQG_FUSE_NONE : (eqg_fuse_act)f, slope);
  return f < 0 ? eqg_activation_apply(t, act, slope, y) : y;               /* (E, out) */
}

#endif
