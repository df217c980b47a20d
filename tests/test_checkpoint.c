/* test_checkpoint.c: HDF5 helpers and checkpoints: bitwise round trip, atomic
 * replacement, and rejection of every kind of bad file with the model untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "eqgnn.h"
#include "eqg_test_dir.h"

/* ---- fixture: a fresh temporary directory per test -------------------------------- */

typedef eqg_test_dir fixture;

static int setup(void **state) { return eqg_test_dir_setup(state, "ckpt"); }

/* Number of directory entries whose name contains `needle` (NULL: all). */
static int count_files(const char *dir, const char *needle)
{
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
        (!needle || strstr(e->d_name, needle)))
      n++;
  closedir(d);
  return n;
}

static void assert_message_has(const char *word)
{
  if (!strstr(eqg_error_message(), word))
    fail_msg("message \"%s\" lacks \"%s\"", eqg_error_message(), word);
}

/* ---- models ------------------------------------------------------------------------- */

/* A small model: two layers and a norm with running statistics (buffers).
 * `w1_cols` changes the shape of layer1.weight; `skip` leaves out one entry,
 * `extra` adds one. */
static eqg_params *make_model(size_t w1_cols, const char *skip, const char *extra,
                              bool extra_trainable)
{
  static const struct { const char *name; size_t rows, cols; bool trainable; } e[] = {
    { "layer1.weight", 4, 0, true },
    { "layer1.bias", 1, 3, true },
    { "norm.running_mean", 1, 3, false },
    { "norm.running_var", 1, 3, false },
    { "readout.weight", 3, 2, true },
    { "readout.bias", 1, 2, true },
  };
  eqg_params *p = eqg_params_alloc();
  assert_non_null(p);
  for (size_t i = 0; i < sizeof e / sizeof *e; i++) {
    if (skip && strcmp(skip, e[i].name) == 0) continue;
    size_t cols = e[i].cols ? e[i].cols : w1_cols;
    assert_true(eqg_params_add(p, e[i].name, e[i].rows, cols, e[i].trainable) >= 0);
  }
  if (extra) assert_true(eqg_params_add(p, extra, 2, 2, extra_trainable) >= 0);
  return p;
}

/* Values that a lossy round trip would change: signs, zeros, denormals, extremes. */
static void fill_values(eqg_params *p, unsigned seed)
{
  static const double special[] = { -0.0, DBL_MIN / 4, -DBL_MAX, 1e308, DBL_EPSILON,
                                    0.1, -1.0 / 3.0 };
  size_t ns = sizeof special / sizeof *special;
  for (size_t i = 0; i < p->size; i++)
    p->data[i] = i < ns && seed == 1 ? special[i] : sin(0.7 * (double)(i + seed)) * 1e-3;
  for (size_t i = 0; i < p->buf_size; i++) p->buf[i] = 1.0 + cos((double)(i * seed));
}

/* Adam with a few steps taken, so m, v and step are all non-trivial. */
static eqg_optim *make_adam(eqg_params *p)
{
  eqg_optim_config c = eqg_optim_config_default();
  eqg_optim *o = eqg_optim_alloc(&eqg_optim_adam, &c, p->size);
  assert_non_null(o);
  eqg_real *saved = malloc(p->size * sizeof *saved);
  assert_non_null(saved);
  memcpy(saved, p->data, p->size * sizeof *saved);
  for (int t = 0; t < 3; t++) {
    for (size_t i = 0; i < p->size; i++) p->grad[i] = cos(1.3 * (double)(i + 7 * t));
    eqg_optim_step(o, p, 1e-2);
  }
  memcpy(p->data, saved, p->size * sizeof *saved);   /* keep the special values */
  free(saved);
  return o;
}

static eqg_checkpoint_meta make_meta(void)
{
  eqg_checkpoint_meta m = { 0 };
  snprintf(m.model_type, sizeof m.model_type, "egnn");
  snprintf(m.model_config, sizeof m.model_config, "family=egnn width=64 depth=4");
  snprintf(m.program, sizeof m.program, "test_checkpoint");
  m.seed = 18446744073709551557UL;   /* needs all 64 bits */
  m.step = 1234;
  m.epoch = 7;
  return m;
}

/* A copy of everything a failed load must leave alone. */
typedef struct snapshot {
  eqg_real *data, *buf, *state[2];
  long step;
} snapshot;

static snapshot take(const eqg_params *p, const eqg_optim *o)
{
  snapshot s = { 0 };
  s.data = malloc(p->size * sizeof *s.data + 1);
  s.buf = malloc(p->buf_size * sizeof *s.buf + 1);
  memcpy(s.data, p->data, p->size * sizeof *s.data);
  memcpy(s.buf, p->buf, p->buf_size * sizeof *s.buf);
  if (o) {
    for (int k = 0; k < o->type->n_state; k++) {
      s.state[k] = malloc(o->n * sizeof *s.state[k] + 1);
      memcpy(s.state[k], o->state[k], o->n * sizeof *s.state[k]);
    }
    s.step = o->step;
  }
  return s;
}

/* Bitwise comparison (memcmp), then frees the snapshot. */
static void assert_untouched(snapshot *s, const eqg_params *p, const eqg_optim *o)
{
  assert_memory_equal(s->data, p->data, p->size * sizeof *s->data);
  assert_memory_equal(s->buf, p->buf, p->buf_size * sizeof *s->buf);
  if (o) {
    for (int k = 0; k < o->type->n_state; k++)
      assert_memory_equal(s->state[k], o->state[k], o->n * sizeof *s->state[k]);
    assert_int_equal(s->step, o->step);
  }
  free(s->data);
  free(s->buf);
  free(s->state[0]);
  free(s->state[1]);
}

