/* eqg_tape.c: node recording and the backward sweep (see eqg_tape.h). */
#include "ad/eqg_tape.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
  eqg_tensor *out = eqg_tensor_new(t->arena, rows, cols, need_grad && t->grad_enabled);
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
  n->type->forward(n);
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

eqg_status eqg_tape_backward_seed(eqg_tape *t, eqg_tensor *y, const eqg_real *dy)
{
  if (t->status != EQG_OK) return t->status;
  if (!y || !y->grad)
    return t->status = eqg_error_set(EQG_EINVAL,
                                     "backward: output does not depend on any tensor with a gradient");
  size_t m = eqg_tensor_size(y);
  for (size_t i = 0; i < m; i++) y->grad[i] += dy[i];
  for (size_t k = t->n_nodes; k-- > 0;) {
    const eqg_node *n = &t->nodes[k];
    if (n->out->grad) n->type->backward(n);
  }
  return EQG_OK;
}
