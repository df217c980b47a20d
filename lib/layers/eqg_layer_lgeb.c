/* eqg_layer_lgeb.c: the Lorentz group equivariant block (LGEB) of LorentzNet
 * (Gong et al. 2022), as in the released code (models/LorentzNet.py, LGEB).
 *
 * D = 4 (four-vectors (E, px, py, pz)), F = cfg.width, S = cfg.n_scalars,
 * A = cfg.n_edge_attr (0 in LorentzNet); edge e: j = src[e] -> i = dst[e];
 * act = cfg.act (ReLU in LorentzNet); <p, q> = p^T G q with G = cfg.metric:
 * Minkowski diag(1, -1, -1, -1) (LorentzNet, the default for D = 4), a general
 * symmetric (4, 4) cfg.metric_g (EQG_METRIC_GENERAL, e.g. the invariant metric
 * recovered from learned generators by lib/probe, as LieGNN uses LieGAN's), or
 * Euclidean; psi(z) = sgn(z) log(1 + |z|).  Both updates read the INPUT h and x.
 *
 *   invariants   r_ij = x_i - x_j                                   (E, 4)
 *                norms_ij = psi(<r_ij, r_ij>), dots_ij = psi(<x_i, x_j>)  (E, 1) each
 *   message      m_ij = phi_e([h_i, h_j, norms_ij, dots_ij, a_ij])   (E, 2F + 2 + A) -> (E, F)
 *                phi_e = Lin(2F + 2 + A -> F, no bias) BatchNorm(F) act Lin(F -> F) act
 *   weight       w_ij = sigmoid(phi_m(m_ij)), phi_m = Lin(F -> 1)    (E, 1)
 *                m_ij <- w_ij m_ij           (the m of both updates below)
 *   x update     (cfg.update_x; false in LorentzNet's last block)
 *                x_i <- x_i + c AGG_j clamp(r_ij phi_x(m_ij), +-K)   (E, 4) -> (N, 4)
 *                phi_x = Lin(F -> F) act Lin(F -> 1, no bias, Xavier uniform gain 0.001)
 *                AGG = mean over the in_degree(i) incoming edges (cfg.coord_agg =
 *                EQG_AGG_MEAN, the released code; 0 without edges) or the sum;
 *                c = cfg.coord_scale (0.005 top tagging), K = cfg.coord_clamp
 *                (100; 0 = no clamp)
 *   aggregation  m_i = sum_j m_ij                                   (E, F) -> (N, F)
 *   h update     h_i <- h_i + phi_h([h_i, m_i, s_i])   (cfg.residual, as released;
 *                else phi_h(...)); s = io->s, the raw input scalars (absent if S = 0)
 *                phi_h = Lin(2F + S -> F) BatchNorm(F) act Lin(F -> F)  (N, 2F + S) -> (N, F)
 *   v, vec       unchanged (not read)
 *
 * BatchNorm (eqg_batchnorm, momentum 0.1, eps 1e-5) normalises over the
 * batch's edges (phi_e) or nodes (phi_h) in training mode and uses its running
 * statistics in eval mode; either way its inputs are Lorentz invariants, so h
 * stays invariant and x equivariant.  Claims (cfg.dim = 4, Minkowski): so3, o3,
 * so2z (as diag(1, R)), boostz, boost, lorentz, with every node transformed
 * (fixed beam nodes that are not transformed break the boosts).  The clamp
 * acts per component, so it is covariant only while inactive: with r_ij of
 * boosted momenta large enough that |r_ij phi_x(m_ij)| > K the x update stops
 * being equivariant (the released code has the same clamp, "never activated"
 * at its initial scale; tests/test_layers_equiv.c shows both sides).  With the
 * Euclidean metric only the rotations (so3, o3, so2z) are claimed; with a
 * general G nothing is claimed: the block is then invariant exactly under the
 * maps M with M^T G M = G, so a recovered G ~ eta (to accuracy delta) gives
 * Lorentz invariance to O(delta) (measured by experiments/lie_discover).
 *
 * The first Linear of phi_e runs as per-node projections of h followed by
 * gathers (eqg_edge_linear.h); its parameter is one (2F + 2 + A, F) weight.
 * cfg.dropout must be 0 (the released blocks use none).
 *
 * Parameters, torch default initialisation unless noted (BatchNorm gamma = 1,
 * beta = 0 trainable; running_mean = 0, running_var = 1 buffers), MLP naming:
 *   <prefix>.phi_e.0.weight (2F+2+A, F) .gamma .beta (1, F) .running_mean .running_var
 *   <prefix>.phi_e.1.weight (F, F) .bias
 *   <prefix>.phi_h.0.weight (2F+S, F) .bias .gamma .beta .running_mean .running_var
 *   <prefix>.phi_h.1.weight (F, F) .bias
 *   <prefix>.phi_x.0.weight (F, F) .bias  phi_x.1.weight (F, 1)         (update_x)
 *   <prefix>.phi_m.0.weight (F, 1) .bias
 * Trainable: phi_e (2F+2+A) F + 2F + (F+1) F, phi_h (2F+S+1) F + 2F + (F+1) F,
 * phi_x (F+1) F + F, phi_m F + 1; F = 72, S = 2, A = 0: 15,912 + 15,984 +
 * 5,328 + 73 = 37,297 (31,969 without phi_x). */
