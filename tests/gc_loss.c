/* gc_loss.c: STUB - gradient checks to be written. */
#include "eqg_gc_util.h"
void gc_check_mse(void) { fail_msg("gc_check_mse not written"); }
void gc_check_bce_logits(void) { fail_msg("gc_check_bce_logits not written"); }
void gc_check_softmax_xent(void) { fail_msg("gc_check_softmax_xent not written"); }
