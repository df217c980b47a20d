/* eqg_nbody_train.c: the N-body training protocol (see eqg_nbody_train.h). */
#include "eqg_nbody_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

enum { D = EQG_NBODY_DIM };

/* ---- models ------------------------------------------------------------------ */

static const char *const model_names[EQG_NBT_MODEL_COUNT] = { "linear", "gnn", "rf", "egnn" };
/* Presets of eqg_model.h; NULL: implemented here. */
static const char *const model_presets[EQG_NBT_MODEL_COUNT] = {
  NULL, "gnn_nbody", "rf_nbody", "egnn_nbody"
};
static const double model_lr[EQG_NBT_MODEL_COUNT] = { 1e-3, 1e-3, 2e-4, 5e-4 };
_Static_assert(sizeof model_names / sizeof *model_names == EQG_NBT_MODEL_COUNT,
               "one name per model kind");
_Static_assert(sizeof model_presets / sizeof *model_presets == EQG_NBT_MODEL_COUNT,
               "one preset per model kind");
_Static_assert(sizeof model_lr / sizeof *model_lr == EQG_NBT_MODEL_COUNT,
               "one learning rate per model kind");

static const eqg_real LINEAR_T0 = 0.7;   /* reference Linear_dynamics: time = 0.7 */

const char *eqg_nbt_model_name(eqg_nbt_model_kind k)
{
  return (unsigned)k < EQG_NBT_MODEL_COUNT ? model_names[k] : "?";
}

eqg_status eqg_nbt_model_find(const char *name, eqg_nbt_model_kind *k)
{
  for (int i = 0; i < EQG_NBT_MODEL_COUNT; i++)
    if (strcmp(name, model_names[i]) == 0) {
      *k = (eqg_nbt_model_kind)i;
      return EQG_OK;
    }
  if (strcmp(name, "schnet") == 0)
    return eqg_error_set(EQG_EINVAL, "model 'schnet' has no N-body configuration: its "
                         "layers leave x unchanged and see only invariant features, so "
                         "it cannot predict positions (known: linear, gnn, rf, egnn)");
  if (strcmp(name, "vecnet") == 0)
    return eqg_error_set(EQG_EINVAL, "model 'vecnet' has no N-body configuration: its "
                         "layers do not read velocities (known: linear, gnn, rf, egnn)");
  return eqg_error_set(EQG_EINVAL, "unknown model '%s' (known: linear, gnn, rf, egnn)", name);
}

double eqg_nbt_default_lr(eqg_nbt_model_kind k)
{
  return (unsigned)k < EQG_NBT_MODEL_COUNT ? model_lr[k] : NAN;
}

void eqg_nbt_model_free(eqg_nbt_model *m)
{
  if (!m) return;
  if (m->net) eqg_model_free(m->net);   /* owns params */
  else eqg_params_free(m->params);
  free(m);
}

eqg_nbt_model *eqg_nbt_model_alloc(eqg_nbt_model_kind kind, unsigned long seed)
{
  if ((unsigned)kind >= EQG_NBT_MODEL_COUNT) {
    eqg_error_set(EQG_EINVAL, "model kind %d out of range", (int)kind);
    return NULL;
  }
  eqg_nbt_model *m = calloc(1, sizeof *m);
  if (!m) {
    eqg_error_set(EQG_ENOMEM, "model: out of memory");
    return NULL;
  }
  m->kind = kind;
  m->time_id = -1;
  if (kind == EQG_NBT_LINEAR) {
    if (!(m->params = eqg_params_alloc()) ||
        (m->time_id = eqg_params_add(m->params, "linear.time", 1, 1, true)) < 0) {
      eqg_nbt_model_free(m);
      return NULL;
    }
    eqg_params_get(m->params, m->time_id)->data[0] = LINEAR_T0;
    return m;
  }
  eqg_model_config cfg;
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  if (!rng) {
    eqg_error_set(EQG_ENOMEM, "model: out of memory");
    eqg_nbt_model_free(m);
    return NULL;
  }
  gsl_rng_set(rng, seed);
  if (eqg_model_config_preset(&cfg, model_presets[kind]) == EQG_OK)
    m->net = eqg_model_alloc(&cfg, rng);
  gsl_rng_free(rng);
  if (!m->net) {
    eqg_nbt_model_free(m);
    return NULL;
  }
  m->params = m->net->params;
  m->n_scalars = cfg.n_in;
  m->n_edge_attr = cfg.layer.n_edge_attr;
  return m;
}

void eqg_nbt_model_describe(const eqg_nbt_model *m, char *buf, size_t n)
{
  if (m->net) {
    char d[900];
    eqg_model_describe(m->net, d, sizeof d);
    snprintf(buf, n, "preset=%s %s", model_presets[m->kind], d);
  } else {
    snprintf(buf, n, "linear: x(t) = x(0) + v(0) t, one learnable t (initially %g) "
             "params=%zu", LINEAR_T0, eqg_params_count(m->params));
  }
}

/* Predicted positions (N, 3) of the batch. */
static eqg_tensor *model_forward(eqg_tape *t, eqg_nbt_model *m, const eqg_graph_batch *b)
{
  if (m->kind != EQG_NBT_LINEAR) return eqg_model_forward(t, m->net, b);
  eqg_tensor *x = eqg_tape_input(t, b->n_nodes, D, b->x, false);     /* (N, 3) */
  eqg_tensor *v = eqg_tape_input(t, b->n_nodes, D, b->v, false);     /* (N, 3) */
  eqg_tensor *time = eqg_params_get(m->params, m->time_id);          /* (1, 1) */
  return eqg_add(t, x, eqg_mul(t, v, time));
}

