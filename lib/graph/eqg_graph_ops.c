/* eqg_graph_ops.c: batch-aware gather / scatter / pooling (eqg_graph_ops.h). */
#include "graph/eqg_graph_ops.h"
#include "ad/eqg_ops.h"

/* true if the tape is healthy and x has `rows` rows; else a sticky error. */
static bool rows_ok(eqg_tape *t, const char *name, const eqg_graph_batch *b,
                    const eqg_tensor *x, size_t rows, const char *what)
{
  if (t->status != EQG_OK) return false;
  if (!b || !x) {
    eqg_tape_fail(t, EQG_EINVAL, "%s: NULL %s", name, b ? "input" : "graph batch");
    return false;
  }
  if (x->rows != rows) {
    eqg_tape_fail(t, EQG_ESHAPE, "%s: input has %zu rows, the batch has %zu %s",
                  name, x->rows, rows, what);
    return false;
  }
  return true;
}

eqg_tensor *eqg_graph_gather_src(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *x)
{
  if (!rows_ok(t, "graph_gather_src", b, x, b ? b->n_nodes : 0, "nodes")) return NULL;
  return eqg_gather_rows(t, x, b->src, b->n_edges);
}

eqg_tensor *eqg_graph_gather_dst(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *x)
{
  if (!rows_ok(t, "graph_gather_dst", b, x, b ? b->n_nodes : 0, "nodes")) return NULL;
  return eqg_gather_rows(t, x, b->dst, b->n_edges);
}

eqg_tensor *eqg_graph_sum_to_dst(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *msg)
{
  if (!rows_ok(t, "graph_sum_to_dst", b, msg, b ? b->n_edges : 0, "edges")) return NULL;
  return eqg_scatter_add_rows(t, msg, b->dst, b->n_nodes);
}

eqg_tensor *eqg_graph_mean_to_dst(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *msg)
{
  if (!rows_ok(t, "graph_mean_to_dst", b, msg, b ? b->n_edges : 0, "edges")) return NULL;
  return eqg_segment_mean(t, msg, b->dst, b->n_nodes);
}

eqg_tensor *eqg_graph_sum_nodes(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *x)
{
  if (!rows_ok(t, "graph_sum_nodes", b, x, b ? b->n_nodes : 0, "nodes")) return NULL;
  return eqg_scatter_add_rows(t, x, b->node_graph, b->n_graphs);
}

eqg_tensor *eqg_graph_mean_nodes(eqg_tape *t, const eqg_graph_batch *b, eqg_tensor *x)
{
  if (!rows_ok(t, "graph_mean_nodes", b, x, b ? b->n_nodes : 0, "nodes")) return NULL;
  return eqg_segment_mean(t, x, b->node_graph, b->n_graphs);
}
