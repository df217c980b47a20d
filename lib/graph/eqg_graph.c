/* eqg_graph.c: allocation, growth and node layout of a graph batch. */
#include "graph/eqg_graph_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

eqg_graph_batch *eqg_graph_batch_alloc(size_t dim, size_t n_scalars, bool with_v)
{
  if (dim != 3 && dim != 4) {
    eqg_error_set(EQG_EINVAL, "graph batch: coordinate dimension D = %zu, "
                  "must be 3 (space) or 4 (four-momentum)", dim);
    return NULL;
  }
  eqg_graph_batch *b = calloc(1, sizeof *b);
  if (!b) {
    eqg_error_set(EQG_ENOMEM, "graph batch: cannot allocate");
    return NULL;
  }
  b->dim = dim;
  b->n_scalars = n_scalars;
  b->has_v = with_v;
  /* One row of everything, so no array pointer is ever NULL (except v, h
   * when unused). */
  b->edge_attr = malloc(sizeof *b->edge_attr);
  b->cap_edge_attr = 1;
  if (!b->edge_attr || eqg_graph_batch_reserve(b, 1, 1, 1) != EQG_OK) {
    eqg_graph_batch_free(b);
    eqg_error_set(EQG_ENOMEM, "graph batch: cannot allocate");
    return NULL;
  }
  return b;
}

void eqg_graph_batch_free(eqg_graph_batch *b)
{
  if (!b) return;
  free(b->x);
  free(b->v);
  free(b->h);
  free(b->node_graph);
  free(b->in_degree);
  free(b->counts);
  free(b->offsets);
  free(b->src);
  free(b->dst);
  free(b->edge_attr);
  free(b);
}

eqg_status eqg_graph_fail(eqg_graph_batch *b, eqg_status s)
{
  b->n_graphs = b->n_nodes = b->n_edges = b->n_edge_attr = 0;
  b->self_loops = false;
  return s;
}

/* Capacity for `need` rows when `cap` are held: grow by at least half. */
static size_t grown(size_t cap, size_t need)
{
  size_t c = cap + cap / 2;
  return c > need ? c : need;
}

/* realloc p to n rows of `row` bytes (at least one byte); NULL on failure or
 * overflow, p untouched. */
static void *resize(void *p, size_t n, size_t row)
{
  if (row != 0 && n > SIZE_MAX / row) return NULL;
  size_t bytes = n * row;
  return realloc(p, bytes ? bytes : 1);
}

#define EQG_RESIZE(field, n, row)                                     \
  do {                                                                \
    void *q_ = resize((field), (n), (row));                           \
    if (!q_) return eqg_error_set(EQG_ENOMEM,                         \
                                  "graph batch: cannot allocate %zu rows", (size_t)(n)); \
    (field) = q_;                                                     \
  } while (0)

static eqg_status reserve(eqg_graph_batch *b, size_t n_graphs, size_t n_nodes,
                          size_t n_edges)
{
  if (n_graphs > b->cap_graphs) {
    size_t c = grown(b->cap_graphs, n_graphs);
    EQG_RESIZE(b->counts, c, sizeof(eqg_index));
    EQG_RESIZE(b->offsets, c + 1, sizeof(eqg_index));
    b->cap_graphs = c;
  }
  if (n_nodes > b->cap_nodes) {
    size_t c = grown(b->cap_nodes, n_nodes);
    size_t vec = b->dim * sizeof(eqg_real);
    if (b->n_scalars > SIZE_MAX / sizeof(eqg_real))
      return eqg_error_set(EQG_ENOMEM, "graph batch: %zu scalars per node", b->n_scalars);
    EQG_RESIZE(b->x, c, vec);
    if (b->has_v) EQG_RESIZE(b->v, c, vec);
    if (b->n_scalars) EQG_RESIZE(b->h, c, b->n_scalars * sizeof(eqg_real));
    EQG_RESIZE(b->node_graph, c, sizeof(eqg_index));
    EQG_RESIZE(b->in_degree, c, sizeof(eqg_index));
    b->cap_nodes = c;
  }
  if (n_edges > b->cap_edges) {
    size_t c = grown(b->cap_edges, n_edges);
    EQG_RESIZE(b->src, c, sizeof(eqg_index));
    EQG_RESIZE(b->dst, c, sizeof(eqg_index));
    b->cap_edges = c;
  }
  return EQG_OK;
}

eqg_status eqg_graph_batch_reserve(eqg_graph_batch *b, size_t n_graphs,
                                   size_t n_nodes, size_t n_edges)
{
  eqg_status s = reserve(b, n_graphs, n_nodes, n_edges);
  return s == EQG_OK ? s : eqg_graph_fail(b, s);
}

