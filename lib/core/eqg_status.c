/* eqg_status.c: per-thread error messages and status names. */
#include "core/eqg_core.h"
#include "core/eqg_revision.h"   /* generated: EQG_REVISION */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EQG_VERSION
#define EQG_VERSION "unknown"
#endif

enum { EQG_ERROR_LEN = 1024 };
static _Thread_local char eqg_error_buf[EQG_ERROR_LEN];

static const char *const eqg_status_names[] = {
  [EQG_OK] = "success",
  [EQG_ENOMEM] = "out of memory",
  [EQG_EINVAL] = "invalid argument",
  [EQG_ESHAPE] = "shape mismatch",
  [EQG_ERANGE] = "index out of range",
  [EQG_ENONFINITE] = "non-finite value",
  [EQG_EIO] = "input/output error",
  [EQG_EFORMAT] = "bad file format",
};
_Static_assert(sizeof eqg_status_names / sizeof *eqg_status_names == EQG_STATUS_COUNT,
               "one name per status");

const char *eqg_status_string(eqg_status s)
{
  return (s >= 0 && s < EQG_STATUS_COUNT) ? eqg_status_names[s] : "unknown status";
}

eqg_status eqg_error_set(eqg_status s, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(eqg_error_buf, sizeof eqg_error_buf, fmt, ap);
  va_end(ap);
  return s;
}

eqg_status eqg_error_prefix(eqg_status s, const char *fmt, ...)
{
  char old[EQG_ERROR_LEN];
  memcpy(old, eqg_error_buf, sizeof old);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(eqg_error_buf, sizeof eqg_error_buf, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof eqg_error_buf)
    snprintf(eqg_error_buf + n, sizeof eqg_error_buf - (size_t)n, "%s", old);
  return s;
}

const char *eqg_error_message(void) { return eqg_error_buf; }

void eqg_error_clear(void) { eqg_error_buf[0] = '\0'; }

void eqg_assert_fail(const char *expr, const char *file, int line)
{
  fprintf(stderr, "eqgnn: internal error: assertion '%s' failed at %s:%d\n",
          expr, file, line);
  abort();
}

const char *eqg_version(void) { return EQG_VERSION; }

const char *eqg_revision(void) { return EQG_REVISION; }
