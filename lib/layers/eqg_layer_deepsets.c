/* eqg_layer_deepsets.c: a per-particle Deep Sets / PFN block ("deepsets").
 *
 * No message passing: every node is updated from its own features alone,
 *
 *   update   h_i <- h_i + phi([h_i, s_i])          (cfg.residual, the default)
 *            h_i <- act(phi([h_i, s_i]))           (otherwise)
 *            phi = Lin(F + S -> F) act Lin(F -> F)         (N, F + S) -> (N, F)
 *   x, v     unchanged; edges and edge attributes are never read
 *
 * F = cfg.width, S = cfg.n_scalars (the raw input scalars s_i = io->s that a
 * LorentzNet-style model feeds to every block; 0: none), act = cfg.act.  The
 * residual form is used so that stacks of blocks train like the other
 * families; the plain form (act after the last Linear) is the PFN's Phi as
 * published.  Stacked `depth` times inside eqg_model (embedding -> blocks ->
 * pooling -> readout MLP), with sum pooling this is a Particle Flow Network
 * (Komiske, Metodiev, Thaler 2019): F(sum_i Phi(p_i)), Phi = embedding and
 * blocks, F = readout; with mean pooling, a Deep Set with mean aggregation.
 *
 * Symmetry.  Each node's output depends on that node's row only, so the block
 * is permutation-equivariant and the pooled model output permutation
 * invariant.  The family is not geometric: the model hands it coordinates as
 * plain features (h0 = [s, x]), so no group acting on x is claimed -- a
 * rotation or boost of the four-momenta changes the output at order one
 * (tests/test_layers_toptag.c measures it).  Edge attributes, when the
 * model's batch carries them (cfg.n_edge_attr > 0), are accepted and ignored:
 * there is no message to put them in.
 *
 * Parameters "<prefix>.phi.0.weight" (F + S, F), ".phi.0.bias" (1, F),
 * "<prefix>.phi.1.weight" (F, F), ".phi.1.bias" (1, F), torch default
 * initialisation: (F + S) F + F + F^2 + F = 2F^2 + (S + 2) F;
 * F = 128, S = 0: 33,024. */
#include <stdlib.h>

#include "layers/eqg_layer_util.h"

typedef struct deepsets_layer {
  eqg_layer_config cfg;
  eqg_mlp *phi;   /* (N, F + S) -> (N, F) */
} deepsets_layer;

static bool deepsets_claims(const eqg_layer_config *cfg, const eqg_group_type *g)
{
  (void)cfg;
  (void)g;
  return false;   /* coordinates enter as plain features through the model */
}

static void deepsets_free(void *layer)
{
  deepsets_layer *l = layer;
  if (!l) return;
  eqg_mlp_free(l->phi);
  free(l);
}

static void *deepsets_alloc(eqg_params *p, const char *prefix, const eqg_layer_config *cfg,
                            gsl_rng *rng)
{
  if (!p || !prefix || !cfg) {
    eqg_error_set(EQG_EINVAL, "layer deepsets: NULL parameter block, prefix or config");
    return NULL;
  }
  const size_t F = cfg->width, S = cfg->n_scalars;
  if (F == 0) {
    eqg_error_set(EQG_EINVAL, "layer deepsets: width must be positive");
    return NULL;
  }
  deepsets_layer *l = calloc(1, sizeof *l);
  if (!l) {
    eqg_error_set(EQG_ENOMEM, "layer deepsets %s: cannot allocate", prefix);
    return NULL;
  }
  l->cfg = *cfg;
  char name[EQG_PARAM_NAME_MAX];
  const size_t w[] = { F + S, F, F };
  eqg_mlp_config c = eqg_mlp_config_default(w, 3);
  c.act = cfg->act;
  c.act_last = !cfg->residual;
  c.dropout = cfg->dropout;
  if (!eqg_layer_join(name, "deepsets", prefix, "phi") ||
      !(l->phi = eqg_mlp_alloc(p, name, &c, rng))) {
    eqg_error_prefix(EQG_EINVAL, "layer deepsets %s: ", prefix);
    deepsets_free(l);
    return NULL;
  }
  return l;
}

static eqg_status deepsets_forward(eqg_tape *t, eqg_params *p, const void *layer,
                                   const eqg_graph_batch *b, eqg_layer_io *io)
{
  const deepsets_layer *l = layer;
  const size_t F = l->cfg.width, S = l->cfg.n_scalars;
  if (!eqg_layer_check_nodes(t, "deepsets", "h", io->h, b, F) ||
      (S > 0 && !eqg_layer_check_nodes(t, "deepsets", "s", io->s, b, S)))
    return eqg_tape_status(t);
  eqg_tensor *in = S > 0 ? eqg_concat_cols(t, io->h, io->s) : io->h;   /* (N, F + S) */
  eqg_tensor *dh = eqg_mlp_forward(t, p, l->phi, in);                    /* (N, F) */
  eqg_tensor *h_new = l->cfg.residual ? eqg_add(t, io->h, dh) : dh;
  if (eqg_tape_status(t) == EQG_OK) io->h = h_new;
  return eqg_tape_status(t);
}

const eqg_layer_type eqg_layer_deepsets = {
  .name = "deepsets",
  .symmetry = "none for x (permutation only): per-particle updates, coordinates as features",
  .geometric = false,
  .claims = deepsets_claims,
  .alloc = deepsets_alloc,
  .free = deepsets_free,
  .forward = deepsets_forward,
  .coords_out = EQG_COORDS_NONE,
};
