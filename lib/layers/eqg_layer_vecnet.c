/* eqg_layer_vecnet.c: semi-equivariant vector-channel layer ("vecnet"),
 * after the concept of VecNet (Murnane, Thais, Wong 2022).  The paper's own
 * equations were not available; this is a clean implementation of its knob:
 * a fraction of the vector channels is treated equivariantly, the rest as
 * unconstrained raw numbers.
 *
 * State.  h (N, F) invariant channels; vec (N, C*D) with C = cfg.n_vec vector
 * channels of dimension D = cfg.dim (3 or 4), channel c in columns
 * c*D .. c*D + D - 1.  The expected input is C copies of the coordinates x
 * (the model builds it); the layer works with any vec, and if io->vec is NULL
 * it starts from exactly that, vec = [x, x, ..., x].  io->x is never changed:
 * the vector channels carry the geometry (a model reads channel 0 as its
 * equivariant coordinate output).
 *
 * The knob f = cfg.equivariant_fraction in [0, 1] splits the channels:
 *   C_e = round(f C)  (halves round up)   equivariant channels   V^c, c <  C_e
 *   C_u = C - C_e                         unconstrained channels U^c, c >= C_e
 * so vec = [V (N, C_e D) | U (N, C_u D)].
 *
 * Message on edge (i <- j) (i = dst[e], j = src[e]), <.,.> the metric
 * cfg.metric (Minkowski diag(1,-1,-1,-1) for D = 4, Euclidean otherwise),
 * psi(z) = sgn(z) log(1 + |z|):
 *   inv_ij = [psi(<V_i^c - V_j^c, V_i^c - V_j^c>), psi(<V_i^c, V_j^c>)]_{c < C_e}
 *                                                          (E, 2 C_e), pairs per channel
 *   raw_ij = [psi(U_i), psi(U_j)]  (psi per component)     (E, 2 C_u D)
 *   m_ij   = phi_e([h_i, h_j, inv_ij, raw_ij, a_ij])       (E, F)
 *            phi_e = Lin(K -> F) act Lin(F -> F) act,  K = 2F + 2C_e + 2C_u D + A
 * Aggregation and updates (deg_i = in-degree of i):
 *   m_i    = sum_j m_ij                                    (N, F)
 *   h_i   <- h_i + phi_h([h_i, m_i, s_i])                  (N, F)
 *            phi_h = Lin(2F + S -> F) act Lin(F -> F); without the residual
 *            (cfg.residual false) h_i <- phi_h(...)
 *   w_ij   = phi_x(m_ij) = m_ij W_x                        (E, C_e), no bias,
 *            Xavier-uniform init with gain 0.001 (starts near the identity)
 *   V_i^c <- V_i^c + k (1/deg_i) sum_j w^c_ij (V_i^c - V_j^c)
 *            k = cfg.coord_scale; cfg.coord_agg = EQG_AGG_SUM drops 1/deg_i
 *   U_i   <- U_i + phi_u(m_i),  phi_u = Lin(F -> C_u D)   (a free update;
 *            bias, Xavier-uniform gain 0.001)
 * With cfg.update_x false, vec is left as it came in and phi_x, phi_u do not
 * exist.  a_ij (E, A) and s_i (N, S) are used when cfg.n_edge_attr = A and
 * cfg.n_scalars = S are nonzero.  Ignored fields: velocity, coord_clamp and
 * the SchNet ones; cfg.dropout goes to the hidden layers of phi_e and phi_h.
 * The raw components pass through psi as the invariants do: four-momenta in
 * GeV (LorentzNet's units, which the Minkowski invariants under psi need)
 * entered phi_e at O(100-1000) next to O(1) invariants, swamped them (h rms
 * ~10-20 and a loss of 2.5 at initialisation) and kept vecnet_top at 0.69
 * accuracy in short top-tagging runs (0.88 with psi; issue 5 follow-up).
 * The first Linear of phi_e runs as per-node projections of h gathered per
 * edge plus z_ij W_z (eqg_edge_linear.h), its parameter still the single
 * (K, F) weight "phi_e.0.weight".
 *
 * Symmetry.  V enters the MLPs only through metric products and is updated
 * by invariant-weighted sums of the (covariant) differences V_i - V_j, so for
 * C_u = 0 (f = 1, or f C rounding up to C), h is invariant and vec equivariant
 * under every linear map that preserves the metric and acts on all channels
 * alike: the Lorentz group for D = 4 Minkowski (so3, o3, so2z embedded as
 * diag(1, R), boostz, boost, lorentz), O(3) for D = 3 Euclidean (so3, o3,
 * so2z; also for D = 4 Euclidean, embedded).  Not translations: <V_i, V_j>
 * changes when positions move (the channels are treated as displacement-like
 * four-momenta; dropping that invariant would give E(n) as in EGNN).  With
 * C_u > 0 the raw components enter phi_e, so nothing is claimed.
 *
 * Parameters (trainable scalars), u = 1 if cfg.update_x else 0:
 *   phi_e  F (2F + 2C_e + 2C_u D + A) + F  +  F F + F
 *   phi_h  F (2F + S) + F  +  F F + F
 *   phi_x  u F C_e                       (only if C_e > 0)
 *   phi_u  u (F + 1) C_u D               (only if C_u > 0)
 *   total  6F^2 + F (2C_e + 2C_u D + A + S + 4) + u (F C_e + (F + 1) C_u D)
 * At fixed C, moving a channel from equivariant to unconstrained adds
 * 2F(D - 1) + u (F D + D - F) > 0 parameters: the count grows monotonically
 * as f decreases, largest at f = 0 -- the "ant factor" trade-off.
 *
 * Parameter names under the prefix: <prefix>.phi_e.{0,1}.{weight,bias},
 * <prefix>.phi_h.{0,1}.{weight,bias}, <prefix>.phi_x.weight,
 * <prefix>.phi_u.{weight,bias}. */
