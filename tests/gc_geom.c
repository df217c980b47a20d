/* gc_geom.c: STUB - gradient checks to be written. */
#include "eqg_gc_util.h"
void gc_check_bilinear_rows(void) { fail_msg("gc_check_bilinear_rows not written"); }
void gc_check_sqnorm_rows(void) { fail_msg("gc_check_sqnorm_rows not written"); }
