/* eqg_graph_validate.c: check every invariant of a graph batch (eqg_graph.h). */
#include "graph/eqg_graph_internal.h"

#include <stdlib.h>

#define FAIL(s, ...) return eqg_error_set((s), "graph batch: " __VA_ARGS__)

static eqg_status check_nodes(const eqg_graph_batch *b)
{
  size_t n = b->n_nodes;
  if (n > b->cap_nodes || b->n_graphs > b->cap_graphs || b->n_edges > b->cap_edges ||
      b->n_edges * b->n_edge_attr > b->cap_edge_attr)
    FAIL(EQG_EINVAL, "sizes exceed the allocated capacity");
  if (b->offsets[0] != 0) FAIL(EQG_EINVAL, "offsets[0] = %d, not 0", (int)b->offsets[0]);
  for (size_t g = 0; g < b->n_graphs; g++) {
    eqg_index c = b->counts[g], o = b->offsets[g];
    if (c < 0) FAIL(EQG_EINVAL, "graph %zu has a negative node count %d", g, (int)c);
    if ((int64_t)b->offsets[g + 1] != (int64_t)o + c)
      FAIL(EQG_EINVAL, "offsets[%zu] = %d but offsets[%zu] + counts[%zu] = %d + %d "
           "(counts inconsistent)", g + 1, (int)b->offsets[g + 1], g, g, (int)o, (int)c);
    for (eqg_index k = o; k < o + c && (size_t)k < n; k++)
      if (b->node_graph[k] != (eqg_index)g)
        FAIL(EQG_EINVAL, "node_graph[%d] = %d, but the node lies in graph %zu",
             (int)k, (int)b->node_graph[k], g);
  }
  if ((int64_t)b->offsets[b->n_graphs] != (int64_t)n)
    FAIL(EQG_EINVAL, "node counts sum to %d, but the batch has N = %zu nodes",
         (int)b->offsets[b->n_graphs], n);
  eqg_status s;
  if ((s = eqg_graph_check_finite(b->x, n, b->dim, "x")) != EQG_OK) return s;
  if (b->has_v && (s = eqg_graph_check_finite(b->v, n, b->dim, "v")) != EQG_OK) return s;
  if (b->n_scalars && (s = eqg_graph_check_finite(b->h, n, b->n_scalars, "h")) != EQG_OK)
    return s;
  return EQG_OK;
}

static eqg_status check_edges(const eqg_graph_batch *b, eqg_index *deg)
{
  size_t n = b->n_nodes;
  for (size_t e = 0; e < b->n_edges; e++) {
    eqg_index j = b->src[e], i = b->dst[e];
    if (j < 0 || (size_t)j >= n)
      FAIL(EQG_ERANGE, "edge %zu: src = %d out of range [0, %zu)", e, (int)j, n);
    if (i < 0 || (size_t)i >= n)
      FAIL(EQG_ERANGE, "edge %zu: dst = %d out of range [0, %zu)", e, (int)i, n);
    if (b->node_graph[i] != b->node_graph[j])
      FAIL(EQG_EINVAL, "edge %zu: %d -> %d crosses from graph %d to graph %d",
           e, (int)j, (int)i, (int)b->node_graph[j], (int)b->node_graph[i]);
    if (!b->self_loops && i == j)
      FAIL(EQG_EINVAL, "edge %zu: self loop at node %d in a batch promised to have none",
           e, (int)i);
    deg[i]++;
  }
  for (size_t i = 0; i < n; i++)
    if (deg[i] != b->in_degree[i])
      FAIL(EQG_EINVAL, "in_degree[%zu] = %d, but %d edges have dst = %zu",
           i, (int)b->in_degree[i], (int)deg[i], i);
  return eqg_graph_check_finite(b->edge_attr, b->n_edges, b->n_edge_attr, "edge_attr");
}

eqg_status eqg_graph_batch_validate(const eqg_graph_batch *b)
{
  if (!b) return eqg_error_set(EQG_EINVAL, "graph batch: NULL");
  if (b->dim != 3 && b->dim != 4)
    FAIL(EQG_EINVAL, "coordinate dimension D = %zu, must be 3 or 4", b->dim);
  eqg_status s = check_nodes(b);
  if (s != EQG_OK) return s;
  eqg_index *deg = calloc(b->n_nodes ? b->n_nodes : 1, sizeof *deg);
  if (!deg) FAIL(EQG_ENOMEM, "validate: cannot allocate %zu degrees", b->n_nodes);
  s = check_edges(b, deg);
  free(deg);
  return s;
}
