/* eqg_gsl.c: GSL error handler that records instead of aborting. */
#include "core/eqg_gsl.h"

static void eqg_gsl_handler(const char *reason, const char *file, int line, int gsl_errno)
{
  eqg_status s = gsl_errno == GSL_ENOMEM ? EQG_ENOMEM : EQG_EINVAL;
  eqg_error_set(s, "GSL: %s (%s:%d, %s)", reason, file, line, gsl_strerror(gsl_errno));
}

gsl_error_handler_t *eqg_gsl_route_errors(void)
{
  return gsl_set_error_handler(eqg_gsl_handler);
}