#include <math.h>
#include <stdlib.h>

#include "layers/eqg_edge_linear.h"
#include "layers/eqg_layer_util.h"

enum { LGEB_BN_GAMMA, LGEB_BN_BETA, LGEB_BN_MEAN, LGEB_BN_VAR, LGEB_BN_COUNT };

static const char *const lgeb_bn_leaf[LGEB_BN_COUNT] = {
  [LGEB_BN_GAMMA] = "gamma", [LGEB_BN_BETA] = "beta",
  [LGEB_BN_MEAN] = "running_mean", [LGEB_BN_VAR] = "running_var",
};

#define LGEB_BN_MOMENTUM 0.1
#define LGEB_BN_EPS 1e-5

typedef struct lgeb_layer {
  eqg_layer_config cfg;
  eqg_linear e0, e1;         /* phi_e linears: (E, 2F + 2 + A) -> (E, F) -> (E, F) */
  int e_bn[LGEB_BN_COUNT];   /* phi_e batch norm: gamma, beta, running mean, var (1, F) */
  eqg_mlp *phi_h;            /* (N, 2F + S) -> (N, F), with batch norm */
  eqg_linear x0, x1;         /* phi_x: (E, F) -> (E, F) -> (E, 1); unset without update_x */
  eqg_linear m0;             /* phi_m: (E, F) -> (E, 1) */
} lgeb_layer;

static bool lgeb_claims(const eqg_layer_config *cfg, const eqg_group_type *g)
{
  if (!cfg || !g || cfg->dim != 4) return false;
  bool rotation = g == &eqg_group_so3 || g == &eqg_group_o3 || g == &eqg_group_so2z;
  bool boost = g == &eqg_group_boostz || g == &eqg_group_boost || g == &eqg_group_lorentz;
  if (cfg->metric == EQG_METRIC_MINKOWSKI) return rotation || boost;
  return cfg->metric == EQG_METRIC_EUCLIDEAN && rotation;
}

static void lgeb_free(void *layer)
{
  lgeb_layer *l = layer;
  if (!l) return;
  eqg_mlp_free(l->phi_h);
  free(l);
}

/* "<prefix>.<part>" Linear(in -> out); false with a message. */
static bool lgeb_linear(eqg_linear *lin, eqg_params *p, const char *prefix, const char *part,
                        size_t in, size_t out, bool bias, eqg_init_kind init, eqg_real gain,
                        gsl_rng *rng)
{
  char name[EQG_PARAM_NAME_MAX];
  return eqg_layer_join(name, "lgeb", prefix, part) &&
         eqg_linear_init(lin, p, name, in, out, bias, init, gain, rng) == EQG_OK;
}

/* The batch norm entries "<prefix>.phi_e.0.<leaf>" (1, F); false with a message. */
static bool lgeb_bn_add(int id[LGEB_BN_COUNT], eqg_params *p, const char *prefix, size_t F)
{
  for (int k = 0; k < LGEB_BN_COUNT; k++) {
    char part[EQG_PARAM_NAME_MAX], name[EQG_PARAM_NAME_MAX];
    snprintf(part, sizeof part, "phi_e.0.%s", lgeb_bn_leaf[k]);
    if (!eqg_layer_join(name, "lgeb", prefix, part)) return false;
    bool trainable = k == LGEB_BN_GAMMA || k == LGEB_BN_BETA;
    if ((id[k] = eqg_params_add(p, name, 1, F, trainable)) < 0) return false;
    eqg_tensor_fill(eqg_params_get(p, id[k]), k == LGEB_BN_GAMMA || k == LGEB_BN_VAR ? 1 : 0);
  }
  return true;
}