#include "layers/eqg_layer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "layers/eqg_edge_linear.h"
#include "layers/eqg_layer_util.h"

enum { VECNET_PHI_DEPTH = 3 };   /* widths per MLP: in, hidden, out */
static const eqg_real vecnet_vec_init_gain = 0.001;

typedef struct vecnet_layer {
  eqg_layer_config cfg;
  size_t n_eq;        /* C_e */
  size_t n_free;      /* C_u */
  eqg_mlp *phi_e;     /* (E, K) -> (E, F) */
  eqg_mlp *phi_h;     /* (N, 2F + S) -> (N, F) */
  eqg_linear phi_x;   /* (E, F) -> (E, C_e), no bias; w_id -1 if absent */
  eqg_linear phi_u;   /* (N, F) -> (N, C_u D); w_id -1 if absent */
} vecnet_layer;

/* C_e = round(f C), halves up; f is validated to lie in [0, 1]. */
static size_t vecnet_n_eq(const eqg_layer_config *cfg)
{
  size_t ce = (size_t)floor(cfg->equivariant_fraction * (eqg_real)cfg->n_vec + 0.5);
  return ce > cfg->n_vec ? cfg->n_vec : ce;
}

static eqg_status vecnet_check_config(const eqg_layer_config *cfg)
{
  if (!cfg) return eqg_error_set(EQG_EINVAL, "vecnet: NULL config");
  if (cfg->dim != 3 && cfg->dim != 4)
    return eqg_error_set(EQG_EINVAL, "vecnet: dim %zu must be 3 or 4", cfg->dim);
  if (cfg->width == 0) return eqg_error_set(EQG_EINVAL, "vecnet: width must be positive");
  if (cfg->n_vec == 0)
    return eqg_error_set(EQG_EINVAL, "vecnet: n_vec (vector channels C) must be at least 1");
  if (!(cfg->equivariant_fraction >= 0 && cfg->equivariant_fraction <= 1))
    return eqg_error_set(EQG_EINVAL, "vecnet: equivariant_fraction %g must lie in [0, 1]",
                         cfg->equivariant_fraction);
  if (cfg->metric != EQG_METRIC_EUCLIDEAN && cfg->metric != EQG_METRIC_MINKOWSKI)
    return eqg_error_set(EQG_EINVAL, "vecnet: metric must be Euclidean or Minkowski");
  if (cfg->metric == EQG_METRIC_MINKOWSKI && cfg->dim != 4)
    return eqg_error_set(EQG_EINVAL, "vecnet: the Minkowski metric needs dim 4, not %zu",
                         cfg->dim);
  if (cfg->coord_agg != EQG_AGG_MEAN && cfg->coord_agg != EQG_AGG_SUM)
    return eqg_error_set(EQG_EINVAL, "vecnet: unknown coordinate aggregation %d",
                         (int)cfg->coord_agg);
  if (!isfinite(cfg->coord_scale))
    return eqg_error_set(EQG_EINVAL, "vecnet: coord_scale %g is not finite", cfg->coord_scale);
  return EQG_OK;
}

