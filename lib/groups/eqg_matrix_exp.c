/* eqg_matrix_exp.c: E = exp(A) of a (d, d) matrix, d <= EQG_MATRIX_EXP_MAX_D,
 * by scaling and squaring (eqg_group.h):
 *   s = the smallest integer with sum_ij |A_ij| / 2^s <= 1/2 (a bound on every
 *       operator norm of S = A / 2^s),
 *   exp(S) ~ sum_{j=0}^{20} S^j / j!  (remainder <= 2^-21 / 21! ~ 1e-26 relative),
 *   exp(A) = exp(S)^(2^s)  (s squarings).
 * The terms are built as T_j = T_{j-1} S / j. */
#include "groups/eqg_group.h"

#include <math.h>
#include <string.h>

enum { MAXQ = EQG_MATRIX_EXP_MAX_D * EQG_MATRIX_EXP_MAX_D, TERMS = 20 };

eqg_status eqg_matrix_exp(eqg_real *E, const eqg_real *A, size_t d)
{
  if (!E || !A || d == 0 || d > EQG_MATRIX_EXP_MAX_D)
    return eqg_error_set(EQG_EINVAL, "matrix exp: NULL matrix or side %zu not in 1..%d", d,
                         EQG_MATRIX_EXP_MAX_D);
  eqg_real nrm = 0, S[MAXQ], T[MAXQ], P[MAXQ];
  for (size_t k = 0; k < d * d; k++) nrm += fabs(A[k]);
  if (!isfinite(nrm)) return eqg_error_set(EQG_ENONFINITE, "matrix exp: NaN or Inf in A");
  int sq = 0;
  while (nrm > 0.5) nrm /= 2, sq++;
  const eqg_real sc = ldexp(1, -sq);
  for (size_t k = 0; k < d * d; k++) S[k] = A[k] * sc, E[k] = T[k] = (k % (d + 1) == 0);
  for (int j = 1; j <= TERMS; j++) {       /* T = T S / j; E += T */
    for (size_t i = 0; i < d; i++)
      for (size_t k = 0; k < d; k++) {
        eqg_real s = 0;
        for (size_t l = 0; l < d; l++) s += T[i * d + l] * S[l * d + k];
        P[i * d + k] = s / j;
      }
    for (size_t k = 0; k < d * d; k++) T[k] = P[k], E[k] += P[k];
  }
  for (int s = 0; s < sq; s++) {           /* E = E E */
    for (size_t i = 0; i < d; i++)
      for (size_t k = 0; k < d; k++) {
        eqg_real v = 0;
        for (size_t l = 0; l < d; l++) v += E[i * d + l] * E[l * d + k];
        P[i * d + k] = v;
      }
    memcpy(E, P, d * d * sizeof *E);
  }
  return EQG_OK;
}
