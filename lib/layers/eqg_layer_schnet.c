/* eqg_layer_schnet.c: the SchNet interaction block (Schütt et al. 2017):
 * a continuous-filter convolution on interatomic distances, residual in h.
 *
 * Geometric: reads x through distances only and leaves it unchanged.
 * F = cfg.width, K = cfg.n_rbf, D = cfg.dim, edge e: j = src[e] -> i = dst[e].
 *
 *   distance     d_ij = ‖x_i - x_j‖                             (E, 1)
 *   expansion    e_ij,k = exp(-gamma (d_ij - mu_k)^2)           (E, K)
 *                mu_k = k cutoff / (K - 1), k = 0 .. K-1 (mu_0 = 0 if K = 1),
 *                gamma = cfg.rbf_gamma, cutoff = cfg.rbf_cutoff; fixed, not
 *                learned; built from tape ops (d 1^T - mu, mul, scale, exp)
 *   filter       W_ij = ssp(Lin(F -> F)(ssp(Lin(K + A -> F)([e_ij, a_ij]))))  (E, F)
 *                (A = cfg.n_edge_attr, usually 0: optional edge attributes
 *                join the expansion as extra filter inputs)
 *   cfconv       m_ij = W_ij ⊙ Lin_in(h_j)    Lin_in: F -> F, no bias ("atom-wise",
 *                                              applied to the N rows before the gather)
 *   aggregation  v_i  = sum_{j: j -> i} m_ij                    (N, F)
 *   update       h_i <- h_i + Lin(F -> F)(ssp(Lin(F -> F)(v_i)))  (cfg.residual;
 *                                              without it h_i <- Lin(ssp(Lin(v_i))))
 *   x, v         unchanged
 *
 * ssp(x) = ln(0.5 e^x + 0.5), the shifted softplus, throughout (cfg.act is not
 * used: it is part of SchNet's definition).  ‖r‖ = sqrt(|r|^2 + 1e-30)
 * (eqg_layer_util.h).  The original's hard cutoff of the filter is not applied:
 * the grid only places the centres.
 *
 * Dimensions: D = 3 (positions), or D = 4 with the Euclidean distance over all
 * four components (for point clouds of four-momenta treated as plain points).
 * Symmetry: for D = 3, h is invariant and x (unchanged) trivially equivariant
 * under so3, o3, so2z and translations; for D = 4 the Euclidean distance is not
 * Lorentz invariant and the registered dim-3 groups do not act on 4-vectors,
 * so the layer claims nothing.
 *
 * Parameters: "<prefix>.filter.{0,1}" (.weight, .bias), "<prefix>.in.0.weight",
 * "<prefix>.out.{0,1}" (.weight, .bias), torch default initialisation:
 * (K + A) F + F + F^2 + F + F^2 + 2 (F^2 + F) = 4F^2 + (K + A) F + 4F
 * (17,920 for F = 64, K = 20, A = 0). */
#include <math.h>
#include <stdlib.h>

#include "layers/eqg_layer_util.h"

typedef struct schnet_layer {
  eqg_layer_config cfg;
  eqg_real *mu;      /* (K) RBF centres */
  eqg_mlp *filter;   /* (E, K) -> (E, F), ssp after both layers */
  eqg_mlp *in;       /* (N, F) -> (N, F), no bias */
  eqg_mlp *out;      /* (N, F) -> (N, F), Lin ssp Lin */
} schnet_layer;

static bool schnet_claims(const eqg_layer_config *cfg, const eqg_group_type *g)
{
  return eqg_layer_claims_e3(cfg, g);
}

static void schnet_free(void *layer)
{
  schnet_layer *l = layer;
  if (!l) return;
  eqg_mlp_free(l->filter);
  eqg_mlp_free(l->in);
  eqg_mlp_free(l->out);
  free(l->mu);
  free(l);
}

