/* gc_shape.c: gradient checks of the reductions, column reshaping and the
 * gather / scatter-add / segment-mean primitives.
 *
 * Every op here is linear, so its gradient does not depend on x and a check
 * of op(x) alone cannot see a backward that forgets to accumulate.  Each case
 * therefore checks y = op(x) .* op(x) built from TWO applications of the op:
 * the gradient 2 op(x) op'(R) depends on x, and both nodes add into the same
 * x->grad, so a backward that assigns (=) instead of adding (+=) fails. */
#include "eqg_gc_util.h"

#include <stdio.h>

/* ---- sum / mean ------------------------------------------------------------ */

typedef struct { eqg_axis axis; bool mean; } reduce_ctx;

static eqg_tensor *f_reduce(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  const reduce_ctx *c = ctx;
  eqg_tensor *(*op)(eqg_tape *, eqg_tensor *, eqg_axis) = c->mean ? eqg_mean : eqg_sum;
  return eqg_mul(t, op(t, in[0], c->axis), op(t, in[0], c->axis));
}

static void check_reduce(bool mean, unsigned long seed)
{
  static const char *const axis_name[] = { "rows", "cols", "all" };
  const eqg_axis axes[3] = { EQG_AXIS_ROWS, EQG_AXIS_COLS, EQG_AXIS_ALL };
  const size_t shapes[2][2] = { { 5, 3 }, { 7, 1 } };
  gsl_rng *r = gc_rng(seed);
  for (int s = 0; s < 2; s++)
    for (int a = 0; a < 3; a++) {
      eqg_tensor *x = gc_tensor(r, shapes[s][0], shapes[s][1], -1, 1, true);
      reduce_ctx c = { axes[a], mean };
      char label[64];
      snprintf(label, sizeof label, "%s axis=%s x=%zux%zu", mean ? "mean" : "sum",
               axis_name[a], shapes[s][0], shapes[s][1]);
      gc_run(label, f_reduce, &c, 1, &x);
      gc_tensor_free(x);
    }
  gsl_rng_free(r);
}

void gc_check_sum(void) { check_reduce(false, 11); }
void gc_check_mean(void) { check_reduce(true, 12); }

/* ---- concat_cols -------------------------------------------------------------- */

static eqg_tensor *f_concat(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  (void)ctx;
  return eqg_mul(t, eqg_concat_cols(t, in[0], in[1]), eqg_concat_cols(t, in[0], in[1]));
}

/* [a | a]: the same tensor in both slots gets both halves of the gradient. */
static eqg_tensor *f_concat_self(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  (void)ctx;
  return eqg_mul(t, eqg_concat_cols(t, in[0], in[0]), eqg_concat_cols(t, in[0], in[0]));
}

void gc_check_concat_cols(void)
{
  gsl_rng *r = gc_rng(13);
  for (int which = 0; which < 3; which++) {   /* grad to a, b, both */
    eqg_tensor *in[2] = { gc_tensor(r, 5, 3, -1, 1, which != 1),
                          gc_tensor(r, 5, 1, -1, 1, which != 0) };
    char label[64];
    snprintf(label, sizeof label, "concat_cols 5x3|5x1 grad=%d", which);
    gc_run(label, f_concat, NULL, 2, in);
    gc_tensor_free(in[0]);
    gc_tensor_free(in[1]);
  }
  eqg_tensor *a = gc_tensor(r, 7, 3, -1, 1, true);
  gc_run("concat_cols a|a", f_concat_self, NULL, 1, &a);
  gc_tensor_free(a);
  gsl_rng_free(r);
}

/* ---- slice_cols ----------------------------------------------------------------- */

typedef struct { size_t first, count; } slice_ctx;

static eqg_tensor *f_slice(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  const slice_ctx *c = ctx;
  return eqg_mul(t, eqg_slice_cols(t, in[0], c->first, c->count),
                 eqg_slice_cols(t, in[0], c->first, c->count));
}

