/* eqg_checkpoint.c: parameters, buffers and optimiser state in an HDF5 file.
 * The layout is documented in eqg_checkpoint.h. */
#include "nn/eqg_checkpoint.h"
#include "nn/eqg_h5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The values of entry i inside its block. */
static eqg_real *entry_data(const eqg_params *p, eqg_real *data, eqg_real *buf, size_t i)
{
  return (p->info[i].trainable ? data : buf) + p->info[i].offset;
}

static const char *entry_kind(const eqg_param_info *in)
{
  return in->trainable ? "parameter" : "buffer";
}

/* Index of the first non-finite value in x[0..n), or n. */
static size_t first_nonfinite(const eqg_real *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return i;
  return n;
}

static bool text_ok(const char *s, size_t cap) { return strnlen(s, cap) < cap; }

/* ---- save ---------------------------------------------------------------------- */

static eqg_status save_check(const eqg_params *p, const eqg_optim *opt,
                             const eqg_checkpoint_meta *meta)
{
  for (size_t i = 0; i < p->n; i++) {
    const eqg_param_info *in = &p->info[i];
    if (in->name[0] == '\0' || strchr(in->name, '/') || strcmp(in->name, ".") == 0)
      return eqg_error_set(EQG_EINVAL, "%s name '%s' cannot be stored (empty, '.' or "
                           "containing '/')", entry_kind(in), in->name);
    const eqg_real *x = entry_data(p, p->data, p->buf, i);
    size_t n = in->rows * in->cols, k = first_nonfinite(x, n);
    if (k < n)
      return eqg_error_set(EQG_ENONFINITE, "refusing to save: %s '%s' has a non-finite "
                           "value (%g) at (%zu, %zu)", entry_kind(in), in->name, x[k],
                           k / in->cols, k % in->cols);
  }
  if (opt) {
    if (opt->n != p->size)
      return eqg_error_set(EQG_EINVAL, "optimiser has %zu parameters but the model %zu",
                           opt->n, p->size);
    for (int s = 0; s < opt->type->n_state; s++) {
      size_t k = first_nonfinite(opt->state[s], opt->n);
      if (k < opt->n)
        return eqg_error_set(EQG_ENONFINITE, "refusing to save: optimiser state '%s' has "
                             "a non-finite value (%g) at %zu", opt->type->state_names[s],
                             opt->state[s][k], k);
    }
  }
  if (!text_ok(meta->model_type, sizeof meta->model_type) ||
      !text_ok(meta->model_config, sizeof meta->model_config) ||
      !text_ok(meta->program, sizeof meta->program))
    return eqg_error_set(EQG_EINVAL, "metadata strings must be NUL-terminated");
  return EQG_OK;
}

static eqg_status save_root_attrs(hid_t f, const eqg_checkpoint_meta *meta)
{
  eqg_status st;
  if ((st = eqg_h5_write_attr_string(f, "format", EQG_CHECKPOINT_FORMAT)) ||
      (st = eqg_h5_write_attr_int(f, "format_version", EQG_CHECKPOINT_VERSION)) ||
      (st = eqg_h5_write_attr_string(f, "model_type", meta->model_type)) ||
      (st = eqg_h5_write_attr_string(f, "model_config", meta->model_config)) ||
      (st = eqg_h5_write_attr_ulong(f, "seed", meta->seed)) ||
      (st = eqg_h5_write_attr_long(f, "step", meta->step)) ||
      (st = eqg_h5_write_attr_long(f, "epoch", meta->epoch)) ||
      (st = eqg_h5_write_attr_string(f, "program", meta->program)) ||
      (st = eqg_h5_write_attr_string(f, "eqgnn_version", eqg_version())) ||
      (st = eqg_h5_write_attr_string(f, "eqgnn_revision", eqg_revision())))
    return st;
  return EQG_OK;
}

