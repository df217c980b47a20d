/* eqg_discover.c: discovery losses, gradients and the Adam fit (eqg_discover.h). */
#include "probe/eqg_discover.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>

#include "nn/eqg_optim.h"
#include "probe/eqg_probe.h"

enum { NMAX = EQG_PROBE_MAX_N, DMAX = EQG_PROBE_MAX_D, DD = DMAX * DMAX };

static eqg_status check_sizes(const char *what, size_t n, size_t d)
{
  if (n < 1 || n > NMAX || d < 1 || d > DMAX)
    return eqg_error_set(EQG_EINVAL, "%s: n = %zu generators of side d = %zu (need 1 <= n <= "
                         "%d, 1 <= d <= %d)", what, n, d, NMAX, DMAX);
  return EQG_OK;
}

eqg_status eqg_discover_moments(eqg_real *M, const eqg_real *C, size_t n_s, size_t d)
{
  if (!M || !C || n_s == 0 || d < 1 || d > DMAX)
    return eqg_error_set(EQG_EINVAL, "discover moments: NULL array, no samples or d = %zu "
                         "outside 1..%d", d, DMAX);
  const size_t q = d * d;
  memset(M, 0, q * q * sizeof *M);
  eqg_real norm2 = 0;
  for (size_t s = 0; s < n_s; s++) {
    const eqg_real *c = C + s * q;
    for (size_t i = 0; i < q; i++) {
      if (!isfinite(c[i]))
        return eqg_error_set(EQG_ENONFINITE, "discover moments: sample %zu entry %zu is %g",
                             s, i, c[i]);
      norm2 += c[i] * c[i];
      for (size_t j = 0; j < q; j++) M[i * q + j] += c[i] * c[j];
    }
  }
  if (!(norm2 > 0)) return eqg_error_set(EQG_EINVAL, "discover moments: every sample is zero");
  /* (sum / n_s) / (norm2 / n_s) * d^2: tr M = d^2 */
  for (size_t k = 0; k < q * q; k++) M[k] *= (eqg_real)q / norm2;
  return EQG_OK;
}

eqg_status eqg_discover_oracle_samples(eqg_real *C, const char *oracle, const eqg_real *X,
                                       size_t n_s, size_t d)
{
  if (!C || !oracle || !X || d < 1 || d > DMAX)
    return eqg_error_set(EQG_EINVAL, "oracle samples: NULL argument or d = %zu", d);
  const bool norm = strcmp(oracle, "norm") == 0, mink = strcmp(oracle, "minkowski") == 0;
  if (!norm && !mink)
    return eqg_error_set(EQG_EINVAL, "unknown oracle '%s' (known: norm, minkowski)", oracle);
  if (mink && d != 4)
    return eqg_error_set(EQG_EINVAL, "oracle minkowski needs d = 4, not %zu", d);
  for (size_t s = 0; s < n_s; s++) {
    const eqg_real *x = X + s * d;
    eqg_real r2 = 0;
    for (size_t i = 0; i < d; i++) r2 += x[i] * x[i];
    if (!isfinite(r2) || (norm && !(r2 > 0)))
      return eqg_error_set(EQG_EINVAL, "oracle %s: point %zu is zero or not finite", oracle, s);
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++) {
        /* C = grad phi x^T: norm x x^T / |x|; minkowski 2 eta x x^T */
        eqg_real g = norm ? x[i] / sqrt(r2) : 2 * (i == 0 ? 1 : -1) * x[i];
        C[s * d * d + i * d + j] = g * x[j];
      }
  }
  return EQG_OK;
}

/* ---- small dense helpers on (d, d) matrices ---------------------------------------- */

static eqg_real dot(const eqg_real *a, const eqg_real *b, size_t q)
{
  eqg_real s = 0;
  for (size_t i = 0; i < q; i++) s += a[i] * b[i];
  return s;
}

