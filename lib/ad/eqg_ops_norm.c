/* eqg_ops_norm.c: STUB - to be written. */
#include "ad/eqg_ops.h"
static void stub_fwd(eqg_node *n) { (void)n; EQG_ASSERT(0 && "op not written"); }
static void stub_bwd(const eqg_node *n) { (void)n; EQG_ASSERT(0 && "op not written"); }
const eqg_op_type eqg_op_dropout = { "dropout", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_batchnorm = { "batchnorm", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_layernorm = { "layernorm", stub_fwd, stub_bwd };
