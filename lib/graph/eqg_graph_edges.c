/* eqg_graph_edges.c: fully connected and caller-made edge lists. */
#include "graph/eqg_graph_edges.h"
#include "graph/eqg_graph_internal.h"

#include <string.h>

eqg_status eqg_graph_batch_connect_full(eqg_graph_batch *b)
{
  size_t n_edges = 0;
  for (size_t g = 0; g < b->n_graphs; g++) {
    size_t m = (size_t)b->counts[g];
    n_edges += m * (m ? m - 1 : 0);
  }
  eqg_status s = eqg_graph_batch_reserve(b, 0, 0, n_edges);
  if (s != EQG_OK) return s;
  eqg_index *src = b->src, *dst = b->dst;
  size_t e = 0;
  for (size_t g = 0; g < b->n_graphs; g++) {
    eqg_index lo = b->offsets[g], hi = b->offsets[g + 1];
    for (eqg_index i = lo; i < hi; i++)
      for (eqg_index j = lo; j < hi; j++) {
        if (j == i) continue;
        src[e] = j;
        dst[e] = i;
        e++;
      }
  }
  EQG_ASSERT(e == n_edges);
  b->n_edges = n_edges;
  eqg_graph_finish_edges(b, false);
  return EQG_OK;
}

eqg_status eqg_graph_batch_set_edges(eqg_graph_batch *b, size_t n_edges,
                                     const eqg_index *src, const eqg_index *dst,
                                     bool allow_self_loops)
{
  if (n_edges && (!src || !dst))
    return eqg_graph_fail(b, eqg_error_set(EQG_EINVAL, "graph batch: src or dst is NULL"));
  size_t n = b->n_nodes;
  for (size_t e = 0; e < n_edges; e++) {
    eqg_index j = src[e], i = dst[e];
    if (j < 0 || (size_t)j >= n || i < 0 || (size_t)i >= n)
      return eqg_graph_fail(b, eqg_error_set(EQG_ERANGE,
                            "graph batch: edge %zu: %d -> %d out of range [0, %zu)",
                            e, (int)j, (int)i, n));
    if (b->node_graph[i] != b->node_graph[j])
      return eqg_graph_fail(b, eqg_error_set(EQG_EINVAL,
                            "graph batch: edge %zu: %d -> %d crosses from graph %d to graph %d",
                            e, (int)j, (int)i, (int)b->node_graph[j], (int)b->node_graph[i]));
    if (!allow_self_loops && i == j)
      return eqg_graph_fail(b, eqg_error_set(EQG_EINVAL,
                            "graph batch: edge %zu: self loop at node %d not allowed",
                            e, (int)i));
  }
  eqg_status s = eqg_graph_batch_reserve(b, 0, 0, n_edges);
  if (s != EQG_OK) return s;
  if (n_edges) {
    memcpy(b->src, src, n_edges * sizeof *src);
    memcpy(b->dst, dst, n_edges * sizeof *dst);
  }
  b->n_edges = n_edges;
  eqg_graph_finish_edges(b, allow_self_loops);
  return EQG_OK;
}
