/* eqg_gsl.h: route GSL's errors into eqgnn's status messages.
 *
 * GSL's default error handler prints and calls abort().  GSL keeps one
 * handler per process, so a program (not the library) installs eqgnn's once
 * at start-up; afterwards a failing GSL call returns its error code to the
 * library, which reports it as a status, and eqg_error_message() holds
 * "GSL: <reason> (<file>:<line>)". */
#ifndef EQG_GSL_H
#define EQG_GSL_H

#include <gsl/gsl_errno.h>

#include "core/eqg_core.h"

/* Install the handler; returns the one it replaces (pass to
 * gsl_set_error_handler to restore it). */
gsl_error_handler_t *eqg_gsl_route_errors(void);

#endif