static void *lgeb_alloc(eqg_params *p, const char *prefix, const eqg_layer_config *cfg,
                        gsl_rng *rng)
{
  if (!p || !prefix || !cfg) {
    eqg_error_set(EQG_EINVAL, "layer lgeb: NULL parameter block, prefix or config");
    return NULL;
  }
  const size_t F = cfg->width, S = cfg->n_scalars, A = cfg->n_edge_attr;
  if (cfg->dim != 4 || F == 0) {
    eqg_error_set(EQG_EINVAL, "layer lgeb: needs dim 4 (four-vectors) and a positive width "
                  "(got dim %zu, width %zu)", cfg->dim, F);
    return NULL;
  }
  if (cfg->coord_agg != EQG_AGG_MEAN && cfg->coord_agg != EQG_AGG_SUM) {
    eqg_error_set(EQG_EINVAL, "layer lgeb: unknown coordinate aggregation %d",
                  (int)cfg->coord_agg);
    return NULL;
  }
  if (eqg_layer_check_metric("lgeb", cfg) != EQG_OK) return NULL;
  if (!(cfg->coord_clamp >= 0) || cfg->dropout != 0) {
    eqg_error_set(EQG_EINVAL, "layer lgeb: coord_clamp %g must be >= 0 (0: off) and "
                  "dropout %g must be 0 (no dropout inside the blocks)", cfg->coord_clamp,
                  cfg->dropout);
    return NULL;
  }
  lgeb_layer *l = calloc(1, sizeof *l);
  if (!l) {
    eqg_error_set(EQG_ENOMEM, "layer lgeb %s: cannot allocate", prefix);
    return NULL;
  }
  l->cfg = *cfg;
  const eqg_init_kind td = EQG_INIT_TORCH_DEFAULT;
  char name[EQG_PARAM_NAME_MAX];
  /* phi_e */
  if (!lgeb_linear(&l->e0, p, prefix, "phi_e.0", 2 * F + 2 + A, F, false, td, 1, rng) ||
      !lgeb_bn_add(l->e_bn, p, prefix, F) ||
      !lgeb_linear(&l->e1, p, prefix, "phi_e.1", F, F, true, td, 1, rng))
    goto fail;
  /* phi_h: Lin BN act Lin */
  const size_t wh[] = { 2 * F + S, F, F };
  eqg_mlp_config ch = eqg_mlp_config_default(wh, 3);
  ch.act = cfg->act;
  ch.norm = EQG_NORM_BATCH;
  ch.norm_eps = LGEB_BN_EPS;
  ch.bn_momentum = LGEB_BN_MOMENTUM;
  if (!eqg_layer_join(name, "lgeb", prefix, "phi_h") ||
      !(l->phi_h = eqg_mlp_alloc(p, name, &ch, rng)))
    goto fail;
  /* phi_x, only where x is updated (as released: no phi_x in the last block) */
  if (cfg->update_x &&
      (!lgeb_linear(&l->x0, p, prefix, "phi_x.0", F, F, true, td, 1, rng) ||
       !lgeb_linear(&l->x1, p, prefix, "phi_x.1", F, 1, false, EQG_INIT_XAVIER_UNIFORM, 0.001,
                    rng)))
    goto fail;
  /* phi_m */
  if (!lgeb_linear(&l->m0, p, prefix, "phi_m.0", F, 1, true, td, 1, rng)) goto fail;
  return l;
fail:
  eqg_error_prefix(EQG_EINVAL, "layer lgeb %s: ", prefix);
  lgeb_free(l);
  return NULL;
}

/* x (E, F) -> BatchNorm(x) with the phi_e statistics; the state points into
 * the buffer block as it is now and lives in the tape arena until the reset. */
static eqg_tensor *lgeb_bn_forward(eqg_tape *t, eqg_params *p, const lgeb_layer *l,
                                   eqg_tensor *x)
{
  if (t->status != EQG_OK) return NULL;
  eqg_batchnorm_state *st = eqg_arena_push(t->arena, sizeof *st);
  if (!st) return eqg_tape_fail(t, EQG_ENOMEM, "layer lgeb: batch-norm state: %s",
                                eqg_error_message());
  *st = (eqg_batchnorm_state){ .running_mean = eqg_params_get(p, l->e_bn[LGEB_BN_MEAN])->data,
                               .running_var = eqg_params_get(p, l->e_bn[LGEB_BN_VAR])->data,
                               .momentum = LGEB_BN_MOMENTUM, .eps = LGEB_BN_EPS };
  return eqg_batchnorm(t, x, eqg_params_get(p, l->e_bn[LGEB_BN_GAMMA]),
                       eqg_params_get(p, l->e_bn[LGEB_BN_BETA]), st);
}

