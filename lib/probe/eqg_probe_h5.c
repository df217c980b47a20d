/* eqg_probe_h5.c: a probe report (and the generators it was computed from) as
 * HDF5 datasets and attributes (eqg_probe.h). */
#include "probe/eqg_probe.h"

#include <stdlib.h>

#include "nn/eqg_h5.h"

eqg_status eqg_probe_write_h5(hid_t loc, const eqg_probe_report *r)
{
  if (!r || loc < 0) return eqg_error_set(EQG_EINVAL, "probe write: NULL report or bad location");
  const size_t n = r->n, d = r->d;
  eqg_real *f = malloc(n * n * n * sizeof *f), *k = malloc(n * n * sizeof *k);
  eqg_real *al = malloc(n * EQG_PROBE_MAX_TRUTH * sizeof *al);
  if (!f || !k || !al) {
    free(f), free(k), free(al);
    return eqg_error_set(EQG_ENOMEM, "probe write: out of memory");
  }
  for (size_t a = 0; a < n; a++)
    for (size_t b = 0; b < n; b++) {
      k[a * n + b] = r->killing[a][b];
      for (size_t c = 0; c < n; c++) f[(a * n + b) * n + c] = r->f[a][b][c];
    }
  const size_t td = r->truth[0] ? r->truth_dim : 0;
  for (size_t a = 0; a < n; a++)
    for (size_t c = 0; c < td; c++) al[a * td + c] = r->align[a][c];
  eqg_status st;
  if ((st = eqg_h5_write_matrix(loc, "structure_constants", f, n * n, n)) ||
      (st = eqg_h5_write_matrix(loc, "killing", k, n, n)) ||
      (st = eqg_h5_write_vector(loc, "killing_eigenvalues", r->killing_eval, n)) ||
      (st = eqg_h5_write_matrix(loc, "metric", r->metric, d, d)) ||
      (st = eqg_h5_write_vector(loc, "metric_eigenvalues", r->metric_eval, d)) ||
      (st = eqg_h5_write_vector(loc, "metric_singular_values", r->metric_sv,
                                r->metric_unknowns)) ||
      (st = eqg_h5_write_vector(loc, "generator_singular_values", r->gen_sv, n)) ||
      (st = eqg_h5_write_attr_long(loc, "rank", (long)r->rank)) ||
      (st = eqg_h5_write_attr_double(loc, "closure_rel_max", r->closure_rel_max)) ||
      (st = eqg_h5_write_attr_double(loc, "closure_rel_rms", r->closure_rel_rms)) ||
      (st = eqg_h5_write_attr_double(loc, "closure_abs_max", r->closure_abs_max)) ||
      (st = eqg_h5_write_attr_long(loc, "killing_pos", (long)r->killing_pos)) ||
      (st = eqg_h5_write_attr_long(loc, "killing_neg", (long)r->killing_neg)) ||
      (st = eqg_h5_write_attr_long(loc, "killing_zero", (long)r->killing_zero)) ||
      (st = eqg_h5_write_attr_long(loc, "metric_null_dim", (long)r->metric_null_dim)) ||
      (st = eqg_h5_write_attr_double(loc, "metric_residual", r->metric_residual)) ||
      (st = eqg_h5_write_attr_long(loc, "metric_pos", (long)r->metric_pos)) ||
      (st = eqg_h5_write_attr_long(loc, "metric_neg", (long)r->metric_neg)) ||
      (st = eqg_h5_write_attr_long(loc, "metric_zero", (long)r->metric_zero)))
    goto done;
  if (r->truth[0] &&
      ((st = eqg_h5_write_attr_string(loc, "truth", r->truth)) ||
       (st = eqg_h5_write_attr_long(loc, "truth_dim", (long)r->truth_dim)) ||
       (st = eqg_h5_write_vector(loc, "principal_cosines", r->cosines, r->n_angles)) ||
       (st = eqg_h5_write_vector(loc, "principal_angles", r->angles, r->n_angles)) ||
       (st = eqg_h5_write_vector(loc, "generator_cosines", r->gen_cosine, n)) ||
       (st = eqg_h5_write_matrix(loc, "alignment", al, n, td)) ||
       (st = eqg_h5_write_attr_double(loc, "min_cosine", r->min_cosine)) ||
       (st = eqg_h5_write_attr_double(loc, "grassmann", r->grassmann))))
    goto done;
done:
  free(f), free(k), free(al);
  return st ? eqg_error_prefix(st, "probe write: ") : EQG_OK;
}

eqg_status eqg_probe_write_h5_generators(hid_t loc, const eqg_real *L,
                                         const eqg_probe_report *r)
{
  if (!r || !L || loc < 0)
    return eqg_error_set(EQG_EINVAL, "probe write: NULL generators or report, or bad location");
  eqg_status st = eqg_h5_write_matrix(loc, "generators", L, r->n, r->d * r->d);
  if (st) return eqg_error_prefix(st, "probe write: ");
  hid_t g = eqg_h5_group_create(loc, "probe");
  if (g < 0) return eqg_error_prefix(EQG_EIO, "probe write: ");
  st = eqg_probe_write_h5(g, r);
  eqg_h5_close(g);
  return st;
}

eqg_status eqg_probe_write_h5_result(hid_t loc, const eqg_real *L, const eqg_probe_report *r)
{
  eqg_status st;
  if ((st = eqg_probe_write_h5_generators(loc, L, r)) ||
      (st = eqg_h5_write_attr_long(loc, "n", (long)r->n)) ||
      (st = eqg_h5_write_attr_long(loc, "d", (long)r->d)) ||
      (st = eqg_h5_write_matrix(loc, "recovered_metric", r->metric, r->d, r->d)))
    return eqg_error_prefix(st, "probe write: ");
  return EQG_OK;
}
