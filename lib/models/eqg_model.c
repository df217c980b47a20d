/* eqg_model.c: model assembly and forward pass (see eqg_model.h). */
#include "models/eqg_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/eqg_graph_ops.h"

eqg_model_config eqg_model_config_default(const eqg_layer_type *family, size_t dim,
                                          size_t width, size_t depth, eqg_model_task task)
{
  return (eqg_model_config){
    .family = family,
    .layer = eqg_layer_config_default(dim, width),
    .depth = depth,
    .embed = true,
    .last_updates_x = true,
    .task = task,
    .n_out = 1,
    .pool = EQG_POOL_MEAN,
    .readout_act = EQG_ACT_SILU,
  };
}

static void preset_lorentznet(eqg_model_config *c)
{
  *c = eqg_model_config_default(&eqg_layer_lgeb, 4, 72, 6, EQG_TASK_GRAPH);
  c->n_in = 2;                      /* psi(m), beam flag: top_tagging.md */
  c->scalars_to_blocks = true;
  c->last_updates_x = false;
  c->n_out = 2;
  c->readout_act = EQG_ACT_RELU;
  c->readout_dropout = 0.2;
  c->layer.act = EQG_ACT_RELU;
  c->layer.coord_scale = 0.005;
  c->layer.coord_clamp = 100;
  c->layer.metric = EQG_METRIC_MINKOWSKI;
}

/* Shared by the N-body presets (nbody.md): 4 layers of width 64, SiLU,
 * velocities present, residual h updates, mean coordinate aggregation. */
static void preset_nbody(eqg_model_config *c, const eqg_layer_type *family)
{
  *c = eqg_model_config_default(family, 3, 64, 4, EQG_TASK_NODE_X);
  c->with_v = true;
  c->layer.act = EQG_ACT_SILU;
  c->layer.velocity = true;
  c->layer.n_edge_attr = 2;         /* [q_i q_j, |x_i(0) - x_j(0)|^2] */
  c->layer.coord_clamp = 100;
}

/* Top-tagging baselines beside LorentzNet (sizes ours, chosen to train on two
 * cores; see eqg_model.h): graph task with two logits, two node scalars
 * [psi(m_i), beam flag], four-momenta as coordinates (EGNN, VecNet) or four
 * coordinates as plain features (GNN, PFN, ParticleNet: the jet-relative,
 * standardised inputs of the reference PFN / ParticleNet in toptag). */
static void preset_top(eqg_model_config *c, const eqg_layer_type *family, size_t width,
                       size_t depth, eqg_activation act)
{
  *c = eqg_model_config_default(family, 4, width, depth, EQG_TASK_GRAPH);
  c->n_in = 2;
  c->n_out = 2;
  c->layer.act = act;
  c->readout_act = act;
}

/* name -> preset of the top-tagging set; false if the name is not one. */
static bool preset_top_find(eqg_model_config *c, const char *name)
{
  const bool egnn_minkowski = strcmp(name, "egnn_minkowski_top") == 0;
  if (strcmp(name, "egnn_top") == 0 || egnn_minkowski) {
    preset_top(c, &eqg_layer_egnn, 64, 4, EQG_ACT_SILU);
    c->last_updates_x = false;
    if (egnn_minkowski) {          /* (p_i - p_j)^2: Lorentz-equivariant, hence no */
      c->layer.metric = EQG_METRIC_MINKOWSKI;   /* per-component clamp (default 0) */
    } else {                       /* Euclidean |x_i - x_j|^2 in R^4: the EGNN baseline */
      c->layer.metric = EQG_METRIC_EUCLIDEAN;
      c->layer.coord_clamp = 100;
    }
  } else if (strcmp(name, "gnn_top") == 0) {
    preset_top(c, &eqg_layer_gnn, 64, 4, EQG_ACT_SILU);
  } else if (strcmp(name, "pfn_top") == 0) {    /* Phi: plain ReLU blocks, sum pooling */
    preset_top(c, &eqg_layer_deepsets, 128, 2, EQG_ACT_RELU);
    c->layer.residual = false;
    c->pool = EQG_POOL_SUM;
  } else if (strcmp(name, "particlenet_top") == 0) {
    preset_top(c, &eqg_layer_edgeconv, 64, 3, EQG_ACT_RELU);
    c->readout_dropout = 0.1;
  } else if (strcmp(name, "vecnet_top") == 0) { /* half of 4 vector channels equivariant */
    preset_top(c, &eqg_layer_vecnet, 64, 4, EQG_ACT_RELU);
    c->scalars_to_blocks = true;
    c->layer.n_vec = 4;
    c->layer.equivariant_fraction = 0.5;
    c->layer.coord_scale = 0.005;
    c->layer.metric = EQG_METRIC_MINKOWSKI;
  } else {
    return false;
  }
  return true;
}

