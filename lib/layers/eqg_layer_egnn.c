/* eqg_layer_egnn.c: the E(n)-equivariant graph convolutional layer of
 * Satorras, Hoogeboom and Welling (2021), as E_GCL_vel in the reference code
 * (models/gcl.py), the EGNN of the N-body experiment.
 *
 * F = cfg.width, D = cfg.dim, A = cfg.n_edge_attr; edge e: j = src[e] -> i = dst[e];
 * act = cfg.act (SiLU in the reference); all quantities below are computed
 * from the INPUT h and x of the layer.
 *
 *   geometry     r_ij  = x_i - x_j                               (E, D)
 *                d2_ij = <r_ij, r_ij> = r_ij^T G r_ij            (E, 1)
 *                G = cfg.metric: Euclidean (the reference; |r_ij|^2 over all D
 *                components), Minkowski diag(1, -1, -1, -1) (D = 4), or a
 *                symmetric cfg.metric_g (EQG_METRIC_GENERAL)
 *   message      m_ij  = phi_e([h_i, h_j, d2_ij, a_ij])          (E, 2F + 1 + A) -> (E, F)
 *                phi_e = Lin(2F + 1 + A -> F) act Lin(F -> F) act
 *   x update     (cfg.update_x)
 *                x_i <- x_i + c AGG_j clamp(r_ij phi_x(m_ij), +-K)  (E, D) -> (N, D)
 *                phi_x = Lin(F -> F) act Lin(F -> 1, no bias, Xavier uniform gain 0.001)
 *                AGG = mean over the in_degree(i) incoming edges (cfg.coord_agg =
 *                EQG_AGG_MEAN, the reference code; 0 without edges) or the sum;
 *                c = cfg.coord_scale (1), K = cfg.coord_clamp (100; 0 = no clamp)
 *   velocity     (cfg.velocity and io->v given; without io->v the term is skipped)
 *                x_i <- x_i + phi_v(h_i) v_i,  phi_v = Lin(F -> F) act Lin(F -> 1)
 *                                                                (N, F) -> (N, 1)
 *   aggregation  m_i = sum_j m_ij                                (E, F) -> (N, F)
 *   h update     h_i <- h_i + phi_h([h_i, m_i])  (cfg.residual: "recurrent" in the
 *                reference; else h_i <- phi_h(...)),  phi_h = Lin(2F -> F) act Lin(F -> F)
 *   v, s, vec    unchanged (s and vec are not read)
 *
 * With the Euclidean metric at D = 4 four-momenta are points of R^4 (the
 * EGNN baseline of top tagging): not Lorentz-equivariant.  With the Minkowski
 * metric d2_ij = (p_i - p_j)^2 is the Lorentz square, i.e. -m_ij^2 plus the
 * masses for a pair of constituents, and the same update is Lorentz-
 * equivariant (an ablation: EGNN's message passing with LorentzNet's metric).
 * Claims: Euclidean D = 3: so3, o3, translation, so2z; Euclidean D = 4
 * (3 x 3 rotations acting as diag(1, R)): so3, o3, so2z; Minkowski: those and
 * boostz, boost, lorentz; a general G: none.  h is invariant and x
 * equivariant because h, m and phi_x(m) see x only through <r_ij, r_ij>, which
 * every transformation preserving G keeps, and r_ij, v_i transform as
 * displacements (edge attributes are taken as invariant).
 * The clamp acts per component, so it is covariant only while inactive (the
 * reference code: "never activated"); ordinary inputs stay far below 100.
 *
 * The first Linear of phi_e runs as per-node projections of h followed by
 * gathers (eqg_edge_linear.h); its parameter is one (2F + 1 + A, F) weight.
 *
 * Parameters (torch default initialisation unless noted), in this order:
 *   <prefix>.phi_e.0.weight (2F+1+A, F) .bias (1, F)   phi_e.1.weight (F, F) .bias
 *   <prefix>.phi_h.0.weight (2F, F) .bias              phi_h.1.weight (F, F) .bias
 *   <prefix>.phi_x.0.weight (F, F) .bias               phi_x.1.weight (F, 1)  (update_x)
 *   <prefix>.phi_v.0.weight (F, F) .bias               phi_v.1.weight (F, 1) .bias (velocity)
 * i.e. (2F+1+A+1) F + (F+1) F  +  (2F+1) F + (F+1) F  +  (F+1) F + F  +  (F+1) F + F + 1;
 * F = 64, A = 2: 12,608 + 12,416 + 4,224 + 4,225 = 33,473. */
#include <stdlib.h>

#include "layers/eqg_edge_linear.h"
#include "layers/eqg_layer_util.h"

