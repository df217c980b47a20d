/* eqg_layer_rf.c: the radial field layer (Köhler, Klein, Noé 2019) as in the
 * EGNN reference code (models/gcl.py, class GCL_rf_vel), the "Radial Field"
 * baseline of the N-body experiment.
 *
 * Geometric, on 3-vectors only (alloc rejects cfg.dim != 3); h is neither read
 * nor changed.  F = cfg.width (hidden width of the MLPs), A = cfg.n_edge_attr,
 * D = 3, edge e: j = src[e] -> i = dst[e].
 *
 *   message      r_ij = x_i - x_j                               (E, D)
 *                m_ij = r_ij * phi([‖r_ij‖, a_ij])              (E, D) * (E, 1)
 *                phi  = Lin(1 + A -> F) act Lin(F -> 1, no bias) tanh
 *   aggregation  m_i  = C sum_{j: j -> i} m_ij                  (N, D)
 *                C = 1 / in-degree (cfg.coord_agg = EQG_AGG_MEAN, 0 for no edges)
 *                    or 1 (EQG_AGG_SUM), times cfg.coord_scale (the reference
 *                    code's coords_weight, 1 by default)
 *   update       x_i <- x_i + m_i
 *   velocity     x_i <- x_i + v_i phi_v(‖v_i‖)   (cfg.velocity; io->v required)
 *                phi_v = Lin(1 -> F) act Lin(F -> 1)            (N, 1) -> (N, 1)
 *
 * ‖r‖ = sqrt(|r|^2 + 1e-30) (eqg_layer_util.h): exact for ordinary inputs and
 * with a finite gradient for coincident points.  act = cfg.act; cfg.update_x
 * is ignored (the x update is all this layer does).
 *
 * Symmetry: m_ij is r_ij times a function of |r_ij| and the (invariant) edge
 * attributes, so x' is E(3)-equivariant when x moves as a position and v as a
 * displacement; claims so3, o3, so2z and translation.
 *
 * Parameters: "<prefix>.phi.0" (.weight (1 + A, F), .bias (1, F), torch
 * default), "<prefix>.phi.1.weight" (F, 1) Xavier uniform with gain 0.001 (the
 * reference's tiny initial field), and with cfg.velocity "<prefix>.phi_v.{0,1}"
 * (.weight, .bias, torch default): (1 + A) F + F + F + [F + F + F + 1],
 * 513 for F = 64, A = 2 with velocity (256 + 64 + 128 + 65). */
#include <math.h>
#include <stdlib.h>

#include "layers/eqg_layer_util.h"

typedef struct rf_layer {
  eqg_layer_config cfg;
  eqg_linear phi0, phi1;   /* (E, 1 + A) -> (E, F) -> (E, 1) */
  eqg_mlp *phi_v;          /* (N, 1) -> (N, 1), NULL without velocity */
} rf_layer;

static bool rf_claims(const eqg_layer_config *cfg, const eqg_group_type *g)
{
  return eqg_layer_claims_e3(cfg, g);
}

static void rf_free(void *layer)
{
  rf_layer *l = layer;
  if (!l) return;
  eqg_mlp_free(l->phi_v);
  free(l);
}