eqg_status eqg_model_config_preset(eqg_model_config *cfg, const char *name)
{
  if (!name) name = "(null)";
  if (strcmp(name, "lorentznet") == 0) {
    preset_lorentznet(cfg);
  } else if (strcmp(name, "egnn_nbody") == 0) {
    preset_nbody(cfg, &eqg_layer_egnn);
    cfg->n_in = 1;                  /* |v_i| */
  } else if (strcmp(name, "gnn_nbody") == 0) {
    preset_nbody(cfg, &eqg_layer_gnn);
    cfg->layer.n_edge_attr = 1;     /* q_i q_j; [x, v] are node features */
  } else if (strcmp(name, "rf_nbody") == 0) {
    preset_nbody(cfg, &eqg_layer_rf);
    cfg->embed = false;             /* radial field carries no node features */
  } else if (!preset_top_find(cfg, name)) {
    return eqg_error_set(EQG_EINVAL, "unknown model preset '%s' (known: lorentznet, "
                         "egnn_nbody, gnn_nbody, rf_nbody, egnn_top, egnn_minkowski_top, "
                         "gnn_top, pfn_top, particlenet_top, vecnet_top)", name);
  }
  return EQG_OK;
}

/* Width of the embedding's input: scalars, plus coordinates (and velocities)
 * as plain features for a family that does not use them geometrically. */
static size_t embed_in(const eqg_model_config *c)
{
  size_t n = c->n_in;
  if (!c->family->geometric) n += c->layer.dim * (c->with_v ? 2 : 1);
  return n;
}

static eqg_status check_config(const eqg_model_config *c)
{
  if (!c->family) return eqg_error_set(EQG_EINVAL, "model: no layer family");
  if (c->layer.dim != 3 && c->layer.dim != 4)
    return eqg_error_set(EQG_EINVAL, "model: dimension %zu (must be 3 or 4)", c->layer.dim);
  if (c->layer.width == 0) return eqg_error_set(EQG_EINVAL, "model: width must be positive");
  if (c->task == EQG_TASK_GRAPH && c->n_out == 0)
    return eqg_error_set(EQG_EINVAL, "model: a graph task needs n_out >= 1");
  if (c->embed && embed_in(c) == 0)
    return eqg_error_set(EQG_EINVAL, "model: the embedding has no input (n_in = 0)");
  if (c->task == EQG_TASK_GRAPH && !c->embed)
    return eqg_error_set(EQG_EINVAL, "model: a graph task reads out h and needs the embedding");
  if (c->task == EQG_TASK_NODE_X && c->family->coords_out == EQG_COORDS_NONE && !c->embed)
    return eqg_error_set(EQG_EINVAL, "model: family %s has no coordinate output, so a node "
                         "task decodes h and needs the embedding", c->family->name);
  if (c->scalars_to_blocks && c->n_in == 0)
    return eqg_error_set(EQG_EINVAL, "model: scalars_to_blocks needs input scalars");
  if (!(c->readout_dropout >= 0 && c->readout_dropout < 1))
    return eqg_error_set(EQG_EINVAL, "model: readout dropout %g outside [0, 1)",
                         c->readout_dropout);
  return EQG_OK;
}

void eqg_model_free(eqg_model *m)
{
  if (!m) return;
  if (m->layers)
    for (size_t k = 0; k < m->cfg.depth; k++)
      if (m->layers[k]) m->cfg.family->free(m->layers[k]);
  free(m->layers);
  eqg_mlp_free(m->head);
  eqg_params_free(m->params);
  free(m);
}

