/* eqg_layer_gnn.c: the generic graph convolutional layer (GCL) of the EGNN
 * reference code (Satorras et al. 2021, models/gcl.py, class GCL), the "GNN"
 * baseline of the N-body experiment.
 *
 * Not geometric: the layer never reads x; a model that wants coordinates
 * feeds them in as plain node features (h = [..., x, v]), which breaks every
 * symmetry but permutations, so the family claims no group.  F = cfg.width,
 * A = cfg.n_edge_attr, edge e: j = src[e] -> i = dst[e].
 *
 *   message      m_ij = phi_e([h_i, h_j, a_ij])              (E, 2F + A) -> (E, F)
 *                phi_e = Lin(2F + A -> F) act Lin(F -> F) act  (act after BOTH)
 *   aggregation  m_i  = sum_{j: j -> i} m_ij                  (E, F) -> (N, F)
 *   update       h_i <- h_i + phi_h([h_i, m_i])   (cfg.residual; else phi_h(...))
 *                phi_h = Lin(2F -> F) act Lin(F -> F)         (N, 2F) -> (N, F)
 *   x, v         unchanged
 *
 * act = cfg.act (SiLU in the N-body models).  The first Linear of phi_e runs
 * as per-node projections of h followed by per-edge gathers
 * (eqg_edge_linear.h: O(N F^2 + E F) instead of O(E F^2)); its parameter is
 * the one (2F + A, F) weight of phi_e.0, so names, shapes and initialisation
 * are those of the plain MLP.  Parameters "<prefix>.phi_e.{0,1}"
 * and "<prefix>.phi_h.{0,1}" (.weight, .bias), torch default initialisation:
 * (2F + A) F + F + F^2 + F + 2F F + F + F^2 + F = 4F^2 + (2F + A) F + 4F,
 * 24,896 for F = 64, A = 1. */
#include <stdlib.h>

#include "layers/eqg_edge_linear.h"
#include "layers/eqg_layer_util.h"

typedef struct gnn_layer {
  eqg_layer_config cfg;
  eqg_mlp *phi_e;   /* (E, 2F + A) -> (E, F) */
  eqg_mlp *phi_h;   /* (N, 2F) -> (N, F) */
} gnn_layer;

static bool gnn_claims(const eqg_layer_config *cfg, const eqg_group_type *g)
{
  (void)cfg;
  (void)g;
  return false;   /* coordinates enter as plain features: no symmetry is kept */
}

static void gnn_free(void *layer)
{
  gnn_layer *l = layer;
  if (!l) return;
  eqg_mlp_free(l->phi_e);
  eqg_mlp_free(l->phi_h);
  free(l);
}

static void *gnn_alloc(eqg_params *p, const char *prefix, const eqg_layer_config *cfg,
                       gsl_rng *rng)
{
  if (!p || !prefix || !cfg) {
    eqg_error_set(EQG_EINVAL, "layer gnn: NULL parameter block, prefix or config");
    return NULL;
  }
  const size_t F = cfg->width, A = cfg->n_edge_attr;
  if (F == 0) {
    eqg_error_set(EQG_EINVAL, "layer gnn: width must be positive");
    return NULL;
  }
  gnn_layer *l = calloc(1, sizeof *l);
  if (!l) {
    eqg_error_set(EQG_ENOMEM, "layer gnn %s: cannot allocate", prefix);
    return NULL;
  }
  l->cfg = *cfg;
  char name[EQG_PARAM_NAME_MAX];

  const size_t we[] = { 2 * F + A, F, F };
  eqg_mlp_config ce = eqg_mlp_config_default(we, 3);
  ce.act = cfg->act;
  ce.act_last = true;                       /* phi_e ends with act as well */
  if (!eqg_layer_join(name, "gnn", prefix, "phi_e") ||
      !(l->phi_e = eqg_mlp_alloc(p, name, &ce, rng)))
    goto fail;

  const size_t wh[] = { 2 * F, F, F };
  eqg_mlp_config ch = eqg_mlp_config_default(wh, 3);
  ch.act = cfg->act;
  if (!eqg_layer_join(name, "gnn", prefix, "phi_h") ||
      !(l->phi_h = eqg_mlp_alloc(p, name, &ch, rng)))
    goto fail;
  return l;
fail:
  gnn_free(l);
  return NULL;
}

static eqg_status gnn_forward(eqg_tape *t, eqg_params *p, const void *layer,
                              const eqg_graph_batch *b, eqg_layer_io *io)
{
  const gnn_layer *l = layer;
  const size_t F = l->cfg.width;
  if (!eqg_layer_check_nodes(t, "gnn", "h", io->h, b, F) ||
      !eqg_layer_check_edge_attr(t, "gnn", &l->cfg, b, io->a))
    return eqg_tape_status(t);

  eqg_tensor *h = io->h;                                      /* (N, F) */
  const eqg_activation act = l->phi_e->cfg.act;
  const eqg_real slope = l->phi_e->cfg.leaky_slope;
  /* message m_ij = phi_e([h_i, h_j, a_ij]): the first Linear from per-node
   * projections of h gathered per edge (eqg_edge_linear.h), then Lin act */
  eqg_tensor *m_ij = eqg_layer_edge_linear(t, p, &l->phi_e->layer[0].lin, b, h,
                                           l->cfg.n_edge_attr > 0 ? io->a : NULL, act, slope);
  m_ij = eqg_linear_forward_act(t, p, &l->phi_e->layer[1].lin, m_ij, act, slope);  /* (E, F) */
  /* aggregation */
  eqg_tensor *m_i = eqg_graph_sum_to_dst(t, b, m_ij);         /* (N, F) */
  /* update */
  eqg_tensor *dh = eqg_mlp_forward(t, p, l->phi_h, eqg_concat_cols(t, h, m_i));  /* (N, F) */
  eqg_tensor *h_new = l->cfg.residual ? eqg_add(t, h, dh) : dh;                  /* (N, F) */

  if (eqg_tape_status(t) == EQG_OK) io->h = h_new;
  return eqg_tape_status(t);
}

const eqg_layer_type eqg_layer_gnn = {
  .name = "gnn",
  .symmetry = "none (permutation only): coordinates enter as plain features",
  .geometric = false,
  .claims = gnn_claims,
  .alloc = gnn_alloc,
  .free = gnn_free,
  .forward = gnn_forward,
  .coords_out = EQG_COORDS_NONE,
};
