/* eqg_graph.h: a batch of graphs, concatenated into one node and edge list.
 *
 * Graph g owns the node rows offsets[g] .. offsets[g+1]-1 (counts[g] of them;
 * 0 is allowed: an empty graph has no nodes and no edges).  Edge e carries a
 * message from src[e] = j to dst[e] = i: node i RECEIVES from node j, so
 *
 *   m_ij  = phi(x[dst], x[src]) = phi(eqg_gather_rows(x, dst), eqg_gather_rows(x, src))
 *   m_i   = sum_{e: dst[e] = i} m_e = eqg_scatter_add_rows(m, dst, N)
 *   r_ij  = x_i - x_j = x[dst] - x[src]
 *
 * and graph-level readouts pool nodes by node_graph:
 *
 *   y_g = eqg_scatter_add_rows(h, node_graph, G)   (sum)
 *   y_g = eqg_segment_mean(h, node_graph, G)       (mean, 0 for an empty graph)
 *
 * Edges never cross graphs.  The builders (eqg_graph_edges.h) emit edges
 * grouped by receiver: dst is non-decreasing.
 *
 * A batch owns its arrays and grows them on demand; rebuilding a batch of the
 * same or smaller size does not allocate.  The index arrays are read by tape
 * ops during the backward pass, so do not rebuild a batch between a forward
 * that used it and the matching backward.
 *
 * Every function that changes a batch and fails leaves it empty (G = N = E =
 * 0, capacity kept) with a message recorded (eqg_error_message()). */
#ifndef EQG_GRAPH_H
#define EQG_GRAPH_H

#include "core/eqg_core.h"

typedef struct eqg_graph_batch {
  /* layout, fixed at allocation */
  size_t dim;           /* D: coordinate dimension, 3 (space) or 4 (E, px, py, pz) */
  size_t n_scalars;     /* F: scalars per node (0: h is unused) */
  bool has_v;           /* every node also carries a vector v of dimension D */

  /* sizes of the current content */
  size_t n_graphs;      /* G */
  size_t n_nodes;       /* N = sum_g counts[g] */
  size_t n_edges;       /* E */
  size_t n_edge_attr;   /* A: attributes per edge (0: edge_attr unused) */
  bool self_loops;      /* false: the edge list promises src[e] != dst[e] */

  /* nodes */
  eqg_real *x;          /* (N, D) coordinates */
  eqg_real *v;          /* (N, D) extra vectors (e.g. velocities); NULL unless has_v */
  eqg_real *h;          /* (N, F) scalars; NULL when F = 0 */
  eqg_index *node_graph;/* (N) graph of each node: segment ids for readouts */
  eqg_index *in_degree; /* (N) number of edges with dst[e] = i */
  /* graphs */
  eqg_index *counts;    /* (G) nodes per graph */
  eqg_index *offsets;   /* (G + 1) first node row of each graph; offsets[G] = N */
  /* edges: message from src[e] = j to dst[e] = i */
  eqg_index *src;       /* (E) sender j */
  eqg_index *dst;       /* (E) receiver i */
  eqg_real *edge_attr;  /* (E, A) */

  /* allocated capacity (rows; edge_attr in values) */
  size_t cap_graphs, cap_nodes, cap_edges, cap_edge_attr;
} eqg_graph_batch;

/* Empty batch with coordinates of dimension dim (3 or 4), n_scalars scalars
 * and, if with_v, one extra D-vector per node.  NULL (with message) on bad
 * dim or ENOMEM. */
eqg_graph_batch *eqg_graph_batch_alloc(size_t dim, size_t n_scalars, bool with_v);
void eqg_graph_batch_free(eqg_graph_batch *b);   /* NULL is fine */

/* Grow the arrays to hold at least this many graphs, nodes and edges (the
 * builders do this themselves; call it to allocate once up front). */
eqg_status eqg_graph_batch_reserve(eqg_graph_batch *b, size_t n_graphs,
                                   size_t n_nodes, size_t n_edges);

/* Set G graphs of counts[g] >= 0 nodes.  Node arrays are zeroed for the caller
 * to fill; node_graph and offsets are set; the edge list is emptied. */
eqg_status eqg_graph_batch_set_counts(eqg_graph_batch *b, size_t n_graphs,
                                      const eqg_index *counts);

/* set_counts, then copy node data packed graph after graph:
 * x (N, D) and v (N, D) (v non-NULL iff the batch has v), h (N, F) (non-NULL
 * iff F > 0), N = sum counts.  Non-finite values are rejected. */
eqg_status eqg_graph_batch_set_nodes(eqg_graph_batch *b, size_t n_graphs,
                                     const eqg_index *counts, const eqg_real *x,
                                     const eqg_real *v, const eqg_real *h);

/* Give every current edge n_attr attributes, zeroed, in b->edge_attr
 * (E, n_attr) for the caller to fill (e.g. a_ij = q_i q_j from src/dst).
 * Rebuilding the edges resets A to 0. */
eqg_status eqg_graph_batch_set_edge_attr_width(eqg_graph_batch *b, size_t n_attr);

/* Check every invariant above: counts >= 0 and summing to N, offsets and
 * node_graph consistent, src/dst in [0, N) and within one graph, no self loop
 * unless self_loops, in_degree matching dst, x, v, h and edge_attr finite.
 * EQG_OK or the first violation (EINVAL, ERANGE or ENONFINITE) with a message. */
eqg_status eqg_graph_batch_validate(const eqg_graph_batch *b);

/* Segment ids for graph-level readouts: (N) node -> graph, use with G rows. */
static inline const eqg_index *eqg_graph_batch_node_graph(const eqg_graph_batch *b)
{
  return b->node_graph;
}

#endif
