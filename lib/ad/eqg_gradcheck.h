/* eqg_gradcheck.h: central finite-difference check of a tape computation.
 *
 * f builds y = f(inputs) on a freshly reset tape (its rng reseeded to the same
 * seed every call, so dropout masks repeat).  The check contracts y with a
 * fixed random R, L = sum(y .* R), and compares dL/dx from the tape with the
 * fourth-order central difference
 *   (8 (L(x + h e) - L(x - h e)) - (L(x + 2h e) - L(x - 2h e))) / 12h
 * for every element of every input that has a grad buffer.  Its truncation
 * error is O(h^4), so a step as large as EQG_GRADCHECK_STEP keeps round-off
 * (~ eps |L| / h) far below the 1e-6 tolerance the tests use; a two-point
 * stencil would force a small h whose round-off sits near that tolerance.  The error of an element is
 *   |analytic - numeric| / max(|analytic|, |numeric|, 1e-3 * max_k |analytic_k|),
 * i.e. relative, with a floor at a thousandth of the input's largest gradient
 * so that round-off on near-zero entries does not dominate. */
#ifndef EQG_GRADCHECK_H
#define EQG_GRADCHECK_H

#include "ad/eqg_tape.h"

/* Default step: 2h stays well inside the gaps tests keep around kinks (>= 0.05). */
#define EQG_GRADCHECK_STEP 1e-3

typedef eqg_tensor *(*eqg_gradcheck_fn)(eqg_tape *t, eqg_tensor *const inputs[], void *ctx);

typedef struct eqg_gradcheck_result {
  eqg_real max_err;      /* worst error as defined above */
  size_t worst_input;    /* which input ... */
  size_t worst_elem;     /* ... and which element */
  eqg_real analytic, numeric;  /* at the worst element */
  size_t n_checked;      /* elements compared */
} eqg_gradcheck_result;

/* inputs[k] are caller-owned; those with grad != NULL are checked (their data
 * is perturbed and restored, their grad overwritten).  h: step
 * (EQG_GRADCHECK_STEP unless the function is only smooth on a smaller scale).  Returns an error status if f fails or y is not finite. */
eqg_status eqg_gradcheck(eqg_gradcheck_fn f, void *ctx, size_t n_inputs,
                         eqg_tensor *const inputs[], eqg_real h, unsigned long seed,
                         eqg_gradcheck_result *res);

#endif
