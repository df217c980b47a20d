/* eqg_probe_truth.c: similarity of a generator span to a named ground-truth
 * algebra -- principal angles, Grassmann distance and per-generator cosines
 * after least-squares alignment (definitions in eqg_probe.h). */
#include "probe/eqg_probe_internal.h"

#include <math.h>
#include <string.h>

#include "groups/eqg_group.h"

enum { MAX_DD = EQG_PROBE_MAX_D * EQG_PROBE_MAX_D };

eqg_status eqg_probe_truth_basis(eqg_real *T, size_t *k, const char *truth, size_t d)
{
  if (!T || !k || !truth) return eqg_error_set(EQG_EINVAL, "probe: NULL truth basis argument");
  if (strcmp(truth, "so2") == 0) {
    if (d == 3) {
      eqg_real L3[27];
      eqg_rotation_generators(L3);
      memcpy(T, L3 + 18, 9 * sizeof *T);      /* L_z */
    } else if (d == 2) {
      const eqg_real Lz[4] = { 0, -1, 1, 0 }; /* L_z restricted to the xy plane */
      memcpy(T, Lz, sizeof Lz);
    } else {
      return eqg_error_set(EQG_ESHAPE, "probe: truth 'so2' acts on R^2 or R^3, but "
                           "the generators are %zu x %zu", d, d);
    }
    *k = 1;
  } else if (strcmp(truth, "so3") == 0) {
    if (d != 3)
      return eqg_error_set(EQG_ESHAPE, "probe: truth 'so3' acts on R^3, but the "
                           "generators are %zu x %zu", d, d);
    eqg_rotation_generators(T);
    *k = 3;
  } else if (strcmp(truth, "so13") == 0) {
    if (d != 4)
      return eqg_error_set(EQG_ESHAPE, "probe: truth 'so13' acts on R^4, but the "
                           "generators are %zu x %zu", d, d);
    eqg_lorentz_generators(T);
    *k = 6;
  } else if (strcmp(truth, "boostz") == 0) {
    if (d != 4)
      return eqg_error_set(EQG_ESHAPE, "probe: truth 'boostz' acts on R^4, but the "
                           "generators are %zu x %zu", d, d);
    eqg_real L4[6 * 16];
    eqg_lorentz_generators(L4);
    memcpy(T, L4 + 5 * 16, 16 * sizeof *T);  /* K_z */
    *k = 1;
  } else {
    return eqg_error_set(EQG_EINVAL, "probe: unknown truth algebra '%s' (known: so2, "
                         "so3, so13, boostz)", truth);
  }
  return EQG_OK;
}

eqg_status eqg_probe_truth_check(const char *truth, size_t d)
{
  eqg_real T[EQG_PROBE_MAX_TRUTH * MAX_DD];
  size_t k;
  return eqg_probe_truth_basis(T, &k, truth, d);
}

eqg_status eqg_probe_truth(eqg_probe_report *out, const eqg_real *L, const eqg_real *u1,
                           size_t n, size_t d, const char *truth)
{
  const size_t D = d * d;
  eqg_real T[EQG_PROBE_MAX_TRUTH * MAX_DD];
  size_t k = 0;
  eqg_status st = eqg_probe_truth_basis(T, &k, truth, d);
  if (st) return st;
  snprintf(out->truth, sizeof out->truth, "%s", truth);

  /* Q2: orthonormal basis of the truth span (left singular vectors). */
  eqg_real Tm[MAX_DD * EQG_PROBE_MAX_TRUTH], u2[MAX_DD * EQG_PROBE_MAX_TRUTH];
  eqg_real v2[EQG_PROBE_MAX_TRUTH * EQG_PROBE_MAX_TRUTH], s2[EQG_PROBE_MAX_TRUTH];
  for (size_t c = 0; c < k; c++)
    for (size_t i = 0; i < D; i++) Tm[i * k + c] = T[c * D + i];
  if ((st = eqg_probe_svd(u2, v2, s2, Tm, D, k))) return st;
  const size_t r1 = out->rank, r2 = eqg_probe_rank(s2, k);
  out->learned_dim = r1;
  out->truth_dim = r2;

  /* The smaller space is projected onto the larger: M = Qb^T Qs (rb, rs). */
  const bool learned_small = r1 <= r2;
  const size_t rs = learned_small ? r1 : r2, rb = learned_small ? r2 : r1;
  const eqg_real *qs = learned_small ? u1 : u2, *qb = learned_small ? u2 : u1;
  const size_t ls = learned_small ? n : k, lb = learned_small ? k : n;  /* row strides */
  eqg_real M[EQG_PROBE_MAX_N * EQG_PROBE_MAX_N];
  for (size_t i = 0; i < rb; i++)
    for (size_t j = 0; j < rs; j++) {
      eqg_real t = 0;
      for (size_t r = 0; r < D; r++) t += qb[r * lb + i] * qs[r * ls + j];
      M[i * rs + j] = t;
    }
  out->n_angles = rs;
  if (rs > 0) {
    eqg_real um[EQG_PROBE_MAX_N * EQG_PROBE_MAX_N], vm[EQG_PROBE_MAX_N * EQG_PROBE_MAX_N];
    eqg_real sm[EQG_PROBE_MAX_N];
    if ((st = eqg_probe_svd(um, vm, sm, M, rb, rs))) return st;
    eqg_real sum2 = 0, cmin = 1;
    for (size_t i = 0; i < rs; i++) {
      /* principal vector p = Qs vm_i; its projection onto the larger space is
       * Qb M vm_i; sin theta_i = |p - projection|. */
      eqg_real Mv[EQG_PROBE_MAX_N], res[MAX_DD];
      for (size_t a = 0; a < rb; a++) {
        Mv[a] = 0;
        for (size_t j = 0; j < rs; j++) Mv[a] += M[a * rs + j] * vm[j * rs + i];
      }
      for (size_t r = 0; r < D; r++) {
        eqg_real p = 0, q = 0;
        for (size_t j = 0; j < rs; j++) p += qs[r * ls + j] * vm[j * rs + i];
        for (size_t a = 0; a < rb; a++) q += qb[r * lb + a] * Mv[a];
        res[r] = p - q;
      }
      const eqg_real c = fmin(sm[i], 1.0), s = eqg_probe_norm(res, D);
      out->cosines[i] = c;
      out->angles[i] = atan2(s, c);
      sum2 += out->angles[i] * out->angles[i];
      cmin = fmin(cmin, c);
    }
    out->min_cosine = cmin;
    out->grassmann = sqrt(sum2);
  }

  /* Per generator: least-squares coefficients in the truth basis and the
   * cosine with the projection P L_a = Q2 Q2^T vec L_a. */
  for (size_t a = 0; a < n; a++) {
    const eqg_real *x = L + a * D;
    eqg_probe_pinv_solve(out->align[a], u2, v2, s2, D, k, r2, x);
    eqg_real c2 = 0;
    for (size_t i = 0; i < r2; i++) {
      eqg_real t = 0;
      for (size_t r = 0; r < D; r++) t += u2[r * k + i] * x[r];
      c2 += t * t;
    }
    const eqg_real nx = eqg_probe_norm(x, D);
    out->gen_cosine[a] = nx > 0 ? fmin(sqrt(c2) / nx, 1.0) : 0;
  }
  return EQG_OK;
}