/* C = A B (d, d); trans flags transpose A / B. */
static void mm(eqg_real *C, const eqg_real *A, bool ta, const eqg_real *B, bool tb, size_t d)
{
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) {
      eqg_real s = 0;
      for (size_t k = 0; k < d; k++)
        s += (ta ? A[k * d + i] : A[i * d + k]) * (tb ? B[j * d + k] : B[k * d + j]);
      C[i * d + j] = s;
    }
}

/* Ginv (n, n) = (W^T W)^-1 through a Cholesky factorisation; EQG_EINVAL if the
 * generators are (numerically) linearly dependent. */
static eqg_status gram_inverse(eqg_real *Ginv, const eqg_real *W, size_t n, size_t q)
{
  double g[NMAX * NMAX];
  for (size_t a = 0; a < n; a++)
    for (size_t b = 0; b < n; b++) g[a * n + b] = dot(W + a * q, W + b * q, q);
  gsl_matrix_view G = gsl_matrix_view_array(g, n, n);
  if (gsl_linalg_cholesky_decomp1(&G.matrix) != GSL_SUCCESS ||
      gsl_linalg_cholesky_invert(&G.matrix) != GSL_SUCCESS)
    return eqg_error_set(EQG_EINVAL, "discover: the generators are linearly dependent "
                         "(Gram matrix not positive definite)");
  for (size_t k = 0; k < n * n; k++) Ginv[k] = g[k];
  return EQG_OK;
}

/* span term: 1 - tr(Gm^-1 W^T S W) and, if gr, += wt * d/dW. */
static eqg_real span_term(eqg_real *gr, eqg_real wt, const eqg_real *W, const eqg_real *Ginv,
                          const eqg_real *S, size_t n, size_t q)
{
  eqg_real SW[NMAX * DD], B[NMAX * NMAX];   /* SW[a] = S vec W_a; B = W^T S W */
  for (size_t a = 0; a < n; a++)
    for (size_t i = 0; i < q; i++) SW[a * q + i] = dot(S + i * q, W + a * q, q);
  for (size_t a = 0; a < n; a++)
    for (size_t b = 0; b < n; b++) B[a * n + b] = dot(W + a * q, SW + b * q, q);
  eqg_real tr = 0;
  for (size_t a = 0; a < n; a++)
    for (size_t b = 0; b < n; b++) tr += Ginv[a * n + b] * B[b * n + a];
  if (gr) {
    /* -2 (I - W Gm^-1 W^T) S W Gm^-1 = -2 (SW Gm^-1 - W Gm^-1 B Gm^-1) */
    eqg_real T1[NMAX * NMAX], T2[NMAX * NMAX];   /* Gm^-1 B, Gm^-1 B Gm^-1 */
    for (size_t a = 0; a < n; a++)
      for (size_t b = 0; b < n; b++) {
        eqg_real s = 0;
        for (size_t c = 0; c < n; c++) s += Ginv[a * n + c] * B[c * n + b];
        T1[a * n + b] = s;
      }
    for (size_t a = 0; a < n; a++)
      for (size_t b = 0; b < n; b++) {
        eqg_real s = 0;
        for (size_t c = 0; c < n; c++) s += T1[a * n + c] * Ginv[c * n + b];
        T2[a * n + b] = s;
      }
    for (size_t b = 0; b < n; b++)
      for (size_t i = 0; i < q; i++) {
        eqg_real s = 0;
        for (size_t a = 0; a < n; a++)
          s += SW[a * q + i] * Ginv[a * n + b] - W[a * q + i] * T2[a * n + b];
        gr[b * q + i] += -2 * wt * s;
      }
  }
  return 1 - tr;
}