static eqg_status lgeb_forward(eqg_tape *t, eqg_params *p, const void *layer,
                               const eqg_graph_batch *b, eqg_layer_io *io)
{
  const lgeb_layer *l = layer;
  const eqg_layer_config *c = &l->cfg;
  const size_t S = c->n_scalars;
  if (!eqg_layer_check_nodes(t, "lgeb", "h", io->h, b, c->width) ||
      !eqg_layer_check_nodes(t, "lgeb", "x", io->x, b, 4) ||
      !eqg_layer_check_edge_attr(t, "lgeb", c, b, io->a))
    return eqg_tape_status(t);
  /* s: (N, S), absent (or without columns) when S = 0 */
  if (S > 0 && !io->s) {
    eqg_tape_fail(t, EQG_ESHAPE, "layer lgeb: io->s is NULL, expected %zu x %zu "
                  "(N x n_scalars)", b->n_nodes, S);
    return eqg_tape_status(t);
  }
  if (io->s && (S > 0 ? io->s->rows != b->n_nodes || io->s->cols != S : io->s->cols != 0)) {
    eqg_tape_fail(t, EQG_ESHAPE, "layer lgeb: io->s is %zu x %zu, expected %zu x %zu "
                  "(N x n_scalars)", io->s->rows, io->s->cols, b->n_nodes, S);
    return eqg_tape_status(t);
  }
  const eqg_activation act = c->act;
  eqg_tensor *h = io->h, *x = io->x;                                     /* (N, F), (N, 4) */

  /* metric invariants of the input x */
  eqg_tensor *x_i = eqg_graph_gather_dst(t, b, x), *x_j = eqg_graph_gather_src(t, b, x);
  eqg_tensor *r = eqg_sub(t, x_i, x_j);                                  /* (E, 4) */
  eqg_tensor *norms = eqg_psi(t, eqg_layer_metric_product(t, c, r, r));
  eqg_tensor *dots = eqg_psi(t, eqg_layer_metric_product(t, c, x_i, x_j));
  eqg_tensor *z = eqg_concat_cols(t, norms, dots);                       /* (E, 2) */
  if (c->n_edge_attr > 0) z = eqg_concat_cols(t, z, io->a);              /* (E, 2 + A) */

  /* message m_ij = phi_e([h_i, h_j, norms, dots]), weighted by sigmoid(phi_m(m_ij)) */
  eqg_tensor *m = eqg_layer_edge_linear(t, p, &l->e0, b, h, z, EQG_ACT_NONE, 0);  /* (E, F) */
  m = eqg_activation_apply(t, act, 0, lgeb_bn_forward(t, p, l, m));
  m = eqg_linear_forward_act(t, p, &l->e1, m, act, 0);                   /* (E, F) */
  m = eqg_mul(t, m, eqg_linear_forward_act(t, p, &l->m0, m, EQG_ACT_SIGMOID, 0));  /* (E, F) */

  /* x update: x_i + c AGG_j clamp(r_ij phi_x(m_ij)) */
  eqg_tensor *x_new = x;
  if (c->update_x) {
    eqg_tensor *w = eqg_linear_forward_act(t, p, &l->x0, m, act, 0);
    w = eqg_linear_forward(t, p, &l->x1, w);                             /* (E, 1) */
    eqg_tensor *trans = eqg_mul(t, r, w);                                /* (E, 4) */
    if (c->coord_clamp > 0) trans = eqg_clamp(t, trans, -c->coord_clamp, c->coord_clamp);
    eqg_tensor *agg = c->coord_agg == EQG_AGG_MEAN ? eqg_graph_mean_to_dst(t, b, trans)
                                                   : eqg_graph_sum_to_dst(t, b, trans);
    if (c->coord_scale != 1) agg = eqg_scale(t, agg, c->coord_scale);   /* (N, 4) */
    x_new = eqg_add(t, x, agg);
  }

  /* aggregation and h update */
  eqg_tensor *hin = eqg_concat_cols(t, h, eqg_graph_sum_to_dst(t, b, m));    /* (N, 2F) */
  if (S > 0) hin = eqg_concat_cols(t, hin, io->s);                       /* (N, 2F + S) */
  eqg_tensor *dh = eqg_mlp_forward(t, p, l->phi_h, hin);                 /* (N, F) */
  eqg_tensor *h_new = c->residual ? eqg_add(t, h, dh) : dh;

  if (eqg_tape_status(t) == EQG_OK) {
    io->h = h_new;
    io->x = x_new;
  }
  return eqg_tape_status(t);
}

const eqg_layer_type eqg_layer_lgeb = {
  .name = "lgeb",
  .symmetry = "Lorentz SO+(1,3) and parity: x equivariant, h invariant",
  .geometric = true,
  .claims = lgeb_claims,
  .alloc = lgeb_alloc,
  .free = lgeb_free,
  .forward = lgeb_forward,
  .coords_out = EQG_COORDS_X,
};
