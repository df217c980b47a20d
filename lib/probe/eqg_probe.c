/* eqg_probe.c: eqg_probe_analyse -- input checks, exact power-of-two scaling,
 * span, closure (structure constants + residuals), Killing form, invariant
 * metric -- and the report printer.  Definitions in eqg_probe.h. */
#include "probe/eqg_probe_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DD = EQG_PROBE_MAX_D * EQG_PROBE_MAX_D };

void eqg_probe_signature(size_t counts[3], const eqg_real *ev, size_t n,
                         eqg_real rel_tol)
{
  eqg_real amax = 0;
  for (size_t i = 0; i < n; i++) amax = fmax(amax, fabs(ev[i]));
  counts[0] = counts[1] = counts[2] = 0;
  for (size_t i = 0; i < n; i++) {
    if (fabs(ev[i]) <= rel_tol * amax) counts[2]++;
    else if (ev[i] > 0) counts[0]++;
    else counts[1]++;
  }
}

/* C = A B - B A, all (d, d). */
static void commutator(eqg_real *C, const eqg_real *A, const eqg_real *B, size_t d)
{
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) {
      eqg_real s = 0;
      for (size_t k = 0; k < d; k++) s += A[i * d + k] * B[k * d + j] - B[i * d + k] * A[k * d + j];
      C[i * d + j] = s;
    }
}

static eqg_status check_input(const eqg_probe_report *out, const eqg_real *L, size_t n,
                              size_t d, const char *truth)
{
  if (!out || !L)
    return eqg_error_set(EQG_EINVAL, "probe: NULL %s", !out ? "report" : "generators");
  if (n == 0 || n > EQG_PROBE_MAX_N)
    return eqg_error_set(EQG_EINVAL, "probe: %zu generators, need 1 to %d", n,
                         EQG_PROBE_MAX_N);
  if (d == 0 || d > EQG_PROBE_MAX_D)
    return eqg_error_set(EQG_EINVAL, "probe: generator size d = %zu, need 1 to %d", d,
                         EQG_PROBE_MAX_D);
  bool nonzero = false;
  for (size_t a = 0; a < n; a++)
    for (size_t i = 0; i < d * d; i++) {
      const eqg_real x = L[a * d * d + i];
      if (!isfinite(x))
        return eqg_error_set(EQG_ENONFINITE, "probe: generator %zu entry (%zu, %zu) "
                             "is %g", a, i / d, i % d, x);
      nonzero |= x != 0;
    }
  if (!nonzero)
    return eqg_error_set(EQG_EINVAL, "probe: all %zu generators are zero", n);
  return truth ? eqg_probe_truth_check(truth, d) : EQG_OK;
}

/* Structure constants, closure residuals and the Killing form of the
 * (scaled) generators Ls with span SVD (u, v, s). */
static eqg_status closure_killing(eqg_probe_report *out, const eqg_real *Ls,
                                  const eqg_real *u, const eqg_real *v, const eqg_real *s,
                                  size_t n, size_t d)
{
  const size_t D = d * d;
  eqg_real abs2 = 0, rel2 = 0;
  size_t n_rel = 0;
  for (size_t a = 0; a < n; a++)
    for (size_t b = a + 1; b < n; b++) {
      eqg_real C[MAX_DD], R[MAX_DD];
      commutator(C, Ls + a * D, Ls + b * D, d);
      eqg_real *fab = out->f[a][b];
      eqg_probe_pinv_solve(fab, u, v, s, D, n, out->rank, C);
      for (size_t c = 0; c < n; c++) out->f[b][a][c] = -fab[c];
      memcpy(R, C, D * sizeof *R);
      for (size_t c = 0; c < n; c++)
        for (size_t i = 0; i < D; i++) R[i] -= fab[c] * Ls[c * D + i];
      const eqg_real nr = eqg_probe_norm(R, D), nc = eqg_probe_norm(C, D);
      const eqg_real na = eqg_probe_norm(Ls + a * D, D), nb = eqg_probe_norm(Ls + b * D, D);
      out->n_pairs++;
      abs2 += nr * nr;
      out->closure_abs_max = fmax(out->closure_abs_max, nr);
      if (nc > EQG_PROBE_TOL * na * nb) {
        const eqg_real rel = nr / nc;
        rel2 += rel * rel;
        n_rel++;
        out->closure_rel_max = fmax(out->closure_rel_max, rel);
      } else {
        out->n_pairs_zero++;
      }
    }
  if (out->n_pairs) out->closure_abs_rms = sqrt(abs2 / (eqg_real)out->n_pairs);
  if (n_rel) out->closure_rel_rms = sqrt(rel2 / (eqg_real)n_rel);

  /* B_ab = tr(ad_a ad_b) = sum_{c,e} (ad_a)_ce (ad_b)_ec, (ad_a)_ce = f_aec */
  eqg_real B[EQG_PROBE_MAX_N * EQG_PROBE_MAX_N];
  for (size_t a = 0; a < n; a++)
    for (size_t b = 0; b < n; b++) {
      eqg_real t = 0;
      for (size_t c = 0; c < n; c++)
        for (size_t e = 0; e < n; e++) t += out->f[a][e][c] * out->f[b][c][e];
      B[a * n + b] = out->killing[a][b] = t;
    }
  eqg_status st = eqg_probe_sym_eig(out->killing_eval, B, n);
  if (st) return eqg_error_prefix(st, "Killing form: ");
  size_t cnt[3];
  eqg_probe_signature(cnt, out->killing_eval, n, EQG_PROBE_TOL);
  out->killing_pos = cnt[0]; out->killing_neg = cnt[1]; out->killing_zero = cnt[2];
  return EQG_OK;
}

