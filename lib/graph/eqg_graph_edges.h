/* eqg_graph_edges.h: edge-list builders for a batch whose nodes are set.
 *
 * Convention (eqg_graph.h): edge e sends a message from src[e] = j to
 * dst[e] = i.  Builders emit edges grouped by receiver, receivers in node
 * order (dst non-decreasing), never across graphs, never from a node to
 * itself; they recompute in_degree and reset the edge attributes to A = 0. */
#ifndef EQG_GRAPH_EDGES_H
#define EQG_GRAPH_EDGES_H

#include "graph/eqg_graph.h"

/* Fully connected, directed, no self loops: a graph of M nodes gets M(M-1)
 * edges, ordered `for i: for j != i: (src = j, dst = i)`; in_degree = M - 1. */
eqg_status eqg_graph_batch_connect_full(eqg_graph_batch *b);

typedef enum eqg_knn_distance {
  EQG_KNN_EUCLIDEAN,  /* |x_i - x_j| over all D coordinates */
  EQG_KNN_ETA_PHI,    /* Delta R = sqrt(d_eta^2 + d_phi^2) from (E, px, py, pz); D = 4 */
  EQG_KNN_DISTANCE_COUNT
} eqg_knn_distance;

/* k nearest neighbours: node i receives from the min(k, M-1) other nodes j of
 * its graph closest to it, nearest first, equal distances broken by the lower
 * node index.  k >= 1.
 * Eta-phi: eta = asinh(pz / pT) (pseudorapidity), phi = atan2(py, px),
 * pT = hypot(px, py), d_phi wrapped to (-pi, pi].  A node with pT = 0 (a beam
 * node, say) has no direction in (eta, phi): it lies at infinite distance from
 * every node, so it is chosen only to fill k, by index. */
eqg_status eqg_graph_batch_connect_knn(eqg_graph_batch *b, int k, eqg_knn_distance dist);

/* A caller-made edge list (radius graphs, chains, ...): copies src, dst (E)
 * after checking they are in range, within one graph, and free of self loops
 * unless allow_self_loops. */
eqg_status eqg_graph_batch_set_edges(eqg_graph_batch *b, size_t n_edges,
                                     const eqg_index *src, const eqg_index *dst,
                                     bool allow_self_loops);

#endif
