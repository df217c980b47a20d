/* eqg_lie_task.c: the L-conv N-body trainer of lie_discover (eqg_lie_task.h):
 * h = Linear(|v|), [x, v] -> depth x lconv(generators L_a) -> x^, loss
 * MSE(x^, x(target frame)), Adam. */
#include "eqg_lie_task.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "eqg_nbody_train.h"

enum { MAX_DEPTH = 16 };

typedef struct task_model {
  eqg_params *p;
  eqg_linear embed;        /* |v| (1) -> F */
  void *layers[MAX_DEPTH];
  size_t depth;
} task_model;

static void task_model_free(task_model *m)
{
  for (size_t k = 0; k < m->depth; k++) eqg_layer_lconv.free(m->layers[k]);
  eqg_params_free(m->p);
}

static eqg_status task_model_init(task_model *m, const eqg_lie_task_config *c, gsl_rng *r)
{
  if (c->depth < 1 || c->depth > MAX_DEPTH)
    return eqg_error_set(EQG_EINVAL, "task: depth %zu is not in 1..%d", c->depth, MAX_DEPTH);
  *m = (task_model){ .p = eqg_params_alloc(), .depth = c->depth };
  if (!m->p) return eqg_error_set(EQG_ENOMEM, "task: memory");
  eqg_layer_config lc = eqg_layer_config_default(3, c->width);
  lc.n_vec = 2;                  /* [x, v] */
  lc.n_edge_attr = 2;            /* [q_i q_j, |x_i - x_j|^2] */
  lc.n_generators = c->n_gen;
  if (eqg_linear_init(&m->embed, m->p, "embed", 1, c->width, true, EQG_INIT_TORCH_DEFAULT, 1, r))
    return EQG_EINVAL;
  for (size_t k = 0; k < m->depth; k++) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "layer%zu", k);
    if (!(m->layers[k] = eqg_layer_lconv.alloc(m->p, prefix, &lc, r))) {
      m->depth = k;
      return EQG_EINVAL;
    }
  }
  return EQG_OK;
}

/* Batch of samples idx[0..B-1] of split s: graphs of P fully connected nodes. */
static eqg_graph_batch *task_batch(const eqg_nbt_split *s, const size_t *idx, size_t B)
{
  const size_t P = s->n_particles;
  eqg_graph_batch *b = eqg_graph_batch_alloc(3, 1, true);
  eqg_index *cnt = malloc(B * sizeof *cnt);
  eqg_real *x = malloc(B * P * 3 * sizeof *x), *v = malloc(B * P * 3 * sizeof *v);
  eqg_real *h = malloc(B * P * sizeof *h);
  bool ok = b && cnt && x && v && h;
  for (size_t g = 0; ok && g < B; g++) {
    cnt[g] = (eqg_index)P;
    memcpy(x + g * P * 3, s->x + idx[g] * P * 3, P * 3 * sizeof *x);
    memcpy(v + g * P * 3, s->v + idx[g] * P * 3, P * 3 * sizeof *v);
    for (size_t i = 0; i < P; i++) {
      const eqg_real *vi = v + (g * P + i) * 3;
      h[g * P + i] = sqrt(vi[0] * vi[0] + vi[1] * vi[1] + vi[2] * vi[2]);
    }
  }
  ok = ok && !eqg_graph_batch_set_nodes(b, B, cnt, x, v, h) && !eqg_graph_batch_connect_full(b) &&
       !eqg_graph_batch_set_edge_attr_width(b, 2);
  for (size_t e = 0; ok && e < b->n_edges; e++) {
    const size_t i = (size_t)b->dst[e], j = (size_t)b->src[e], g = i / P;
    const eqg_real *xi = b->x + i * 3, *xj = b->x + j * 3;
    b->edge_attr[2 * e] = s->q[idx[g] * P + i % P] * s->q[idx[g] * P + j % P];
    b->edge_attr[2 * e + 1] = (xi[0] - xj[0]) * (xi[0] - xj[0]) + (xi[1] - xj[1]) * (xi[1] - xj[1]) +
                              (xi[2] - xj[2]) * (xi[2] - xj[2]);
  }
  free(cnt), free(x), free(v), free(h);
  if (!ok) {
    eqg_error_prefix(EQG_ENOMEM, "task batch: ");
    eqg_graph_batch_free(b);
    return NULL;
  }
  return b;
}

/* MSE of the predicted positions on batch b (targets of samples idx). */
static eqg_tensor *task_loss(eqg_tape *t, task_model *m, const eqg_graph_batch *b,
                             const eqg_nbt_split *s, const size_t *idx, size_t B)
{
  const size_t P = s->n_particles, N = b->n_nodes;
  eqg_tensor *x = eqg_tape_input(t, N, 3, b->x, false), *v = eqg_tape_input(t, N, 3, b->v, false);
  eqg_tensor *y = eqg_tape_input(t, N, 3, NULL, false);
  if (!y) return NULL;
  for (size_t g = 0; g < B; g++) memcpy(y->data + g * P * 3, s->y + idx[g] * P * 3, P * 3 * sizeof *y->data);
  eqg_layer_io io = { .x = x, .v = v, .vec = eqg_concat_cols(t, x, v),
                      .a = eqg_tape_input(t, b->n_edges, 2, b->edge_attr, false) };
  io.h = eqg_linear_forward(t, m->p, &m->embed, eqg_tape_input(t, N, 1, b->h, false));
  for (size_t k = 0; k < m->depth; k++)
    if (eqg_layer_lconv.forward(t, m->p, m->layers[k], b, &io)) return NULL;
  return eqg_mse(t, eqg_slice_cols(t, io.vec, 0, 3), y);
}