static eqg_status save_entries(hid_t f, const eqg_params *p)
{
  hid_t g[2] = { eqg_h5_group_create(f, "params"), -1 };   /* trainable, buffers */
  eqg_status st = EQG_OK;
  if (g[0] < 0) return EQG_EIO;
  g[1] = eqg_h5_group_create(f, "buffers");
  if (g[1] < 0) st = EQG_EIO;
  for (size_t i = 0; st == EQG_OK && i < p->n; i++) {
    const eqg_param_info *in = &p->info[i];
    st = eqg_h5_write_matrix(in->trainable ? g[0] : g[1], in->name,
                             entry_data(p, p->data, p->buf, i), in->rows, in->cols);
  }
  eqg_h5_close(g[1]);
  eqg_h5_close(g[0]);
  return st;
}

static eqg_status save_optim(hid_t f, const eqg_optim *o)
{
  hid_t g = eqg_h5_group_create(f, "optim");
  if (g < 0) return EQG_EIO;
  const eqg_optim_config *c = &o->cfg;
  eqg_status st;
  if ((st = eqg_h5_write_attr_string(g, "type", o->type->name)) ||
      (st = eqg_h5_write_attr_long(g, "step", o->step)) ||
      (st = eqg_h5_write_attr_ulong(g, "size", o->n)) ||
      (st = eqg_h5_write_attr_double(g, "lr", c->lr)) ||
      (st = eqg_h5_write_attr_double(g, "momentum", c->momentum)) ||
      (st = eqg_h5_write_attr_int(g, "nesterov", c->nesterov)) ||
      (st = eqg_h5_write_attr_double(g, "beta1", c->beta1)) ||
      (st = eqg_h5_write_attr_double(g, "beta2", c->beta2)) ||
      (st = eqg_h5_write_attr_double(g, "eps", c->eps)) ||
      (st = eqg_h5_write_attr_double(g, "weight_decay", c->weight_decay)))
    goto done;
  for (int s = 0; st == EQG_OK && s < o->type->n_state; s++)
    st = eqg_h5_write_vector(g, o->type->state_names[s], o->state[s], o->n);
done:
  eqg_h5_close(g);
  return st;
}

eqg_status eqg_checkpoint_save(const char *path, const eqg_params *p,
                               const eqg_optim *opt, const eqg_checkpoint_meta *meta)
{
  static const eqg_checkpoint_meta no_meta;
  if (!meta) meta = &no_meta;
  eqg_status st = save_check(p, opt, meta);
  if (st != EQG_OK) return eqg_error_prefix(st, "checkpoint %s: ", path);

  hid_t f;
  char *tmp;
  st = eqg_h5_create_tmp(path, &f, &tmp);
  if (st != EQG_OK) return eqg_error_prefix(st, "checkpoint %s: ", path);
  if ((st = save_root_attrs(f, meta)) || (st = save_entries(f, p)) ||
      (opt && (st = save_optim(f, opt)))) {
    eqg_h5_discard(f, tmp);
    return eqg_error_prefix(st, "checkpoint %s: ", path);
  }
  st = eqg_h5_commit(f, tmp, path);
  if (st != EQG_OK) return eqg_error_prefix(st, "checkpoint %s: ", path);
  return EQG_OK;
}

/* The checkpoint is complete (and checked) before the group is added, so the
 * group's content cannot disturb the checkpoint's own layout. */
eqg_status eqg_checkpoint_save_group(const char *path, const eqg_params *p,
                                     const eqg_optim *opt, const eqg_checkpoint_meta *meta,
                                     const char *group,
                                     eqg_status (*fill)(hid_t g, const void *ctx),
                                     const void *ctx)
{
  const size_t len = strlen(path) + 32;
  char *stage = malloc(len);
  if (!stage) return eqg_error_set(EQG_ENOMEM, "out of memory");
  snprintf(stage, len, "%s.stage.%ld", path, (long)getpid());
  eqg_status st = eqg_checkpoint_save(stage, p, opt, meta);
  if (st != EQG_OK) {
    free(stage);
    return st;
  }
  hid_t f = -1, g = -1;
  if ((st = eqg_h5_open(stage, true, &f)) != EQG_OK) {
    remove(stage);
    free(stage);
    return st;
  }
  if ((g = eqg_h5_group_create(f, group)) < 0) st = EQG_EIO;
  else st = fill(g, ctx);
  eqg_h5_close(g);
  if (st != EQG_OK) {
    eqg_h5_discard(f, stage);
    return eqg_error_prefix(st, "checkpoint '%s': ", path);
  }
  return eqg_h5_commit(f, stage, path);
}

