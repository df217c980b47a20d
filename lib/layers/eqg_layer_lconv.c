/* eqg_layer_lconv.c: learnable Lie-algebra convolution ("lconv"), after
 * L-conv (Dehmamy, Walters, Liu, Wang, Yu 2021): F(u) = W^0 u + sum_i W^i (L_i u)
 * with learnable d x d generators L_i acting on the geometric components of
 * vector channels and channel mixers W^i, inside one message-passing block.
 *
 * State (as vecnet): h (N, F) invariant channels; vec (N, C*D) with
 * C = cfg.n_vec vector channels of dimension D = cfg.dim (3 or 4), channel c
 * in columns c*D .. c*D + D - 1; if io->vec is NULL it starts as C copies of
 * x.  io->x is never changed; a model reads channel 0 as its coordinate output.
 * n_L = cfg.n_generators (0 means D (D - 1) / 2: 3 for D = 3, 6 for D = 4).
 * <p, q> = p^T G q with G from cfg.metric: Euclidean, Minkowski (D = 4) or a
 * given (D, D) cfg.metric_g (EQG_METRIC_GENERAL); psi(z) = sgn z log(1 + |z|).
 *
 * Message on edge (i <- j), i = dst[e], j = src[e]:
 *   r^c_ij = V^c_i - V^c_j                                        (E, C D)
 *   q_ij   = [psi(<r^c_ij, r^c_ij>)]_{c < C}                       (E, C)
 *   m_ij   = phi_e([h_i, h_j, q_ij, a_ij])                         (E, F)
 *            phi_e = Lin(2F + C + A -> F) act Lin(F -> F) act
 *   w_ij   = m_ij W_x   (phi_x: no bias, Xavier uniform gain 0.001) (E, C)
 *   M^c_i  = (1/deg_i) sum_j w^c_ij (V^c_j - V^c_i)   (sum with EQG_AGG_SUM;
 *            times k = cfg.coord_scale)                             (N, C D)
 * L-conv on the 2C input channels u = [V | M] (N, 2C D), generators L_0 = I,
 * L_1 .. L_nL:
 *   A      = [u_c, L_1 u_c, ..., L_nL u_c]_{c < 2C}   row-wise L u = u L^T
 *                                                       (N, J D), J = 2C (1 + n_L)
 *   V'^c'  = V^c' + sum_{c, i} W_{(c, i), c'} L_i u_c    i.e. V' = V + A K,
 *            K = W (x) I_D  (J D, C D), built from the (J, C) mixer W each
 *            forward as (gather_rows(W, j(r)) Q^T) * mask with the constant
 *            0/1 matrices Q[c' D + k, c'] = 1 and mask[j D + k, c' D + k'] = delta_kk'
 *            (W^i of the paper = the rows (c, i) of W).
 * Aggregation and h update:
 *   h_i   <- h_i + phi_h([h_i, sum_j m_ij, s_i])    (phi_h(...) without residual)
 *            phi_h = Lin(2F + S -> F) act Lin(F -> F)
 * With cfg.update_x false, vec passes through and phi_x, W and the generators
 * do not exist.  Ignored: velocity, coord_clamp, dropout, the SchNet and VecNet
 * fields.
 *
 * Symmetry (claims: none).  With learnable L_i nothing is guaranteed.  The
 * message is built from G-products of channel differences, so it is invariant
 * under every linear map M with M^T G M = G acting on all channels; the L-conv
 * term is equivariant under M iff every L_i commutes with M (M L_i u = L_i M u).
 * So with ONE generator fixed to the so(2) generator L_z (Euclidean metric)
 * the block is exactly equivariant under rotations about z, and with K_z
 * (Minkowski) under z-boosts (tests/test_layers_lconv.c).  With the full so(3)
 * basis it is NOT rotation-equivariant: R L_a R^T = sum_b R_ba L_b mixes the
 * generators (adjoint action), and the fixed mixers W^i do not transform back
 * -- L-conv is equivariant only to first order and only if W transforms too.
 *
 * Parameters, names under the prefix (u = 1 if cfg.update_x):
 *   <prefix>.phi_e.{0,1}.{weight,bias}    F (2F + C + A) + F + F F + F
 *   <prefix>.phi_h.{0,1}.{weight,bias}    F (2F + S) + F + F F + F
 *   <prefix>.phi_x.weight (F, C)           u F C
 *   <prefix>.generators (n_L D, D)         u n_L D^2: row-major the (n_L, D, D)
 *                                          stack L_1 .. L_nL (what lib/probe and
 *                                          analysis/lie_probe read), init U(-1/D, 1/D)
 *   <prefix>.mix.weight (J, C)             u 2C (1 + n_L) C, init U(-a, a),
 *                                          a = 0.1 / sqrt(J)
 *   total 6F^2 + F (C + A + S + 4) + u (F C + n_L D^2 + 2 C^2 (1 + n_L)). */