/* ---- claims ------------------------------------------------------------------ */

static bool vecnet_claims(const eqg_layer_config *cfg, const eqg_group_type *g)
{
  if (!cfg || !g || vecnet_check_config(cfg) != EQG_OK) return false;
  if (vecnet_n_eq(cfg) != cfg->n_vec) return false;       /* C_u > 0: no claim */
  bool rotation = g == &eqg_group_so3 || g == &eqg_group_o3 || g == &eqg_group_so2z;
  bool lorentz = g == &eqg_group_boostz || g == &eqg_group_boost || g == &eqg_group_lorentz;
  if (rotation) return true;   /* D = 3 directly; D = 4 as diag(1, R), either metric */
  if (lorentz) return cfg->dim == 4 && cfg->metric == EQG_METRIC_MINKOWSKI;
  return false;                /* translations and anything unknown */
}

/* ---- construction -------------------------------------------------------------- */

static void vecnet_free(void *layer)
{
  vecnet_layer *l = layer;
  if (!l) return;
  eqg_mlp_free(l->phi_e);
  eqg_mlp_free(l->phi_h);
  free(l);
}

static eqg_mlp *vecnet_mlp(eqg_params *p, const char *prefix, const char *leaf, size_t in,
                           const eqg_layer_config *cfg, bool act_last, gsl_rng *rng)
{
  char name[EQG_PARAM_NAME_MAX];
  if (!eqg_layer_join(name, "vecnet", prefix, leaf)) return NULL;
  const size_t w[VECNET_PHI_DEPTH] = { in, cfg->width, cfg->width };
  eqg_mlp_config mc = eqg_mlp_config_default(w, VECNET_PHI_DEPTH);
  mc.act = cfg->act;
  mc.act_last = act_last;
  mc.dropout = cfg->dropout;
  eqg_mlp *m = eqg_mlp_alloc(p, name, &mc, rng);
  if (!m) eqg_error_prefix(EQG_EINVAL, "vecnet: ");
  return m;
}

static void *vecnet_alloc(eqg_params *p, const char *prefix, const eqg_layer_config *cfg,
                          gsl_rng *rng)
{
  if (vecnet_check_config(cfg) != EQG_OK) return NULL;
  if (!p || !prefix || !rng) {
    eqg_error_set(EQG_EINVAL, "vecnet: NULL parameter block, prefix or rng");
    return NULL;
  }
  vecnet_layer *l = calloc(1, sizeof *l);
  if (!l) {
    eqg_error_set(EQG_ENOMEM, "vecnet: cannot allocate the layer");
    return NULL;
  }
  const size_t F = cfg->width, D = cfg->dim;
  l->cfg = *cfg;
  l->n_eq = vecnet_n_eq(cfg);
  l->n_free = cfg->n_vec - l->n_eq;
  l->phi_x = (eqg_linear){ .w_id = -1, .b_id = -1 };
  l->phi_u = (eqg_linear){ .w_id = -1, .b_id = -1 };

  const size_t k_edge = 2 * F + 2 * l->n_eq + 2 * l->n_free * D + cfg->n_edge_attr;
  l->phi_e = vecnet_mlp(p, prefix, "phi_e", k_edge, cfg, true, rng);
  if (!l->phi_e) goto fail;
  l->phi_h = vecnet_mlp(p, prefix, "phi_h", 2 * F + cfg->n_scalars, cfg, false, rng);
  if (!l->phi_h) goto fail;

  char name[EQG_PARAM_NAME_MAX];
  if (cfg->update_x && l->n_eq > 0) {
    if (!eqg_layer_join(name, "vecnet", prefix, "phi_x") ||
        eqg_linear_init(&l->phi_x, p, name, F, l->n_eq, false, EQG_INIT_XAVIER_UNIFORM,
                        vecnet_vec_init_gain, rng) != EQG_OK)
      goto fail;
  }
  if (cfg->update_x && l->n_free > 0) {
    if (!eqg_layer_join(name, "vecnet", prefix, "phi_u") ||
        eqg_linear_init(&l->phi_u, p, name, F, l->n_free * D, true, EQG_INIT_XAVIER_UNIFORM,
                        vecnet_vec_init_gain, rng) != EQG_OK)
      goto fail;
  }
  return l;
fail:
  vecnet_free(l);
  return NULL;
}