/* ---- load ---------------------------------------------------------------------- */

eqg_status eqg_checkpoint_group_open(const char *path, const char *group, const char *writers,
                                     hid_t *file, hid_t *g)
{
  *file = *g = -1;
  hid_t f;
  eqg_status st = eqg_h5_open(path, false, &f);
  if (st != EQG_OK) return st;
  hid_t h;
  if (!eqg_h5_exists(f, group) || (h = eqg_h5_group_open(f, group)) < 0) {
    eqg_h5_close(f);
    return eqg_error_set(EQG_EFORMAT, "'%s' has no /%s group (not a checkpoint of %s)", path,
                         group, writers);
  }
  *file = f;
  *g = h;
  return EQG_OK;
}

/* Everything read from the file, applied to the model only once it all fits. */
typedef struct scratch {
  eqg_real *data;          /* (p->size) */
  eqg_real *buf;           /* (p->buf_size) */
  eqg_real *state[2];      /* (opt->n) each */
  long opt_step;
  eqg_checkpoint_meta meta;
} scratch;

static void scratch_free(scratch *s)
{
  free(s->data);
  free(s->buf);
  free(s->state[0]);
  free(s->state[1]);
}

static eqg_real *copy_or_empty(const eqg_real *src, size_t n, bool *oom)
{
  if (n == 0) return NULL;
  eqg_real *x = malloc(n * sizeof *x);
  if (!x) *oom = true;
  else memcpy(x, src, n * sizeof *x);
  return x;
}

static eqg_status read_text(hid_t obj, const char *name, char *out, size_t cap)
{
  char *s;
  eqg_status st = eqg_h5_read_attr_string(obj, name, &s);
  if (st != EQG_OK) return st;
  size_t n = strlen(s);
  if (n >= cap) st = eqg_error_set(EQG_EFORMAT, "attribute '%s' is too long (%zu characters, "
                                   "at most %zu)", name, n, cap - 1);
  else memcpy(out, s, n + 1);
  free(s);
  return st;
}

static eqg_status load_header(hid_t f, eqg_checkpoint_meta *m)
{
  char *format = NULL;
  if (!eqg_h5_has_attr(f, "format"))
    return eqg_error_set(EQG_EFORMAT, "not an eqgnn checkpoint (no 'format' attribute)");
  eqg_status st = eqg_h5_read_attr_string(f, "format", &format);
  if (st != EQG_OK)
    return eqg_error_prefix(EQG_EFORMAT, "not an eqgnn checkpoint: ");
  if (strcmp(format, EQG_CHECKPOINT_FORMAT) != 0) {
    st = eqg_error_set(EQG_EFORMAT, "not an eqgnn checkpoint (format is '%.64s')", format);
    free(format);
    return st;
  }
  free(format);
  int version;
  if ((st = eqg_h5_read_attr_int(f, "format_version", &version))) return st;
  if (version != EQG_CHECKPOINT_VERSION)
    return eqg_error_set(EQG_EFORMAT, "format version %d is not supported (this eqgnn "
                         "reads version %d)", version, EQG_CHECKPOINT_VERSION);
  if ((st = read_text(f, "model_type", m->model_type, sizeof m->model_type)) ||
      (st = read_text(f, "model_config", m->model_config, sizeof m->model_config)) ||
      (st = read_text(f, "program", m->program, sizeof m->program)) ||
      (st = read_text(f, "eqgnn_version", m->version, sizeof m->version)) ||
      (st = eqg_h5_read_attr_ulong(f, "seed", &m->seed)) ||
      (st = eqg_h5_read_attr_long(f, "step", &m->step)) ||
      (st = eqg_h5_read_attr_long(f, "epoch", &m->epoch)))
    return st;
  if (!eqg_h5_has_attr(f, "eqgnn_revision")) {   /* written before revisions were kept */
    snprintf(m->revision, sizeof m->revision, "unknown");
    return EQG_OK;
  }
  return read_text(f, "eqgnn_revision", m->revision, sizeof m->revision);
}