static void *schnet_alloc(eqg_params *p, const char *prefix, const eqg_layer_config *cfg,
                          gsl_rng *rng)
{
  if (!p || !prefix || !cfg) {
    eqg_error_set(EQG_EINVAL, "layer schnet: NULL parameter block, prefix or config");
    return NULL;
  }
  const size_t F = cfg->width, K = cfg->n_rbf;
  if (cfg->dim != 3 && cfg->dim != 4) {
    eqg_error_set(EQG_EINVAL, "layer schnet: dim must be 3 or 4, got %zu", cfg->dim);
    return NULL;
  }
  if (F == 0 || K == 0) {
    eqg_error_set(EQG_EINVAL, "layer schnet: width (%zu) and n_rbf (%zu) must be positive", F, K);
    return NULL;
  }
  if (!(isfinite(cfg->rbf_cutoff) && cfg->rbf_cutoff > 0) ||
      !(isfinite(cfg->rbf_gamma) && cfg->rbf_gamma > 0)) {
    eqg_error_set(EQG_EINVAL, "layer schnet: rbf_cutoff (%g) and rbf_gamma (%g) must be "
                  "positive and finite", cfg->rbf_cutoff, cfg->rbf_gamma);
    return NULL;
  }
  schnet_layer *l = calloc(1, sizeof *l);
  if (l) l->mu = malloc(K * sizeof *l->mu);
  if (!l || !l->mu) {
    schnet_free(l);
    eqg_error_set(EQG_ENOMEM, "layer schnet %s: cannot allocate", prefix);
    return NULL;
  }
  l->cfg = *cfg;
  for (size_t k = 0; k < K; k++)
    l->mu[k] = K > 1 ? cfg->rbf_cutoff * (eqg_real)k / (eqg_real)(K - 1) : 0;

  char name[EQG_PARAM_NAME_MAX];
  const size_t wf[] = { K + cfg->n_edge_attr, F, F }, wi[] = { F, F }, wo[] = { F, F, F };
  eqg_mlp_config cf = eqg_mlp_config_default(wf, 3);
  cf.act = EQG_ACT_SHIFTED_SOFTPLUS;
  cf.act_last = true;                       /* RBF -> Dense -> ssp -> Dense -> ssp */
  eqg_mlp_config ci = eqg_mlp_config_default(wi, 2);
  ci.bias = false;
  eqg_mlp_config co = eqg_mlp_config_default(wo, 3);
  co.act = EQG_ACT_SHIFTED_SOFTPLUS;
  if (!eqg_layer_join(name, "schnet", prefix, "filter") ||
      !(l->filter = eqg_mlp_alloc(p, name, &cf, rng)) ||
      !eqg_layer_join(name, "schnet", prefix, "in") ||
      !(l->in = eqg_mlp_alloc(p, name, &ci, rng)) ||
      !eqg_layer_join(name, "schnet", prefix, "out") ||
      !(l->out = eqg_mlp_alloc(p, name, &co, rng))) {
    schnet_free(l);
    return NULL;
  }
  return l;
}

/* d (E, 1) -> (E, K): exp(-gamma (d - mu_k)^2), a fixed function of d. */
static eqg_tensor *rbf_expand(eqg_tape *t, const schnet_layer *l, eqg_tensor *d)
{
  const size_t K = l->cfg.n_rbf;
  eqg_tensor *ones = eqg_tape_input(t, 1, K, NULL, false);           /* (1, K) */
  eqg_tensor *mu = eqg_tape_input(t, 1, K, l->mu, false);            /* (1, K) */
  if (!ones || !mu) return NULL;
  eqg_tensor_fill(ones, 1);
  eqg_tensor *diff = eqg_sub(t, eqg_matmul(t, d, false, ones, false), mu);  /* (E, K) d - mu_k */
  return eqg_exp(t, eqg_scale(t, eqg_mul(t, diff, diff), -l->cfg.rbf_gamma)); /* (E, K) */
}

static eqg_status schnet_forward(eqg_tape *t, eqg_params *p, const void *layer,
                                 const eqg_graph_batch *b, eqg_layer_io *io)
{
  const schnet_layer *l = layer;
  const eqg_layer_config *c = &l->cfg;
  if (!eqg_layer_check_nodes(t, "schnet", "h", io->h, b, c->width) ||
      !eqg_layer_check_nodes(t, "schnet", "x", io->x, b, c->dim) ||
      !eqg_layer_check_edge_attr(t, "schnet", c, b, io->a))
    return eqg_tape_status(t);

  eqg_tensor *h = io->h, *x = io->x;                                /* (N, F), (N, D) */
  /* distances and their expansion */
  eqg_tensor *r = eqg_sub(t, eqg_graph_gather_dst(t, b, x),
                          eqg_graph_gather_src(t, b, x));           /* (E, D) x_i - x_j */
  eqg_tensor *rbf = rbf_expand(t, l, eqg_layer_safe_norm(t, r));    /* (E, K) */
  /* continuous-filter convolution */
  if (c->n_edge_attr > 0) rbf = eqg_concat_cols(t, rbf, io->a);    /* (E, K + A) */
  eqg_tensor *W = eqg_mlp_forward(t, p, l->filter, rbf);            /* (E, F) */
  eqg_tensor *h_in = eqg_mlp_forward(t, p, l->in, h);               /* (N, F) */
  eqg_tensor *m_ij = eqg_mul(t, W, eqg_graph_gather_src(t, b, h_in)); /* (E, F) W_ij ⊙ h_in_j */
  /* aggregation */
  eqg_tensor *v_i = eqg_graph_sum_to_dst(t, b, m_ij);               /* (N, F) */
  /* update */
  eqg_tensor *dh = eqg_mlp_forward(t, p, l->out, v_i);              /* (N, F) */
  eqg_tensor *h_new = c->residual ? eqg_add(t, h, dh) : dh;         /* (N, F) */

  if (eqg_tape_status(t) == EQG_OK) io->h = h_new;
  return eqg_tape_status(t);
}

const eqg_layer_type eqg_layer_schnet = {
  .name = "schnet",
  .symmetry = "E(3)-invariant h, x unchanged (dim 3); none for dim 4",
  .geometric = true,
  .claims = schnet_claims,
  .alloc = schnet_alloc,
  .free = schnet_free,
  .forward = schnet_forward,
  .coords_out = EQG_COORDS_NONE,
};