/* ---- data ----------------------------------------------------------------------- */

void eqg_nbt_default_frames(size_t sample_freq, bool quick, long *input_frame,
                            long *target_frame)
{
  if (quick) {
    *input_frame = 3;
    *target_frame = 7;
  } else if (sample_freq == 500) {
    *input_frame = 6;
    *target_frame = 8;
  } else {
    *input_frame = 30;
    *target_frame = 40;
  }
}

void eqg_nbt_split_clear(eqg_nbt_split *s)
{
  free(s->x);
  free(s->v);
  free(s->q);
  free(s->y);
  memset(s, 0, sizeof *s);
}

eqg_nbt_split eqg_nbt_split_head(const eqg_nbt_split *s, size_t n)
{
  eqg_nbt_split h = *s;
  EQG_ASSERT(n <= s->n);
  h.n = n;
  return h;
}

eqg_status eqg_nbt_split_load(eqg_nbt_split *s, const char *path, size_t n, bool quick,
                              long *input_frame, long *target_frame)
{
  memset(s, 0, sizeof *s);
  eqg_nbody_dataset *ds = NULL;
  eqg_status st = eqg_nbody_dataset_load(&ds, path, n);
  if (st != EQG_OK) return st;
  if (n && ds->n_traj < n) {
    st = eqg_error_set(EQG_EINVAL, "'%s' holds %zu trajectories, %zu requested", path,
                       ds->n_traj, n);
    goto done;
  }
  if (ds->n_particles < 2) {
    st = eqg_error_set(EQG_EINVAL, "'%s' has %zu particle per system (at least 2 needed)",
                       path, ds->n_particles);
    goto done;
  }
  long def_in, def_out;
  eqg_nbt_default_frames(ds->cfg.sample_freq, quick, &def_in, &def_out);
  if (*input_frame < 0) *input_frame = def_in;
  if (*target_frame < 0) *target_frame = def_out;
  const long frames[2] = { *input_frame, *target_frame };
  const char *const what[2] = { "input", "target" };
  for (int k = 0; k < 2; k++)
    if ((size_t)frames[k] >= ds->n_frames) {
      st = eqg_error_set(EQG_EINVAL, "'%s' has %zu frames (0..%zu; sample_freq %zu): no %s "
                         "frame %ld (see --input-frame/--target-frame)", path, ds->n_frames,
                         ds->n_frames - 1, ds->cfg.sample_freq, what[k], frames[k]);
      goto done;
    }

  const size_t P = ds->n_particles, m = ds->n_traj, row = P * D;
  s->n = m;
  s->n_particles = P;
  s->n_frames = ds->n_frames;
  s->sample_freq = ds->cfg.sample_freq;
  s->x = malloc(m * row * sizeof *s->x);
  s->v = malloc(m * row * sizeof *s->v);
  s->y = malloc(m * row * sizeof *s->y);
  s->q = malloc(m * P * sizeof *s->q);
  if (!s->x || !s->v || !s->y || !s->q) {
    st = eqg_error_set(EQG_ENOMEM, "'%s': out of memory for %zu samples", path, m);
    eqg_nbt_split_clear(s);
    goto done;
  }
  for (size_t t = 0; t < m; t++) {
    const size_t in = (t * ds->n_frames + (size_t)*input_frame) * row;
    const size_t out = (t * ds->n_frames + (size_t)*target_frame) * row;
    memcpy(s->x + t * row, ds->loc + in, row * sizeof *s->x);
    memcpy(s->v + t * row, ds->vel + in, row * sizeof *s->v);
    memcpy(s->y + t * row, ds->loc + out, row * sizeof *s->y);
  }
  memcpy(s->q, ds->charges, m * P * sizeof *s->q);
done:
  eqg_nbody_dataset_free(ds);
  return st;
}

/* ---- batches -------------------------------------------------------------------- */

/* Staging buffers for one batch of at most `cap` samples of P particles. */
typedef struct nbt_work {
  size_t cap, P;
  eqg_graph_batch *b;
  eqg_index *counts;   /* (cap) all P */
  eqg_real *x, *v, *h; /* (cap P, 3), (cap P, 3), (cap P, 1) */
  eqg_real *q, *y;     /* (cap P), (cap P, 3) */
  size_t *seq;         /* (n) 0 .. n-1, for evaluation */
} nbt_work;

static void work_free(nbt_work *w)
{
  eqg_graph_batch_free(w->b);
  free(w->counts);
  free(w->x);
  free(w->v);
  free(w->h);
  free(w->q);
  free(w->y);
  free(w->seq);
  memset(w, 0, sizeof *w);
}