/* Read every entry of the model from g[0] (/params) or g[1] (/buffers; may be
 * -1 when the file has none) into the scratch blocks. */
static eqg_status load_entries(const hid_t g[2], const eqg_params *p, scratch *s)
{
  static const char *const group_name[2] = { "params", "buffers" };
  for (size_t i = 0; i < p->n; i++) {
    const eqg_param_info *in = &p->info[i];
    const char *kind = entry_kind(in);
    int w = in->trainable ? 0 : 1;
    if (g[w] < 0 || !eqg_h5_exists(g[w], in->name)) {
      if (g[1 - w] >= 0 && eqg_h5_exists(g[1 - w], in->name))
        return eqg_error_set(EQG_EFORMAT, "missing %s '%s' (the file has it in /%s)",
                             kind, in->name, group_name[1 - w]);
      return eqg_error_set(EQG_EFORMAT, "missing %s '%s'", kind, in->name);
    }
    int rank;
    size_t dims[2];
    eqg_status st = eqg_h5_dataset_shape(g[w], in->name, &rank, dims);
    if (st != EQG_OK) return st;
    if (rank != 2 || dims[0] != in->rows || dims[1] != in->cols) {
      if (rank == 2)
        return eqg_error_set(EQG_ESHAPE, "%s '%s' has shape %zu x %zu in the file but "
                             "%zu x %zu in the model", kind, in->name, dims[0], dims[1],
                             in->rows, in->cols);
      return eqg_error_set(EQG_ESHAPE, "%s '%s' has shape %zu in the file but %zu x %zu "
                           "in the model", kind, in->name, dims[0], in->rows, in->cols);
    }
    eqg_real *x = entry_data(p, s->data, s->buf, i);
    if ((st = eqg_h5_read_matrix(g[w], in->name, x, in->rows, in->cols))) return st;
    size_t n = in->rows * in->cols, k = first_nonfinite(x, n);
    if (k < n)
      return eqg_error_set(EQG_ENONFINITE, "%s '%s' has a non-finite value (%g) at "
                           "(%zu, %zu) in the file", kind, in->name, x[k], k / in->cols,
                           k % in->cols);
  }
  return EQG_OK;
}

/* Every dataset in group g must be an entry of the model of the same kind. */
static eqg_status check_no_extra(hid_t g, const eqg_params *p, bool trainable)
{
  if (g < 0) return EQG_OK;
  size_t n;
  eqg_status st = eqg_h5_link_count(g, &n);
  for (size_t i = 0; st == EQG_OK && i < n; i++) {
    char *name = eqg_h5_link_name(g, i);
    if (!name) return EQG_EFORMAT;
    int id = eqg_params_find(p, name);
    if (id < 0 || p->info[id].trainable != trainable)
      st = eqg_error_set(EQG_EFORMAT, "unexpected %s '%s' in the file",
                         trainable ? "parameter" : "buffer", name);
    free(name);
  }
  return st;
}

