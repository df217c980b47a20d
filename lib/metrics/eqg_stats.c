/* eqg_stats.c: mean +- sample standard deviation over seeds, Welch's t-test;
 * the ant factor. */
#include "metrics/eqg_metrics.h"

#include <math.h>

#include <gsl/gsl_cdf.h>

eqg_status eqg_mean_std(double *mean, double *std, const double *x, size_t n)
{
  if (!mean) return eqg_error_set(EQG_EINVAL, "eqg_mean_std: mean is NULL");
  if (n == 0 || !x) return eqg_error_set(EQG_EINVAL, "eqg_mean_std: no values (n = 0 or NULL)");
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(x[i]))
      return eqg_error_set(EQG_ENONFINITE, "eqg_mean_std: value at index %zu is NaN", i);
    sum += x[i];
  }
  const double mu = sum / (double)n;
  double ss = 0, c = 0;  /* c: sum of deviations, corrects the rounding of mu */
  for (size_t i = 0; i < n; i++) {
    const double d = x[i] - mu;
    ss += d * d;
    c += d;
  }
  *mean = mu;
  if (std) *std = n > 1 ? sqrt((ss - c * c / (double)n) / (double)(n - 1)) : NAN;
  return EQG_OK;
}

/* Mean and standard error of one group of eqg_welch_test; `name` for messages. */
static eqg_status welch_group(double *mean, double *se, const double *x, size_t n,
                              const char *name)
{
  if (!x || n < 2)
    return eqg_error_set(EQG_EINVAL, "eqg_welch_test: group %s has %zu value%s, needs 2",
                         name, n, n == 1 ? "" : "s");
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return eqg_error_set(EQG_ENONFINITE, "eqg_welch_test: group %s value %zu is %g", name,
                           i, x[i]);
  double sd;
  eqg_status st = eqg_mean_std(mean, &sd, x, n);
  if (st != EQG_OK) return st;
  *se = sd / sqrt((double)n);
  return EQG_OK;
}

eqg_status eqg_welch_test(eqg_welch *w, const double *a, size_t n_a, const double *b,
                          size_t n_b)
{
  if (!w) return eqg_error_set(EQG_EINVAL, "eqg_welch_test: result is NULL");
  eqg_welch r;
  eqg_status st;
  if ((st = welch_group(&r.mean_a, &r.se_a, a, n_a, "a")) != EQG_OK ||
      (st = welch_group(&r.mean_b, &r.se_b, b, n_b, "b")) != EQG_OK)
    return st;
  const double va = r.se_a * r.se_a, vb = r.se_b * r.se_b, v = va + vb;
  if (!(v > 0))
    return eqg_error_set(EQG_EINVAL, "eqg_welch_test: no spread in either group");
  r.t = (r.mean_a - r.mean_b) / sqrt(v);
  r.df = v * v / (va * va / (double)(n_a - 1) + vb * vb / (double)(n_b - 1));
  r.p = 2 * gsl_cdf_tdist_Q(fabs(r.t), r.df);
  *w = r;
  return EQG_OK;
}

eqg_status eqg_ant_factor(double *ant, double rejection, size_t n_params)
{
  if (!ant) return eqg_error_set(EQG_EINVAL, "eqg_ant_factor: ant is NULL");
  if (n_params == 0) return eqg_error_set(EQG_EINVAL, "eqg_ant_factor: n_params is 0");
  if (!(rejection >= 1))
    return eqg_error_set(EQG_EINVAL, "eqg_ant_factor: rejection %g is not >= 1 (1/eps_B)",
                         rejection);
  *ant = rejection / (double)n_params;
  return EQG_OK;
}