static eqg_status work_alloc(nbt_work *w, const eqg_nbt_model *m, size_t cap, size_t P,
                             size_t n_seq)
{
  memset(w, 0, sizeof *w);
  w->cap = cap;
  w->P = P;
  const size_t N = cap * P;
  w->b = eqg_graph_batch_alloc(D, m->n_scalars, true);
  w->counts = malloc(cap * sizeof *w->counts);
  w->x = malloc(N * D * sizeof *w->x);
  w->v = malloc(N * D * sizeof *w->v);
  w->h = malloc(N * sizeof *w->h);
  w->q = malloc(N * sizeof *w->q);
  w->y = malloc(N * D * sizeof *w->y);
  w->seq = malloc((n_seq ? n_seq : 1) * sizeof *w->seq);
  if (!w->b || !w->counts || !w->x || !w->v || !w->h || !w->q || !w->y || !w->seq) {
    work_free(w);
    return eqg_error_set(EQG_ENOMEM, "out of memory for a batch of %zu samples", cap);
  }
  for (size_t g = 0; g < cap; g++) w->counts[g] = (eqg_index)P;
  for (size_t i = 0; i < n_seq; i++) w->seq[i] = i;
  if (eqg_graph_batch_reserve(w->b, cap, N, cap * P * (P - 1)) != EQG_OK) {
    work_free(w);
    return EQG_ENOMEM;
  }
  return EQG_OK;
}

/* Batch of samples idx[0 .. nb-1] of s: nodes (x, v, |v| if the model takes
 * it), fully connected edges with attributes [q_i q_j (, |x_i - x_j|^2)], and
 * the targets in w->y. */
static eqg_status build_batch(nbt_work *w, const eqg_nbt_model *m, const eqg_nbt_split *s,
                              const size_t *idx, size_t nb)
{
  const size_t P = s->n_particles, row = P * D;
  EQG_ASSERT(nb <= w->cap && P == w->P);
  for (size_t k = 0; k < nb; k++) {
    const size_t t = idx[k];
    memcpy(w->x + k * row, s->x + t * row, row * sizeof *w->x);
    memcpy(w->v + k * row, s->v + t * row, row * sizeof *w->v);
    memcpy(w->y + k * row, s->y + t * row, row * sizeof *w->y);
    memcpy(w->q + k * P, s->q + t * P, P * sizeof *w->q);
    for (size_t i = 0; i < P; i++) {
      const eqg_real *vi = s->v + t * row + i * D;
      w->h[k * P + i] = sqrt(vi[0] * vi[0] + vi[1] * vi[1] + vi[2] * vi[2]);   /* |v_i| */
    }
  }
  eqg_graph_batch *b = w->b;
  eqg_status st = eqg_graph_batch_set_nodes(b, nb, w->counts, w->x, w->v,
                                            m->n_scalars ? w->h : NULL);
  if (st != EQG_OK || m->n_edge_attr == 0) return st;
  const size_t A = m->n_edge_attr;
  if ((st = eqg_graph_batch_connect_full(b)) != EQG_OK ||
      (st = eqg_graph_batch_set_edge_attr_width(b, A)) != EQG_OK)
    return st;
  for (size_t e = 0; e < b->n_edges; e++) {
    const size_t i = (size_t)b->dst[e], j = (size_t)b->src[e];
    eqg_real *a = b->edge_attr + e * A;
    a[0] = w->q[i] * w->q[j];                                   /* q_i q_j */
    if (A > 1) {
      eqg_real d2 = 0;
      for (size_t d = 0; d < D; d++) {
        const eqg_real r = b->x[i * D + d] - b->x[j * D + d];
        d2 += r * r;
      }
      a[1] = d2;                                                /* |x_i(0) - x_j(0)|^2 */
    }
  }
  return EQG_OK;
}

/* MSE of the model over every position coordinate of split s, in batches of
 * w->cap samples, summed in sample order; per_sample (s->n, may be NULL) gets
 * each sample's MSE (its own sum, so *mse keeps the bits of a run without). */
static eqg_status evaluate(double *mse, double *per_sample, eqg_tape *t, nbt_work *w,
                           eqg_nbt_model *m, const eqg_nbt_split *s)
{
  t->training = false;
  t->grad_enabled = false;
  double sse = 0;
  for (size_t s0 = 0; s0 < s->n; s0 += w->cap) {
    const size_t nb = s->n - s0 < w->cap ? s->n - s0 : w->cap;
    eqg_status st = build_batch(w, m, s, w->seq + s0, nb);
    if (st != EQG_OK) return eqg_error_prefix(st, "evaluation: ");
    eqg_tape_reset(t);
    eqg_tensor *pred = model_forward(t, m, w->b);   /* (nb P, 3) */
    if (!pred) return eqg_error_prefix(eqg_tape_status(t), "evaluation: ");
    const size_t row = s->n_particles * D;   /* coordinates per sample */
    for (size_t k = 0; k < nb; k++) {
      double e = 0;   /* sse keeps its own running sum, in element order */
      for (size_t r = k * row; r < (k + 1) * row; r++) {
        const double d = pred->data[r] - w->y[r];
        sse += d * d;
        e += d * d;
      }
      if (per_sample) per_sample[s0 + k] = e / (double)row;
    }
  }
  *mse = sse / (double)(s->n * s->n_particles * D);
  if (!isfinite(*mse))
    return eqg_error_set(EQG_ENONFINITE, "evaluation MSE is %g: the model diverged", *mse);
  return EQG_OK;
}