/* Invariant symmetric metric of the (scaled) generators (scale-free). */
static eqg_status invariant_metric(eqg_probe_report *out, const eqg_real *Ls, size_t n,
                                   size_t d)
{
  const size_t D = d * d, m = d * (d + 1) / 2, rows = n * m;
  size_t pi[EQG_PROBE_MAX_SYM], pj[EQG_PROBE_MAX_SYM];   /* unknown k <-> (i <= j) */
  for (size_t i = 0, k = 0; i < d; i++)
    for (size_t j = i; j < d; j++, k++) { pi[k] = i; pj[k] = j; }
  eqg_real *S = malloc(rows * m * sizeof *S);
  if (!S) return eqg_error_set(EQG_ENOMEM, "probe: metric system of %zu x %zu", rows, m);
  const eqg_real r2 = sqrt(2.0);
  for (size_t k = 0; k < m; k++) {
    eqg_real E[MAX_DD] = { 0 };
    if (pi[k] == pj[k]) E[pi[k] * d + pi[k]] = 1;
    else E[pi[k] * d + pj[k]] = E[pj[k] * d + pi[k]] = 1 / r2;
    for (size_t a = 0; a < n; a++) {
      const eqg_real *La = Ls + a * D;
      for (size_t q = 0; q < m; q++) {     /* (L^T E + E L)_{ij}, i <= j */
        const size_t i = pi[q], j = pj[q];
        eqg_real t = 0;
        for (size_t r = 0; r < d; r++) t += La[r * d + i] * E[r * d + j] + E[i * d + r] * La[r * d + j];
        S[(a * m + q) * m + k] = (i == j ? 1 : r2) * t;
      }
    }
  }
  eqg_real v[EQG_PROBE_MAX_SYM * EQG_PROBE_MAX_SYM], s[EQG_PROBE_MAX_SYM];
  eqg_status st = eqg_probe_svd(NULL, v, s, S, rows, m);
  free(S);
  if (st) return eqg_error_prefix(st, "invariant metric: ");
  out->metric_unknowns = m;
  EQG_ASSERT(s[0] > 0);           /* S = 0 only for all-zero generators */
  for (size_t i = 0; i < m; i++) {
    out->metric_sv[i] = s[m - 1 - i] / s[0];
    if (out->metric_sv[i] <= EQG_PROBE_TOL) out->metric_null_dim++;
  }
  out->metric_residual = out->metric_sv[0];

  eqg_real *A = out->metric, amax = 0;
  for (size_t k = 0; k < m; k++) {
    const eqg_real x = v[k * m + (m - 1)];
    if (pi[k] == pj[k]) A[pi[k] * d + pi[k]] = x;
    else A[pi[k] * d + pj[k]] = A[pj[k] * d + pi[k]] = x / r2;
  }
  for (size_t i = 0; i < D; i++) amax = fmax(amax, fabs(A[i]));
  EQG_ASSERT(amax > 0);           /* a unit singular vector */
  size_t lead = D;                /* first diagonal entry clear of zero, ... */
  for (size_t i = 0; i < d && lead == D; i++)
    if (fabs(A[i * d + i]) > EQG_PROBE_TOL * amax) lead = i * d + i;
  for (size_t i = 0; i < D && lead == D; i++)   /* ... else first entry */
    if (fabs(A[i]) > EQG_PROBE_TOL * amax) lead = i;
  const eqg_real scale = (A[lead] < 0 ? -1 : 1) / amax;
  for (size_t i = 0; i < D; i++) A[i] *= scale;

  if ((st = eqg_probe_sym_eig(out->metric_eval, A, d)))
    return eqg_error_prefix(st, "invariant metric: ");
  size_t cnt[3];
  eqg_probe_signature(cnt, out->metric_eval, d, EQG_PROBE_TOL);
  out->metric_pos = cnt[0]; out->metric_neg = cnt[1]; out->metric_zero = cnt[2];
  return EQG_OK;
}