#include <math.h>
#include <stdlib.h>

#include "layers/eqg_layer_util.h"

static const eqg_real lconv_x_gain = 0.001;   /* phi_x: starts near the identity */
static const eqg_real lconv_mix_scale = 0.1;

typedef struct lconv_layer {
  eqg_layer_config cfg;
  size_t n_gen;        /* n_L */
  eqg_mlp *phi_e, *phi_h;
  eqg_linear phi_x;    /* (E, F) -> (E, C), no bias */
  int gen_id;          /* (n_L D, D) generators, -1 without update_x */
  int mix_id;          /* (J, C) mixer, -1 without update_x */
} lconv_layer;

static size_t lconv_n_gen(const eqg_layer_config *c)
{
  return c->n_generators ? c->n_generators : c->dim * (c->dim - 1) / 2;
}

static eqg_status lconv_check_config(const eqg_layer_config *c)
{
  if (!c) return eqg_error_set(EQG_EINVAL, "lconv: NULL config");
  if (c->dim != 3 && c->dim != 4)
    return eqg_error_set(EQG_EINVAL, "lconv: dim %zu must be 3 or 4", c->dim);
  if (c->width == 0) return eqg_error_set(EQG_EINVAL, "lconv: width must be positive");
  if (c->n_vec == 0)
    return eqg_error_set(EQG_EINVAL, "lconv: n_vec (vector channels C) must be at least 1");
  if (lconv_n_gen(c) > 16)
    return eqg_error_set(EQG_EINVAL, "lconv: n_generators %zu is above 16", c->n_generators);
  eqg_status st = eqg_layer_check_metric("lconv", c);
  if (st != EQG_OK) return st;
  if (c->coord_agg != EQG_AGG_MEAN && c->coord_agg != EQG_AGG_SUM)
    return eqg_error_set(EQG_EINVAL, "lconv: unknown coordinate aggregation %d",
                         (int)c->coord_agg);
  if (!isfinite(c->coord_scale))
    return eqg_error_set(EQG_EINVAL, "lconv: coord_scale %g is not finite", c->coord_scale);
  return EQG_OK;
}

static bool lconv_claims(const eqg_layer_config *cfg, const eqg_group_type *g)
{
  (void)cfg;
  (void)g;
  return false;   /* learned generators: no guarantee (see the header comment) */
}

static void lconv_free(void *layer)
{
  lconv_layer *l = layer;
  if (!l) return;
  eqg_mlp_free(l->phi_e);
  eqg_mlp_free(l->phi_h);
  free(l);
}

static eqg_mlp *lconv_mlp(eqg_params *p, const char *prefix, const char *leaf, size_t in,
                          const eqg_layer_config *cfg, bool act_last, gsl_rng *rng)
{
  char name[EQG_PARAM_NAME_MAX];
  if (!eqg_layer_join(name, "lconv", prefix, leaf)) return NULL;
  const size_t w[3] = { in, cfg->width, cfg->width };
  eqg_mlp_config mc = eqg_mlp_config_default(w, 3);
  mc.act = cfg->act;
  mc.act_last = act_last;
  return eqg_mlp_alloc(p, name, &mc, rng);
}

/* "<prefix>.<leaf>" (rows, cols) filled with U(-a, a); id or -1. */
static int lconv_uniform(eqg_params *p, const char *prefix, const char *leaf, size_t rows,
                         size_t cols, eqg_real a, gsl_rng *rng)
{
  char name[EQG_PARAM_NAME_MAX];
  if (!eqg_layer_join(name, "lconv", prefix, leaf)) return -1;
  int id = eqg_params_add(p, name, rows, cols, true);
  if (id >= 0) eqg_init_uniform(eqg_params_get(p, id), a, rng);
  return id;
}