/* closure term sum_{a<b} |R_ab|^2 with least-squares f, and += wt * gradient. */
static eqg_real closure_term(eqg_real *gr, eqg_real wt, const eqg_real *W, const eqg_real *Ginv,
                             size_t n, size_t d)
{
  const size_t q = d * d;
  eqg_real total = 0;
  for (size_t a = 0; a < n; a++)
    for (size_t b = a + 1; b < n; b++) {
      eqg_real AB[DD], BA[DD], R[DD], rhs[NMAX], f[NMAX];
      mm(AB, W + a * q, false, W + b * q, false, d);
      mm(BA, W + b * q, false, W + a * q, false, d);
      for (size_t i = 0; i < q; i++) R[i] = AB[i] - BA[i];          /* [W_a, W_b] */
      for (size_t c = 0; c < n; c++) rhs[c] = dot(W + c * q, R, q);
      for (size_t c = 0; c < n; c++) f[c] = dot(Ginv + c * n, rhs, n);
      for (size_t c = 0; c < n; c++)
        for (size_t i = 0; i < q; i++) R[i] -= f[c] * W[c * q + i];
      total += dot(R, R, q);
      if (!gr) continue;
      /* d|R|^2: W_a += 2 (R W_b^T - W_b^T R), W_b += 2 (W_a^T R - R W_a^T), W_c -= 2 f_c R */
      eqg_real T1[DD], T2[DD];
      mm(T1, R, false, W + b * q, true, d);
      mm(T2, W + b * q, true, R, false, d);
      for (size_t i = 0; i < q; i++) gr[a * q + i] += 2 * wt * (T1[i] - T2[i]);
      mm(T1, W + a * q, true, R, false, d);
      mm(T2, R, false, W + a * q, true, d);
      for (size_t i = 0; i < q; i++) gr[b * q + i] += 2 * wt * (T1[i] - T2[i]);
      for (size_t c = 0; c < n; c++)
        for (size_t i = 0; i < q; i++) gr[c * q + i] -= 2 * wt * f[c] * R[i];
    }
  return total;
}

eqg_status eqg_discover_loss(eqg_discover_terms *out, eqg_real *grad, const eqg_real *W,
                             size_t n, size_t d, const eqg_real *M, const eqg_real *S,
                             const eqg_discover_weights *w)
{
  eqg_status st = check_sizes("discover loss", n, d);
  if (st) return st;
  if (!out || !W || !w)
    return eqg_error_set(EQG_EINVAL, "discover loss: NULL terms, generators or weights");
  if ((w->inv != 0 && !M) || (w->span != 0 && !S))
    return eqg_error_set(EQG_EINVAL, "discover loss: a weighted term has no moment matrix");
  const size_t q = d * d;
  for (size_t k = 0; k < n * q; k++)
    if (!isfinite(W[k]))
      return eqg_error_set(EQG_ENONFINITE, "discover loss: generator %zu entry %zu is %g",
                           k / q, k % q, W[k]);
  *out = (eqg_discover_terms){ 0 };
  if (grad) memset(grad, 0, n * q * sizeof *grad);
  eqg_real Ginv[NMAX * NMAX];
  if ((w->span != 0 || w->closure != 0) && (st = gram_inverse(Ginv, W, n, q))) return st;

  for (size_t a = 0; a < n; a++) {
    const eqg_real *Wa = W + a * q;
    eqg_real *ga = grad ? grad + a * q : NULL;
    if (w->inv != 0) {                             /* vec W^T M vec W, gradient 2 M vec W */
      for (size_t i = 0; i < q; i++) {
        eqg_real mw = dot(M + i * q, Wa, q);
        out->inv += Wa[i] * mw;
        if (ga) ga[i] += 2 * w->inv * mw;
      }
    }
    const eqg_real e = dot(Wa, Wa, q) - 2;         /* (|W|^2 - 2)^2, gradient 4 e W */
    out->norm += e * e;
    if (ga && w->norm != 0)
      for (size_t i = 0; i < q; i++) ga[i] += 4 * w->norm * e * Wa[i];
    for (size_t b = a + 1; b < n; b++) {           /* <W_a, W_b>^2 */
      const eqg_real p = dot(Wa, W + b * q, q);
      out->orth += p * p;
      if (grad && w->orth != 0)
        for (size_t i = 0; i < q; i++) {
          grad[a * q + i] += 2 * w->orth * p * W[b * q + i];
          grad[b * q + i] += 2 * w->orth * p * Wa[i];
        }
    }
  }
  if (w->span != 0) out->span = span_term(grad, w->span, W, Ginv, S, n, q);
  if (w->closure != 0) out->closure = closure_term(grad, w->closure, W, Ginv, n, d);
  out->total = w->inv * out->inv + w->span * out->span + w->norm * out->norm +
               w->orth * out->orth + w->closure * out->closure;
  return EQG_OK;
}

