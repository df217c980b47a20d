/* gc_unary.c: STUB - gradient checks to be written. */
#include "eqg_gc_util.h"
void gc_check_relu(void) { fail_msg("gc_check_relu not written"); }
void gc_check_leaky_relu(void) { fail_msg("gc_check_leaky_relu not written"); }
void gc_check_silu(void) { fail_msg("gc_check_silu not written"); }
void gc_check_sigmoid(void) { fail_msg("gc_check_sigmoid not written"); }
void gc_check_tanh(void) { fail_msg("gc_check_tanh not written"); }
void gc_check_softplus(void) { fail_msg("gc_check_softplus not written"); }
void gc_check_shifted_softplus(void) { fail_msg("gc_check_shifted_softplus not written"); }
void gc_check_exp(void) { fail_msg("gc_check_exp not written"); }
void gc_check_log(void) { fail_msg("gc_check_log not written"); }
void gc_check_sqrt(void) { fail_msg("gc_check_sqrt not written"); }
void gc_check_abs(void) { fail_msg("gc_check_abs not written"); }
void gc_check_clamp(void) { fail_msg("gc_check_clamp not written"); }
void gc_check_psi(void) { fail_msg("gc_check_psi not written"); }
