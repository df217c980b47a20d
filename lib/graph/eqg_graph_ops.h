/* eqg_graph_ops.h: message-passing primitives bound to a batch's index arrays.
 *
 * Thin tape constructors over eqg_gather_rows / eqg_scatter_add_rows /
 * eqg_segment_mean that also check the row count of their input (N nodes or
 * E edges), which the raw ops cannot know.  Edge e: src[e] = j -> dst[e] = i.
 * The batch must not be rebuilt before the backward pass (the ops keep
 * pointers to its index arrays). */
#ifndef EQG_GRAPH_OPS_H
#define EQG_GRAPH_OPS_H

#include "ad/eqg_tape.h"
#include "graph/eqg_graph.h"

/* (N, m) -> (E, m): y[e] = x[src[e]], the sender's row x_j */
eqg_tensor *eqg_graph_gather_src(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *x);
/* (N, m) -> (E, m): y[e] = x[dst[e]], the receiver's row x_i */
eqg_tensor *eqg_graph_gather_dst(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *x);
/* (E, m) -> (N, m): y_i = sum_{e: dst[e] = i} msg[e] */
eqg_tensor *eqg_graph_sum_to_dst(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *msg);
/* (E, m) -> (N, m): y_i = mean over the in_degree[i] incoming edges, 0 if none */
eqg_tensor *eqg_graph_mean_to_dst(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *msg);
/* (N, m) -> (G, m): y_g = sum of the rows of graph g */
eqg_tensor *eqg_graph_sum_nodes(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *x);
/* (N, m) -> (G, m): y_g = mean of the rows of graph g, 0 for an empty graph */
eqg_tensor *eqg_graph_mean_nodes(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *x);

#endif
