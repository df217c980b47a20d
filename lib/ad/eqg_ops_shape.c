/* eqg_ops_shape.c: STUB - to be written. */
#include "ad/eqg_ops.h"
static void stub_fwd(eqg_node *n) { (void)n; EQG_ASSERT(0 && "op not written"); }
static void stub_bwd(const eqg_node *n) { (void)n; EQG_ASSERT(0 && "op not written"); }
const eqg_op_type eqg_op_sum = { "sum", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_mean = { "mean", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_concat_cols = { "concat_cols", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_slice_cols = { "slice_cols", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_gather_rows = { "gather_rows", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_scatter_add_rows = { "scatter_add_rows", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_segment_mean = { "segment_mean", stub_fwd, stub_bwd };
