/* eqg_tape.c: node recording and the backward sweep (see eqg_tape.h). */
#include "ad/eqg_tape.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- optional profile (t->profile != NULL only) ---------------------------- */

static double profile_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void eqg_tape_profile_clear(eqg_tape_profile *p) { memset(p, 0, sizeof *p); }

eqg_tape *eqg_tape_alloc(size_t arena_bytes, gsl_rng *rng)
{
  eqg_tape *t = calloc(1, sizeof *t);
  if (!t) {
    eqg_error_set(EQG_ENOMEM, "tape: cannot allocate");
    return NULL;
  }
  t->arena = eqg_arena_alloc(arena_bytes);
  t->cap_nodes = 256;
  t->nodes = malloc(t->cap_nodes * sizeof *t->nodes);
  if (!t->arena || !t->nodes) {
    eqg_tape_free(t);
    eqg_error_set(EQG_ENOMEM, "tape: cannot allocate");
    return NULL;
  }
  t->training = true;
  t->grad_enabled = true;
  t->rng = rng;
  return t;
}

void eqg_tape_free(eqg_tape *t)
{
  if (!t) return;
  eqg_arena_free(t->arena);
  free(t->nodes);
  free(t);
}

void eqg_tape_reset(eqg_tape *t)
{
  eqg_arena_reset(t->arena);
  t->n_nodes = 0;
  t->status = EQG_OK;
}

eqg_status eqg_tape_status(const eqg_tape *t) { return t->status; }

eqg_tensor *eqg_tape_fail(eqg_tape *t, eqg_status s, const char *fmt, ...)
{
  if (t->status != EQG_OK) return NULL;   /* keep the first message */
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  t->status = eqg_error_set(s, "%s", msg);
  return NULL;
}

eqg_tensor *eqg_tape_input(eqg_tape *t, size_t rows, size_t cols,
                           const eqg_real *data, bool requires_grad)
{
  if (t->status != EQG_OK) return NULL;
  eqg_tensor *x = data ? eqg_tensor_from(t->arena, rows, cols, data, requires_grad)
                       : eqg_tensor_new(t->arena, rows, cols, requires_grad);
  if (!x) return eqg_tape_fail(t, EQG_ENOMEM, "tape: input of %zu x %zu: %s",
                               rows, cols, eqg_error_message());
  return x;
}

eqg_node *eqg_tape_push(eqg_tape *t, eqg_op_kind kind, int n_in,
                        eqg_tensor *const in[], size_t rows, size_t cols)
{
  EQG_ASSERT(kind >= 0 && kind < EQG_OP_COUNT && n_in <= EQG_OP_MAX_IN);
  if (t->status != EQG_OK) return NULL;
  bool need_grad = false;
  for (int k = 0; k < n_in; k++) {
    if (!in[k]) {
      eqg_tape_fail(t, EQG_EINVAL, "%s: input %d is NULL", eqg_op_types[kind]->name, k);
      return NULL;
    }
    need_grad |= in[k]->grad != NULL;
  }
  if (t->n_nodes == t->cap_nodes) {
    eqg_node *grown = realloc(t->nodes, 2 * t->cap_nodes * sizeof *grown);
    if (!grown) {
      eqg_tape_fail(t, EQG_ENOMEM, "tape: cannot grow to %zu nodes", 2 * t->cap_nodes);
      return NULL;
    }
    t->nodes = grown;
    t->cap_nodes *= 2;
  }
  const double t0 = t->profile ? profile_now() : 0;
  /* The forward writes every element of the output, and the backward sweep
   * zeroes the gradient just before its first accumulation (zero_producer
   * below, while the lines are about to be used anyway): neither is zeroed
   * here. */
  const bool with_grad = need_grad && t->grad_enabled;
  eqg_tensor *out = eqg_tensor_new_uninit(t->arena, rows, cols, false);
  if (out && with_grad &&   /* rows * cols * sizeof did not overflow: out->data exists */
      !(out->grad = eqg_arena_push_uninit(t->arena, rows * cols * sizeof(eqg_real))))
    out = NULL;
  if (t->profile) t->profile->alloc_s += profile_now() - t0;
  if (!out) {
    eqg_tape_fail(t, EQG_ENOMEM, "%s: output %zu x %zu: %s", eqg_op_types[kind]->name,
                  rows, cols, eqg_error_message());
    return NULL;
  }
  eqg_node *n = &t->nodes[t->n_nodes++];
  *n = (eqg_node){ .type = eqg_op_types[kind], .kind = kind, .out = out, .n_in = n_in };
  for (int k = 0; k < n_in; k++) n->in[k] = in[k];
  return n;
}

eqg_tensor *eqg_tape_run(eqg_tape *t, eqg_node *n)
{
  if (!n || t->status != EQG_OK) return NULL;
  if (t->profile) {
    const double t0 = profile_now();
    n->type->forward(n);
    t->profile->forward_s[n->kind] += profile_now() - t0;
    t->profile->forward_calls[n->kind]++;
  } else {
    n->type->forward(n);
  }
  return n->out;
}

eqg_status eqg_tape_backward(eqg_tape *t, eqg_tensor *loss)
{
  if (t->status != EQG_OK) return t->status;
  if (!loss || loss->rows != 1 || loss->cols != 1)
    return t->status = eqg_error_set(EQG_ESHAPE, "backward: loss must be a 1 x 1 tensor");
  if (!loss->grad)
    return t->status = eqg_error_set(EQG_EINVAL,
                                     "backward: loss does not depend on any tensor with a gradient");
  const eqg_real one = 1;
  return eqg_tape_backward_seed(t, loss, &one);
}

