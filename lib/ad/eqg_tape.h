/* eqg_tape.h: the reverse-mode tape.
 *
 * Ops run eagerly: each constructor computes its output at once and appends a
 * node.  eqg_tape_backward(t, loss) seeds d loss = 1 and walks the nodes in
 * reverse, calling the backward of each node the loss depends on (nodes
 * whose output does not reach the loss, e.g. an unused branch, are skipped:
 * their backward would only add zeros).
 * All intermediates live in the tape's arena; eqg_tape_reset() frees them in
 * O(1) at the start of every step.
 *
 * Errors are sticky: a constructor that fails (shape mismatch, NULL input,
 * out of memory) records a message, sets the tape status and returns NULL;
 * every later constructor then returns NULL too, so a model's forward can be
 * written without checks and tested once at the end with eqg_tape_status(). */
#ifndef EQG_TAPE_H
#define EQG_TAPE_H

#include <gsl/gsl_rng.h>

#include "ad/eqg_op.h"

/* Optional wall-clock profile of a tape, per op kind (benchmarks only).  While
 * a tape's `profile` points to one, eqg_tape_run adds the time of every forward
 * call to forward_s[kind], the backward sweep the time of every backward call
 * to backward_s[kind], and eqg_tape_push the time spent allocating op outputs
 * and gradients to alloc_s.  With `profile` NULL (the default) the tape reads
 * no clock: the cost is one well-predicted branch per op.  Times accumulate
 * until eqg_tape_profile_clear(). */
typedef struct eqg_tape_profile {
  double forward_s[EQG_OP_COUNT];        /* seconds in forward, per kind */
  double backward_s[EQG_OP_COUNT];       /* seconds in backward, per kind */
  unsigned long forward_calls[EQG_OP_COUNT], backward_calls[EQG_OP_COUNT];
  double alloc_s;                        /* seconds allocating outputs in push */
} eqg_tape_profile;

void eqg_tape_profile_clear(eqg_tape_profile *p);

typedef struct eqg_tape {
  eqg_arena *arena;
  eqg_node *nodes;
  size_t n_nodes, cap_nodes;
  bool training;      /* dropout active, batch norm uses batch statistics */
  bool grad_enabled;  /* false: no gradients are allocated (evaluation) */
  gsl_rng *rng;       /* caller-owned; used by dropout */
  eqg_status status;  /* first error, sticky until reset */
  eqg_tape_profile *profile;  /* caller-owned; NULL (default): no timing */
} eqg_tape;

/* rng may be NULL if no stochastic op is used. */
eqg_tape *eqg_tape_alloc(size_t arena_bytes, gsl_rng *rng);
void eqg_tape_free(eqg_tape *t);              /* NULL is fine */
void eqg_tape_reset(eqg_tape *t);             /* drop nodes and intermediates */
eqg_status eqg_tape_status(const eqg_tape *t);

/* A constant or trainable leaf tensor in the tape arena (copy of data, or
 * zeros if data is NULL). */
eqg_tensor *eqg_tape_input(eqg_tape *t, size_t rows, size_t cols,
                           const eqg_real *data, bool requires_grad);

/* Seed d loss/d loss = 1 (loss must be 1 x 1) and run backward. */
eqg_status eqg_tape_backward(eqg_tape *t, eqg_tensor *loss);

/* Backward from any output y with a given upstream gradient dy (same shape as
 * y): adds dy to y->grad, then sweeps.  Used by gradient checks.  Every sweep
 * starts the gradients of op outputs (y's too, if an op made it) from zero,
 * and accumulates into those of leaves (tape inputs, parameters), which
 * their owners zero. */
eqg_status eqg_tape_backward_seed(eqg_tape *t, eqg_tensor *y, const eqg_real *dy);

/* --- for op implementations --------------------------------------------- */

/* Record a failure (sticky) and return NULL. */
eqg_tensor *eqg_tape_fail(eqg_tape *t, eqg_status s, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;

/* Start a node of `kind` with inputs in[0..n_in-1] and a (rows, cols) output.
 * Returns NULL if the tape already failed or an input is NULL.  The output's
 * data is UNINITIALISED (the op's forward must write every element; one that
 * accumulates zeroes it first); it gets a gradient buffer iff gradients are
 * enabled and some input has one, also uninitialised: the backward sweep
 * zeroes it just before the first backward that accumulates into it, so an
 * op's backward finds its inputs' gradients zeroed or partly accumulated. */
eqg_node *eqg_tape_push(eqg_tape *t, eqg_op_kind kind, int n_in,
                        eqg_tensor *const in[], size_t rows, size_t cols);

/* Run the node's forward and return its output. */
eqg_tensor *eqg_tape_run(eqg_tape *t, eqg_node *n);

#endif
