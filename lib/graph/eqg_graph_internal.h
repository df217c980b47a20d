/* eqg_graph_internal.h: shared by the graph sources, not installed. */
#ifndef EQG_GRAPH_INTERNAL_H
#define EQG_GRAPH_INTERNAL_H

#include "graph/eqg_graph.h"

/* b->counts[0 .. n_graphs-1] are filled (capacity reserved): check them, grow
 * the node arrays and set n_graphs, n_nodes, offsets and node_graph; empty the
 * edge list.  Node values are left as they were. */
eqg_status eqg_graph_layout(eqg_graph_batch *b, size_t n_graphs);

/* b->src, b->dst hold b->n_edges edges: recompute in_degree, drop edge
 * attributes and record whether self loops may occur. */
void eqg_graph_finish_edges(eqg_graph_batch *b, bool self_loops);

/* Empty the batch (G = N = E = A = 0), keeping its capacity; returns s so a
 * failing builder can `return eqg_graph_fail(b, s);` after eqg_error_set. */
eqg_status eqg_graph_fail(eqg_graph_batch *b, eqg_status s);

/* EQG_ENONFINITE naming the first non-finite value of a (rows, cols) block,
 * or EQG_OK. */
eqg_status eqg_graph_check_finite(const eqg_real *a, size_t rows, size_t cols,
                                  const char *what);

#endif
