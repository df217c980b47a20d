/* eqg_layer_edgeconv.c: the EdgeConv block of ParticleNet (Qu and Gouskos
 * 2020; after Wang et al.'s DGCNN), "edgeconv".
 *
 * F = cfg.width, A = cfg.n_edge_attr, act = cfg.act (ReLU in ParticleNet);
 * edge e: j = src[e] -> i = dst[e].  The neighbourhoods are whatever edge list
 * the batch carries: ParticleNet's are the k = 16 nearest neighbours in
 * (eta, phi) (eqg_graph_batch_connect_knn with EQG_KNN_ETA_PHI), built once
 * from the input four-momenta and kept for every block (ParticleNet
 * recomputes them in feature space after the first block: not done here).
 *
 *   message      m_ij = phi_e([h_i, h_j - h_i, a_ij])             (E, 2F + A) -> (E, F)
 *                phi_e = Lin(2F + A -> F, no bias) BN act
 *                        Lin(F -> F, no bias) BN act  Lin(F -> F, no bias) BN act
 *   aggregation  m_i  = mean_{j: j -> i} m_ij  (0 for a node without edges)  (N, F)
 *   update       h_i <- act(BN(h_i W_s) + m_i)     (cfg.residual: ParticleNet's
 *                shortcut, here always a Linear; else h_i <- m_i)
 *   x, v, s      unchanged / not read
 *
 * BN is batch normalisation (momentum 0.1, eps 1e-5) over the batch's edges
 * (phi_e) or nodes (shortcut), batch statistics in training mode and running
 * ones in eval mode; Linear biases are dropped where a BN follows (as the
 * reference's Conv2d(bias=False)).  ParticleNet's EdgeConv is exactly this with
 * 3 layers in phi_e; its shortcut is Conv1d + BN when the width changes and the
 * identity otherwise -- our blocks keep the width, and the shortcut is a Linear
 * all the same (one F x F matrix per block).
 *
 * Speed.  The first Linear acts on [h_i, h_j - h_i] = [h_i, h_j] with weight
 * [W_a - W_b; W_b], so it runs as two per-node projections
 *   u = h (W_a - W_b) (N, F),   v = h W_b (N, F),   y_e = u[dst] + v[src] + a_e W_z
 * (one eqg_edge_affine op, no (E, 2F) concatenation) with the parameter stored
 * as the single (2F + A, F) weight of the published layer.
 *
 * Symmetry: non-geometric (the model feeds coordinates as plain features and
 * the graph comes from eta-phi distances), so no group acting on x is claimed;
 * the block is permutation-equivariant given the graph.
 *
 * Parameters, torch default initialisation (BN gamma = 1, beta = 0 trainable;
 * running_mean = 0, running_var = 1 buffers):
 *   <prefix>.phi_e.<k>.weight, k = 0, 1, 2: (2F + A, F), (F, F), (F, F)
 *   <prefix>.phi_e.<k>.{gamma, beta, running_mean, running_var} (1, F)
 *   <prefix>.shortcut.weight (F, F) and .{gamma, beta, running_*} (1, F)  (residual)
 * Trainable: (2F + A) F + 2 F^2 + 6F  +  F^2 + 2F  =  5F^2 + (A + 8) F;
 * F = 64, A = 0: 20,992. */
#include <stdlib.h>

#include "layers/eqg_edge_linear.h"
#include "layers/eqg_layer_util.h"

enum { EC_BN_GAMMA, EC_BN_BETA, EC_BN_MEAN, EC_BN_VAR, EC_BN_COUNT };
enum { EC_DEPTH = 3 };   /* Linear-BN-act layers in phi_e */

static const char *const ec_bn_leaf[EC_BN_COUNT] = {
  [EC_BN_GAMMA] = "gamma", [EC_BN_BETA] = "beta",
  [EC_BN_MEAN] = "running_mean", [EC_BN_VAR] = "running_var",
};

#define EC_BN_MOMENTUM 0.1
#define EC_BN_EPS 1e-5

/* A bias-free Linear followed by batch norm. */
typedef struct ec_lin_bn {
  eqg_linear lin;
  int bn[EC_BN_COUNT];
} ec_lin_bn;