eqg_model *eqg_model_alloc(const eqg_model_config *cfg, gsl_rng *rng)
{
  if (check_config(cfg) != EQG_OK) return NULL;
  eqg_model *m = calloc(1, sizeof *m);
  if (!m) {
    eqg_error_set(EQG_ENOMEM, "model: out of memory");
    return NULL;
  }
  m->cfg = *cfg;
  const eqg_model_config *c = &m->cfg;
  m->params = eqg_params_alloc();
  m->layers = calloc(c->depth ? c->depth : 1, sizeof *m->layers);
  if (!m->params || !m->layers) {
    eqg_model_free(m);
    eqg_error_set(EQG_ENOMEM, "model: out of memory");
    return NULL;
  }
  size_t F = c->layer.width, D = c->layer.dim;
  if (c->embed && eqg_linear_init(&m->embed, m->params, "embed", embed_in(c), F, true,
                                  EQG_INIT_TORCH_DEFAULT, 1, rng) != EQG_OK)
    goto fail;
  for (size_t k = 0; k < c->depth; k++) {
    eqg_layer_config lc = c->layer;
    lc.n_scalars = c->scalars_to_blocks ? c->n_in : 0;
    if (k + 1 == c->depth && !c->last_updates_x) lc.update_x = false;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "layer%zu", k);
    m->layers[k] = c->family->alloc(m->params, prefix, &lc, rng);
    if (!m->layers[k]) goto fail;
  }
  if (c->task == EQG_TASK_GRAPH || c->family->coords_out == EQG_COORDS_NONE) {
    bool graph = c->task == EQG_TASK_GRAPH;
    size_t widths[3] = { F, F, graph ? c->n_out : D };
    eqg_mlp_config mc = eqg_mlp_config_default(widths, 3);
    mc.act = graph ? c->readout_act : c->layer.act;
    mc.dropout = graph ? c->readout_dropout : 0;
    m->head = eqg_mlp_alloc(m->params, graph ? "readout" : "decoder", &mc, rng);
    if (!m->head) goto fail;
  }
  return m;
fail:
  eqg_error_prefix(EQG_EINVAL, "model (%s): ", c->family->name);
  eqg_model_free(m);
  return NULL;
}

size_t eqg_model_param_count(const eqg_model *m) { return eqg_params_count(m->params); }

int eqg_model_describe(const eqg_model *m, char *buf, size_t n)
{
  const eqg_model_config *c = &m->cfg;
  const char *metric = c->layer.metric == EQG_METRIC_EUCLIDEAN   ? "euclidean"
                       : c->layer.metric == EQG_METRIC_MINKOWSKI ? "minkowski"
                                                                 : "general";
  return snprintf(buf, n,
                  "family=%s dim=%zu metric=%s width=%zu depth=%zu n_in=%zu with_v=%d embed=%d "
                  "n_edge_attr=%zu scalars_to_blocks=%d last_updates_x=%d task=%s n_out=%zu "
                  "pool=%s act=%s coord_scale=%g coord_clamp=%g velocity=%d n_vec=%zu "
                  "equivariant_fraction=%g params=%zu",
                  c->family->name, c->layer.dim, metric, c->layer.width, c->depth, c->n_in,
                  c->with_v,
                  c->embed, c->layer.n_edge_attr, c->scalars_to_blocks, c->last_updates_x,
                  c->task == EQG_TASK_GRAPH ? "graph" : "node_x", c->n_out,
                  c->pool == EQG_POOL_MEAN ? "mean" : "sum", eqg_activation_name(c->layer.act),
                  c->layer.coord_scale, c->layer.coord_clamp, c->layer.velocity, c->layer.n_vec,
                  c->layer.equivariant_fraction, eqg_model_param_count(m));
}

