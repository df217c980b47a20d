/* eqg_core.h: the scalar type, index type, status codes and error recording.
 *
 * Error contract: a library function that can fail returns an eqg_status (or
 * NULL) and records a human-readable message with eqg_error_set(); the library
 * never prints or exits on its own.  The message is per thread, so concurrent
 * callers do not clobber each other.  Internal invariants (programming errors,
 * not bad input) use EQG_ASSERT, which names file and line and aborts. */
#ifndef EQG_CORE_H
#define EQG_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Equivariance studies need double precision; keep the name so a float
 * build stays possible. */
typedef double eqg_real;

/* Row index into a tensor (node -> edge gathers, segment ids). */
typedef int32_t eqg_index;

typedef enum eqg_status {
  EQG_OK = 0,
  EQG_ENOMEM,    /* allocation failed */
  EQG_EINVAL,    /* invalid argument or option */
  EQG_ESHAPE,    /* tensor shapes do not fit together */
  EQG_ERANGE,    /* index out of range */
  EQG_ENONFINITE,/* NaN or Inf where finite numbers are required */
  EQG_EIO,       /* file could not be opened, read or written */
  EQG_EFORMAT,   /* file content is corrupt or does not match */
  EQG_STATUS_COUNT
} eqg_status;

/* Short name of a status ("shape mismatch", ...). */
const char *eqg_status_string(eqg_status s);

/* Record a message for the calling thread and return `s` (for tail calls:
 * `return eqg_error_set(EQG_EINVAL, "bad width %d", w);`). */
eqg_status eqg_error_set(eqg_status s, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;

/* Prefix the current message with context ("loading x.h5: " + old message). */
eqg_status eqg_error_prefix(eqg_status s, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;

/* Last message recorded on this thread ("" if none). */
const char *eqg_error_message(void);
void eqg_error_clear(void);

/* Internal invariant: a failed assertion is a bug in eqgnn, not bad input. */
void eqg_assert_fail(const char *expr, const char *file, int line);
#define EQG_ASSERT(x) \
  ((x) ? (void)0 : eqg_assert_fail(#x, __FILE__, __LINE__))

/* Library version string, e.g. "0.1.0". */
const char *eqg_version(void);

/* The source revision the library was built from: `git describe --always
 * --dirty` at build time (e.g. "8230936a1b2c" or "8230936a1b2c-dirty"), or
 * "unknown" when built outside a git checkout.  Results and checkpoints
 * record it (attribute eqgnn_revision). */
const char *eqg_revision(void);

#endif