eqg_status eqg_graph_layout(eqg_graph_batch *b, size_t n_graphs)
{
  size_t n = 0;
  for (size_t g = 0; g < n_graphs; g++) {
    if (b->counts[g] < 0)
      return eqg_graph_fail(b, eqg_error_set(EQG_EINVAL,
                            "graph batch: graph %zu has a negative node count %d",
                            g, (int)b->counts[g]));
    n += (size_t)b->counts[g];
    if (n > INT32_MAX)
      return eqg_graph_fail(b, eqg_error_set(EQG_ERANGE,
                            "graph batch: more than %d nodes", (int)INT32_MAX));
  }
  eqg_status s = eqg_graph_batch_reserve(b, n_graphs, n, 0);
  if (s != EQG_OK) return s;
  eqg_index row = 0;
  for (size_t g = 0; g < n_graphs; g++) {
    b->offsets[g] = row;
    for (eqg_index k = 0; k < b->counts[g]; k++) b->node_graph[row + k] = (eqg_index)g;
    row += b->counts[g];
  }
  b->offsets[n_graphs] = row;
  memset(b->in_degree, 0, n * sizeof *b->in_degree);
  b->n_graphs = n_graphs;
  b->n_nodes = n;
  b->n_edges = b->n_edge_attr = 0;
  b->self_loops = false;
  return EQG_OK;
}

eqg_status eqg_graph_batch_set_counts(eqg_graph_batch *b, size_t n_graphs,
                                      const eqg_index *counts)
{
  if (n_graphs && !counts)
    return eqg_graph_fail(b, eqg_error_set(EQG_EINVAL, "graph batch: counts is NULL"));
  eqg_status s = eqg_graph_batch_reserve(b, n_graphs, 0, 0);
  if (s != EQG_OK) return s;
  if (n_graphs) memmove(b->counts, counts, n_graphs * sizeof *counts);
  if ((s = eqg_graph_layout(b, n_graphs)) != EQG_OK) return s;
  size_t n = b->n_nodes;
  memset(b->x, 0, n * b->dim * sizeof *b->x);
  if (b->has_v) memset(b->v, 0, n * b->dim * sizeof *b->v);
  if (b->n_scalars) memset(b->h, 0, n * b->n_scalars * sizeof *b->h);
  return EQG_OK;
}

eqg_status eqg_graph_check_finite(const eqg_real *a, size_t rows, size_t cols,
                                  const char *what)
{
  for (size_t k = 0; k < rows * cols; k++)
    if (!isfinite(a[k]))
      return eqg_error_set(EQG_ENONFINITE, "graph batch: %s[%zu][%zu] = %g is not finite",
                           what, k / cols, k % cols, a[k]);
  return EQG_OK;
}

eqg_status eqg_graph_batch_set_nodes(eqg_graph_batch *b, size_t n_graphs,
                                     const eqg_index *counts, const eqg_real *x,
                                     const eqg_real *v, const eqg_real *h)
{
  if ((v != NULL) != b->has_v)
    return eqg_graph_fail(b, eqg_error_set(EQG_EINVAL, b->has_v
                          ? "graph batch: the batch has vectors v but v is NULL"
                          : "graph batch: v given but the batch was allocated without v"));
  if ((h != NULL) != (b->n_scalars > 0))
    return eqg_graph_fail(b, eqg_error_set(EQG_EINVAL,
                          "graph batch: h must be given iff F = %zu > 0", b->n_scalars));
  eqg_status s = eqg_graph_batch_set_counts(b, n_graphs, counts);
  if (s != EQG_OK) return s;
  size_t n = b->n_nodes, d = b->dim, f = b->n_scalars;
  if (n && !x) return eqg_graph_fail(b, eqg_error_set(EQG_EINVAL, "graph batch: x is NULL"));
  if ((s = eqg_graph_check_finite(x, n, d, "x")) != EQG_OK ||
      (v && (s = eqg_graph_check_finite(v, n, d, "v")) != EQG_OK) ||
      (h && (s = eqg_graph_check_finite(h, n, f, "h")) != EQG_OK))
    return eqg_graph_fail(b, s);
  if (n) memcpy(b->x, x, n * d * sizeof *x);
  if (n && v) memcpy(b->v, v, n * d * sizeof *v);
  if (n && h) memcpy(b->h, h, n * f * sizeof *h);
  return EQG_OK;
}

eqg_status eqg_graph_batch_set_edge_attr_width(eqg_graph_batch *b, size_t n_attr)
{
  size_t e = b->n_edges;
  if (n_attr && e > SIZE_MAX / sizeof(eqg_real) / n_attr)
    return eqg_graph_fail(b, eqg_error_set(EQG_ENOMEM,
                          "graph batch: %zu x %zu edge attributes", e, n_attr));
  size_t need = e * n_attr;
  if (need > b->cap_edge_attr) {
    size_t c = grown(b->cap_edge_attr, need);
    void *q = resize(b->edge_attr, c, sizeof(eqg_real));
    if (!q) return eqg_graph_fail(b, eqg_error_set(EQG_ENOMEM,
                                  "graph batch: cannot allocate %zu edge attributes", c));
    b->edge_attr = q;
    b->cap_edge_attr = c;
  }
  if (need) memset(b->edge_attr, 0, need * sizeof *b->edge_attr);
  b->n_edge_attr = n_attr;
  return EQG_OK;
}

void eqg_graph_finish_edges(eqg_graph_batch *b, bool self_loops)
{
  memset(b->in_degree, 0, b->n_nodes * sizeof *b->in_degree);
  for (size_t e = 0; e < b->n_edges; e++) b->in_degree[b->dst[e]]++;
  b->n_edge_attr = 0;
  b->self_loops = self_loops;
}