/* One Adam step on the batch in w; *loss gets its MSE. */
static eqg_status train_step(double *loss, eqg_tape *t, nbt_work *w, eqg_nbt_model *m,
                             eqg_optim *o, double lr)
{
  t->training = true;
  t->grad_enabled = true;
  eqg_tape_reset(t);
  const eqg_graph_batch *b = w->b;
  eqg_tensor *pred = model_forward(t, m, b);                        /* (N, 3) */
  eqg_tensor *target = eqg_tape_input(t, b->n_nodes, D, w->y, false);   /* (N, 3) */
  eqg_tensor *l = eqg_mse(t, pred, target);                         /* (1, 1) */
  if (!l) return eqg_error_prefix(eqg_tape_status(t), "training step: ");
  eqg_params_zero_grad(m->params);
  eqg_status st = eqg_tape_backward(t, l);
  if (st != EQG_OK) return eqg_error_prefix(st, "training step: ");
  *loss = l->data[0];
  if (!isfinite(*loss))
    return eqg_error_set(EQG_ENONFINITE, "training diverged (loss %g); try a smaller --lr",
                         *loss);
  eqg_optim_step(o, m->params, lr);
  return EQG_OK;
}

/* ---- results -------------------------------------------------------------------- */

void eqg_nbt_result_clear(eqg_nbt_result *r)
{
  free(r->eval_epoch);
  free(r->train_mse);
  free(r->valid_mse);
  free(r->test_mse);
  memset(r, 0, sizeof *r);
}

static eqg_status result_reserve(eqg_nbt_result *r, size_t n)
{
  if (n <= r->cap) return EQG_OK;
  size_t cap = r->cap ? 2 * r->cap : 64;
  while (cap < n) cap *= 2;
  double **arrays[4] = { &r->eval_epoch, &r->train_mse, &r->valid_mse, &r->test_mse };
  for (int k = 0; k < 4; k++) {
    double *p = realloc(*arrays[k], cap * sizeof *p);
    if (!p) return eqg_error_set(EQG_ENOMEM, "out of memory for the history");
    *arrays[k] = p;
  }
  r->cap = cap;
  return EQG_OK;
}

/* Best = the first evaluation with the lowest validation MSE (as the reference:
 * `if val_loss < best_val_loss`). */
static void result_update_best(eqg_nbt_result *r, size_t i)
{
  if (r->best_epoch == 0 || r->valid_mse[i] < r->best_valid) {
    r->best_epoch = (long)r->eval_epoch[i];
    r->best_valid = r->valid_mse[i];
    r->test_at_best = r->test_mse[i];
  }
}