typedef struct egnn_layer {
  eqg_layer_config cfg;
  eqg_linear e0, e1;   /* phi_e: (E, 2F + 1 + A) -> (E, F) -> (E, F) */
  eqg_mlp *phi_h;      /* (N, 2F) -> (N, F) */
  eqg_linear x0, x1;   /* phi_x: (E, F) -> (E, F) -> (E, 1); unset without update_x */
  eqg_mlp *phi_v;      /* (N, F) -> (N, 1), NULL without velocity */
} egnn_layer;

static bool egnn_claims(const eqg_layer_config *cfg, const eqg_group_type *g)
{
  if (!cfg || !g) return false;
  if (cfg->metric == EQG_METRIC_GENERAL) return false;
  if (cfg->dim == 3) return eqg_layer_claims_e3(cfg, g);
  if (cfg->dim != 4) return false;
  /* Four-vectors: rotations of the spatial part keep every <r_ij, r_ij>;
   * boosts only the Minkowski one (translations of four-momenta are not a
   * symmetry the experiments apply). */
  const bool rotation = g == &eqg_group_so3 || g == &eqg_group_o3 || g == &eqg_group_so2z;
  const bool boost = g == &eqg_group_boostz || g == &eqg_group_boost || g == &eqg_group_lorentz;
  return rotation || (boost && cfg->metric == EQG_METRIC_MINKOWSKI);
}

static void egnn_free(void *layer)
{
  egnn_layer *l = layer;
  if (!l) return;
  eqg_mlp_free(l->phi_h);
  eqg_mlp_free(l->phi_v);
  free(l);
}

/* "<prefix>.<part>" Linear(in -> out); false with a message. */
static bool egnn_linear(eqg_linear *lin, eqg_params *p, const char *prefix, const char *part,
                        size_t in, size_t out, bool bias, eqg_init_kind init, eqg_real gain,
                        gsl_rng *rng)
{
  char name[EQG_PARAM_NAME_MAX];
  return eqg_layer_join(name, "egnn", prefix, part) &&
         eqg_linear_init(lin, p, name, in, out, bias, init, gain, rng) == EQG_OK;
}

/* "<prefix>.<part>" MLP in -> F -> out, act after the hidden layer only. */
static eqg_mlp *egnn_mlp(eqg_params *p, const char *prefix, const char *part, size_t in,
                         size_t F, size_t out, eqg_activation act, gsl_rng *rng)
{
  char name[EQG_PARAM_NAME_MAX];
  const size_t w[] = { in, F, out };
  eqg_mlp_config c = eqg_mlp_config_default(w, 3);
  c.act = act;
  return eqg_layer_join(name, "egnn", prefix, part) ? eqg_mlp_alloc(p, name, &c, rng) : NULL;
}

static void *egnn_alloc(eqg_params *p, const char *prefix, const eqg_layer_config *cfg,
                        gsl_rng *rng)
{
  if (!p || !prefix || !cfg) {
    eqg_error_set(EQG_EINVAL, "layer egnn: NULL parameter block, prefix or config");
    return NULL;
  }
  const size_t F = cfg->width, A = cfg->n_edge_attr;
  if (F == 0 || (cfg->dim != 3 && cfg->dim != 4)) {
    eqg_error_set(EQG_EINVAL, "layer egnn: width %zu must be positive and dim %zu 3 or 4",
                  F, cfg->dim);
    return NULL;
  }
  if (eqg_layer_check_metric("egnn", cfg) != EQG_OK) return NULL;
  if (cfg->coord_agg != EQG_AGG_MEAN && cfg->coord_agg != EQG_AGG_SUM) {
    eqg_error_set(EQG_EINVAL, "layer egnn: unknown coordinate aggregation %d",
                  (int)cfg->coord_agg);
    return NULL;
  }
  if (!(cfg->coord_clamp >= 0)) {
    eqg_error_set(EQG_EINVAL, "layer egnn: coord_clamp %g must be >= 0 (0: off)",
                  cfg->coord_clamp);
    return NULL;
  }
  egnn_layer *l = calloc(1, sizeof *l);
  if (!l) {
    eqg_error_set(EQG_ENOMEM, "layer egnn %s: cannot allocate", prefix);
    return NULL;
  }
  l->cfg = *cfg;
  const eqg_init_kind td = EQG_INIT_TORCH_DEFAULT;
  if (!egnn_linear(&l->e0, p, prefix, "phi_e.0", 2 * F + 1 + A, F, true, td, 1, rng) ||
      !egnn_linear(&l->e1, p, prefix, "phi_e.1", F, F, true, td, 1, rng) ||
      !(l->phi_h = egnn_mlp(p, prefix, "phi_h", 2 * F, F, F, cfg->act, rng)))
    goto fail;
  if (cfg->update_x &&
      (!egnn_linear(&l->x0, p, prefix, "phi_x.0", F, F, true, td, 1, rng) ||
       !egnn_linear(&l->x1, p, prefix, "phi_x.1", F, 1, false, EQG_INIT_XAVIER_UNIFORM, 0.001,
                    rng)))
    goto fail;
  if (cfg->velocity && !(l->phi_v = egnn_mlp(p, prefix, "phi_v", F, F, 1, cfg->act, rng)))
    goto fail;
  return l;
fail:
  eqg_error_prefix(EQG_EINVAL, "layer egnn %s: ", prefix);
  egnn_free(l);
  return NULL;
}