/* Load `path` into a fresh standard model with fresh Adam and check it fails
 * with `want` and a message containing `word`, leaving everything untouched. */
static void expect_rejected(const char *path, eqg_status want, const char *word)
{
  eqg_params *p = make_model(3, NULL, NULL, true);
  fill_values(p, 5);
  eqg_optim *o = make_adam(p);
  eqg_checkpoint_meta meta = make_meta(), meta0 = meta;
  snapshot s = take(p, o);
  eqg_error_clear();
  eqg_status st = eqg_checkpoint_load(path, p, o, &meta);
  if (st != want)
    fail_msg("status %d (%s), expected %d: %s", st, eqg_status_string(st), want,
             eqg_error_message());
  assert_message_has(word);
  assert_untouched(&s, p, o);
  assert_memory_equal(&meta, &meta0, sizeof meta);
  eqg_optim_free(o);
  eqg_params_free(p);
}

/* Save the standard model (seed 1) with Adam to `path`. */
static void save_standard(const char *path)
{
  eqg_params *p = make_model(3, NULL, NULL, true);
  fill_values(p, 1);
  eqg_optim *o = make_adam(p);
  eqg_checkpoint_meta meta = make_meta();
  assert_int_equal(eqg_checkpoint_save(path, p, o, &meta), EQG_OK);
  eqg_optim_free(o);
  eqg_params_free(p);
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_roundtrip_bitwise(void **state)
{
  fixture *fx = *state;
  eqg_params *p = make_model(3, NULL, NULL, true);
  fill_values(p, 1);
  eqg_optim *o = make_adam(p);
  eqg_checkpoint_meta meta = make_meta();
  assert_int_equal(eqg_checkpoint_save(fx->path, p, o, &meta), EQG_OK);
  assert_int_equal(count_files(fx->dir, NULL), 1);

  eqg_params *q = make_model(3, NULL, NULL, true);
  fill_values(q, 9);
  eqg_optim_config c = eqg_optim_config_default();
  eqg_optim *r = eqg_optim_alloc(&eqg_optim_adam, &c, q->size);
  assert_non_null(r);
  eqg_checkpoint_meta got;
  memset(&got, 0xff, sizeof got);
  assert_int_equal(eqg_checkpoint_load(fx->path, q, r, &got), EQG_OK);
  assert_memory_equal(p->data, q->data, p->size * sizeof *p->data);
  assert_memory_equal(p->buf, q->buf, p->buf_size * sizeof *p->buf);
  assert_true(signbit(q->data[0]) && q->data[0] == 0);          /* -0.0 survives */
  assert_memory_equal(o->state[0], r->state[0], o->n * sizeof *o->state[0]);
  assert_memory_equal(o->state[1], r->state[1], o->n * sizeof *o->state[1]);
  assert_int_equal(r->step, 3);
  assert_string_equal(got.model_type, "egnn");
  assert_string_equal(got.model_config, "family=egnn width=64 depth=4");
  assert_string_equal(got.program, "test_checkpoint");
  assert_string_equal(got.version, eqg_version());
  assert_string_equal(got.revision, eqg_revision());
  assert_true(got.seed == meta.seed);
  assert_int_equal(got.step, 1234);
  assert_int_equal(got.epoch, 7);

  /* Optimiser and metadata are optional on load. */
  fill_values(q, 9);
  assert_int_equal(eqg_checkpoint_load(fx->path, q, NULL, NULL), EQG_OK);
  assert_memory_equal(p->data, q->data, p->size * sizeof *p->data);

  /* The documented layout, read back with the eqg_h5 helpers. */
  hid_t f;
  assert_int_equal(eqg_h5_open(fx->path, false, &f), EQG_OK);
  char *s;
  assert_int_equal(eqg_h5_read_attr_string(f, "format", &s), EQG_OK);
  assert_string_equal(s, "eqgnn-checkpoint");
  free(s);
  int version;
  assert_int_equal(eqg_h5_read_attr_int(f, "format_version", &version), EQG_OK);
  assert_int_equal(version, 1);
  hid_t g = eqg_h5_group_open(f, "params");
  assert_true(g >= 0);
  int rank;
  size_t dims[2];
  assert_int_equal(eqg_h5_dataset_shape(g, "layer1.weight", &rank, dims), EQG_OK);
  assert_int_equal(rank, 2);
  assert_int_equal(dims[0], 4);
  assert_int_equal(dims[1], 3);
  size_t n;
  assert_int_equal(eqg_h5_link_count(g, &n), EQG_OK);
  assert_int_equal(n, 4);
  eqg_h5_close(g);
  g = eqg_h5_group_open(f, "buffers");
  assert_true(g >= 0);
  assert_true(eqg_h5_exists(g, "norm.running_var"));
  eqg_h5_close(g);
  g = eqg_h5_group_open(f, "optim");
  assert_true(g >= 0);
  assert_int_equal(eqg_h5_read_attr_string(g, "type", &s), EQG_OK);
  assert_string_equal(s, "adam");
  free(s);
  assert_int_equal(eqg_h5_dataset_shape(g, "v", &rank, dims), EQG_OK);
  assert_int_equal(rank, 1);
  assert_int_equal(dims[0], p->size);
  eqg_h5_close(g);
  eqg_h5_close(f);

  eqg_optim_free(r);
  eqg_params_free(q);
  eqg_optim_free(o);
  eqg_params_free(p);
}

static void test_roundtrip_sgd_without_meta(void **state)
{
  fixture *fx = *state;
  eqg_params *p = make_model(3, NULL, NULL, true);
  fill_values(p, 2);
  eqg_optim_config c = eqg_optim_config_default();
  c.momentum = 0.9;
  eqg_optim *o = eqg_optim_alloc(&eqg_optim_sgd, &c, p->size);
  assert_non_null(o);
  for (size_t i = 0; i < p->size; i++) p->grad[i] = 1.0 / (double)(i + 1);
  eqg_optim_step(o, p, 0.1);
  assert_int_equal(eqg_checkpoint_save(fx->path, p, o, NULL), EQG_OK);

  eqg_params *q = make_model(3, NULL, NULL, true);
  eqg_optim *r = eqg_optim_alloc(&eqg_optim_sgd, &c, q->size);
  assert_non_null(r);
  eqg_checkpoint_meta got;
  assert_int_equal(eqg_checkpoint_load(fx->path, q, r, &got), EQG_OK);
  assert_memory_equal(p->data, q->data, p->size * sizeof *p->data);
  assert_memory_equal(o->state[0], r->state[0], o->n * sizeof *o->state[0]);
  assert_int_equal(r->step, 1);
  assert_string_equal(got.model_type, "");
  assert_int_equal(got.epoch, 0);

  /* A checkpoint from before eqgnn_revision was written still loads, with
   * revision "unknown". */
  hid_t f;
  assert_int_equal(eqg_h5_open(fx->path, true, &f), EQG_OK);
  assert_true(H5Adelete(f, "eqgnn_revision") >= 0);
  assert_int_equal(eqg_h5_close(f), EQG_OK);
  memset(&got, 0, sizeof got);
  assert_int_equal(eqg_checkpoint_load(fx->path, q, r, &got), EQG_OK);
  assert_string_equal(got.revision, "unknown");
  eqg_optim_free(r);
  eqg_params_free(q);
  eqg_optim_free(o);
  eqg_params_free(p);
}

static void test_save_replaces_atomically(void **state)
{
  fixture *fx = *state;
  save_standard(fx->path);
  struct stat before, after;
  assert_int_equal(stat(fx->path, &before), 0);
  int old_fd = open(fx->path, O_RDONLY);   /* pins the old inode */
  assert_true(old_fd >= 0);

  eqg_params *p = make_model(3, NULL, NULL, true);
  fill_values(p, 4);
  assert_int_equal(eqg_checkpoint_save(fx->path, p, NULL, NULL), EQG_OK);
  assert_int_equal(stat(fx->path, &after), 0);
  /* A new file was renamed over the path; the old one was not rewritten. */
  assert_true(before.st_ino != after.st_ino);
  struct stat old;
  assert_int_equal(fstat(old_fd, &old), 0);
  assert_true(old.st_ino == before.st_ino && old.st_size == before.st_size);
  close(old_fd);
  assert_int_equal(count_files(fx->dir, ".tmp."), 0);
  assert_int_equal(count_files(fx->dir, NULL), 1);

  eqg_params *q = make_model(3, NULL, NULL, true);
  assert_int_equal(eqg_checkpoint_load(fx->path, q, NULL, NULL), EQG_OK);
  assert_memory_equal(p->data, q->data, p->size * sizeof *p->data);

  /* A failing save (non-finite value) keeps the previous file and leaves no
   * temporary behind. */
  assert_int_equal(stat(fx->path, &before), 0);
  p->data[2] = INFINITY;
  assert_int_equal(eqg_checkpoint_save(fx->path, p, NULL, NULL), EQG_ENONFINITE);
  assert_message_has("refusing to save");
  assert_message_has("layer1.weight");
  assert_int_equal(stat(fx->path, &after), 0);
  assert_true(before.st_ino == after.st_ino);
  assert_int_equal(count_files(fx->dir, NULL), 1);

  /* Unwritable destination: EIO, nothing created. */
  char bad[256];
  eqg_test_dir_join(bad, sizeof bad, fx, "no/such/dir/ck.h5");
  p->data[2] = 0;
  assert_int_equal(eqg_checkpoint_save(bad, p, NULL, NULL), EQG_EIO);
  assert_message_has("no/such/dir/ck.h5");
  assert_int_equal(count_files(fx->dir, NULL), 1);

  eqg_params_free(q);
  eqg_params_free(p);
}

/* ---- a checkpoint with a group of the program's own ---------------------------- */

typedef struct group_ctx {
  long answer;
  const eqg_real *history;   /* (n) */
  size_t n;
  int calls;
} group_ctx;

static eqg_status fill_run(hid_t g, const void *ctx)
{
  group_ctx *c = (group_ctx *)ctx;
  c->calls++;
  eqg_status st;
  if ((st = eqg_h5_write_attr_long(g, "answer", c->answer)) ||
      (st = eqg_h5_write_vector(g, "history", c->history, c->n)))
    return st;
  return EQG_OK;
}

static eqg_status fill_fails(hid_t g, const void *ctx)
{
  (void)ctx;
  assert_int_equal(eqg_h5_write_attr_long(g, "partial", 1), EQG_OK);
  return eqg_error_set(EQG_EINVAL, "history is inconsistent");
}

static void test_save_group_roundtrip(void **state)
{
  fixture *fx = *state;
  eqg_params *p = make_model(3, NULL, NULL, true);
  fill_values(p, 1);
  eqg_optim *o = make_adam(p);
  eqg_checkpoint_meta meta = make_meta();
  const eqg_real hist[3] = { 0.5, -0.0, 1e-300 };
  group_ctx ctx = { .answer = -42, .history = hist, .n = 3 };
  assert_int_equal(eqg_checkpoint_save_group(fx->path, p, o, &meta, "run", fill_run, &ctx),
                   EQG_OK);
  assert_int_equal(ctx.calls, 1);
  assert_int_equal(count_files(fx->dir, NULL), 1);   /* no staging or temporary file */

  /* An ordinary checkpoint to eqg_checkpoint_load... */
  eqg_params *q = make_model(3, NULL, NULL, true);
  fill_values(q, 9);
  eqg_optim_config c = eqg_optim_config_default();
  eqg_optim *r = eqg_optim_alloc(&eqg_optim_adam, &c, q->size);
  assert_non_null(r);
  eqg_checkpoint_meta got;
  assert_int_equal(eqg_checkpoint_load(fx->path, q, r, &got), EQG_OK);
  assert_memory_equal(p->data, q->data, p->size * sizeof *p->data);
  assert_memory_equal(p->buf, q->buf, p->buf_size * sizeof *p->buf);
  assert_memory_equal(o->state[1], r->state[1], o->n * sizeof *o->state[1]);
  assert_int_equal(got.step, 1234);

  /* ...with the group beside it. */
  hid_t f, g;
  assert_int_equal(eqg_checkpoint_group_open(fx->path, "run", "the tests", &f, &g), EQG_OK);
  long answer;
  eqg_real back[3];
  assert_int_equal(eqg_h5_read_attr_long(g, "answer", &answer), EQG_OK);
  assert_int_equal(answer, -42);
  assert_int_equal(eqg_h5_read_vector(g, "history", back, 3), EQG_OK);
  assert_memory_equal(back, hist, sizeof hist);
  eqg_h5_close(g);
  eqg_h5_close(f);

  /* A plain checkpoint has no such group. */
  save_standard(fx->path);
  f = g = 0;
  eqg_error_clear();
  assert_int_equal(eqg_checkpoint_group_open(fx->path, "run", "the tests", &f, &g),
                   EQG_EFORMAT);
  char want[512];
  snprintf(want, sizeof want, "'%s' has no /run group (not a checkpoint of the tests)",
           fx->path);
  assert_string_equal(eqg_error_message(), want);
  assert_true(f == -1 && g == -1);
  char path[256];
  eqg_test_dir_join(path, sizeof path, fx, "nope.h5");
  assert_int_equal(eqg_checkpoint_group_open(path, "run", "the tests", &f, &g), EQG_EIO);
  assert_message_has("nope.h5");

  eqg_optim_free(r);
  eqg_params_free(q);
  eqg_optim_free(o);
  eqg_params_free(p);
}

static void test_save_group_failure_leaves_nothing(void **state)
{
  fixture *fx = *state;
  eqg_params *p = make_model(3, NULL, NULL, true);
  fill_values(p, 4);
  eqg_optim *o = make_adam(p);

  /* fill() fails: no file at all, and the message names the checkpoint. */
  eqg_error_clear();
  assert_int_equal(eqg_checkpoint_save_group(fx->path, p, o, NULL, "run", fill_fails, NULL),
                   EQG_EINVAL);
  assert_message_has("history is inconsistent");
  assert_message_has(fx->path);
  assert_int_equal(count_files(fx->dir, NULL), 0);

  /* Over an existing checkpoint: the old file stays, nothing else appears. */
  save_standard(fx->path);
  struct stat before, after;
  assert_int_equal(stat(fx->path, &before), 0);
  assert_int_equal(eqg_checkpoint_save_group(fx->path, p, o, NULL, "run", fill_fails, NULL),
                   EQG_EINVAL);
  assert_int_equal(stat(fx->path, &after), 0);
  assert_true(before.st_ino == after.st_ino && before.st_size == after.st_size);
  assert_int_equal(count_files(fx->dir, NULL), 1);

  /* The checkpoint itself is refused (non-finite value): fill() is never called. */
  group_ctx ctx = { .n = 0 };
  p->data[2] = NAN;
  assert_int_equal(eqg_checkpoint_save_group(fx->path, p, o, NULL, "run", fill_run, &ctx),
                   EQG_ENONFINITE);
  assert_int_equal(ctx.calls, 0);
  assert_int_equal(stat(fx->path, &after), 0);
  assert_true(before.st_ino == after.st_ino);
  assert_int_equal(count_files(fx->dir, NULL), 1);

  eqg_optim_free(o);
  eqg_params_free(p);
}

static void test_reject_missing_file(void **state)
{
  fixture *fx = *state;
  char path[256];
  eqg_test_dir_join(path, sizeof path, fx, "nope.h5");
  expect_rejected(path, EQG_EIO, "nope.h5");
  assert_message_has("No such file");
}

static void test_reject_not_hdf5(void **state)
{
  fixture *fx = *state;
  char path[256];
  eqg_test_dir_join(path, sizeof path, fx, "text.h5");
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (int i = 0; i < 100; i++) fprintf(f, "this is not an HDF5 file, line %d\n", i);
  fclose(f);
  expect_rejected(path, EQG_EFORMAT, "not an HDF5 file");
  assert_message_has("text.h5");
}

static void test_reject_truncated(void **state)
{
  fixture *fx = *state;
  save_standard(fx->path);
  FILE *in = fopen(fx->path, "rb");
  assert_non_null(in);
  fseek(in, 0, SEEK_END);
  long size = ftell(in);
  assert_true(size > 1000);
  rewind(in);
  char *bytes = malloc((size_t)size);
  assert_non_null(bytes);
  assert_int_equal(fread(bytes, 1, (size_t)size, in), (size_t)size);
  fclose(in);

  char path[256];
  eqg_test_dir_join(path, sizeof path, fx, "half.h5");
  FILE *out = fopen(path, "wb");
  assert_non_null(out);
  assert_int_equal(fwrite(bytes, 1, (size_t)size / 2, out), (size_t)size / 2);
  fclose(out);
  free(bytes);
  expect_rejected(path, EQG_EFORMAT, "half.h5");
  assert_message_has("truncated");
}

static void test_reject_not_a_checkpoint(void **state)
{
  fixture *fx = *state;
  /* A valid HDF5 file without the format attribute... */
  hid_t f;
  char *tmp;
  const eqg_real x[6] = { 1, 2, 3, 4, 5, 6 };
  assert_int_equal(eqg_h5_create_tmp(fx->path, &f, &tmp), EQG_OK);
  assert_int_equal(eqg_h5_write_matrix(f, "data", x, 2, 3), EQG_OK);
  assert_int_equal(eqg_h5_commit(f, tmp, fx->path), EQG_OK);
  expect_rejected(fx->path, EQG_EFORMAT, "not an eqgnn checkpoint");

  /* ...and one whose format names something else. */
  assert_int_equal(eqg_h5_create_tmp(fx->path, &f, &tmp), EQG_OK);
  assert_int_equal(eqg_h5_write_attr_string(f, "format", "results"), EQG_OK);
  assert_int_equal(eqg_h5_commit(f, tmp, fx->path), EQG_OK);
  expect_rejected(fx->path, EQG_EFORMAT, "not an eqgnn checkpoint (format is 'results')");

  /* A newer format version. */
  save_standard(fx->path);
  assert_int_equal(eqg_h5_open(fx->path, true, &f), EQG_OK);
  assert_int_equal(eqg_h5_write_attr_int(f, "format_version", 2), EQG_OK);
  assert_int_equal(eqg_h5_close(f), EQG_OK);
  expect_rejected(fx->path, EQG_EFORMAT, "format version 2 is not supported");
}

static void test_reject_shape_mismatch(void **state)
{
  fixture *fx = *state;
  save_standard(fx->path);
  eqg_params *p = make_model(5, NULL, NULL, true);
  fill_values(p, 3);
  snapshot s = take(p, NULL);
  assert_int_equal(eqg_checkpoint_load(fx->path, p, NULL, NULL), EQG_ESHAPE);
  char want[512];
  snprintf(want, sizeof want, "checkpoint %s: parameter 'layer1.weight' has shape 4 x 3 in "
           "the file but 4 x 5 in the model", fx->path);
  assert_string_equal(eqg_error_message(), want);
  assert_untouched(&s, p, NULL);
  eqg_params_free(p);
}

static void test_reject_missing_and_extra(void **state)
{
  fixture *fx = *state;
  char want[512];
  /* File without readout.bias, model with it. */
  eqg_params *p = make_model(3, "readout.bias", NULL, true);
  fill_values(p, 1);
  assert_int_equal(eqg_checkpoint_save(fx->path, p, NULL, NULL), EQG_OK);
  eqg_params_free(p);
  p = make_model(3, NULL, NULL, true);
  fill_values(p, 3);
  snapshot s = take(p, NULL);
  assert_int_equal(eqg_checkpoint_load(fx->path, p, NULL, NULL), EQG_EFORMAT);
  snprintf(want, sizeof want, "checkpoint %s: missing parameter 'readout.bias'", fx->path);
  assert_string_equal(eqg_error_message(), want);
  assert_untouched(&s, p, NULL);
  eqg_params_free(p);

  /* File with an extra parameter 'foo'. */
  p = make_model(3, NULL, "foo", true);
  fill_values(p, 1);
  assert_int_equal(eqg_checkpoint_save(fx->path, p, NULL, NULL), EQG_OK);
  eqg_params_free(p);
  p = make_model(3, NULL, NULL, true);
  fill_values(p, 3);
  s = take(p, NULL);
  assert_int_equal(eqg_checkpoint_load(fx->path, p, NULL, NULL), EQG_EFORMAT);
  snprintf(want, sizeof want, "checkpoint %s: unexpected parameter 'foo' in the file",
           fx->path);
  assert_string_equal(eqg_error_message(), want);
  assert_untouched(&s, p, NULL);
  eqg_params_free(p);

  /* Buffers are checked the same way; a buffer saved where the model has a
   * parameter of that name is reported as such. */
  p = make_model(3, NULL, "stats", false);
  fill_values(p, 1);
  assert_int_equal(eqg_checkpoint_save(fx->path, p, NULL, NULL), EQG_OK);
  eqg_params_free(p);
  expect_rejected(fx->path, EQG_EFORMAT, "unexpected buffer 'stats' in the file");
  p = make_model(3, NULL, "stats", true);
  s = take(p, NULL);
  assert_int_equal(eqg_checkpoint_load(fx->path, p, NULL, NULL), EQG_EFORMAT);
  assert_message_has("missing parameter 'stats' (the file has it in /buffers)");
  assert_untouched(&s, p, NULL);
  eqg_params_free(p);
}

static void test_reject_optimiser_mismatch(void **state)
{
  fixture *fx = *state;
  save_standard(fx->path);   /* with Adam */
  eqg_params *p = make_model(3, NULL, NULL, true);
  fill_values(p, 3);
  eqg_optim_config c = eqg_optim_config_default();
  c.momentum = 0.5;
  eqg_optim *o = eqg_optim_alloc(&eqg_optim_sgd, &c, p->size);
  assert_non_null(o);
  for (size_t i = 0; i < p->size; i++) p->grad[i] = 1;
  eqg_optim_step(o, p, 0.1);
  snapshot s = take(p, o);
  assert_int_equal(eqg_checkpoint_load(fx->path, p, o, NULL), EQG_EFORMAT);
  char want[512];
  snprintf(want, sizeof want, "checkpoint %s: optimiser is 'adam' in the file but 'sgd' in "
           "the model", fx->path);
  assert_string_equal(eqg_error_message(), want);
  assert_untouched(&s, p, o);

  /* A checkpoint saved without optimiser state cannot restore one. */
  assert_int_equal(eqg_checkpoint_save(fx->path, p, NULL, NULL), EQG_OK);
  fill_values(p, 4);
  s = take(p, o);
  assert_int_equal(eqg_checkpoint_load(fx->path, p, o, NULL), EQG_EFORMAT);
  assert_message_has("no optimiser state in the file");
  assert_untouched(&s, p, o);

  /* Optimiser state of another size (the file's /optim edited by hand). */
  save_standard(fx->path);
  hid_t f;
  assert_int_equal(eqg_h5_open(fx->path, true, &f), EQG_OK);
  hid_t g = eqg_h5_group_open(f, "optim");
  assert_true(g >= 0);
  assert_int_equal(eqg_h5_write_attr_ulong(g, "size", 99), EQG_OK);
  eqg_h5_close(g);
  eqg_h5_close(f);
  expect_rejected(fx->path, EQG_ESHAPE, "optimiser state has size 99 in the file but");

  eqg_optim_free(o);
  eqg_params_free(p);
}

static void test_reject_nonfinite(void **state)
{
  fixture *fx = *state;
  save_standard(fx->path);
  /* Poke a NaN into a saved parameter. */
  hid_t f;
  assert_int_equal(eqg_h5_open(fx->path, true, &f), EQG_OK);
  hid_t g = eqg_h5_group_open(f, "params");
  assert_true(g >= 0);
  eqg_real w[6] = { 1, 2, 3, 4, 5, 6 };
  w[3] = NAN;
  assert_int_equal(eqg_h5_write_matrix(g, "readout.weight", w, 3, 2), EQG_OK);
  eqg_h5_close(g);
  eqg_h5_close(f);
  expect_rejected(fx->path, EQG_ENONFINITE,
                  "parameter 'readout.weight' has a non-finite value (nan) at (1, 1)");

  /* And an Inf in the optimiser state. */
  save_standard(fx->path);
  assert_int_equal(eqg_h5_open(fx->path, true, &f), EQG_OK);
  g = eqg_h5_group_open(f, "optim");
  assert_true(g >= 0);
  int rank;
  size_t dims[2];
  assert_int_equal(eqg_h5_dataset_shape(g, "v", &rank, dims), EQG_OK);
  eqg_real *v = calloc(dims[0], sizeof *v);
  assert_non_null(v);
  v[dims[0] - 1] = -INFINITY;
  assert_int_equal(eqg_h5_write_vector(g, "v", v, dims[0]), EQG_OK);
  free(v);
  eqg_h5_close(g);
  eqg_h5_close(f);
  expect_rejected(fx->path, EQG_ENONFINITE, "optimiser state 'v' has a non-finite value");
}

/* The library never prints: HDF5's own error printing is off inside the
 * helpers and the caller's setting is restored afterwards. */
static void test_errors_are_silent(void **state)
{
  fixture *fx = *state;
  char text[256], log[256];
  eqg_test_dir_join(text, sizeof text, fx, "text.h5");
  eqg_test_dir_join(log, sizeof log, fx, "stderr.log");
  FILE *t = fopen(text, "w");
  assert_non_null(t);
  fputs("plain text\n", t);
  fclose(t);
  save_standard(fx->path);
  hid_t f;
  assert_int_equal(eqg_h5_open(fx->path, true, &f), EQG_OK);
  assert_int_equal(eqg_h5_write_attr_string(f, "format", "other"), EQG_OK);
  eqg_h5_close(f);

  H5E_auto2_t func0, func1;
  void *data0, *data1;
  H5Eget_auto2(H5E_DEFAULT, &func0, &data0);
  assert_non_null(func0);   /* HDF5's default prints */

  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(saved >= 0 && fd >= 0);
  dup2(fd, STDERR_FILENO);
  close(fd);

  eqg_params *p = make_model(3, NULL, NULL, true);
  char missing[256];
  eqg_test_dir_join(missing, sizeof missing, fx, "missing.h5");
  eqg_status st[5];
  st[0] = eqg_checkpoint_load(missing, p, NULL, NULL);
  st[1] = eqg_checkpoint_load(text, p, NULL, NULL);
  st[2] = eqg_checkpoint_load(fx->path, p, NULL, NULL);
  st[3] = eqg_h5_open(fx->path, false, &f);
  hid_t g = eqg_h5_group_open(f, "no_such_group");
  int x;
  st[4] = eqg_h5_read_attr_int(f, "no_such_attr", &x);
  eqg_h5_close(f);
  eqg_params_free(p);

  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  struct stat sb;
  assert_int_equal(stat(log, &sb), 0);
  assert_int_equal(sb.st_size, 0);
  assert_int_equal(st[0], EQG_EIO);
  assert_int_equal(st[1], EQG_EFORMAT);
  assert_int_equal(st[2], EQG_EFORMAT);
  assert_int_equal(st[3], EQG_OK);
  assert_true(g < 0);
  assert_int_equal(st[4], EQG_EFORMAT);
  assert_message_has("no attribute 'no_such_attr' on '/'");

  H5Eget_auto2(H5E_DEFAULT, &func1, &data1);
  assert_true(func1 == func0 && data1 == data0);
}

/* eqg_h5 attributes: types, ranges and replacement. */
static void test_h5_attributes(void **state)
{
  fixture *fx = *state;
  hid_t f;
  char *tmp;
  assert_int_equal(eqg_h5_create_tmp(fx->path, &f, &tmp), EQG_OK);
  assert_true(strstr(tmp, ".tmp.") != NULL);
  assert_int_equal(count_files(fx->dir, ".tmp."), 1);
  assert_int_equal(eqg_h5_write_attr_long(f, "big", 5000000000L), EQG_OK);
  assert_int_equal(eqg_h5_write_attr_long(f, "neg", -3), EQG_OK);
  assert_int_equal(eqg_h5_write_attr_double(f, "pi", 3.141592653589793), EQG_OK);
  assert_int_equal(eqg_h5_write_attr_string(f, "s", "first"), EQG_OK);
  assert_int_equal(eqg_h5_write_attr_string(f, "s", "second, longer"), EQG_OK);
  assert_int_equal(eqg_h5_write_attr_string(f, "empty", ""), EQG_OK);
  assert_int_equal(eqg_h5_commit(f, tmp, fx->path), EQG_OK);
  assert_int_equal(count_files(fx->dir, ".tmp."), 0);

  assert_int_equal(eqg_h5_open(fx->path, false, &f), EQG_OK);
  long l;
  int i;
  unsigned long u;
  double d;
  char *s;
  assert_int_equal(eqg_h5_read_attr_long(f, "big", &l), EQG_OK);
  assert_true(l == 5000000000L);
  i = 42;
  assert_int_equal(eqg_h5_read_attr_int(f, "big", &i), EQG_ERANGE);
  assert_int_equal(i, 42);
  assert_int_equal(eqg_h5_read_attr_ulong(f, "neg", &u), EQG_ERANGE);
  assert_int_equal(eqg_h5_read_attr_int(f, "neg", &i), EQG_OK);
  assert_int_equal(i, -3);
  assert_int_equal(eqg_h5_read_attr_double(f, "pi", &d), EQG_OK);
  assert_true(d == 3.141592653589793);
  assert_int_equal(eqg_h5_read_attr_double(f, "neg", &d), EQG_OK);
  assert_true(d == -3);
  assert_int_equal(eqg_h5_read_attr_long(f, "pi", &l), EQG_EFORMAT);
  assert_message_has("not an integer");
  assert_int_equal(eqg_h5_read_attr_string(f, "s", &s), EQG_OK);
  assert_string_equal(s, "second, longer");
  free(s);
  assert_int_equal(eqg_h5_read_attr_string(f, "empty", &s), EQG_OK);
  assert_string_equal(s, "");
  free(s);
  assert_int_equal(eqg_h5_read_attr_string(f, "pi", &s), EQG_EFORMAT);
  assert_null(s);
  assert_false(eqg_h5_has_attr(f, "nope"));
  assert_true(eqg_h5_has_attr(f, "pi"));
  eqg_h5_close(f);

  /* Variable-length strings (as h5py writes them) read the same way. */
  assert_int_equal(eqg_h5_open(fx->path, true, &f), EQG_OK);
  hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR);
  assert_true(type >= 0 && space >= 0);
  assert_true(H5Tset_size(type, H5T_VARIABLE) >= 0);
  hid_t attr = H5Acreate2(f, "vlen", type, space, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(attr >= 0);
  const char *vs = "written by h5py";
  assert_true(H5Awrite(attr, type, &vs) >= 0);
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
  assert_int_equal(eqg_h5_read_attr_string(f, "vlen", &s), EQG_OK);
  assert_string_equal(s, "written by h5py");
  free(s);
  eqg_h5_close(f);

  /* Discarding a temporary file removes it. */
  assert_int_equal(eqg_h5_create_tmp(fx->path, &f, &tmp), EQG_OK);
  eqg_h5_discard(f, tmp);
  assert_int_equal(count_files(fx->dir, NULL), 1);
}

/* Layout of dataset `name`: H5D_CHUNKED or H5D_CONTIGUOUS, and its chunk. */
static H5D_layout_t layout_of(hid_t f, const char *name, hsize_t chunk[3])
{
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  assert_true(d >= 0);
  hid_t dcpl = H5Dget_create_plist(d);
  assert_true(dcpl >= 0);
  H5D_layout_t l = H5Pget_layout(dcpl);
  if (l == H5D_CHUNKED) assert_true(H5Pget_chunk(dcpl, 3, chunk) >= 0);
  H5Pclose(dcpl);
  H5Dclose(d);
  return l;
}

static void test_h5_arrays(void **state)
{
  fixture *fx = *state;
  enum { N = 5, P = 3 };
  double pmu[N][P][4];
  int nobj[N];
  for (int i = 0; i < N; i++) {
    nobj[i] = i % P - 1;   /* -1 .. 1: survives an int16 file type */
    for (int k = 0; k < P; k++)
      for (int mu = 0; mu < 4; mu++) pmu[i][k][mu] = k < 2 ? sin(i + 0.1 * k + 0.01 * mu) : 0;
  }
  pmu[0][0][0] = -0.0;
  const hsize_t d3[3] = { N, P, 4 }, d1[1] = { N }, d0[2] = { 0, P };
  hid_t f;
  char *tmp;
  assert_int_equal(eqg_h5_create_tmp(fx->path, &f, &tmp), EQG_OK);
  assert_int_equal(eqg_h5_write_array(f, "Pmu", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, pmu, 3, d3,
                                      2), EQG_OK);
  assert_int_equal(eqg_h5_write_array(f, "Nobj", H5T_STD_I16LE, H5T_NATIVE_INT, nobj, 1, d1,
                                      2), EQG_OK);
  assert_int_equal(eqg_h5_write_array(f, "plain", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, pmu, 3,
                                      d3, 0), EQG_OK);
  assert_int_equal(eqg_h5_write_array(f, "empty", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, NULL, 2,
                                      d0, 2), EQG_OK);
  /* Failures: the name is taken (the first dataset stays), a rank out of range. */
  double other[N][P][4] = { { { 0 } } };
  eqg_error_clear();
  assert_int_equal(eqg_h5_write_array(f, "Pmu", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, other, 3,
                                      d3, 2), EQG_EIO);
  assert_message_has("cannot create dataset '/Pmu'");
  assert_message_has("(HDF5: ");
  assert_int_equal(eqg_h5_write_array(f, "bad", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, pmu, 0, d3,
                                      0), EQG_EINVAL);
  assert_false(eqg_h5_exists(f, "bad"));
  assert_int_equal(eqg_h5_commit(f, tmp, fx->path), EQG_OK);

  assert_int_equal(eqg_h5_open(fx->path, false, &f), EQG_OK);
  hsize_t chunk[3];
  assert_int_equal(layout_of(f, "Pmu", chunk), H5D_CHUNKED);   /* rank >= 2: compressed */
  assert_true(chunk[0] == 2 && chunk[1] == P && chunk[2] == 4);
  assert_int_equal(layout_of(f, "Nobj", chunk), H5D_CONTIGUOUS);   /* rank 1 */
  assert_int_equal(layout_of(f, "plain", chunk), H5D_CONTIGUOUS);  /* chunk_rows 0 */
  assert_int_equal(layout_of(f, "empty", chunk), H5D_CONTIGUOUS);  /* no rows */

  /* The whole array, and the first rows only, back bitwise. */
  hid_t d;
  hsize_t dims[3];
  assert_int_equal(eqg_h5_open_array(f, "Pmu", true, EQG_H5_FLOAT, 3, "(N, P, 4)", &d, dims),
                   EQG_OK);
  double back[N][P][4];
  memset(back, 0x55, sizeof back);
  assert_int_equal(eqg_h5_read_block(d, "Pmu", H5T_NATIVE_DOUBLE, back, 3, dims), EQG_OK);
  assert_memory_equal(back, pmu, sizeof pmu);
  memset(back, 0x55, sizeof back);
  const hsize_t two[3] = { 2, P, 4 };
  assert_int_equal(eqg_h5_read_block(d, "Pmu", H5T_NATIVE_DOUBLE, back, 3, two), EQG_OK);
  assert_memory_equal(back, pmu, 2 * sizeof pmu[0]);
  const unsigned char *rest = (const unsigned char *)back[2];
  for (size_t b = 0; b < 3 * sizeof back[0]; b++) assert_int_equal(rest[b], 0x55);
  /* A block beyond the dataset is refused. */
  const hsize_t more[3] = { N + 1, P, 4 };
  assert_int_equal(eqg_h5_read_block(d, "Pmu", H5T_NATIVE_DOUBLE, back, 3, more), EQG_EFORMAT);
  assert_message_has("cannot read dataset '/Pmu'");
  H5Dclose(d);
  assert_int_equal(eqg_h5_open_array(f, "Nobj", true, EQG_H5_INTEGER, 1, "(N)", &d, dims),
                   EQG_OK);
  int nb[N];
  assert_int_equal(eqg_h5_read_block(d, "Nobj", H5T_NATIVE_INT, nb, 1, dims), EQG_OK);
  assert_memory_equal(nb, nobj, sizeof nobj);
  H5Dclose(d);
  eqg_h5_close(f);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, eqg_test_dir_teardown)
  const struct CMUnitTest tests[] = {
    T(test_roundtrip_bitwise),
    T(test_roundtrip_sgd_without_meta),
    T(test_save_replaces_atomically),
    T(test_save_group_roundtrip),
    T(test_save_group_failure_leaves_nothing),
    T(test_reject_missing_file),
    T(test_reject_not_hdf5),
    T(test_reject_truncated),
    T(test_reject_not_a_checkpoint),
    T(test_reject_shape_mismatch),
    T(test_reject_missing_and_extra),
    T(test_reject_optimiser_mismatch),
    T(test_reject_nonfinite),
    T(test_errors_are_silent),
    T(test_h5_attributes),
    T(test_h5_arrays),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