eqg_status eqg_discover_fit(eqg_real *W, size_t n, size_t d, const eqg_real *M,
                            const eqg_real *S, const eqg_discover_weights *w, size_t steps,
                            eqg_real lr, gsl_rng *rng, eqg_real *history,
                            eqg_discover_terms *final)
{
  eqg_status st = check_sizes("discover fit", n, d);
  if (st) return st;
  if (!W || !(lr > 0) || !isfinite(lr))
    return eqg_error_set(EQG_EINVAL, "discover fit: NULL generators or learning rate %g", lr);
  const size_t q = d * d;
  if (rng)
    for (size_t k = 0; k < n * q; k++) W[k] = gsl_ran_gaussian(rng, 1 / sqrt((double)d));
  /* The generators as one named parameter, so Adam is the library's own. */
  eqg_params *p = eqg_params_alloc();
  eqg_optim *o = NULL;
  int id = p ? eqg_params_add(p, "generators", n, q, true) : -1;
  eqg_optim_config oc = eqg_optim_config_default();
  oc.lr = lr;
  if (id < 0 || !(o = eqg_optim_alloc(&eqg_optim_adam, &oc, p->size))) {
    eqg_params_free(p);
    return eqg_error_prefix(EQG_ENOMEM, "discover fit: ");
  }
  memcpy(p->data, W, n * q * sizeof *W);
  eqg_discover_terms tm;
  for (size_t s = 0; s < steps; s++) {
    if ((st = eqg_discover_loss(&tm, p->grad, p->data, n, d, M, S, w))) break;
    if (history) {
      eqg_real *h = history + 6 * s;
      h[0] = tm.inv, h[1] = tm.span, h[2] = tm.norm, h[3] = tm.orth, h[4] = tm.closure;
      h[5] = tm.total;
    }
    eqg_optim_step(o, p, lr);
  }
  if (!st && (st = eqg_discover_loss(&tm, NULL, p->data, n, d, M, S, w)) == EQG_OK) {
    memcpy(W, p->data, n * q * sizeof *W);
    if (final) *final = tm;
  }
  eqg_optim_free(o);
  eqg_params_free(p);
  return st ? eqg_error_prefix(st, "discover fit: ") : EQG_OK;
}

eqg_real eqg_discover_so3_structure_error(const eqg_probe_report *r)
{
  if (!r || r->n != 3 || r->d != 3 || strcmp(r->truth, "so3") != 0) return NAN;
  const eqg_real (*A)[EQG_PROBE_MAX_TRUTH] = r->align;
  const eqg_real det = A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) -
                       A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) +
                       A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]);
  const eqg_real sgn = det < 0 ? -1 : 1;
  eqg_real err = 0;
  for (size_t a = 0; a < 3; a++)
    for (size_t b = 0; b < 3; b++)
      for (size_t c = 0; c < 3; c++) {
        const eqg_real eps = (a == b || b == c || a == c) ? 0 : ((b + 3 - a) % 3 == 1 ? 1 : -1);
        err = fmax(err, fabs(r->f[a][b][c] - sgn * eps));
      }
  return err;
}