static void *lconv_alloc(eqg_params *p, const char *prefix, const eqg_layer_config *cfg,
                         gsl_rng *rng)
{
  if (lconv_check_config(cfg) != EQG_OK) return NULL;
  if (!p || !prefix || !rng) {
    eqg_error_set(EQG_EINVAL, "lconv: NULL parameter block, prefix or rng");
    return NULL;
  }
  lconv_layer *l = calloc(1, sizeof *l);
  if (!l) {
    eqg_error_set(EQG_ENOMEM, "lconv: cannot allocate the layer");
    return NULL;
  }
  const size_t F = cfg->width, C = cfg->n_vec, D = cfg->dim;
  l->cfg = *cfg;
  l->n_gen = lconv_n_gen(cfg);
  l->phi_x = (eqg_linear){ .w_id = -1, .b_id = -1 };
  l->gen_id = l->mix_id = -1;
  if (!(l->phi_e = lconv_mlp(p, prefix, "phi_e", 2 * F + C + cfg->n_edge_attr, cfg, true, rng)) ||
      !(l->phi_h = lconv_mlp(p, prefix, "phi_h", 2 * F + cfg->n_scalars, cfg, false, rng)))
    goto fail;
  if (cfg->update_x) {
    char name[EQG_PARAM_NAME_MAX];
    const size_t J = 2 * C * (1 + l->n_gen);
    if (!eqg_layer_join(name, "lconv", prefix, "phi_x") ||
        eqg_linear_init(&l->phi_x, p, name, F, C, false, EQG_INIT_XAVIER_UNIFORM, lconv_x_gain,
                        rng) != EQG_OK ||
        (l->gen_id = lconv_uniform(p, prefix, "generators", l->n_gen * D, D, 1.0 / (eqg_real)D,
                                   rng)) < 0 ||
        (l->mix_id = lconv_uniform(p, prefix, "mix.weight", J, C,
                                   lconv_mix_scale / sqrt((eqg_real)J), rng)) < 0)
      goto fail;
  }
  return l;
fail:
  eqg_error_prefix(EQG_EINVAL, "lconv %s: ", prefix);
  lconv_free(l);
  return NULL;
}

/* K = W (x) I_D (J D, C D) from W (J, C) on the tape, as in the header. */
static eqg_tensor *lconv_kron_eye(eqg_tape *t, eqg_tensor *W, size_t D)
{
  if (t->status != EQG_OK || !W) return NULL;
  const size_t J = W->rows, C = W->cols;
  eqg_index *rep = eqg_arena_push(t->arena, J * D * sizeof *rep);
  eqg_tensor *Q = eqg_tape_input(t, C * D, C, NULL, false);
  eqg_tensor *mask = eqg_tape_input(t, J * D, C * D, NULL, false);
  if (!rep || !Q || !mask) return eqg_tape_fail(t, EQG_ENOMEM, "lconv: out of tape memory");
  for (size_t r = 0; r < J * D; r++) rep[r] = (eqg_index)(r / D);
  for (size_t c = 0; c < C; c++)
    for (size_t k = 0; k < D; k++) *eqg_tensor_at(Q, c * D + k, c) = 1;
  for (size_t r = 0; r < J * D; r++)
    for (size_t c = 0; c < C; c++) *eqg_tensor_at(mask, r, c * D + r % D) = 1;
  eqg_tensor *Wrep = eqg_gather_rows(t, W, rep, J * D);        /* (J D, C) */
  return eqg_mul(t, eqg_matmul(t, Wrep, false, Q, true), mask);  /* (J D, C D) */
}