void gc_check_slice_cols(void)
{
  gsl_rng *r = gc_rng(14);
  /* x is 5 x 7: leading, middle, trailing, single and full-width slices. */
  const slice_ctx cases[] = { { 0, 3 }, { 2, 3 }, { 4, 3 }, { 6, 1 }, { 0, 7 } };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    eqg_tensor *x = gc_tensor(r, 5, 7, -1, 1, true);
    char label[64];
    snprintf(label, sizeof label, "slice_cols 5x7 [%zu, +%zu)", cases[k].first, cases[k].count);
    gc_run(label, f_slice, (void *)&cases[k], 1, &x);
    gc_tensor_free(x);
  }
  gsl_rng_free(r);
}

/* ---- gather / scatter-add / segment mean ----------------------------------------- */

typedef struct {
  const eqg_index *idx;
  size_t n;        /* gather: number of indices; scatter: n_out */
} index_ctx;

static eqg_tensor *f_gather(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  const index_ctx *c = ctx;
  return eqg_mul(t, eqg_gather_rows(t, in[0], c->idx, c->n),
                 eqg_gather_rows(t, in[0], c->idx, c->n));
}

static eqg_tensor *f_scatter(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  const index_ctx *c = ctx;
  return eqg_mul(t, eqg_scatter_add_rows(t, in[0], c->idx, c->n),
                 eqg_scatter_add_rows(t, in[0], c->idx, c->n));
}

static eqg_tensor *f_segment_mean(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  const index_ctx *c = ctx;
  return eqg_mul(t, eqg_segment_mean(t, in[0], c->idx, c->n),
                 eqg_segment_mean(t, in[0], c->idx, c->n));
}

/* 9 edges onto 5 nodes: node 0 three times, node 2 twice, node 3 never
 * (an empty segment / a row that is never gathered), node 4 last. */
static const eqg_index edge_idx[9] = { 2, 0, 1, 0, 4, 2, 0, 1, 4 };
/* Everything in one segment, and 3 trailing empty segments. */
static const eqg_index one_seg[7] = { 1, 1, 1, 1, 1, 1, 1 };

void gc_check_gather_rows(void)
{
  gsl_rng *r = gc_rng(15);
  const index_ctx c = { edge_idx, 9 };
  const size_t widths[2] = { 3, 1 };
  for (int w = 0; w < 2; w++) {
    eqg_tensor *x = gc_tensor(r, 5, widths[w], -1, 1, true);
    char label[64];
    snprintf(label, sizeof label, "gather_rows 5x%zu -> 9 rows", widths[w]);
    gc_run(label, f_gather, (void *)&c, 1, &x);
    gc_tensor_free(x);
  }
  const index_ctx c1 = { one_seg, 7 };   /* one source row gathered 7 times */
  eqg_tensor *x = gc_tensor(r, 5, 3, -1, 1, true);
  gc_run("gather_rows one row x7", f_gather, (void *)&c1, 1, &x);
  gc_tensor_free(x);
  gsl_rng_free(r);
}

static void check_scatter(const char *name, eqg_gradcheck_fn f, unsigned long seed)
{
  gsl_rng *r = gc_rng(seed);
  const index_ctx c = { edge_idx, 5 };
  const size_t widths[2] = { 3, 1 };
  char label[64];
  for (int w = 0; w < 2; w++) {
    eqg_tensor *x = gc_tensor(r, 9, widths[w], -1, 1, true);
    snprintf(label, sizeof label, "%s 9x%zu -> 5 segments (one empty)", name, widths[w]);
    gc_run(label, f, (void *)&c, 1, &x);
    gc_tensor_free(x);
  }
  const index_ctx c1 = { one_seg, 5 };   /* segments 0, 2, 3, 4 empty */
  eqg_tensor *x = gc_tensor(r, 7, 3, -1, 1, true);
  snprintf(label, sizeof label, "%s 7x3 -> one full segment of 5", name);
  gc_run(label, f, (void *)&c1, 1, &x);
  gc_tensor_free(x);
  gsl_rng_free(r);
}

void gc_check_scatter_add_rows(void) { check_scatter("scatter_add_rows", f_scatter, 16); }
void gc_check_segment_mean(void) { check_scatter("segment_mean", f_segment_mean, 17); }