/* ---- forward ------------------------------------------------------------------- */

/* [acc | x], or x when acc is the empty start (NULL).  A failed tape makes
 * every later op return NULL, so the final status check catches it. */
static eqg_tensor *vecnet_append(eqg_tape *t, eqg_tensor *acc, eqg_tensor *x)
{
  return acc ? eqg_concat_cols(t, acc, x) : x;
}

static eqg_status vecnet_check_io(eqg_tape *t, const vecnet_layer *l,
                                  const eqg_graph_batch *b, const eqg_layer_io *io)
{
  const eqg_layer_config *c = &l->cfg;
  const size_t D = c->dim;
  if (b->dim != D) {
    eqg_tape_fail(t, EQG_ESHAPE, "layer vecnet: the batch has dim %zu, the layer %zu", b->dim, D);
    return t->status;
  }
  if (!eqg_layer_check_nodes(t, "vecnet", "h", io->h, b, c->width)) return t->status;
  if (io->vec) {
    if (!eqg_layer_check_nodes(t, "vecnet", "vec", io->vec, b, c->n_vec * D)) return t->status;
  } else if (!eqg_layer_check_nodes(t, "vecnet", "x", io->x, b, D)) {
    return t->status;
  }
  if (c->n_scalars > 0 && !eqg_layer_check_nodes(t, "vecnet", "s", io->s, b, c->n_scalars))
    return t->status;
  eqg_layer_check_edge_attr(t, "vecnet", c, b, io->a);
  return t->status;
}

