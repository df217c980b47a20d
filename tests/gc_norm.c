/* gc_norm.c: STUB - gradient checks to be written. */
#include "eqg_gc_util.h"
void gc_check_dropout(void) { fail_msg("gc_check_dropout not written"); }
void gc_check_batchnorm(void) { fail_msg("gc_check_batchnorm not written"); }
void gc_check_layernorm(void) { fail_msg("gc_check_layernorm not written"); }