static eqg_status load_optim(hid_t f, const eqg_optim *o, scratch *s)
{
  if (!eqg_h5_exists(f, "optim"))
    return eqg_error_set(EQG_EFORMAT, "no optimiser state in the file (the model's "
                         "optimiser is '%s')", o->type->name);
  hid_t g = eqg_h5_group_open(f, "optim");
  if (g < 0) return EQG_EFORMAT;
  char *type = NULL;
  unsigned long size;
  eqg_status st = eqg_h5_read_attr_string(g, "type", &type);
  if (st != EQG_OK) goto done;
  if (strcmp(type, o->type->name) != 0) {
    st = eqg_error_set(EQG_EFORMAT, "optimiser is '%.64s' in the file but '%s' in the model",
                       type, o->type->name);
    goto done;
  }
  if ((st = eqg_h5_read_attr_ulong(g, "size", &size))) goto done;
  if (size != o->n) {
    st = eqg_error_set(EQG_ESHAPE, "optimiser state has size %lu in the file but %zu in "
                       "the model", size, o->n);
    goto done;
  }
  if ((st = eqg_h5_read_attr_long(g, "step", &s->opt_step))) goto done;
  for (int k = 0; k < o->type->n_state; k++) {
    const char *name = o->type->state_names[k];
    if ((st = eqg_h5_read_vector(g, name, s->state[k], o->n))) goto done;
    size_t j = first_nonfinite(s->state[k], o->n);
    if (j < o->n) {
      st = eqg_error_set(EQG_ENONFINITE, "optimiser state '%s' has a non-finite value (%g) "
                         "at %zu in the file", name, s->state[k][j], j);
      goto done;
    }
  }
done:
  free(type);
  eqg_h5_close(g);
  return st;
}

static eqg_status load_file(hid_t f, const eqg_params *p, const eqg_optim *opt, scratch *s)
{
  eqg_status st = load_header(f, &s->meta);
  if (st != EQG_OK) return st;
  hid_t g[2] = { eqg_h5_group_open(f, "params"), -1 };
  if (g[0] < 0) return EQG_EFORMAT;
  if (eqg_h5_exists(f, "buffers") && (g[1] = eqg_h5_group_open(f, "buffers")) < 0)
    st = EQG_EFORMAT;
  if (st == EQG_OK) st = load_entries(g, p, s);
  if (st == EQG_OK) st = check_no_extra(g[0], p, true);
  if (st == EQG_OK) st = check_no_extra(g[1], p, false);
  eqg_h5_close(g[1]);
  eqg_h5_close(g[0]);
  if (st == EQG_OK && opt) st = load_optim(f, opt, s);
  return st;
}

eqg_status eqg_checkpoint_load(const char *path, eqg_params *p, eqg_optim *opt,
                               eqg_checkpoint_meta *meta)
{
  if (opt && opt->n != p->size)
    return eqg_error_set(EQG_EINVAL, "checkpoint %s: optimiser has %zu parameters but the "
                         "model %zu", path, opt->n, p->size);
  hid_t f;
  eqg_status st = eqg_h5_open(path, false, &f);
  if (st != EQG_OK) return eqg_error_prefix(st, "checkpoint: ");
  /* Start from the current values so any gap between entries keeps them. */
  scratch s = { 0 };
  bool oom = false;
  s.data = copy_or_empty(p->data, p->size, &oom);
  s.buf = copy_or_empty(p->buf, p->buf_size, &oom);
  if (opt)
    for (int k = 0; k < opt->type->n_state; k++)
      s.state[k] = copy_or_empty(opt->state[k], opt->n, &oom);
  st = oom ? eqg_error_set(EQG_ENOMEM, "out of memory") : load_file(f, p, opt, &s);
  eqg_status cst = eqg_h5_close(f);
  if (st == EQG_OK) st = cst;
  if (st != EQG_OK) {
    scratch_free(&s);
    return eqg_error_prefix(st, "checkpoint %s: ", path);
  }

  if (p->size) memcpy(p->data, s.data, p->size * sizeof *p->data);
  if (p->buf_size) memcpy(p->buf, s.buf, p->buf_size * sizeof *p->buf);
  if (opt) {
    for (int k = 0; k < opt->type->n_state; k++)
      if (opt->n) memcpy(opt->state[k], s.state[k], opt->n * sizeof *opt->state[k]);
    opt->step = s.opt_step;
  }
  if (meta) *meta = s.meta;
  scratch_free(&s);
  return EQG_OK;
}
