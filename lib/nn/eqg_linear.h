/* eqg_linear.h: the affine layer y = x W + b.
 *
 * W is (in, out) row-major, so a batch x (n, in) maps to y (n, out) with one
 * matmul and a row-broadcast add.  The layer itself is a small value struct
 * holding parameter ids; the numbers live in an eqg_params block as
 * "<prefix>.weight" (in, out) and, if present, "<prefix>.bias" (1, out).
 *
 * Initialisation draws every number from the caller's gsl_rng, W in row-major
 * order (W[0][0], W[0][1], ..., W[in-1][out-1]) and then b, so the same seed
 * gives bitwise-identical parameters.  With fan_in = in, fan_out = out:
 *   EQG_INIT_TORCH_DEFAULT  W, b ~ U(-1/sqrt(in), 1/sqrt(in))  (torch nn.Linear;
 *                           gain is ignored)
 *   EQG_INIT_XAVIER_UNIFORM W ~ U(-a, a), a = gain sqrt(6 / (in + out)); b = 0
 *   EQG_INIT_KAIMING_UNIFORM W ~ U(-a, a), a = gain sqrt(3 / in); b = 0
 *                           (torch kaiming_uniform_, fan_in mode; gain sqrt(2)
 *                           for ReLU)
 *   EQG_INIT_ZERO           W = 0, b = 0 (no draws)
 * U(-a, a) is -a + 2a u with u = gsl_rng_uniform(rng) in [0, 1). */
#ifndef EQG_LINEAR_H
#define EQG_LINEAR_H

#include <gsl/gsl_rng.h>

#include "ad/eqg_ops.h"
#include "nn/eqg_params.h"

typedef enum eqg_init_kind {
  EQG_INIT_TORCH_DEFAULT,
  EQG_INIT_XAVIER_UNIFORM,
  EQG_INIT_KAIMING_UNIFORM,
  EQG_INIT_ZERO,
  EQG_INIT_KIND_COUNT
} eqg_init_kind;

/* "torch_default", "xavier_uniform", "kaiming_uniform", "zero"; find -> -1 if unknown. */
const char *eqg_init_kind_name(eqg_init_kind k);
int eqg_init_kind_find(const char *name);

typedef struct eqg_linear {
  size_t in, out;
  int w_id;   /* "<prefix>.weight" (in, out) */
  int b_id;   /* "<prefix>.bias" (1, out), or -1 without bias */
} eqg_linear;

/* Register the parameters in p and initialise them from rng (not needed for
 * EQG_INIT_ZERO).  EQG_EINVAL with a message for bad sizes, kind, gain or a
 * failed eqg_params_add (rejected name, or the block could not grow); on
 * failure p may already hold the weight entry, so discard the block. */
eqg_status eqg_linear_init(eqg_linear *l, eqg_params *p, const char *prefix, size_t in,
                           size_t out, bool bias, eqg_init_kind init, eqg_real gain,
                           gsl_rng *rng);

/* Fill an existing (rows, cols) view with U(-a, a) draws in row-major order. */
void eqg_init_uniform(eqg_tensor *w, eqg_real a, gsl_rng *rng);

/* x (n, in) -> y (n, out) = x W (+ b), recorded on the tape (sticky errors):
 * one matmul, or one affine op with the bias.  eqg_linear_forward_act
 * (eqg_mlp.h) also fuses the activation that follows. */
eqg_tensor *eqg_linear_forward(eqg_tape *t, eqg_params *p, const eqg_linear *l, eqg_tensor *x);

/* act(x W + b) for one of the activations the affine op fuses (eqg_ops.h):
 * one op, whose backward needs no separate activation gradient. */
eqg_tensor *eqg_linear_forward_fused(eqg_tape *t, eqg_params *p, const eqg_linear *l,
                                     eqg_tensor *x, eqg_fuse_act act, eqg_real slope);

#endif