static eqg_status vecnet_forward(eqg_tape *t, eqg_params *p, const void *layer,
                                 const eqg_graph_batch *b, eqg_layer_io *io)
{
  if (t->status != EQG_OK) return t->status;
  const vecnet_layer *l = layer;
  if (!l || !p || !b || !io) {
    eqg_tape_fail(t, EQG_EINVAL, "vecnet: NULL layer, parameters, batch or state");
    return t->status;
  }
  if (vecnet_check_io(t, l, b, io) != EQG_OK) return t->status;
  const eqg_layer_config *c = &l->cfg;
  const size_t D = c->dim, Ce = l->n_eq, Cu = l->n_free;

  /* vec (N, C D); default: C copies of x. */
  eqg_tensor *vec = io->vec;
  if (!vec) {
    vec = io->x;
    for (size_t k = 1; k < c->n_vec; k++) vec = eqg_concat_cols(t, vec, io->x);
  }
  eqg_tensor *V = Cu == 0 ? vec : Ce == 0 ? NULL : eqg_slice_cols(t, vec, 0, Ce * D);
  eqg_tensor *U = Ce == 0 ? vec : Cu == 0 ? NULL : eqg_slice_cols(t, vec, Ce * D, Cu * D);

  /* Edge inputs [h_i, h_j, z_ij] with z_ij = [inv_ij, raw_ij, a_ij] (E, K - 2F);
   * the h part never becomes an (E, 2F) concatenation (below). */
  eqg_tensor *in_e = NULL;
  eqg_tensor *r = NULL;   /* (E, C_e D) V_i - V_j */
  if (Ce > 0) {
    eqg_tensor *Vi = eqg_graph_gather_dst(t, b, V), *Vj = eqg_graph_gather_src(t, b, V);
    r = eqg_sub(t, Vi, Vj);
    for (size_t ch = 0; ch < Ce; ch++) {
      eqg_tensor *rc = eqg_slice_cols(t, r, ch * D, D);
      eqg_tensor *vic = eqg_slice_cols(t, Vi, ch * D, D), *vjc = eqg_slice_cols(t, Vj, ch * D, D);
      in_e = vecnet_append(t, in_e, eqg_psi(t, eqg_bilinear_rows(t, rc, rc, c->metric, NULL)));
      in_e = vecnet_append(t, in_e, eqg_psi(t, eqg_bilinear_rows(t, vic, vjc, c->metric, NULL)));
    }
  }
  if (Cu > 0) {   /* psi(U) per component: raw momenta (GeV) would swamp phi_e */
    eqg_tensor *pU = eqg_psi(t, U);                                   /* (N, C_u D) */
    in_e = vecnet_append(t, in_e, eqg_graph_gather_dst(t, b, pU));
    in_e = eqg_concat_cols(t, in_e, eqg_graph_gather_src(t, b, pU));
  }
  if (c->n_edge_attr > 0) in_e = vecnet_append(t, in_e, io->a);

  /* m_ij = phi_e([h_i, h_j, z_ij]): the first Linear from per-node projections
   * of h gathered per edge (eqg_edge_linear.h), O(N F^2 + E F) instead of
   * O(E F^2); then dropout (hidden layer, as eqg_mlp) and Lin act. */
  const eqg_mlp_config *ec = &l->phi_e->cfg;
  eqg_tensor *m = eqg_layer_edge_linear(t, p, &l->phi_e->layer[0].lin, b, io->h, in_e, ec->act,
                                        ec->leaky_slope);
  if (ec->dropout > 0) m = eqg_dropout(t, m, ec->dropout);
  m = eqg_linear_forward_act(t, p, &l->phi_e->layer[1].lin, m, ec->act,
                             ec->leaky_slope);            /* (E, F) m_ij */
  eqg_tensor *mi = eqg_graph_sum_to_dst(t, b, m);          /* (N, F) m_i */

  /* h_i <- h_i + phi_h([h_i, m_i, s_i]) */
  eqg_tensor *in_h = eqg_concat_cols(t, io->h, mi);
  if (c->n_scalars > 0) in_h = eqg_concat_cols(t, in_h, io->s);
  eqg_tensor *dh = eqg_mlp_forward(t, p, l->phi_h, in_h);
  eqg_tensor *h = c->residual ? eqg_add(t, io->h, dh) : dh;

  /* Vector channels. */
  eqg_tensor *vec_out = vec;
  if (c->update_x) {
    eqg_tensor *V_new = NULL, *U_new = NULL;
    if (Ce > 0) {
      /* msg^c_ij = w^c_ij (V_i^c - V_j^c): (E, D) per channel -> (E, C_e D) */
      eqg_tensor *w = eqg_linear_forward(t, p, &l->phi_x, m);   /* (E, C_e) */
      eqg_tensor *msg = NULL;
      for (size_t ch = 0; ch < Ce; ch++)
        msg = vecnet_append(t, msg, eqg_mul(t, eqg_slice_cols(t, r, ch * D, D),
                                            eqg_slice_cols(t, w, ch, 1)));
      eqg_tensor *agg = c->coord_agg == EQG_AGG_MEAN ? eqg_graph_mean_to_dst(t, b, msg)
                                                     : eqg_graph_sum_to_dst(t, b, msg);
      if (c->coord_scale != 1) agg = eqg_scale(t, agg, c->coord_scale);
      V_new = eqg_add(t, V, agg);
    }
    if (Cu > 0) U_new = eqg_add(t, U, eqg_linear_forward(t, p, &l->phi_u, mi));
    vec_out = !V_new ? U_new : !U_new ? V_new : eqg_concat_cols(t, V_new, U_new);
  }

  if (t->status != EQG_OK) return t->status;
  io->h = h;
  io->vec = vec_out;
  return EQG_OK;
}

const eqg_layer_type eqg_layer_vecnet = {
  .name = "vecnet",
  .symmetry = "semi-equivariant: with equivariant_fraction 1, h invariant and vec "
              "equivariant (Lorentz for D = 4 Minkowski, O(3) for Euclidean); "
              "unconstrained channels claim nothing",
  .geometric = true,
  .claims = vecnet_claims,
  .alloc = vecnet_alloc,
  .free = vecnet_free,
  .forward = vecnet_forward,
  .coords_out = EQG_COORDS_VEC,
};