/* ---- which nodes the seeded output depends on ----------------------------- *
 * A node is live if its output is y or an input of a live node; the backward
 * of any other node (say the h update of a model's last layer when only x is
 * read out) only adds zeros and is skipped.  Tensors are matched to the node
 * that produced them by their gradient buffer: every output has its own, and
 * a view of an output (rows of it) points into it, so the lookup is by
 * address range.  Ranges are sorted once per sweep (n log n, n = nodes).
 *
 * Op outputs get their gradient buffers uninitialised (eqg_tape_push): the
 * sweep zeroes a node's whole buffer when it first meets it, i.e. just before
 * the backward of its last reader in tape order (or the seed) accumulates
 * into it.  Zeroing then, not in the forward, touches each buffer while it
 * is about to be used: a training step's buffers are tens of MB, far beyond
 * the caches.  Leaves (tape inputs, parameters) are zeroed by their owners. */

typedef struct grad_range {
  uintptr_t lo, hi;   /* [lo, hi): the output's gradient buffer */
  size_t node;
} grad_range;

static int cmp_range(const void *a, const void *b)
{
  uintptr_t x = ((const grad_range *)a)->lo, y = ((const grad_range *)b)->lo;
  return (x > y) - (x < y);
}

/* Index of the node whose output gradient holds g, or SIZE_MAX. */
static size_t producer_of(const grad_range *r, size_t n, const eqg_real *g)
{
  const uintptr_t p = (uintptr_t)g;
  size_t lo = 0, hi = n;   /* find the last range with r.lo <= p */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (r[mid].lo <= p) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && p < r[lo - 1].hi ? r[lo - 1].node : SIZE_MAX;
}

/* The state of one sweep, in the tape arena. */
typedef struct sweep {
  grad_range *r;   /* (nr) sorted gradient ranges of the node outputs */
  size_t nr;
  bool *live;      /* (n_nodes) the node's backward runs */
  bool *zeroed;    /* (n_nodes) its output gradient has been zeroed */
} sweep;

/* Zero, once per sweep, the gradient buffer of the node that produced g (a
 * leaf's g, or one of no node: nothing). */
static void zero_producer(const eqg_tape *t, sweep *s, const eqg_real *g)
{
  const size_t p = producer_of(s->r, s->nr, g);
  if (p == SIZE_MAX || s->zeroed[p]) return;
  const eqg_tensor *o = t->nodes[p].out;
  memset(o->grad, 0, eqg_tensor_size(o) * sizeof *o->grad);
  s->zeroed[p] = true;
}

/* The sorted ranges and live[k] for every node; false when out of memory. */
static bool sweep_init(eqg_tape *t, const eqg_tensor *y, sweep *s)
{
  const size_t N = t->n_nodes;
  s->r = eqg_arena_push_uninit(t->arena, (N ? N : 1) * sizeof *s->r);
  s->live = eqg_arena_push_uninit(t->arena, N ? N : 1);
  s->zeroed = eqg_arena_push(t->arena, N ? N : 1);
  if (!s->r || !s->live || !s->zeroed) return false;
  size_t nr = 0;
  for (size_t k = 0; k < N; k++) {
    const eqg_tensor *o = t->nodes[k].out;
    const size_t size = eqg_tensor_size(o);
    s->live[k] = o->grad && size == 0;   /* nothing to look up; cheap to run */
    if (o->grad && size > 0)
      s->r[nr++] = (grad_range){ (uintptr_t)o->grad, (uintptr_t)(o->grad + size), k };
  }
  qsort(s->r, nr, sizeof *s->r, cmp_range);
  s->nr = nr;
  size_t k0 = producer_of(s->r, nr, y->grad);
  if (k0 != SIZE_MAX) s->live[k0] = true;
  for (size_t k = N; k-- > 0;) {
    const eqg_node *n = &t->nodes[k];
    if (!s->live[k]) continue;
    for (int i = 0; i < n->n_in; i++) {
      if (!n->in[i] || !n->in[i]->grad) continue;
      size_t p = producer_of(s->r, nr, n->in[i]->grad);
      if (p != SIZE_MAX) s->live[p] = true;
    }
  }
  return true;
}

eqg_status eqg_tape_backward_seed(eqg_tape *t, eqg_tensor *y, const eqg_real *dy)
{
  if (t->status != EQG_OK) return t->status;
  if (!y || !y->grad)
    return t->status = eqg_error_set(EQG_EINVAL,
                                     "backward: output does not depend on any tensor with a gradient");
  sweep s;
  if (!sweep_init(t, y, &s))
    return t->status = eqg_error_set(EQG_ENOMEM, "backward: scratch for %zu nodes: %s",
                                     t->n_nodes, eqg_error_message());
  zero_producer(t, &s, y->grad);
  size_t m = eqg_tensor_size(y);
  for (size_t i = 0; i < m; i++) y->grad[i] += dy[i];
  eqg_tape_profile *prof = t->profile;
  for (size_t k = t->n_nodes; k-- > 0;) {
    const eqg_node *n = &t->nodes[k];
    if (!s.live[k]) continue;
    const double t0 = prof ? profile_now() : 0;
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && n->in[i]->grad) zero_producer(t, &s, n->in[i]->grad);
    n->type->backward(n);
    if (prof) {
      prof->backward_s[n->kind] += profile_now() - t0;
      prof->backward_calls[n->kind]++;
    }
  }
  return EQG_OK;
}
