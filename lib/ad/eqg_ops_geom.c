/* eqg_ops_geom.c: STUB - to be written. */
#include "ad/eqg_ops.h"
static void stub_fwd(eqg_node *n) { (void)n; EQG_ASSERT(0 && "op not written"); }
static void stub_bwd(const eqg_node *n) { (void)n; EQG_ASSERT(0 && "op not written"); }
const eqg_op_type eqg_op_bilinear_rows = { "bilinear_rows", stub_fwd, stub_bwd };
const eqg_op_type eqg_op_sqnorm_rows = { "sqnorm_rows", stub_fwd, stub_bwd };
