/* eqg_ops_unary.c: STUB - to be written. */
#include "ad/eqg_ops.h"
static void stub_fwd(eqg_node *n) { (void)n; EQG_ASSERT(0 && "op not written"); }
static void stub_bwd(const eqg_node *n) { (void)n; EQG_ASSERT(0 && "op not written"); }
const eqg_op_type eqg_op_relu = { "relu", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_leaky_relu = { "leaky_relu", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_silu = { "silu", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_sigmoid = { "sigmoid", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_tanh = { "tanh", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_softplus = { "softplus", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_shifted_softplus = { "shifted_softplus", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_exp = { "exp", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_log = { "log", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_sqrt = { "sqrt", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_abs = { "abs", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_clamp = { "clamp", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_psi = { "psi", stub_fwd, stub_bwd };