static void *rf_alloc(eqg_params *p, const char *prefix, const eqg_layer_config *cfg,
                      gsl_rng *rng)
{
  if (!p || !prefix || !cfg) {
    eqg_error_set(EQG_EINVAL, "layer rf: NULL parameter block, prefix or config");
    return NULL;
  }
  if (cfg->dim != 3) {
    eqg_error_set(EQG_EINVAL, "layer rf: needs 3-vectors (cfg.dim = 3), got dim %zu: the "
                  "Euclidean radial field has no Lorentz-covariant meaning", cfg->dim);
    return NULL;
  }
  const size_t F = cfg->width, A = cfg->n_edge_attr;
  if (F == 0) {
    eqg_error_set(EQG_EINVAL, "layer rf: width must be positive");
    return NULL;
  }
  if (cfg->coord_agg != EQG_AGG_MEAN && cfg->coord_agg != EQG_AGG_SUM) {
    eqg_error_set(EQG_EINVAL, "layer rf: unknown coordinate aggregation %d", (int)cfg->coord_agg);
    return NULL;
  }
  if (!isfinite(cfg->coord_scale)) {
    eqg_error_set(EQG_EINVAL, "layer rf: coord_scale %g is not finite", cfg->coord_scale);
    return NULL;
  }
  rf_layer *l = calloc(1, sizeof *l);
  if (!l) {
    eqg_error_set(EQG_ENOMEM, "layer rf %s: cannot allocate", prefix);
    return NULL;
  }
  l->cfg = *cfg;
  char name[EQG_PARAM_NAME_MAX];
  if (!eqg_layer_join(name, "rf", prefix, "phi.0") ||
      eqg_linear_init(&l->phi0, p, name, 1 + A, F, true, EQG_INIT_TORCH_DEFAULT, 1, rng) !=
        EQG_OK ||
      !eqg_layer_join(name, "rf", prefix, "phi.1") ||
      eqg_linear_init(&l->phi1, p, name, F, 1, false, EQG_INIT_XAVIER_UNIFORM, 0.001, rng) !=
        EQG_OK)
    goto fail;
  if (cfg->velocity) {
    const size_t wv[] = { 1, F, 1 };
    eqg_mlp_config cv = eqg_mlp_config_default(wv, 3);
    cv.act = cfg->act;
    if (!eqg_layer_join(name, "rf", prefix, "phi_v") ||
        !(l->phi_v = eqg_mlp_alloc(p, name, &cv, rng)))
      goto fail;
  }
  return l;
fail:
  rf_free(l);
  return NULL;
}

static eqg_status rf_forward(eqg_tape *t, eqg_params *p, const void *layer,
                             const eqg_graph_batch *b, eqg_layer_io *io)
{
  const rf_layer *l = layer;
  const eqg_layer_config *c = &l->cfg;
  if (!eqg_layer_check_nodes(t, "rf", "x", io->x, b, c->dim) ||
      !eqg_layer_check_edge_attr(t, "rf", c, b, io->a))
    return eqg_tape_status(t);
  if (c->velocity) {
    if (!io->v) {
      eqg_tape_fail(t, EQG_EINVAL, "layer rf: configured with velocity but io->v is NULL");
      return eqg_tape_status(t);
    }
    if (!eqg_layer_check_nodes(t, "rf", "v", io->v, b, c->dim)) return eqg_tape_status(t);
  }

  eqg_tensor *x = io->x;                                         /* (N, D) */
  /* message: m_ij = r_ij phi([|r_ij|, a_ij]) */
  eqg_tensor *r = eqg_sub(t, eqg_graph_gather_dst(t, b, x),
                          eqg_graph_gather_src(t, b, x));        /* (E, D) x_i - x_j */
  eqg_tensor *e_in = eqg_layer_safe_norm(t, r);                  /* (E, 1) |r_ij| */
  if (c->n_edge_attr > 0) e_in = eqg_concat_cols(t, e_in, io->a);  /* (E, 1 + A) */
  eqg_tensor *z = eqg_activation_apply(t, c->act, 0.01,
                                       eqg_linear_forward(t, p, &l->phi0, e_in)); /* (E, F) */
  eqg_tensor *phi = eqg_tanh(t, eqg_linear_forward(t, p, &l->phi1, z));           /* (E, 1) */
  eqg_tensor *m_ij = eqg_mul(t, r, phi);                         /* (E, D) */
  /* aggregation: m_i = C sum_j m_ij */
  eqg_tensor *m_i = c->coord_agg == EQG_AGG_MEAN ? eqg_graph_mean_to_dst(t, b, m_ij)
                                                 : eqg_graph_sum_to_dst(t, b, m_ij); /* (N, D) */
  if (c->coord_scale != 1) m_i = eqg_scale(t, m_i, c->coord_scale);
  /* update */
  eqg_tensor *x_new = eqg_add(t, x, m_i);                        /* (N, D) */
  if (c->velocity) {
    eqg_tensor *s = eqg_mlp_forward(t, p, l->phi_v, eqg_layer_safe_norm(t, io->v)); /* (N, 1) */
    x_new = eqg_add(t, x_new, eqg_mul(t, io->v, s));             /* + v_i phi_v(|v_i|) */
  }

  if (eqg_tape_status(t) == EQG_OK) io->x = x_new;
  return eqg_tape_status(t);
}

const eqg_layer_type eqg_layer_rf = {
  .name = "rf",
  .symmetry = "E(3)-equivariant x (h untouched)",
  .geometric = true,
  .claims = rf_claims,
  .alloc = rf_alloc,
  .free = rf_free,
  .forward = rf_forward,
  .coords_out = EQG_COORDS_X,
};