static eqg_status lconv_forward(eqg_tape *t, eqg_params *p, const void *layer,
                                const eqg_graph_batch *b, eqg_layer_io *io)
{
  if (t->status != EQG_OK) return t->status;
  const lconv_layer *l = layer;
  if (!l || !p || !b || !io) {
    eqg_tape_fail(t, EQG_EINVAL, "lconv: NULL layer, parameters, batch or state");
    return t->status;
  }
  const eqg_layer_config *c = &l->cfg;
  const size_t D = c->dim, C = c->n_vec;
  if (b->dim != D) {
    eqg_tape_fail(t, EQG_ESHAPE, "layer lconv: the batch has dim %zu, the layer %zu", b->dim, D);
    return t->status;
  }
  if (!eqg_layer_check_nodes(t, "lconv", "h", io->h, b, c->width) ||
      (io->vec ? !eqg_layer_check_nodes(t, "lconv", "vec", io->vec, b, C * D)
               : !eqg_layer_check_nodes(t, "lconv", "x", io->x, b, D)) ||
      (c->n_scalars > 0 && !eqg_layer_check_nodes(t, "lconv", "s", io->s, b, c->n_scalars)) ||
      !eqg_layer_check_edge_attr(t, "lconv", c, b, io->a))
    return t->status;

  eqg_tensor *V = io->vec;                                               /* (N, C D) */
  if (!V) {
    V = io->x;
    for (size_t k = 1; k < C; k++) V = eqg_concat_cols(t, V, io->x);
  }
  /* message */
  eqg_tensor *r = eqg_sub(t, eqg_graph_gather_dst(t, b, V), eqg_graph_gather_src(t, b, V));
  eqg_tensor *in_e = eqg_concat_cols(t, eqg_graph_gather_dst(t, b, io->h),
                                     eqg_graph_gather_src(t, b, io->h));  /* (E, 2F) */
  for (size_t ch = 0; ch < C; ch++) {
    eqg_tensor *rc = eqg_slice_cols(t, r, ch * D, D);
    in_e = eqg_concat_cols(t, in_e, eqg_psi(t, eqg_layer_metric_product(t, c, rc, rc)));
  }
  if (c->n_edge_attr > 0) in_e = eqg_concat_cols(t, in_e, io->a);
  eqg_tensor *m = eqg_mlp_forward(t, p, l->phi_e, in_e);                 /* (E, F) */

  /* h update */
  eqg_tensor *in_h = eqg_concat_cols(t, io->h, eqg_graph_sum_to_dst(t, b, m));
  if (c->n_scalars > 0) in_h = eqg_concat_cols(t, in_h, io->s);
  eqg_tensor *dh = eqg_mlp_forward(t, p, l->phi_h, in_h);
  eqg_tensor *h = c->residual ? eqg_add(t, io->h, dh) : dh;

  /* vector channels: aggregated message, then the L-conv */
  eqg_tensor *V_new = V;
  if (c->update_x) {
    eqg_tensor *w = eqg_linear_forward(t, p, &l->phi_x, m);              /* (E, C) */
    eqg_tensor *msg = NULL;                                              /* (E, C D) */
    for (size_t ch = 0; ch < C; ch++) {
      eqg_tensor *mc = eqg_mul(t, eqg_scale(t, eqg_slice_cols(t, r, ch * D, D), -1),
                               eqg_slice_cols(t, w, ch, 1));            /* w (V_j - V_i) */
      msg = msg ? eqg_concat_cols(t, msg, mc) : mc;
    }
    eqg_tensor *M = c->coord_agg == EQG_AGG_MEAN ? eqg_graph_mean_to_dst(t, b, msg)
                                                 : eqg_graph_sum_to_dst(t, b, msg);
    if (c->coord_scale != 1) M = eqg_scale(t, M, c->coord_scale);       /* (N, C D) */
    eqg_tensor *U = eqg_concat_cols(t, V, M);                            /* (N, 2C D) */
    eqg_tensor *gens = eqg_params_get(p, l->gen_id);                     /* (n_L D, D) */
    eqg_tensor *A = NULL;                                                /* (N, J D) */
    for (size_t ch = 0; ch < 2 * C; ch++) {
      eqg_tensor *u = eqg_slice_cols(t, U, ch * D, D);                   /* (N, D) */
      eqg_tensor *Lu = eqg_matmul(t, u, false, gens, true);              /* (N, n_L D) */
      eqg_tensor *blk = eqg_concat_cols(t, u, Lu);
      A = A ? eqg_concat_cols(t, A, blk) : blk;
    }
    eqg_tensor *K = lconv_kron_eye(t, eqg_params_get(p, l->mix_id), D);  /* (J D, C D) */
    V_new = eqg_add(t, V, eqg_matmul(t, A, false, K, false));
  }
  if (t->status != EQG_OK) return t->status;
  io->h = h;
  io->vec = V_new;
  return EQG_OK;
}

const eqg_layer_type eqg_layer_lconv = {
  .name = "lconv",
  .symmetry = "learned (L-conv): no claim; equivariant under a group whose elements "
              "commute with every generator and preserve the metric",
  .geometric = true,
  .claims = lconv_claims,
  .alloc = lconv_alloc,
  .free = lconv_free,
  .forward = lconv_forward,
  .coords_out = EQG_COORDS_VEC,
};