static eqg_status egnn_forward(eqg_tape *t, eqg_params *p, const void *layer,
                               const eqg_graph_batch *b, eqg_layer_io *io)
{
  const egnn_layer *l = layer;
  const eqg_layer_config *c = &l->cfg;
  const bool use_v = c->velocity && io->v;
  if (!eqg_layer_check_nodes(t, "egnn", "h", io->h, b, c->width) ||
      !eqg_layer_check_nodes(t, "egnn", "x", io->x, b, c->dim) ||
      (use_v && !eqg_layer_check_nodes(t, "egnn", "v", io->v, b, c->dim)) ||
      !eqg_layer_check_edge_attr(t, "egnn", c, b, io->a))
    return eqg_tape_status(t);
  const eqg_activation act = c->act;
  eqg_tensor *h = io->h, *x = io->x;                                     /* (N, F), (N, D) */

  /* geometry */
  eqg_tensor *r = eqg_sub(t, eqg_graph_gather_dst(t, b, x),
                          eqg_graph_gather_src(t, b, x));                /* (E, D) x_i - x_j */
  eqg_tensor *z = c->metric == EQG_METRIC_EUCLIDEAN ? eqg_sqnorm_rows(t, r)
                                                    : eqg_layer_metric_product(t, c, r, r);
                                                                         /* (E, 1) d2_ij */
  if (c->n_edge_attr > 0) z = eqg_concat_cols(t, z, io->a);              /* (E, 1 + A) */

  /* message m_ij = phi_e([h_i, h_j, d2_ij, a_ij]) */
  eqg_tensor *m = eqg_layer_edge_linear(t, p, &l->e0, b, h, z, act, 0);
  m = eqg_linear_forward_act(t, p, &l->e1, m, act, 0);                   /* (E, F) */

  /* x update: x_i + c AGG_j clamp(r_ij phi_x(m_ij)) */
  eqg_tensor *x_new = x;
  if (c->update_x) {
    eqg_tensor *w = eqg_linear_forward_act(t, p, &l->x0, m, act, 0);
    w = eqg_linear_forward(t, p, &l->x1, w);                             /* (E, 1) */
    eqg_tensor *trans = eqg_mul(t, r, w);                                /* (E, D) */
    if (c->coord_clamp > 0) trans = eqg_clamp(t, trans, -c->coord_clamp, c->coord_clamp);
    eqg_tensor *agg = c->coord_agg == EQG_AGG_MEAN ? eqg_graph_mean_to_dst(t, b, trans)
                                                   : eqg_graph_sum_to_dst(t, b, trans);
    if (c->coord_scale != 1) agg = eqg_scale(t, agg, c->coord_scale);   /* (N, D) */
    x_new = eqg_add(t, x_new, agg);
  }
  /* velocity term with the h before its update: x_i + phi_v(h_i) v_i */
  if (use_v) x_new = eqg_add(t, x_new, eqg_mul(t, io->v, eqg_mlp_forward(t, p, l->phi_v, h)));

  /* aggregation and h update */
  eqg_tensor *m_i = eqg_graph_sum_to_dst(t, b, m);                       /* (N, F) */
  eqg_tensor *dh = eqg_mlp_forward(t, p, l->phi_h, eqg_concat_cols(t, h, m_i));  /* (N, F) */
  eqg_tensor *h_new = c->residual ? eqg_add(t, h, dh) : dh;

  if (eqg_tape_status(t) == EQG_OK) {
    io->h = h_new;
    io->x = x_new;
  }
  return eqg_tape_status(t);
}

const eqg_layer_type eqg_layer_egnn = {
  .name = "egnn",
  .symmetry = "E(n): x equivariant (rotations, reflections, translations), h invariant",
  .geometric = true,
  .claims = egnn_claims,
  .alloc = egnn_alloc,
  .free = egnn_free,
  .forward = egnn_forward,
  .coords_out = EQG_COORDS_X,
};
