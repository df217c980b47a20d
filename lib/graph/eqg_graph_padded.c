/* eqg_graph_padded.c: batches from zero-padded datasets, minibatch orders. */
#include "graph/eqg_graph_padded.h"
#include "graph/eqg_graph_internal.h"

#include <math.h>
#include <string.h>
#include <gsl/gsl_randist.h>

#define SQRT2 1.41421356237309504880
const eqg_real eqg_beam_nodes_x[2 * 4] = { SQRT2, 0, 0, 1, SQRT2, 0, 0, -1 };

#define FAIL(b, s, ...) return eqg_graph_fail((b), eqg_error_set((s), "graph batch: " __VA_ARGS__))

/* The dataset and fixed nodes fit the batch's layout. */
static eqg_status check_layout(eqg_graph_batch *b, const eqg_padded_graphs *p,
                               const eqg_fixed_nodes *fixed)
{
  if (!p) FAIL(b, EQG_EINVAL, "padded dataset is NULL");
  if (p->dim != b->dim)
    FAIL(b, EQG_ESHAPE, "padded dataset has D = %zu, the batch D = %zu", p->dim, b->dim);
  if (p->n_scalars != b->n_scalars)
    FAIL(b, EQG_ESHAPE, "padded dataset has F = %zu scalars, the batch F = %zu",
         p->n_scalars, b->n_scalars);
  if ((p->v != NULL) != b->has_v)
    FAIL(b, EQG_EINVAL, "padded v must be given iff the batch has vectors v");
  if ((p->h != NULL) != (b->n_scalars > 0))
    FAIL(b, EQG_EINVAL, "padded h must be given iff F = %zu > 0", b->n_scalars);
  if (p->n_graphs && (!p->x || !p->counts))
    FAIL(b, EQG_EINVAL, "padded x or counts is NULL");
  if (fixed && fixed->count) {
    if (!fixed->x) FAIL(b, EQG_EINVAL, "%zu fixed nodes without x", fixed->count);
    eqg_status s;
    if ((s = eqg_graph_check_finite(fixed->x, fixed->count, b->dim, "fixed x")) ||
        (fixed->v && b->has_v &&
         (s = eqg_graph_check_finite(fixed->v, fixed->count, b->dim, "fixed v"))) ||
        (fixed->h && b->n_scalars &&
         (s = eqg_graph_check_finite(fixed->h, fixed->count, b->n_scalars, "fixed h"))))
      return eqg_graph_fail(b, s);
  }
  return EQG_OK;
}

/* Copy `rows` rows of width w from `from` (or zeros if NULL) into `to`,
 * rejecting non-finite values; `what` and graph name them in a message. */
static eqg_status copy_rows(eqg_real *to, const eqg_real *from, size_t rows, size_t w,
                            const char *what, eqg_index graph)
{
  if (!from) {
    if (rows && w) memset(to, 0, rows * w * sizeof *to);
    return EQG_OK;
  }
  for (size_t k = 0; k < rows * w; k++) {
    if (!isfinite(from[k]))
      return eqg_error_set(EQG_ENONFINITE,
                           "graph batch: padded graph %d: %s[%zu][%zu] = %g is not finite",
                           (int)graph, what, k / w, k % w, from[k]);
    to[k] = from[k];
  }
  return EQG_OK;
}

eqg_status eqg_graph_batch_from_padded(eqg_graph_batch *b, const eqg_padded_graphs *p,
                                       const eqg_index *ids, size_t n_ids,
                                       const eqg_fixed_nodes *fixed)
{
  eqg_status s = check_layout(b, p, fixed);
  if (s != EQG_OK) return s;
  size_t n_fix = fixed ? fixed->count : 0, P = p->max_nodes;
  if (!ids && n_ids > p->n_graphs)
    FAIL(b, EQG_ERANGE, "%zu graphs requested from a dataset of %zu", n_ids, p->n_graphs);
  if (n_fix + P > INT32_MAX) FAIL(b, EQG_ERANGE, "%zu nodes per graph", n_fix + P);
  if ((s = eqg_graph_batch_reserve(b, n_ids, 0, 0)) != EQG_OK) return s;
  for (size_t r = 0; r < n_ids; r++) {
    eqg_index id = ids ? ids[r] : (eqg_index)r;
    if (id < 0 || (size_t)id >= p->n_graphs)
      FAIL(b, EQG_ERANGE, "graph id %d (batch position %zu) out of range [0, %zu)",
           (int)id, r, p->n_graphs);
    eqg_index c = p->counts[id];
    if (c < 0 || (size_t)c > P)
      FAIL(b, EQG_EINVAL, "padded graph %d has %d nodes, outside [0, max_nodes = %zu]",
           (int)id, (int)c, P);
    b->counts[r] = c + (eqg_index)n_fix;
  }
  if ((s = eqg_graph_layout(b, n_ids)) != EQG_OK) return s;

  size_t D = b->dim, F = b->n_scalars;
  for (size_t r = 0; r < n_ids; r++) {
    eqg_index id = ids ? ids[r] : (eqg_index)r;
    size_t c = (size_t)p->counts[id], row = (size_t)b->offsets[r];
    size_t blk = (size_t)id * P;     /* first row of the graph's block */
    if (n_fix) {
      /* checked finite in check_layout */
      (void)copy_rows(b->x + row * D, fixed->x, n_fix, D, "fixed x", id);
      if (b->has_v) (void)copy_rows(b->v + row * D, fixed->v, n_fix, D, "fixed v", id);
      if (F) (void)copy_rows(b->h + row * F, fixed->h, n_fix, F, "fixed h", id);
      row += n_fix;
    }
    if ((s = copy_rows(b->x + row * D, p->x + blk * D, c, D, "x", id)) != EQG_OK ||
        (b->has_v && (s = copy_rows(b->v + row * D, p->v + blk * D, c, D, "v", id))) ||
        (F && (s = copy_rows(b->h + row * F, p->h + blk * F, c, F, "h", id))))
      return eqg_graph_fail(b, s);
  }
  return EQG_OK;
}

eqg_status eqg_graph_permutation(eqg_index *perm, size_t n, gsl_rng *rng)
{
  if (n > INT32_MAX)
    return eqg_error_set(EQG_ERANGE, "graph permutation: %zu ids exceed eqg_index", n);
  if (n && !perm) return eqg_error_set(EQG_EINVAL, "graph permutation: perm is NULL");
  for (size_t i = 0; i < n; i++) perm[i] = (eqg_index)i;
  if (rng && n > 1) gsl_ran_shuffle(rng, perm, n, sizeof *perm);
  return EQG_OK;
}
