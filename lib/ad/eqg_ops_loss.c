/* eqg_ops_loss.c: STUB - to be written. */
#include "ad/eqg_ops.h"
static void stub_fwd(eqg_node *n) { (void)n; EQG_ASSERT(0 && "op not written"); }
static void stub_bwd(const eqg_node *n) { (void)n; EQG_ASSERT(0 && "op not written"); }
const eqg_op_type eqg_op_mse = { "mse", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_bce_logits = { "bce_logits", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_softmax_xent = { "softmax_xent", stub_fwd, stub_bwd };