eqg_status eqg_lie_task_train(eqg_real *gens, eqg_real *history, const eqg_lie_task_config *c,
                              gsl_rng *r)
{
  char path[3][EQG_NBT_PATH_MAX];
  const char *const files[3] = { NULL, NULL, NULL };
  eqg_nbt_split tr = { 0 }, va = { 0 };
  long fin = -1, ftg = -1;
  task_model m = { 0 };
  eqg_tape *t = eqg_tape_alloc(1 << 22, r);
  eqg_optim *opt = NULL;
  size_t *perm = NULL;
  eqg_status st;
  if ((st = eqg_nbt_data_paths(path, c->datadir, files)) ||
      (st = eqg_nbt_split_load(&tr, path[0], 0, c->quick, &fin, &ftg)) ||
      (st = eqg_nbt_split_load(&va, path[1], 0, c->quick, &fin, &ftg)) ||
      (st = task_model_init(&m, c, r)))
    goto done;
  eqg_optim_config oc = eqg_optim_config_default();
  oc.lr = c->lr;
  const size_t B = tr.n < 100 ? tr.n : 100, nb = tr.n / B;
  if (!t || !(opt = eqg_optim_alloc(&eqg_optim_adam, &oc, m.p->size)) ||
      !(perm = malloc(tr.n * sizeof *perm))) {
    st = eqg_error_set(EQG_ENOMEM, "task: memory");
    goto done;
  }
  for (size_t i = 0; i < tr.n; i++) perm[i] = i;
  eqg_cli_progress pbar;
  eqg_cli_progress_begin(&pbar, "train lconv", c->epochs);
  for (size_t ep = 0; ep < c->epochs && !st; ep++) {
    gsl_ran_shuffle(r, perm, tr.n, sizeof *perm);
    double sum = 0;
    t->training = t->grad_enabled = true;
    for (size_t k = 0; k < nb && !st; k++) {
      eqg_graph_batch *b = task_batch(&tr, perm + k * B, B);
      eqg_tape_reset(t);
      eqg_tensor *loss = b ? task_loss(t, &m, b, &tr, perm + k * B, B) : NULL;
      eqg_params_zero_grad(m.p);
      if (!loss) st = b ? eqg_error_prefix(eqg_tape_status(t), "task: ") : EQG_ENOMEM;
      else if (!(st = eqg_tape_backward(t, loss))) {
        sum += loss->data[0];
        eqg_optim_step(opt, m.p, c->lr);
      }
      eqg_graph_batch_free(b);
    }
    /* validation MSE in chunks of B */
    double vs = 0;
    const size_t vB = va.n < B ? va.n : B;
    size_t vn = 0, *vidx = malloc(vB * sizeof *vidx);
    t->training = t->grad_enabled = false;
    for (size_t k = 0; vidx && !st && k + vB <= va.n; k += vB, vn++) {
      for (size_t i = 0; i < vB; i++) vidx[i] = k + i;
      eqg_graph_batch *b = task_batch(&va, vidx, vB);
      eqg_tape_reset(t);
      eqg_tensor *loss = b ? task_loss(t, &m, b, &va, vidx, vB) : NULL;
      if (!loss) st = eqg_error_prefix(EQG_EINVAL, "task validation: ");
      else vs += loss->data[0];
      eqg_graph_batch_free(b);
    }
    free(vidx);
    history[2 * ep] = sum / (double)nb;
    history[2 * ep + 1] = vn ? vs / (double)vn : NAN;
    if (!isfinite(history[2 * ep])) st = eqg_error_set(EQG_ENONFINITE, "task: training diverged");
    eqg_cli_progress_update(&pbar, ep + 1, "train %.3e valid %.3e", history[2 * ep],
                            history[2 * ep + 1]);
  }
  eqg_cli_progress_end(&pbar);
  if (!st && c->model_out) {
    eqg_checkpoint_meta meta = { .seed = c->seed, .epoch = (long)c->epochs, .step = opt->step };
    snprintf(meta.model_type, sizeof meta.model_type, "lconv_nbody");
    snprintf(meta.model_config, sizeof meta.model_config, "family=lconv dim=3 width=%zu depth=%zu "
             "n_vec=2 (x, v) n_edge_attr=2 n_generators=%zu embed=|v|", c->width, c->depth, c->n_gen);
    snprintf(meta.program, sizeof meta.program, "%s", c->program);
    st = eqg_checkpoint_save(c->model_out, m.p, opt, &meta);
  }
  for (size_t k = 0; !st && k < m.depth; k++) {
    char name[64];
    snprintf(name, sizeof name, "layer%zu.generators", k);
    const eqg_tensor *g = eqg_params_get(m.p, eqg_params_find(m.p, name));
    memcpy(gens + k * c->n_gen * 9, g->data, c->n_gen * 9 * sizeof *g->data);
  }
done:
  free(perm);
  eqg_optim_free(opt);
  eqg_tape_free(t);
  task_model_free(&m);
  eqg_nbt_split_clear(&tr);
  eqg_nbt_split_clear(&va);
  return st ? eqg_error_prefix(st, "task source: ") : EQG_OK;
}