static uint64_t fnv1a64(const void *data, size_t n)
{
  const unsigned char *p = data;
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

unsigned long eqg_nbt_epoch_seed(unsigned long seed, long epoch)
{
  uint64_t z = ((uint64_t)(seed & 0xffffffffUL) << 32) ^ (uint64_t)(epoch & 0xffffffffL);
  z += 0x9e3779b97f4a7c15ULL;                          /* SplitMix64 */
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return (unsigned long)(z & 0xffffffffULL);
}

/* ---- checkpoints ---------------------------------------------------------------- */

/* The run settings a resumed run must share with its checkpoint, and the
 * history so far. */
typedef struct run_state {
  const eqg_nbt_config *c;
  size_t n_train;
  const eqg_nbt_result *r;
} run_state;

static eqg_status write_settings(hid_t g, const void *ctx)
{
  const run_state *s = ctx;
  const eqg_nbt_config *c = s->c;
  const eqg_nbt_result *r = s->r;
  eqg_status st;
  if ((st = eqg_h5_write_attr_string(g, "model", eqg_nbt_model_name(c->model))) ||
      (st = eqg_h5_write_attr_ulong(g, "seed", c->seed)) ||
      (st = eqg_h5_write_attr_ulong(g, "n_train", (unsigned long)s->n_train)) ||
      (st = eqg_h5_write_attr_ulong(g, "batch", (unsigned long)c->batch)) ||
      (st = eqg_h5_write_attr_double(g, "lr", c->lr)) ||
      (st = eqg_h5_write_attr_double(g, "weight_decay", c->weight_decay)) ||
      (st = eqg_h5_write_attr_long(g, "input_frame", c->input_frame)) ||
      (st = eqg_h5_write_attr_long(g, "target_frame", c->target_frame)) ||
      (st = eqg_h5_write_attr_long(g, "eval_every", c->eval_every)) ||
      (st = eqg_h5_write_attr_int(g, "test_every_eval", c->test_every_eval)) ||
      (st = eqg_h5_write_attr_long(g, "epochs", c->epochs)) ||
      (st = eqg_h5_write_attr_double(g, "train_seconds", r->train_seconds)) ||
      (st = eqg_h5_write_attr_ulong(g, "n_evals", (unsigned long)r->n_evals)))
    return st;
  if (r->n_evals == 0) return EQG_OK;
  if ((st = eqg_h5_write_vector(g, "eval_epoch", r->eval_epoch, r->n_evals)) ||
      (st = eqg_h5_write_vector(g, "train_mse", r->train_mse, r->n_evals)) ||
      (st = eqg_h5_write_vector(g, "valid_mse", r->valid_mse, r->n_evals)) ||
      (st = eqg_h5_write_vector(g, "test_mse", r->test_mse, r->n_evals)))
    return st;
  return EQG_OK;
}

/* Parameters and optimiser with /nbody beside them, replaced atomically. */
static eqg_status save_checkpoint(const eqg_nbt_config *c, const eqg_nbt_model *m,
                                  const eqg_optim *o, size_t n_train, const eqg_nbt_result *r)
{
  eqg_checkpoint_meta meta = { .seed = c->seed, .step = o->step, .epoch = r->epoch };
  snprintf(meta.model_type, sizeof meta.model_type, "%s", eqg_nbt_model_name(c->model));
  snprintf(meta.model_config, sizeof meta.model_config, "%s", r->model_config);
  snprintf(meta.program, sizeof meta.program, "%s", c->program ? c->program : "");
  const run_state s = { .c = c, .n_train = n_train, .r = r };
  return eqg_checkpoint_save_group(c->checkpoint, m->params, o, &meta, "nbody",
                                   write_settings, &s);
}

/* Read /nbody of the checkpoint: check the settings, restore the history up to
 * `epoch`.  Then load parameters and optimiser. */
static eqg_status load_checkpoint(const eqg_nbt_config *c, eqg_nbt_model *m, eqg_optim *o,
                                  size_t n_train, eqg_nbt_result *r)
{
  const char *path = c->checkpoint;
  hid_t f = -1, g = -1;
  char *model = NULL;
  eqg_status st = eqg_checkpoint_group_open(path, "nbody", "the nbody programs", &f, &g);
  if (st != EQG_OK) return eqg_error_prefix(st, "--resume: ");
  unsigned long seed, nt, batch, n_evals;
  long fin, fout;
  double lr, wd, secs;
  if ((st = eqg_h5_read_attr_string(g, "model", &model)) ||
      (st = eqg_h5_read_attr_ulong(g, "seed", &seed)) ||
      (st = eqg_h5_read_attr_ulong(g, "n_train", &nt)) ||
      (st = eqg_h5_read_attr_ulong(g, "batch", &batch)) ||
      (st = eqg_h5_read_attr_double(g, "lr", &lr)) ||
      (st = eqg_h5_read_attr_double(g, "weight_decay", &wd)) ||
      (st = eqg_h5_read_attr_long(g, "input_frame", &fin)) ||
      (st = eqg_h5_read_attr_long(g, "target_frame", &fout)) ||
      (st = eqg_h5_read_attr_double(g, "train_seconds", &secs)) ||
      (st = eqg_h5_read_attr_ulong(g, "n_evals", &n_evals))) {
    st = eqg_error_prefix(st, "--resume: '%s' /nbody: ", path);
    goto done;
  }
  if (strcmp(model, eqg_nbt_model_name(c->model)) != 0) {
    st = eqg_cli_resume_mismatch(path, "model", model, eqg_nbt_model_name(c->model));
    goto done;
  }
  EQG_RESUME_CHECK(seed == c->seed, path, "--seed", "%lu", seed, c->seed);
  EQG_RESUME_CHECK(nt == n_train, path, "--n-train", "%lu", nt, (unsigned long)n_train);
  EQG_RESUME_CHECK(batch == c->batch, path, "--batch", "%lu", batch, (unsigned long)c->batch);
  EQG_RESUME_CHECK(lr == c->lr, path, "--lr", "%.17g", lr, c->lr);
  EQG_RESUME_CHECK(wd == c->weight_decay, path, "weight decay", "%.17g", wd, c->weight_decay);
  EQG_RESUME_CHECK(fin == c->input_frame, path, "--input-frame", "%ld", fin, c->input_frame);
  EQG_RESUME_CHECK(fout == c->target_frame, path, "--target-frame", "%ld", fout, c->target_frame);
  if ((st = result_reserve(r, n_evals)) != EQG_OK) goto done;
  if (n_evals &&
      ((st = eqg_h5_read_vector(g, "eval_epoch", r->eval_epoch, n_evals)) ||
       (st = eqg_h5_read_vector(g, "train_mse", r->train_mse, n_evals)) ||
       (st = eqg_h5_read_vector(g, "valid_mse", r->valid_mse, n_evals)) ||
       (st = eqg_h5_read_vector(g, "test_mse", r->test_mse, n_evals)))) {
    st = eqg_error_prefix(st, "--resume: '%s' /nbody: ", path);
    goto done;
  }
  eqg_h5_close(g);
  eqg_h5_close(f);
  g = f = -1;

  eqg_checkpoint_meta meta;
  if ((st = eqg_checkpoint_load(path, m->params, o, &meta)) != EQG_OK) {
    st = eqg_error_prefix(st, "--resume: ");
    goto done;
  }
  if (meta.seed != c->seed || strcmp(meta.model_type, model) != 0 || meta.step != o->step ||
      meta.epoch < 0) {
    st = eqg_error_set(EQG_EFORMAT, "--resume: '%s': root metadata (seed %lu, model %s, "
                       "step %ld, epoch %ld) disagree with /nbody and /optim", path, meta.seed,
                       meta.model_type, meta.step, meta.epoch);
    goto done;
  }
  if (meta.epoch > c->epochs) {
    st = eqg_error_set(EQG_EINVAL, "--resume: checkpoint '%s' is at epoch %ld, beyond "
                       "--epochs %ld", path, meta.epoch, c->epochs);
    goto done;
  }
  r->epoch = r->start_epoch = meta.epoch;
  r->step = meta.step;
  r->train_seconds = secs;
  /* The history is written with the epoch in one file; keep only evaluations
   * up to the checkpoint's epoch all the same. */
  r->n_evals = 0;
  for (size_t i = 0; i < n_evals && r->eval_epoch[i] <= (double)meta.epoch; i++) {
    r->n_evals = i + 1;
    result_update_best(r, i);
  }
done:
  free(model);
  eqg_h5_close(g);
  eqg_h5_close(f);
  return st;
}

/* ---- best parameters ------------------------------------------------------------ */

typedef struct best_state {
  const eqg_nbt_config *c;
  size_t n_train, n_test;
  const eqg_nbt_result *r;   /* its best is the current epoch */
} best_state;

static eqg_status write_best(hid_t g, const void *ctx)
{
  const best_state *s = ctx;
  eqg_status st;
  if ((st = eqg_h5_write_attr_string(g, "model", eqg_nbt_model_name(s->c->model))) ||
      (st = eqg_h5_write_attr_ulong(g, "seed", s->c->seed)) ||
      (st = eqg_h5_write_attr_long(g, "epoch", s->r->best_epoch)) ||
      (st = eqg_h5_write_attr_double(g, "valid_mse", s->r->best_valid)) ||
      (st = eqg_h5_write_attr_double(g, "test_mse", s->r->test_at_best)) ||
      (st = eqg_h5_write_attr_long(g, "input_frame", s->c->input_frame)) ||
      (st = eqg_h5_write_attr_long(g, "target_frame", s->c->target_frame)) ||
      (st = eqg_h5_write_attr_ulong(g, "n_train", (unsigned long)s->n_train)) ||
      (st = eqg_h5_write_attr_ulong(g, "n_test", (unsigned long)s->n_test)) ||
      (st = eqg_h5_write_attr_ulong(g, "batch", (unsigned long)s->c->batch)))
    return st;
  return EQG_OK;
}

/* The parameters of the current epoch, the best so far, to c->best. */
static eqg_status save_best(const eqg_nbt_config *c, const eqg_nbt_model *m,
                            const eqg_optim *o, size_t n_train, size_t n_test,
                            const eqg_nbt_result *r)
{
  eqg_checkpoint_meta meta = { .seed = c->seed, .step = o->step, .epoch = r->epoch };
  snprintf(meta.model_type, sizeof meta.model_type, "%s", eqg_nbt_model_name(c->model));
  snprintf(meta.model_config, sizeof meta.model_config, "%s", r->model_config);
  snprintf(meta.program, sizeof meta.program, "%s", c->program ? c->program : "");
  const best_state s = { .c = c, .n_train = n_train, .n_test = n_test, .r = r };
  eqg_status st = eqg_checkpoint_save_group(c->best, m->params, NULL, &meta, "nbody_best",
                                            write_best, &s);
  return st != EQG_OK ? eqg_error_prefix(st, "best parameters: ") : EQG_OK;
}

/* The /nbody_best group of a best-parameters file. */
static eqg_status best_info_read(const char *path, eqg_nbt_best_info *b)
{
  hid_t f = -1, g = -1;
  char *model = NULL;
  *b = (eqg_nbt_best_info){ 0 };
  eqg_status st = eqg_checkpoint_group_open(path, "nbody_best", "nbody (its best-parameters "
                                            "file, --best)", &f, &g);
  if (st != EQG_OK) return st;
  if ((st = eqg_h5_read_attr_string(g, "model", &model)) ||
      (st = eqg_h5_read_attr_ulong(g, "seed", &b->seed)) ||
      (st = eqg_h5_read_attr_long(g, "epoch", &b->epoch)) ||
      (st = eqg_h5_read_attr_double(g, "valid_mse", &b->valid_mse)) ||
      (st = eqg_h5_read_attr_double(g, "test_mse", &b->test_mse)) ||
      (st = eqg_h5_read_attr_long(g, "input_frame", &b->input_frame)) ||
      (st = eqg_h5_read_attr_long(g, "target_frame", &b->target_frame)) ||
      (st = eqg_h5_read_attr_ulong(g, "n_train", &b->n_train)) ||
      (st = eqg_h5_read_attr_ulong(g, "n_test", &b->n_test)) ||
      (st = eqg_h5_read_attr_ulong(g, "batch", &b->batch)) ||
      (st = eqg_nbt_model_find(model, &b->model)))
    st = eqg_error_prefix(st, "'%s' /nbody_best: ", path);
  free(model);
  eqg_h5_close(g);
  eqg_h5_close(f);
  return st;
}

eqg_status eqg_nbt_model_load(eqg_nbt_model **out, eqg_nbt_best_info *info, const char *path)
{
  *out = NULL;
  eqg_nbt_best_info b;
  eqg_status st = best_info_read(path, &b);
  if (st != EQG_OK) return st;
  eqg_nbt_model *m = eqg_nbt_model_alloc(b.model, b.seed);
  if (!m) return EQG_ENOMEM;
  eqg_checkpoint_meta meta;
  const char *name = eqg_nbt_model_name(b.model);
  if ((st = eqg_checkpoint_load(path, m->params, NULL, &meta)) == EQG_OK &&
      (meta.epoch != b.epoch || strcmp(meta.model_type, name) != 0))
    st = eqg_error_set(EQG_EFORMAT, "'%s': root metadata (model %s, epoch %ld) disagree with "
                       "/nbody_best (model %s, epoch %ld)", path, meta.model_type, meta.epoch,
                       name, b.epoch);
  if (st != EQG_OK) {
    eqg_nbt_model_free(m);
    return st;
  }
  *out = m;
  if (info) *info = b;
  return EQG_OK;
}

/* On --resume: does c->best hold this run's best epoch so far (or a later one
 * that the replay will write again)?  If not, say so on stderr: its
 * parameters cannot be recovered, and the file is rewritten at the next
 * improvement. */
static void check_best_on_resume(const eqg_nbt_config *c, const eqg_nbt_result *r)
{
  eqg_nbt_best_info b;
  const char *why = NULL;
  char msg[512];
  if (best_info_read(c->best, &b) != EQG_OK) {
    snprintf(msg, sizeof msg, "%s", eqg_error_message());
    why = msg;
  } else if (b.model != c->model || b.seed != c->seed) {
    why = "it is from another run (model or seed)";
  } else if (r->best_epoch && b.epoch != r->best_epoch && b.epoch <= r->epoch) {
    snprintf(msg, sizeof msg, "it holds epoch %ld, not this run's best epoch %ld", b.epoch,
             r->best_epoch);
    why = msg;
  }
  if (why && r->best_epoch)
    fprintf(stderr, "%s: warning: best parameters '%s': %s; it is rewritten at the next "
            "improvement of the validation MSE\n", c->program ? c->program : "nbody", c->best,
            why);
}

eqg_status eqg_nbt_evaluate(eqg_nbt_model *m, const eqg_nbt_split *s, size_t batch,
                            double *mse, double *per_sample)
{
  if (batch == 0 || s->n == 0)
    return eqg_error_set(EQG_EINVAL, "evaluation: %zu samples in batches of %zu", s->n, batch);
  nbt_work w;
  eqg_tape *t = eqg_tape_alloc((size_t)1 << 22, NULL);
  if (!t) return EQG_ENOMEM;
  eqg_status st = work_alloc(&w, m, batch < s->n ? batch : s->n, s->n_particles, s->n);
  if (st == EQG_OK) {
    st = evaluate(mse, per_sample, t, &w, m, s);
    work_free(&w);
  }
  eqg_tape_free(t);
  return st;
}

/* ---- training ------------------------------------------------------------------- */

eqg_nbt_config eqg_nbt_config_default(eqg_nbt_model_kind model)
{
  return (eqg_nbt_config){
    .model = model,
    .seed = 1,
    .lr = eqg_nbt_default_lr(model),
    .weight_decay = 1e-12,
    .batch = 100,
    .epochs = 10000,
    .eval_every = 5,
    .test_every_eval = true,
    .input_frame = 30,
    .target_frame = 40,
    .checkpoint_every = 50,
    .label = "train",
  };
}

static void table_row(eqg_cli_progress *pb, const eqg_nbt_result *r, size_t i)
{
  eqg_cli_progress_clear(pb);
  printf("%7.0f  %11.4e  %11.4e  %11.4e %s\n", r->eval_epoch[i], r->train_mse[i],
         r->valid_mse[i], r->test_mse[i], (long)r->eval_epoch[i] == r->best_epoch ? "*" : "");
  fflush(stdout);
}

eqg_status eqg_nbt_train(eqg_nbt_result *res, const eqg_nbt_config *c,
                         const eqg_nbt_split *train, const eqg_nbt_split *valid,
                         const eqg_nbt_split *test)
{
  if (c->batch == 0 || c->batch > train->n)
    return eqg_error_set(EQG_EINVAL, "batch %zu does not fit %zu training samples", c->batch,
                         train->n);
  if (c->epochs < 1 || c->eval_every < 1 || c->checkpoint_every < 1)
    return eqg_error_set(EQG_EINVAL, "epochs, eval_every and checkpoint_every must be >= 1");
  if (c->resume && !c->checkpoint)
    return eqg_error_set(EQG_EINVAL, "resuming needs a checkpoint path");
  if (valid->n_particles != train->n_particles || test->n_particles != train->n_particles)
    return eqg_error_set(EQG_EINVAL, "the splits have %zu, %zu and %zu particles per system",
                         train->n_particles, valid->n_particles, test->n_particles);

  const double t0 = eqg_cli_now();
  const size_t n = train->n, B = c->batch, P = train->n_particles;
  const size_t n_seq = valid->n > test->n ? valid->n : test->n;
  eqg_nbt_model *m = eqg_nbt_model_alloc(c->model, c->seed);
  eqg_optim *opt = NULL;
  eqg_tape *tape = eqg_tape_alloc((size_t)1 << 22, NULL);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  size_t *perm = malloc(n * sizeof *perm);
  nbt_work w = { 0 };
  eqg_status st = EQG_OK;
  if (!m) {   /* eqg_nbt_model_alloc has set the message */
    st = EQG_EINVAL;
    goto done;
  }
  if (!tape || !rng || !perm) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory");
    goto done;
  }
  eqg_optim_config ocfg = eqg_optim_config_for(&eqg_optim_adam);
  ocfg.lr = c->lr;
  ocfg.weight_decay = c->weight_decay;
  if (!(opt = eqg_optim_alloc(&eqg_optim_adam, &ocfg, m->params->size))) {
    st = EQG_EINVAL;
    goto done;
  }
  if ((st = work_alloc(&w, m, B, P, n_seq)) != EQG_OK) goto done;
  res->n_params = eqg_params_count(m->params);
  eqg_nbt_model_describe(m, res->model_config, sizeof res->model_config);
  if (c->resume && (st = load_checkpoint(c, m, opt, n, res)) != EQG_OK) goto done;
  if (c->resume && c->best) check_best_on_resume(c, res);

  const size_t steps_per_epoch = n / B;   /* drop last */
  const long first = res->epoch;
  const long last = c->stop_after > 0 && c->stop_after < c->epochs ? c->stop_after : c->epochs;
  const long evals_total = c->epochs / c->eval_every;
  const long row_every = c->eval_every * (evals_total > 20 ? (evals_total + 19) / 20 : 1);
  eqg_cli_progress pb;
  eqg_cli_progress_begin(&pb, c->label,
                         last > first ? (size_t)(last - first) * steps_per_epoch : 0);
  if (c->table) {
    printf("%7s  %11s  %11s  %11s\n", "epoch", "train MSE", "valid MSE", "test MSE");
    for (size_t i = 0; i < res->n_evals; i++)
      if ((long)res->eval_epoch[i] % row_every == 0) table_row(&pb, res, i);
    fflush(stdout);
  }
  double t_mark = eqg_cli_now();
  res->seconds_this_run += t_mark - t0;
  for (long e = first; e < last; e++) {
    /* The order of epoch e depends on (seed, e) alone. */
    gsl_rng_set(rng, eqg_nbt_epoch_seed(c->seed, e));
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (size_t i = n - 1; i > 0; i--) {   /* Fisher-Yates */
      const size_t j = (size_t)gsl_rng_uniform_int(rng, (unsigned long)i + 1);
      const size_t tmp = perm[i];
      perm[i] = perm[j];
      perm[j] = tmp;
    }
    double sum = 0;
    for (size_t s = 0; s < steps_per_epoch; s++) {
      double loss = 0;
      if ((st = build_batch(&w, m, train, perm + s * B, B)) != EQG_OK ||
          (st = train_step(&loss, tape, &w, m, opt, c->lr)) != EQG_OK) {
        eqg_cli_progress_end(&pb);
        st = eqg_error_prefix(st, "epoch %ld: ", e + 1);
        goto done;
      }
      sum += loss;
      eqg_cli_progress_update(&pb, (size_t)(e - first) * steps_per_epoch + s + 1,
                              "ep %ld loss %.3e best val %.3e", e + 1, loss,
                              res->best_epoch ? res->best_valid : NAN);
    }
    res->epoch = e + 1;
    res->step = opt->step;
    if (res->epoch % c->eval_every == 0 || res->epoch == c->epochs) {
      double v_mse, t_mse = NAN;
      if ((st = evaluate(&v_mse, NULL, tape, &w, m, valid)) != EQG_OK) goto fail_epoch;
      const bool improves = res->best_epoch == 0 || v_mse < res->best_valid;
      if ((c->test_every_eval || improves) &&
          (st = evaluate(&t_mse, NULL, tape, &w, m, test)) != EQG_OK)
        goto fail_epoch;
      if ((st = result_reserve(res, res->n_evals + 1)) != EQG_OK) goto fail_epoch;
      const size_t i = res->n_evals++;
      res->eval_epoch[i] = (double)res->epoch;
      res->train_mse[i] = sum / (double)steps_per_epoch;
      res->valid_mse[i] = v_mse;
      res->test_mse[i] = t_mse;
      result_update_best(res, i);
      if (c->best && res->best_epoch == res->epoch &&
          (st = save_best(c, m, opt, n, test->n, res)) != EQG_OK)
        goto fail_epoch;
      if (c->table && (res->epoch % row_every == 0 || res->epoch == c->epochs ||
                       res->epoch == last))
        table_row(&pb, res, i);
    }
    const double now = eqg_cli_now();
    res->train_seconds += now - t_mark;
    res->seconds_this_run += now - t_mark;
    t_mark = now;
    if (c->checkpoint && (res->epoch % c->checkpoint_every == 0 || res->epoch == last)) {
      if ((st = save_checkpoint(c, m, opt, n, res)) != EQG_OK) goto fail_epoch;
      if (c->on_checkpoint && (st = c->on_checkpoint(c->ctx, res)) != EQG_OK) goto fail_epoch;
    }
  }
  eqg_cli_progress_end(&pb);
  res->stopped = res->epoch < c->epochs;
  res->digest = fnv1a64(m->params->data, m->params->size * sizeof *m->params->data);
  goto done;
fail_epoch:
  eqg_cli_progress_end(&pb);
  st = eqg_error_prefix(st, "epoch %ld: ", res->epoch);
done:
  work_free(&w);
  free(perm);
  gsl_rng_free(rng);
  eqg_tape_free(tape);
  eqg_optim_free(opt);
  eqg_nbt_model_free(m);
  return st;
}

const char *const eqg_nbt_split_name[3] = { "train", "valid", "test" };

eqg_status eqg_nbt_data_paths(char path[3][EQG_NBT_PATH_MAX], const char *datadir,
                              const char *const file[3])
{
  if (!*datadir) return eqg_error_set(EQG_EINVAL, "--datadir: empty directory name");
  for (int k = 0; k < 3; k++) {
    if (file[k] && !*file[k])
      return eqg_error_set(EQG_EINVAL, "--%s-file: empty file name", eqg_nbt_split_name[k]);
    int w = file[k] ? snprintf(path[k], EQG_NBT_PATH_MAX, "%s", file[k])
                    : snprintf(path[k], EQG_NBT_PATH_MAX, "%s/nbody_%s.h5", datadir,
                               eqg_nbt_split_name[k]);
    if (w < 0 || w >= EQG_NBT_PATH_MAX) return eqg_error_set(EQG_EINVAL, "data file path too long");
  }
  return EQG_OK;
}