typedef struct edgeconv_layer {
  eqg_layer_config cfg;
  ec_lin_bn e[EC_DEPTH];   /* phi_e: (E, 2F + A) -> (E, F) -> (E, F) -> (E, F) */
  ec_lin_bn sc;            /* shortcut (N, F) -> (N, F), if cfg.residual */
} edgeconv_layer;

static bool edgeconv_claims(const eqg_layer_config *cfg, const eqg_group_type *g)
{
  (void)cfg;
  (void)g;
  return false;   /* coordinates are plain features; the graph is eta-phi kNN */
}

static void edgeconv_free(void *layer) { free(layer); }

/* "<prefix>.<part>.weight" (in, F), no bias, and its batch norm entries
 * "<prefix>.<part>.<leaf>" (1, F); false with a message. */
static bool ec_lin_bn_init(ec_lin_bn *l, eqg_params *p, const char *prefix, const char *part,
                           size_t in, size_t F, gsl_rng *rng)
{
  char name[EQG_PARAM_NAME_MAX];
  if (!eqg_layer_join(name, "edgeconv", prefix, part) ||
      eqg_linear_init(&l->lin, p, name, in, F, false, EQG_INIT_TORCH_DEFAULT, 1, rng) != EQG_OK)
    return false;
  for (int k = 0; k < EC_BN_COUNT; k++) {
    char leaf[EQG_PARAM_NAME_MAX], full[EQG_PARAM_NAME_MAX];
    snprintf(leaf, sizeof leaf, "%s.%s", part, ec_bn_leaf[k]);
    if (!eqg_layer_join(full, "edgeconv", prefix, leaf)) return false;
    const bool trainable = k == EC_BN_GAMMA || k == EC_BN_BETA;
    if ((l->bn[k] = eqg_params_add(p, full, 1, F, trainable)) < 0) return false;
    eqg_tensor_fill(eqg_params_get(p, l->bn[k]), k == EC_BN_GAMMA || k == EC_BN_VAR ? 1 : 0);
  }
  return true;
}

static void *edgeconv_alloc(eqg_params *p, const char *prefix, const eqg_layer_config *cfg,
                            gsl_rng *rng)
{
  if (!p || !prefix || !cfg) {
    eqg_error_set(EQG_EINVAL, "layer edgeconv: NULL parameter block, prefix or config");
    return NULL;
  }
  const size_t F = cfg->width, A = cfg->n_edge_attr;
  if (F == 0) {
    eqg_error_set(EQG_EINVAL, "layer edgeconv: width must be positive");
    return NULL;
  }
  edgeconv_layer *l = calloc(1, sizeof *l);
  if (!l) {
    eqg_error_set(EQG_ENOMEM, "layer edgeconv %s: cannot allocate", prefix);
    return NULL;
  }
  l->cfg = *cfg;
  static const char *const parts[EC_DEPTH] = { "phi_e.0", "phi_e.1", "phi_e.2" };
  for (int k = 0; k < EC_DEPTH; k++)
    if (!ec_lin_bn_init(&l->e[k], p, prefix, parts[k], k == 0 ? 2 * F + A : F, F, rng))
      goto fail;
  if (cfg->residual && !ec_lin_bn_init(&l->sc, p, prefix, "shortcut", F, F, rng)) goto fail;
  return l;
fail:
  eqg_error_prefix(EQG_EINVAL, "layer edgeconv %s: ", prefix);
  edgeconv_free(l);
  return NULL;
}

/* x (n, F) -> BN(x) with l's statistics (state in the tape arena). */
static eqg_tensor *ec_bn(eqg_tape *t, eqg_params *p, const ec_lin_bn *l, eqg_tensor *x)
{
  if (t->status != EQG_OK) return NULL;
  eqg_batchnorm_state *st = eqg_arena_push(t->arena, sizeof *st);
  if (!st) return eqg_tape_fail(t, EQG_ENOMEM, "layer edgeconv: batch-norm state: %s",
                                eqg_error_message());
  *st = (eqg_batchnorm_state){ .running_mean = eqg_params_get(p, l->bn[EC_BN_MEAN])->data,
                               .running_var = eqg_params_get(p, l->bn[EC_BN_VAR])->data,
                               .momentum = EC_BN_MOMENTUM, .eps = EC_BN_EPS };
  return eqg_batchnorm(t, x, eqg_params_get(p, l->bn[EC_BN_GAMMA]),
                       eqg_params_get(p, l->bn[EC_BN_BETA]), st);
}

