/* eqg_ops_fuse.h: the activation kernels shared by the fused affine ops
 * (eqg_ops_fused.c) and defined next to the elementwise ops
 * (eqg_ops_unary.c), so that a fused SiLU computes what eqg_silu computes.
 * Private to lib/ad (not installed). */
#ifndef EQG_OPS_FUSE_H
#define EQG_OPS_FUSE_H

#include "ad/eqg_ops.h"

/* In place for i < n: with x = y[i] on entry, y[i] = f(x) and, if d is not
 * NULL, d[i] = f'(x) (kink conventions of the elementwise ops: relu'(0) = 0,
 * leaky_relu'(0) = slope).  EQG_FUSE_NONE leaves y alone and writes d = 1. */
void eqg_fuse_act_forward(eqg_fuse_act act, eqg_real slope, size_t n, eqg_real *y,
                          eqg_real *d);

#endif
