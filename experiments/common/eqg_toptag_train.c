/* eqg_toptag_train.c: top-tagging training, checkpoints and results (see
 * eqg_toptag_train.h); inputs, batches and prediction are in eqg_toptag_data.c. */
#include "eqg_toptag_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- results -------------------------------------------------------------------- */

enum { N_HIST = 7 };

static double **hist_arrays(eqg_tt_result *r, double **a[N_HIST])
{
  a[0] = &r->epoch;
  a[1] = &r->lr;
  a[2] = &r->train_loss;
  a[3] = &r->train_acc;
  a[4] = &r->valid_loss;
  a[5] = &r->valid_acc;
  a[6] = &r->valid_auc;
  return a[0];
}

static const char *const hist_names[N_HIST] = {
  "epoch", "lr", "train_loss", "train_acc", "valid_loss", "valid_acc", "valid_auc"
};

void eqg_tt_result_clear(eqg_tt_result *r)
{
  double **a[N_HIST];
  hist_arrays(r, a);
  for (int k = 0; k < N_HIST; k++) free(*a[k]);
  free(r->test_scores);
  free(r->test_labels);
  memset(r, 0, sizeof *r);
}

static eqg_status result_reserve(eqg_tt_result *r, size_t n)
{
  if (n <= r->cap) return EQG_OK;
  size_t cap = r->cap ? 2 * r->cap : 64;
  while (cap < n) cap *= 2;
  double **a[N_HIST];
  hist_arrays(r, a);
  for (int k = 0; k < N_HIST; k++) {
    double *p = realloc(*a[k], cap * sizeof *p);
    if (!p) return eqg_error_set(EQG_ENOMEM, "out of memory for the history");
    *a[k] = p;
  }
  r->cap = cap;
  return EQG_OK;
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

/* mt19937 seed for epoch e and stream k (0 shuffle, 1 dropout, 2 augmentation):
 * SplitMix64 of (seed, e, k), low 32 bits. */
static unsigned long epoch_seed(unsigned long seed, long epoch, unsigned k)
{
  uint64_t z = ((uint64_t)(seed & 0xffffffffUL) << 32) ^ (uint64_t)(epoch & 0xffffffL) ^
               ((uint64_t)k << 24);
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return (unsigned long)(z & 0xffffffffULL);
}

/* ---- checkpoints ---------------------------------------------------------------- */

/* Settings that rebuild the model and its inputs (both checkpoint kinds). */
static eqg_status write_model_attrs(hid_t g, const eqg_tt_config *c)
{
  eqg_status st;
  if ((st = eqg_h5_write_attr_string(g, "model", eqg_tt_model_name(c->model.kind))) ||
      (st = eqg_h5_write_attr_ulong(g, "width", (unsigned long)c->model.width)) ||
      (st = eqg_h5_write_attr_ulong(g, "depth", (unsigned long)c->model.depth)) ||
      (st = eqg_h5_write_attr_double(g, "vec_fraction", c->model.vec_fraction)) ||
      (st = eqg_h5_write_attr_int(g, "beams", c->inputs.beams)) ||
      (st = eqg_h5_write_attr_int(g, "knn", c->inputs.knn)) ||
      (st = eqg_h5_write_attr_double(g, "p_scale", c->inputs.p_scale)) ||
      (st = eqg_h5_write_attr_int(g, "features", (int)c->inputs.features)) ||
      (st = eqg_h5_write_attr_ulong(g, "max_constituents", (unsigned long)c->max_constituents)))
    return st;
  return EQG_OK;
}

static eqg_status read_model_attrs(hid_t g, const char *path, eqg_tt_model_spec *spec,
                                   eqg_tt_inputs *in, size_t *max_constituents)
{
  char *model = NULL;
  unsigned long width, depth, maxc;
  int beams, knn, feat = EQG_TT_FEATURES_P4;   /* absent in the first files: p4 */
  double frac, ps;
  eqg_status st;
  if ((st = eqg_h5_read_attr_string(g, "model", &model)) ||
      (st = eqg_h5_read_attr_ulong(g, "width", &width)) ||
      (st = eqg_h5_read_attr_ulong(g, "depth", &depth)) ||
      (st = eqg_h5_read_attr_double(g, "vec_fraction", &frac)) ||
      (st = eqg_h5_read_attr_int(g, "beams", &beams)) ||
      (st = eqg_h5_read_attr_int(g, "knn", &knn)) ||
      (st = eqg_h5_read_attr_double(g, "p_scale", &ps)) ||

      (st = eqg_h5_read_attr_ulong(g, "max_constituents", &maxc)) ||
      (eqg_h5_has_attr(g, "features") && (st = eqg_h5_read_attr_int(g, "features", &feat)))) {
    free(model);
    return eqg_error_prefix(st, "'%s' /toptag: ", path);
  }
  st = eqg_tt_model_find(model, &spec->kind);
  free(model);
  if (st != EQG_OK) return eqg_error_prefix(st, "'%s' /toptag: ", path);
  spec->width = width;
  spec->depth = depth;
  spec->vec_fraction = frac;
  *in = (eqg_tt_inputs){ .beams = beams != 0, .knn = knn, .p_scale = ps,
                         .features = (eqg_tt_features)feat };
  if ((st = eqg_tt_inputs_check(spec->kind, in)) != EQG_OK)
    return eqg_error_prefix(st, "'%s' /toptag: ", path);
  if (max_constituents) *max_constituents = maxc;
  return EQG_OK;
}

/* Training settings a resumed run must share (besides the model's). */
static eqg_status write_train_attrs(hid_t g, const eqg_tt_config *c, size_t n_train)
{
  eqg_status st;
  if ((st = eqg_h5_write_attr_ulong(g, "seed", c->seed)) ||
      (st = eqg_h5_write_attr_ulong(g, "n_train", (unsigned long)n_train)) ||
      (st = eqg_h5_write_attr_ulong(g, "batch", (unsigned long)c->batch)) ||
      (st = eqg_h5_write_attr_double(g, "lr", c->lr)) ||
      (st = eqg_h5_write_attr_double(g, "weight_decay", c->weight_decay)) ||
      (st = eqg_h5_write_attr_long(g, "epochs", c->epochs)) ||
      (st = eqg_h5_write_attr_long(g, "warmup", c->warmup)) ||
      (st = eqg_h5_write_attr_string(g, "schedule", eqg_tt_schedule_name[c->schedule])) ||
      (st = eqg_h5_write_attr_double(g, "augment_beta", c->augment_beta)) ||
      (st = eqg_h5_write_attr_int(g, "augment_beams", c->augment_beams)))
    return st;
  return EQG_OK;
}

/* Both checkpoint kinds (best and running) carry the settings in /toptag. */
static eqg_status save_with_group(const char *path, const eqg_params *p, const eqg_optim *o,
                                  const eqg_checkpoint_meta *meta,
                                  eqg_status (*fill)(hid_t g, const void *ctx), const void *ctx)
{
  return eqg_checkpoint_save_group(path, p, o, meta, "toptag", fill, ctx);
}

typedef struct run_state {
  const eqg_tt_config *c;
  size_t n_train;
  const eqg_tt_result *r;
  const eqg_real *best_data, *best_buf;   /* (p->size), (p->buf_size) */
  size_t size, buf_size;
} run_state;

static eqg_status fill_best(hid_t g, const void *ctx)
{
  const run_state *s = ctx;
  eqg_status st;
  if ((st = write_model_attrs(g, s->c)) || (st = write_train_attrs(g, s->c, s->n_train)) ||
      (st = eqg_h5_write_attr_long(g, "best_epoch", s->r->best_epoch)) ||
      (st = eqg_h5_write_attr_double(g, "best_valid_acc", s->r->best_valid_acc)))
    return st;
  return EQG_OK;
}

static eqg_status fill_running(hid_t g, const void *ctx)
{
  const run_state *s = ctx;
  const eqg_tt_result *r = s->r;
  eqg_status st;
  if ((st = fill_best(g, ctx)) ||
      (st = eqg_h5_write_attr_double(g, "train_seconds", r->train_seconds)) ||
      (st = eqg_h5_write_attr_ulong(g, "n_epochs", (unsigned long)r->n)))
    return st;
  double **a[N_HIST];
  hist_arrays((eqg_tt_result *)r, a);
  for (int k = 0; k < N_HIST && r->n; k++)
    if ((st = eqg_h5_write_vector(g, hist_names[k], *a[k], r->n)) != EQG_OK) return st;
  if (r->best_epoch &&
      ((st = eqg_h5_write_vector(g, "best_params", s->best_data, s->size)) ||
       (s->buf_size && (st = eqg_h5_write_vector(g, "best_buffers", s->best_buf, s->buf_size)))))
    return st;
  return EQG_OK;
}

static eqg_checkpoint_meta make_meta(const eqg_tt_config *c, const eqg_tt_result *r, long step)
{
  eqg_checkpoint_meta meta = { .seed = c->seed, .step = step, .epoch = r->epoch_done };
  snprintf(meta.model_type, sizeof meta.model_type, "%s", eqg_tt_model_name(c->model.kind));
  snprintf(meta.model_config, sizeof meta.model_config, "%s", r->model_config);
  snprintf(meta.program, sizeof meta.program, "%s", c->program ? c->program : "");
  return meta;
}

/* Restore a running checkpoint: check the settings, history, best parameters,
 * then parameters and optimiser. */
static eqg_status load_running(const eqg_tt_config *c, eqg_model *m, eqg_optim *o,
                               size_t n_train, eqg_tt_result *r, eqg_real *best_data,
                               eqg_real *best_buf)
{
  const char *path = c->checkpoint;
  hid_t f = -1, g = -1;
  eqg_status st = eqg_checkpoint_group_open(path, "toptag", "the top-tagging programs", &f, &g);
  if (st != EQG_OK) return eqg_error_prefix(st, "--resume: ");
  eqg_tt_model_spec spec;
  eqg_tt_inputs in;
  size_t maxc;
  unsigned long seed, nt, batch, n_ep;
  long epochs, warmup, best_epoch;
  double lr, wd, ab, secs, bva;
  int abeams;
  char *sched = NULL;
  if ((st = read_model_attrs(g, path, &spec, &in, &maxc)) != EQG_OK) goto done;
  if ((st = eqg_h5_read_attr_ulong(g, "seed", &seed)) ||
      (st = eqg_h5_read_attr_ulong(g, "n_train", &nt)) ||
      (st = eqg_h5_read_attr_ulong(g, "batch", &batch)) ||
      (st = eqg_h5_read_attr_double(g, "lr", &lr)) ||
      (st = eqg_h5_read_attr_double(g, "weight_decay", &wd)) ||
      (st = eqg_h5_read_attr_long(g, "epochs", &epochs)) ||
      (st = eqg_h5_read_attr_long(g, "warmup", &warmup)) ||
      /* files written before --schedule existed ran the cosine schedule */
      (st = eqg_h5_has_attr(g, "schedule") ? eqg_h5_read_attr_string(g, "schedule", &sched)
                                           : (sched = strdup("cosine")) ? EQG_OK : EQG_ENOMEM) ||
      (st = eqg_h5_read_attr_double(g, "augment_beta", &ab)) ||
      (st = eqg_h5_read_attr_int(g, "augment_beams", &abeams)) ||
      (st = eqg_h5_read_attr_double(g, "train_seconds", &secs)) ||
      (st = eqg_h5_read_attr_long(g, "best_epoch", &best_epoch)) ||
      (st = eqg_h5_read_attr_double(g, "best_valid_acc", &bva)) ||
      (st = eqg_h5_read_attr_ulong(g, "n_epochs", &n_ep))) {
    st = eqg_error_prefix(st, "--resume: '%s' /toptag: ", path);
    goto done;
  }
  EQG_RESUME_CHECK(spec.kind == c->model.kind, path, "--model", "%s",
                   eqg_tt_model_name(spec.kind), eqg_tt_model_name(c->model.kind));
  EQG_RESUME_CHECK(spec.width == c->model.width, path, "--width", "%zu", spec.width,
                   c->model.width);
  EQG_RESUME_CHECK(spec.depth == c->model.depth, path, "--depth", "%zu", spec.depth,
                   c->model.depth);
  EQG_RESUME_CHECK(spec.vec_fraction == c->model.vec_fraction, path, "--vec-fraction", "%.17g",
                   spec.vec_fraction, c->model.vec_fraction);
  EQG_RESUME_CHECK(in.beams == c->inputs.beams, path, "beams", "%d", in.beams, c->inputs.beams);
  EQG_RESUME_CHECK(in.knn == c->inputs.knn, path, "--knn", "%d", in.knn, c->inputs.knn);
  EQG_RESUME_CHECK(in.p_scale == c->inputs.p_scale, path, "--p-scale", "%.17g", in.p_scale,
                   c->inputs.p_scale);
  EQG_RESUME_CHECK(in.features == c->inputs.features, path, "--features", "%s",
                   eqg_tt_features_name[in.features], eqg_tt_features_name[c->inputs.features]);
  EQG_RESUME_CHECK(maxc == c->max_constituents, path, "--max-constituents", "%zu", maxc,
                   c->max_constituents);
  EQG_RESUME_CHECK(seed == c->seed, path, "--seed", "%lu", seed, c->seed);
  EQG_RESUME_CHECK(nt == n_train, path, "training jets", "%lu", nt, (unsigned long)n_train);
  EQG_RESUME_CHECK(batch == c->batch, path, "--batch", "%lu", batch, (unsigned long)c->batch);
  EQG_RESUME_CHECK(lr == c->lr, path, "--lr", "%.17g", lr, c->lr);
  EQG_RESUME_CHECK(wd == c->weight_decay, path, "--weight-decay", "%.17g", wd, c->weight_decay);
  EQG_RESUME_CHECK(epochs == c->epochs, path, "--epochs", "%ld", epochs, c->epochs);
  EQG_RESUME_CHECK(warmup == c->warmup, path, "--warmup", "%ld", warmup, c->warmup);
  EQG_RESUME_CHECK(strcmp(sched, eqg_tt_schedule_name[c->schedule]) == 0, path, "--schedule",
                   "%s", sched, eqg_tt_schedule_name[c->schedule]);
  EQG_RESUME_CHECK(ab == c->augment_beta, path, "--augment-boost", "%.17g", ab, c->augment_beta);
  EQG_RESUME_CHECK(abeams == c->augment_beams, path, "--augment-beams", "%d", abeams,
                   c->augment_beams);
  if ((st = result_reserve(r, n_ep)) != EQG_OK) goto done;
  double **ar[N_HIST];
  hist_arrays(r, ar);
  for (int k = 0; k < N_HIST && n_ep; k++)
    if ((st = eqg_h5_read_vector(g, hist_names[k], *ar[k], n_ep)) != EQG_OK) {
      st = eqg_error_prefix(st, "--resume: '%s' /toptag: ", path);
      goto done;
    }
  if (best_epoch &&
      ((st = eqg_h5_read_vector(g, "best_params", best_data, m->params->size)) ||
       (m->params->buf_size &&
        (st = eqg_h5_read_vector(g, "best_buffers", best_buf, m->params->buf_size))))) {
    st = eqg_error_prefix(st, "--resume: '%s' /toptag: ", path);
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
  if (meta.epoch < 0 || (size_t)meta.epoch != n_ep || meta.step != o->step) {
    st = eqg_error_set(EQG_EFORMAT, "--resume: '%s': epoch %ld / step %ld of the root "
                       "metadata disagree with /toptag (%lu epochs) and /optim", path,
                       meta.epoch, meta.step, n_ep);
    goto done;
  }
  r->n = n_ep;
  r->epoch_done = r->start_epoch = meta.epoch;
  r->step = meta.step;
  r->train_seconds = secs;
  r->best_epoch = best_epoch;
  r->best_valid_acc = bva;
done:
  free(sched);
  eqg_h5_close(g);
  eqg_h5_close(f);
  return st;
}

eqg_status eqg_tt_model_load(const char *path, eqg_model **m, eqg_tt_model_spec *spec,
                             eqg_tt_inputs *in, size_t *max_constituents)
{
  *m = NULL;
  hid_t f = -1, g = -1;
  eqg_status st = eqg_checkpoint_group_open(path, "toptag", "the top-tagging programs", &f, &g);
  if (st != EQG_OK) return st;
  st = read_model_attrs(g, path, spec, in, max_constituents);
  eqg_h5_close(g);
  eqg_h5_close(f);
  if (st != EQG_OK) return st;
  eqg_model *model = eqg_tt_model_alloc(spec, 1);
  if (!model) return eqg_error_prefix(EQG_EINVAL, "'%s': ", path);
  if ((st = eqg_checkpoint_load(path, model->params, NULL, NULL)) != EQG_OK) {
    eqg_model_free(model);
    return st;
  }
  *m = model;
  return EQG_OK;
}

/* ---- training ------------------------------------------------------------------- */

eqg_tt_config eqg_tt_config_default(eqg_tt_model_kind model)
{
  return (eqg_tt_config){
    .model = { .kind = model, .vec_fraction = -1 },
    .inputs = eqg_tt_inputs_default(model),
    .seed = 1,
    .lr = 1e-3,
    .weight_decay = 0.01,
    .batch = 32,
    .epochs = 35,
    .warmup = 5,
    .label = "train",
  };
}

static void table_row(eqg_cli_progress *pb, const eqg_tt_result *r, size_t i)
{
  eqg_cli_progress_clear(pb);
  printf("%5.0f  %9.3e  %10.5f  %9.4f  %10.5f  %9.4f  %9.4f %s\n", r->epoch[i], r->lr[i],
         r->train_loss[i], r->train_acc[i], r->valid_loss[i], r->valid_acc[i], r->valid_auc[i],
         (long)r->epoch[i] == r->best_epoch ? "*" : "");
  fflush(stdout);
}

/* One AdamW step on the batch in w: cross-entropy; *loss and *correct. */
static eqg_status train_step(double *loss, size_t *correct, eqg_tape *t, tt_work *w,
                             eqg_model *m, eqg_optim *o, double lr)
{
  t->training = true;
  t->grad_enabled = true;
  eqg_tape_reset(t);
  eqg_tensor *logits = eqg_model_forward(t, m, w->b);                 /* (B, 2) */
  eqg_tensor *l = eqg_softmax_xent(t, logits, w->labels);             /* (1, 1) */
  if (!l) return eqg_error_prefix(eqg_tape_status(t), "training step: ");
  eqg_params_zero_grad(m->params);
  eqg_status st = eqg_tape_backward(t, l);
  if (st != EQG_OK) return eqg_error_prefix(st, "training step: ");
  *loss = l->data[0];
  if (!isfinite(*loss))
    return eqg_error_set(EQG_ENONFINITE, "training diverged (loss %g); try a smaller --lr",
                         *loss);
  for (size_t g = 0; g < logits->rows; g++)
    *correct += (logits->data[2 * g + 1] > logits->data[2 * g]) == (w->labels[g] == 1);
  eqg_optim_step(o, m->params, lr);
  return EQG_OK;
}

static eqg_status metrics_of(double *acc, double *auc, const eqg_real *scores,
                             const eqg_index *labels, size_t n)
{
  eqg_status st = eqg_accuracy(acc, scores, labels, n, 0);
  if (st != EQG_OK) return st;
  st = eqg_auc(auc, scores, labels, n);
  if (st == EQG_EINVAL) {   /* one class only (tiny sets) */
    *auc = NAN;
    eqg_error_clear();
    return EQG_OK;
  }
  return st;
}

eqg_status eqg_tt_train(eqg_tt_result *res, const eqg_tt_config *c, const eqg_tt_split *train,
                        const eqg_tt_split *valid, const eqg_tt_split *test)
{
  if (c->batch < 2 || c->batch > train->n)
    return eqg_error_set(EQG_EINVAL, "batch %zu must lie in [2, %zu training jets]", c->batch,
                         train->n);
  if (c->epochs < 1 || c->warmup < 0 || c->warmup >= c->epochs)
    return eqg_error_set(EQG_EINVAL, "epochs %ld must be >= 1 and warm-up %ld in [0, epochs)",
                         c->epochs, c->warmup);
  if (c->resume && !c->checkpoint)
    return eqg_error_set(EQG_EINVAL, "resuming needs a checkpoint path");
  if ((unsigned)c->schedule >= EQG_TT_SCHEDULE_COUNT)
    return eqg_error_set(EQG_EINVAL, "unknown schedule %d", (int)c->schedule);
  eqg_status sti = eqg_tt_inputs_check(c->model.kind, &c->inputs);
  if (sti != EQG_OK) return sti;
  if (!(c->augment_beta >= 0 && c->augment_beta < 1))
    return eqg_error_set(EQG_EINVAL, "augmentation beta %g outside [0, 1)", c->augment_beta);

  const double t0 = eqg_cli_now();
  const size_t n = train->n, B = c->batch;
  const size_t n_seq = valid->n > test->n ? valid->n : test->n;
  eqg_status st = EQG_OK;
  eqg_model *m = eqg_tt_model_alloc(&c->model, c->seed);
  if (!m) return EQG_EINVAL;
  eqg_optim *opt = NULL;
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937), *drop = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng *aug = gsl_rng_alloc(gsl_rng_mt19937);
  eqg_tape *tape = drop ? eqg_tape_alloc((size_t)1 << 24, drop) : NULL;
  size_t *perm = malloc(n * sizeof *perm);
  eqg_real *vscores = malloc((valid->n ? valid->n : 1) * sizeof *vscores);
  const size_t P = m->params->size, Pb = m->params->buf_size;
  eqg_real *best_data = malloc((P ? P : 1) * sizeof *best_data);
  eqg_real *best_buf = malloc((Pb ? Pb : 1) * sizeof *best_buf);
  tt_work w = { 0 };
  if (!rng || !drop || !aug || !tape || !perm || !vscores || !best_data || !best_buf) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory");
    goto done;
  }
  eqg_optim_config ocfg = eqg_optim_config_for(&eqg_optim_adamw);
  ocfg.lr = c->lr;
  ocfg.weight_decay = c->weight_decay;
  if (!(opt = eqg_optim_alloc(&eqg_optim_adamw, &ocfg, P))) {
    st = EQG_EINVAL;
    goto done;
  }
  if ((st = eqg_tt_work_alloc(&w, B, n_seq)) != EQG_OK) goto done;
  res->n_params = eqg_model_param_count(m);
  eqg_model_describe(m, res->model_config, sizeof res->model_config);
  if (c->resume &&
      (st = load_running(c, m, opt, n, res, best_data, best_buf)) != EQG_OK)
    goto done;

  const size_t spe = n / B;   /* steps per epoch, last incomplete batch dropped */
  const bool per_epoch = c->schedule == EQG_TT_SCHEDULE_LORENTZNET;
  eqg_schedule sched;
  if (per_epoch) {
    sched = eqg_schedule_warmup_restarts(c->lr, c->warmup, 4, 2, 0);
    sched.total = c->epochs;
    sched.halve_last = c->epochs > 32 ? c->epochs - 32 : 0;
  } else {
    sched = eqg_schedule_warmup_restarts(c->lr, c->warmup * (long)spe,
                                         (c->epochs - c->warmup) * (long)spe, 1, 0);
  }
  if ((st = eqg_schedule_check(&sched)) != EQG_OK) goto done;
  const long first = res->epoch_done;
  const long last = c->stop_after > 0 && c->stop_after < c->epochs ? c->stop_after : c->epochs;
  eqg_cli_progress pb;
  eqg_cli_progress_begin(&pb, c->label, last > first ? (size_t)(last - first) * spe : 0);
  if (c->table) {
    printf("%5s  %9s  %10s  %9s  %10s  %9s  %9s\n", "epoch", "lr", "train loss", "train acc",
           "valid loss", "valid acc", "valid AUC");
    for (size_t i = 0; i < res->n; i++) table_row(&pb, res, i);
  }
  double t_mark = eqg_cli_now(), step_time = 0;
  long steps_this_run = 0;
  res->seconds_this_run += t_mark - t0;
  const run_state rs = { .c = c, .n_train = n, .r = res, .best_data = best_data,
                         .best_buf = best_buf, .size = P, .buf_size = Pb };
  for (long e = first; e < last; e++) {
    gsl_rng_set(rng, epoch_seed(c->seed, e, 0));
    gsl_rng_set(drop, epoch_seed(c->seed, e, 1));
    gsl_rng_set(aug, epoch_seed(c->seed, e, 2));
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (size_t i = n - 1; i > 0; i--) {   /* Fisher-Yates */
      const size_t j = (size_t)gsl_rng_uniform_int(rng, (unsigned long)i + 1);
      const size_t tmp = perm[i];
      perm[i] = perm[j];
      perm[j] = tmp;
    }
    const tt_boosting bo = { .rng = aug, .beta_max = c->augment_beta, .beams = c->augment_beams };
    double sum = 0, lr = 0;
    size_t correct = 0;
    for (size_t s = 0; s < spe; s++) {
      const long step = e * (long)spe + (long)s;
      lr = eqg_schedule_lr(&sched, per_epoch ? e : step);
      double loss = 0;
      const double ts = eqg_cli_now();
      if ((st = eqg_tt_build_batch(&w, m, &c->inputs, train, perm + s * B, B,
                            c->augment_beta > 0 ? &bo : NULL)) != EQG_OK ||
          (st = train_step(&loss, &correct, tape, &w, m, opt, lr)) != EQG_OK) {
        eqg_cli_progress_end(&pb);
        st = eqg_error_prefix(st, "epoch %ld: ", e + 1);
        goto done;
      }
      step_time += eqg_cli_now() - ts;
      steps_this_run++;
      sum += loss;
      const double eta_s = step_time / (double)steps_this_run;
      eqg_cli_progress_update(&pb, (size_t)(e - first) * spe + s + 1,
                              "ep %ld loss %.4f acc %.3f %.0f ms/step best val %.4f", e + 1,
                              sum / (double)(s + 1), (double)correct / (double)((s + 1) * B),
                              1e3 * eta_s, res->best_epoch ? res->best_valid_acc : NAN);
    }
    res->epoch_done = e + 1;
    res->step = opt->step;
    double v_loss, v_acc, v_auc;
    if ((st = eqg_tt_predict_work(vscores, &v_loss, tape, &w, m, &c->inputs, valid, NULL)) ||
        (st = metrics_of(&v_acc, &v_auc, vscores, valid->labels, valid->n)) ||
        (st = result_reserve(res, res->n + 1)))
      goto fail_epoch;
    const size_t i = res->n++;
    res->epoch[i] = (double)res->epoch_done;
    res->lr[i] = lr;
    res->train_loss[i] = sum / (double)spe;
    res->train_acc[i] = (double)correct / (double)(spe * B);
    res->valid_loss[i] = v_loss;
    res->valid_acc[i] = v_acc;
    res->valid_auc[i] = v_auc;
    if (res->best_epoch == 0 || v_acc > res->best_valid_acc) {
      res->best_epoch = res->epoch_done;
      res->best_valid_acc = v_acc;
      memcpy(best_data, m->params->data, P * sizeof *best_data);
      if (Pb) memcpy(best_buf, m->params->buf, Pb * sizeof *best_buf);
      if (c->best) {
        eqg_checkpoint_meta meta = make_meta(c, res, opt->step);
        if ((st = save_with_group(c->best, m->params, NULL, &meta, fill_best, &rs)) != EQG_OK)
          goto fail_epoch;
      }
    }
    if (c->table) table_row(&pb, res, i);
    const double now = eqg_cli_now();
    res->train_seconds += now - t_mark;
    res->seconds_this_run += now - t_mark;
    t_mark = now;
    if (c->checkpoint) {
      eqg_checkpoint_meta meta = make_meta(c, res, opt->step);
      if ((st = save_with_group(c->checkpoint, m->params, opt, &meta, fill_running, &rs)))
        goto fail_epoch;
    }
    if (c->on_epoch && (st = c->on_epoch(c->ctx, res)) != EQG_OK) goto fail_epoch;
  }
  eqg_cli_progress_end(&pb);
  res->step_seconds = steps_this_run ? step_time / (double)steps_this_run : NAN;
  res->stopped = res->epoch_done < c->epochs;
  res->digest = fnv1a64(m->params->data, P * sizeof *m->params->data);
  if (res->stopped || res->best_epoch == 0) goto done;

  /* test the best parameters */
  memcpy(m->params->data, best_data, P * sizeof *best_data);
  if (Pb) memcpy(m->params->buf, best_buf, Pb * sizeof *best_buf);
  res->n_test = test->n;
  res->test_scores = malloc(test->n * sizeof *res->test_scores);
  res->test_labels = malloc(test->n * sizeof *res->test_labels);
  if (!res->test_scores || !res->test_labels) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory for the test scores");
    goto done;
  }
  memcpy(res->test_labels, test->labels, test->n * sizeof *res->test_labels);
  if ((st = eqg_tt_predict_work(res->test_scores, &res->test_loss, tape, &w, m, &c->inputs, test,
                         NULL)) != EQG_OK ||
      (st = eqg_binary_metrics_compute(&res->test, res->test_scores, test->labels, test->n, 0)))
  {
    st = eqg_error_prefix(st, "test: ");
    goto done;
  }
  if (eqg_ant_factor(&res->ant30, res->test.rej30_interp, res->n_params) != EQG_OK ||
      eqg_ant_factor(&res->ant50, res->test.rej50_interp, res->n_params) != EQG_OK) {
    res->ant30 = res->ant50 = NAN;
    eqg_error_clear();
  }
  res->tested = true;
  goto done;
fail_epoch:
  eqg_cli_progress_end(&pb);
  st = eqg_error_prefix(st, "epoch %ld: ", res->epoch_done);
done:
  eqg_tt_work_free(&w);
  free(perm);
  free(vscores);
  free(best_data);
  free(best_buf);
  eqg_tape_free(tape);
  gsl_rng_free(rng);
  gsl_rng_free(drop);
  gsl_rng_free(aug);
  eqg_optim_free(opt);
  eqg_model_free(m);
  return st;
}