/* (E, F): the first Linear of phi_e on [h_i, h_j - h_i, a_ij] from per-node
 * projections, u = h (W_a - W_b), v = h W_b, y_e = u[dst] + v[src] + a_e W_z. */
static eqg_tensor *ec_first_linear(eqg_tape *t, eqg_params *p, const edgeconv_layer *l,
                                   const eqg_graph_batch *b, eqg_tensor *h, eqg_tensor *a)
{
  const size_t F = l->cfg.width, A = l->cfg.n_edge_attr;
  eqg_tensor *W = eqg_params_get(p, l->e[0].lin.w_id);                      /* (2F + A, F) */
  eqg_tensor *W_a = eqg_layer_row_view(t, W, 0, F), *W_b = eqg_layer_row_view(t, W, F, F);
  eqg_tensor *u = eqg_matmul(t, h, false, eqg_sub(t, W_a, W_b), false);     /* (N, F) */
  eqg_tensor *v = eqg_matmul(t, h, false, W_b, false);                      /* (N, F) */
  eqg_tensor *W_z = A > 0 ? eqg_layer_row_view(t, W, 2 * F, A) : NULL;      /* (A, F) */
  return eqg_edge_affine(t, u, b->dst, v, b->src, b->n_edges, A > 0 ? a : NULL, W_z,
                         EQG_FUSE_NONE, 0);
}

static eqg_status edgeconv_forward(eqg_tape *t, eqg_params *p, const void *layer,
                                   const eqg_graph_batch *b, eqg_layer_io *io)
{
  const edgeconv_layer *l = layer;
  const eqg_layer_config *c = &l->cfg;
  if (!eqg_layer_check_nodes(t, "edgeconv", "h", io->h, b, c->width) ||
      !eqg_layer_check_edge_attr(t, "edgeconv", c, b, io->a))
    return eqg_tape_status(t);
  const eqg_activation act = c->act;
  eqg_tensor *h = io->h;                                                    /* (N, F) */

  /* message and aggregation; a batch without edges aggregates to 0 (and batch
   * norm over zero rows is undefined, so phi_e is skipped) */
  eqg_tensor *m_i;
  if (b->n_edges > 0) {
    eqg_tensor *m = ec_first_linear(t, p, l, b, h, io->a);                  /* (E, F) */
    m = eqg_activation_apply(t, act, 0, ec_bn(t, p, &l->e[0], m));
    for (int k = 1; k < EC_DEPTH; k++)
      m = eqg_activation_apply(t, act, 0,
                               ec_bn(t, p, &l->e[k], eqg_linear_forward(t, p, &l->e[k].lin, m)));
    m_i = eqg_graph_mean_to_dst(t, b, m);                                   /* (N, F) */
  } else {
    m_i = eqg_scale(t, h, 0);
  }
  /* update */
  eqg_tensor *h_new = m_i;
  if (c->residual) {
    eqg_tensor *sc = ec_bn(t, p, &l->sc, eqg_linear_forward(t, p, &l->sc.lin, h));  /* (N, F) */
    h_new = eqg_activation_apply(t, act, 0, eqg_add(t, sc, m_i));
  }
  if (eqg_tape_status(t) == EQG_OK) io->h = h_new;
  return eqg_tape_status(t);
}

const eqg_layer_type eqg_layer_edgeconv = {
  .name = "edgeconv",
  .symmetry = "none for x (permutation only): EdgeConv on (eta, phi) neighbourhoods, "
              "coordinates as features",
  .geometric = false,
  .claims = edgeconv_claims,
  .alloc = edgeconv_alloc,
  .free = edgeconv_free,
  .forward = edgeconv_forward,
  .coords_out = EQG_COORDS_NONE,
};