eqg_status eqg_model_inputs(eqg_tape *t, const eqg_model *m, const eqg_graph_batch *b,
                            eqg_layer_io *io)
{
  const eqg_model_config *c = &m->cfg;
  *io = (eqg_layer_io){ 0 };
  if (b->dim != c->layer.dim)
    return eqg_error_set(EQG_ESHAPE, "model: batch has dimension %zu, model %zu", b->dim,
                         c->layer.dim);
  if (b->n_scalars != c->n_in)
    return eqg_error_set(EQG_ESHAPE, "model: batch has %zu node scalars, model expects %zu",
                         b->n_scalars, c->n_in);
  if (c->with_v && !b->has_v)
    return eqg_error_set(EQG_ESHAPE, "model: expects velocities but the batch has none");
  if (b->n_edge_attr != c->layer.n_edge_attr)
    return eqg_error_set(EQG_ESHAPE, "model: batch has %zu edge attributes, model expects %zu",
                         b->n_edge_attr, c->layer.n_edge_attr);
  io->x = eqg_tape_input(t, b->n_nodes, b->dim, b->x, false);
  if (c->with_v) io->v = eqg_tape_input(t, b->n_nodes, b->dim, b->v, false);
  if (c->n_in) io->h = eqg_tape_input(t, b->n_nodes, c->n_in, b->h, false);
  if (c->layer.n_edge_attr)
    io->a = eqg_tape_input(t, b->n_edges, c->layer.n_edge_attr, b->edge_attr, false);
  return eqg_tape_status(t);
}

/* [x | x | ... | x], C copies: the vector channels' starting point. */
static eqg_tensor *repeat_cols(eqg_tape *t, eqg_tensor *x, size_t copies)
{
  eqg_tensor *y = x;
  for (size_t c = 1; c < copies; c++) y = eqg_concat_cols(t, y, x);
  return y;
}

eqg_tensor *eqg_model_forward_io(eqg_tape *t, eqg_model *m, const eqg_graph_batch *b,
                                 eqg_layer_io io)
{
  const eqg_model_config *c = &m->cfg;
  eqg_tensor *h0 = io.h;
  /* Node features: a non-geometric family sees [h0, x, v] as plain numbers. */
  eqg_tensor *feat = h0;
  if (!c->family->geometric) {
    feat = feat ? eqg_concat_cols(t, feat, io.x) : io.x;
    if (c->with_v) feat = eqg_concat_cols(t, feat, io.v);
  }
  io.h = c->embed ? eqg_linear_forward(t, m->params, &m->embed, feat) : NULL;  /* (N, F) */
  io.s = c->scalars_to_blocks ? h0 : NULL;                                      /* (N, S) */
  if (c->family->coords_out == EQG_COORDS_VEC)
    io.vec = repeat_cols(t, io.x, c->layer.n_vec ? c->layer.n_vec : 1);         /* (N, C*D) */
  if (eqg_tape_status(t) != EQG_OK) return NULL;

  for (size_t k = 0; k < c->depth; k++)
    if (c->family->forward(t, m->params, m->layers[k], b, &io) != EQG_OK) {
      if (eqg_tape_status(t) == EQG_OK)
        eqg_tape_fail(t, EQG_EINVAL, "%s", eqg_error_message());
      return NULL;
    }

  if (c->task == EQG_TASK_GRAPH) {
    eqg_tensor *pooled = c->pool == EQG_POOL_MEAN ? eqg_graph_mean_nodes(t, b, io.h)
                                                  : eqg_graph_sum_nodes(t, b, io.h);  /* (G, F) */
    return eqg_mlp_forward(t, m->params, m->head, pooled);                             /* (G, n_out) */
  }
  switch (c->family->coords_out) {
  case EQG_COORDS_X: return io.x;                                        /* (N, D) */
  case EQG_COORDS_VEC: return eqg_slice_cols(t, io.vec, 0, c->layer.dim);
  default: return eqg_mlp_forward(t, m->params, m->head, io.h);
  }
}

eqg_tensor *eqg_model_forward(eqg_tape *t, eqg_model *m, const eqg_graph_batch *b)
{
  eqg_layer_io io;
  if (eqg_model_inputs(t, m, b, &io) != EQG_OK) {
    if (eqg_tape_status(t) == EQG_OK) eqg_tape_fail(t, EQG_ESHAPE, "%s", eqg_error_message());
    return NULL;
  }
  return eqg_model_forward_io(t, m, b, io);
}