eqg_status eqg_probe_analyse(eqg_probe_report *out, const eqg_real *L, size_t n,
                             size_t d, const char *truth)
{
  if (out) memset(out, 0, sizeof *out);
  eqg_status st = check_input(out, L, n, d, truth);
  if (st) return st;
  out->n = n;
  out->d = d;
  const size_t D = d * d;

  /* Ls = 2^-e L with max |Ls| in [1/2, 1): exact, and keeps commutators and
   * Killing sums clear of overflow / underflow. */
  eqg_real amax = 0;
  for (size_t i = 0; i < n * D; i++) amax = fmax(amax, fabs(L[i]));
  int e = 0;
  (void)frexp(amax, &e);
  eqg_real Ls[EQG_PROBE_MAX_N * MAX_DD], V[MAX_DD * EQG_PROBE_MAX_N];
  eqg_real u[MAX_DD * EQG_PROBE_MAX_N], v[EQG_PROBE_MAX_N * EQG_PROBE_MAX_N];
  for (size_t i = 0; i < n * D; i++) Ls[i] = ldexp(L[i], -e);

  /* span: V = (D, n) with columns vec L_a */
  for (size_t a = 0; a < n; a++)
    for (size_t i = 0; i < D; i++) V[i * n + a] = Ls[a * D + i];
  if ((st = eqg_probe_svd(u, v, out->gen_sv, V, D, n)))
    return eqg_error_prefix(st, "generator span: ");
  out->rank = eqg_probe_rank(out->gen_sv, n);

  if ((st = closure_killing(out, Ls, u, v, out->gen_sv, n, d))) return st;
  if ((st = invariant_metric(out, Ls, n, d))) return st;
  if (truth && (st = eqg_probe_truth(out, Ls, u, n, d, truth))) return st;

  /* undo the scaling: f, sv, align ~ L; residuals, Killing ~ L^2 */
  for (size_t a = 0; a < n; a++) {
    out->gen_sv[a] = ldexp(out->gen_sv[a], e);
    out->killing_eval[a] = ldexp(out->killing_eval[a], 2 * e);
    for (size_t b = 0; b < n; b++) {
      out->killing[a][b] = ldexp(out->killing[a][b], 2 * e);
      for (size_t c = 0; c < n; c++) out->f[a][b][c] = ldexp(out->f[a][b][c], e);
    }
    for (size_t c = 0; c < out->truth_dim; c++) out->align[a][c] = ldexp(out->align[a][c], e);
  }
  out->closure_abs_max = ldexp(out->closure_abs_max, 2 * e);
  out->closure_abs_rms = ldexp(out->closure_abs_rms, 2 * e);
  return EQG_OK;
}

/* ---- printing ------------------------------------------------------------ */

eqg_status eqg_probe_print(FILE *f, const eqg_probe_report *r)
{
  if (!f || !r) return eqg_error_set(EQG_EINVAL, "probe print: NULL %s", !f ? "file" : "report");
  const size_t n = r->n, d = r->d;
  int bad = 0;
#define P(...) (bad |= fprintf(f, __VA_ARGS__) < 0)
  P("probe: %zu generators of size %zu x %zu, rank %zu\n", n, d, d, r->rank);
  P("closure: %zu pairs (%zu commuting); relative residual max %.3e rms %.3e; "
    "absolute max %.3e rms %.3e\n", r->n_pairs, r->n_pairs_zero, r->closure_rel_max,
    r->closure_rel_rms, r->closure_abs_max, r->closure_abs_rms);
  P("structure constants f_abc (a < b, nonzero):\n");
  for (size_t a = 0; a < n; a++)
    for (size_t b = a + 1; b < n; b++)
      for (size_t c = 0; c < n; c++)
        if (fabs(r->f[a][b][c]) > 1e-12) P("  f[%zu][%zu][%zu] = % .6f\n", a, b, c, r->f[a][b][c]);
  P("Killing form eigenvalues:");
  for (size_t a = 0; a < n; a++) P(" %.6g", r->killing_eval[a]);
  P("\n  signature (+%zu, -%zu, 0:%zu)\n", r->killing_pos, r->killing_neg, r->killing_zero);
  P("invariant metric: null space %zu of %zu, residual %.3e; normalised A:\n",
    r->metric_null_dim, r->metric_unknowns, r->metric_residual);
  for (size_t i = 0; i < d; i++) {
    P(" ");
    for (size_t j = 0; j < d; j++) P(" % .6f", r->metric[i * d + j]);
    P("\n");
  }
  P("  eigenvalues:");
  for (size_t i = 0; i < d; i++) P(" %.6g", r->metric_eval[i]);
  P("; signature (+%zu, -%zu, 0:%zu)\n", r->metric_pos, r->metric_neg, r->metric_zero);
  if (r->truth[0]) {
    P("truth %s: dim learned %zu, truth %zu; principal cosines:", r->truth,
      r->learned_dim, r->truth_dim);
    for (size_t i = 0; i < r->n_angles; i++) P(" %.12f", r->cosines[i]);
    P("\n  min cosine %.12f, Grassmann distance %.3e\n", r->min_cosine, r->grassmann);
    P("  per-generator cosine with its projection:");
    for (size_t a = 0; a < n; a++) P(" %.6f", r->gen_cosine[a]);
    P("\n");
  }
#undef P
  return bad ? eqg_error_set(EQG_EIO, "probe print: write failed") : EQG_OK;
}
