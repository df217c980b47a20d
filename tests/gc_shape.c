/* gc_shape.c: STUB - gradient checks to be written. */
#include "eqg_gc_util.h"
void gc_check_sum(void) { fail_msg("gc_check_sum not written"); }
void gc_check_mean(void) { fail_msg("gc_check_mean not written"); }
void gc_check_concat_cols(void) { fail_msg("gc_check_concat_cols not written"); }
void gc_check_slice_cols(void) { fail_msg("gc_check_slice_cols not written"); }
void gc_check_gather_rows(void) { fail_msg("gc_check_gather_rows not written"); }
void gc_check_scatter_add_rows(void) { fail_msg("gc_check_scatter_add_rows not written"); }
void gc_check_segment_mean(void) { fail_msg("gc_check_segment_mean not written"); }
