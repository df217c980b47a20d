/* eqg_stats.c: mean +- sample standard deviation over seeds; the ant factor. */
#include "metrics/eqg_metrics.h"

#include <math.h>

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
