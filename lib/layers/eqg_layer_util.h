/* eqg_layer_util.h: small shared pieces of the layer families (private to
 * lib/layers; header-only so that no build file changes).
 *
 *   eqg_layer_check_*   input shape checks that record a sticky tape error
 *   eqg_layer_safe_norm ‖r‖ with a gradient that stays finite at r = 0
 *   eqg_layer_claims_e3 the claim of an E(3)-equivariant family on 3-vectors
 *   eqg_layer_join      "<prefix>.<part>" parameter prefixes */
#ifndef EQG_LAYER_UTIL_H
#define EQG_LAYER_UTIL_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph/eqg_graph_ops.h"
#include "layers/eqg_layer.h"

/* Added under the square root of a squared norm: sqrt(|r|^2 + eps).  With
 * eps = 1e-30 the norm is unchanged in double precision whenever
 * |r|^2 >= ~1e-14 (|r| >= ~1e-7), so ordinary inputs see the exact norm, while
 * coincident points get ‖r‖ = 1e-15 and the gradient r / sqrt(|r|^2 + eps)
 * (bounded by 1, and 0 at r = 0) instead of 0 * inf = NaN.  The result is a
 * function of |r|^2 only, so it keeps every symmetry of the exact norm. */
#define EQG_LAYER_NORM_EPS 1e-30

/* (n, d) -> (n, 1): sqrt(sum_k r_k^2 + EQG_LAYER_NORM_EPS). */
static inline eqg_tensor *eqg_layer_safe_norm(eqg_tape *t, eqg_tensor *r)
{
  return eqg_sqrt(t, eqg_add_scalar(t, eqg_sqnorm_rows(t, r), EQG_LAYER_NORM_EPS));
}

/* A node tensor `x` named `what` must be (N, cols); false after a sticky
 * EQG_ESHAPE (or EQG_EINVAL for NULL) on the tape. */
static inline bool eqg_layer_check_nodes(eqg_tape *t, const char *family, const char *what,
                                         const eqg_tensor *x, const eqg_graph_batch *b,
                                         size_t cols)
{
  if (!x) {
    eqg_tape_fail(t, EQG_EINVAL, "layer %s: io->%s is NULL", family, what);
    return false;
  }
  if (x->rows != b->n_nodes || x->cols != cols) {
    eqg_tape_fail(t, EQG_ESHAPE, "layer %s: io->%s is %zu x %zu, expected %zu x %zu (N x %s)",
                  family, what, x->rows, x->cols, b->n_nodes, cols,
                  strcmp(what, "h") == 0 ? "width" : "dim");
    return false;
  }
  return true;
}

/* io->a must be (E, cfg->n_edge_attr); with n_edge_attr = 0 it must be NULL
 * (or have no columns), so that a model cannot hand a layer attributes it
 * would silently ignore. */
static inline bool eqg_layer_check_edge_attr(eqg_tape *t, const char *family,
                                             const eqg_layer_config *cfg,
                                             const eqg_graph_batch *b, const eqg_tensor *a)
{
  const size_t A = cfg->n_edge_attr, E = b->n_edges;
  if (A == 0) {
    if (a && a->cols != 0) {
      eqg_tape_fail(t, EQG_ESHAPE,
                    "layer %s: io->a has %zu columns but the layer was configured with "
                    "n_edge_attr = 0", family, a->cols);
      return false;
    }
    return true;
  }
  if (!a) {
    eqg_tape_fail(t, EQG_ESHAPE, "layer %s: io->a is NULL, expected %zu x %zu (E x n_edge_attr)",
                  family, E, A);
    return false;
  }
  if (a->rows != E || a->cols != A) {
    eqg_tape_fail(t, EQG_ESHAPE, "layer %s: io->a is %zu x %zu, expected %zu x %zu "
                  "(E x n_edge_attr)", family, a->rows, a->cols, E, A);
    return false;
  }
  return true;
}

/* The claim of a family that is E(3)-equivariant in x (and invariant in h)
 * on 3-vectors: rotations (so3, so2z), reflections (o3) and translations.
 * Nothing for cfg->dim != 3 (the Euclidean norm of a four-vector is not a
 * Lorentz invariant) nor for groups acting on other dimensions. */
static inline bool eqg_layer_claims_e3(const eqg_layer_config *cfg, const eqg_group_type *g)
{
  if (!cfg || !g || cfg->dim != 3 || g->dim != 3) return false;
  static const char *const names[] = { "so3", "o3", "translation", "so2z" };
  for (size_t k = 0; k < sizeof names / sizeof *names; k++)
    if (strcmp(g->name, names[k]) == 0) return true;
  return false;
}

/* EQG_OK if cfg's metric can be used at cfg->dim: Euclidean, Minkowski (D = 4
 * only) or EQG_METRIC_GENERAL with a finite symmetric (D, D) metric_g; else
 * EQG_EINVAL with a message naming the family. */
static inline eqg_status eqg_layer_check_metric(const char *family, const eqg_layer_config *cfg)
{
  const size_t D = cfg->dim;
  switch (cfg->metric) {
  case EQG_METRIC_EUCLIDEAN:
    return EQG_OK;
  case EQG_METRIC_MINKOWSKI:
    if (D == 4) return EQG_OK;
    return eqg_error_set(EQG_EINVAL, "layer %s: the Minkowski metric needs dim 4, not %zu",
                         family, D);
  case EQG_METRIC_GENERAL:
    for (size_t k = 0; k < D * D; k++)
      if (!isfinite(cfg->metric_g[k]) || cfg->metric_g[k] != cfg->metric_g[(k % D) * D + k / D])
        return eqg_error_set(EQG_EINVAL, "layer %s: metric_g must be finite and symmetric "
                             "(entry %zu, %zu is %g)", family, k / D, k % D, cfg->metric_g[k]);
    return EQG_OK;
  }
  return eqg_error_set(EQG_EINVAL, "layer %s: unknown metric %d", family, (int)cfg->metric);
}

/* (n, D), (n, D) -> (n, 1): a_i^T G b_i with the configured metric: Euclidean,
 * Minkowski, or cfg->metric_g (EQG_METRIC_GENERAL, a constant (D, D) leaf). */
static inline eqg_tensor *eqg_layer_metric_product(eqg_tape *t, const eqg_layer_config *cfg,
                                                   eqg_tensor *a, eqg_tensor *b)
{
  eqg_tensor *G = NULL;
  if (cfg->metric == EQG_METRIC_GENERAL)
    G = eqg_tape_input(t, cfg->dim, cfg->dim, cfg->metric_g, false);
  return eqg_bilinear_rows(t, a, b, cfg->metric, G);
}

/* buf = "<prefix>.<part>"; false (with a message) if it does not fit. */
static inline bool eqg_layer_join(char buf[EQG_PARAM_NAME_MAX], const char *family,
                                  const char *prefix, const char *part)
{
  int n = snprintf(buf, EQG_PARAM_NAME_MAX, "%s.%s", prefix, part);
  if (n < 0 || n >= EQG_PARAM_NAME_MAX) {
    eqg_error_set(EQG_EINVAL, "layer %s: parameter prefix \"%s.%s\" too long", family, prefix,
                  part);
    return false;
  }
  return true;
}

#endif
