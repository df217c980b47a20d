/* eqg_graph_padded.h: batches from zero-padded datasets (the jet HDF5 layout).
 *
 * A padded dataset stores graph g in a block of P = max_nodes rows, of which
 * the first counts[g] are real nodes and the rest padding (Pmu[N, 200, 4]
 * with Nobj[N] in the top-tagging files).  Padding rows are never copied, so
 * whatever they hold (zeros, garbage, NaN) cannot reach a sum or a mean. */
#ifndef EQG_GRAPH_PADDED_H
#define EQG_GRAPH_PADDED_H

#include <gsl/gsl_rng.h>

#include "graph/eqg_graph.h"

/* A view of caller-owned padded arrays (nothing is copied or freed). */
typedef struct eqg_padded_graphs {
  size_t n_graphs;          /* G_all: graphs in the dataset */
  size_t max_nodes;         /* P: rows per graph block */
  size_t dim;               /* D: must equal the batch's */
  size_t n_scalars;         /* F: must equal the batch's */
  const eqg_real *x;        /* (G_all, P, D) coordinates */
  const eqg_real *v;        /* (G_all, P, D), non-NULL iff the batch has v */
  const eqg_real *h;        /* (G_all, P, F), non-NULL iff F > 0 */
  const eqg_index *counts;  /* (G_all) real nodes per graph, 0 <= counts[g] <= P */
} eqg_padded_graphs;

/* K nodes prepended to every graph (before its real nodes), e.g. LorentzNet's
 * beams.  NULL v or h means zeros. */
typedef struct eqg_fixed_nodes {
  size_t count;             /* K */
  const eqg_real *x;        /* (K, D) */
  const eqg_real *v;        /* (K, D) or NULL */
  const eqg_real *h;        /* (K, F) or NULL */
} eqg_fixed_nodes;

/* LorentzNet's two beam nodes, (E, px, py, pz) = (sqrt 2, 0, 0, +1) and
 * (sqrt 2, 0, 0, -1): mass 1 along the beam axis.  (2, 4) */
extern const eqg_real eqg_beam_nodes_x[2 * 4];

/* Batch of the graphs ids[0 .. n_ids-1] of p, in that order (repeats allowed;
 * ids = NULL means graphs 0 .. n_ids-1).  Batch graph r gets fixed->count
 * prepended nodes (fixed may be NULL) followed by the counts[ids[r]] real rows
 * of its block.  Rejects ids out of range, counts outside [0, P], a layout
 * that differs from the batch's and non-finite values in real rows.  The
 * edge list is empty: connect the graphs with eqg_graph_edges.h. */
eqg_status eqg_graph_batch_from_padded(eqg_graph_batch *b, const eqg_padded_graphs *p,
                                       const eqg_index *ids, size_t n_ids,
                                       const eqg_fixed_nodes *fixed);

/* perm = 0 .. n-1, shuffled by rng (unshuffled if rng is NULL): minibatch r of
 * size B is then eqg_graph_batch_from_padded(b, p, perm + r * B, B, ...).
 * Deterministic for a given rng state. */
eqg_status eqg_graph_permutation(eqg_index *perm, size_t n, gsl_rng *rng);

#endif
