/* eqg_jets_io.c: jet datasets in memory and in the LGN / LorentzNet / PELICAN
 * HDF5 layout (eqg_jets.h).
 *
 * The rank-3 Pmu and the int16 datasets go through eqg_h5's N-d helpers
 * (eqg_h5_open_array, eqg_h5_write_array, eqg_h5_read_block) and so share its
 * error contract: HDF5's printing is off while they run, and a failure
 * records "<what> (HDF5: <innermost description>)".  Reading converts any
 * integer or floating-point storage type through H5Dread into double memory
 * and checks Nobj and is_signal for integral values in range; label (N x P) is
 * converted by HDF5 straight to int and checked for 0/1. */
#include "data/eqg_jets_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/eqg_h5.h"

enum { MAX_RANK = 3 };

/* ---- in memory ------------------------------------------------------------------ */

eqg_jet_dataset *eqg_jet_dataset_alloc(size_t n_jets, size_t max_constituents)
{
  const size_t P = max_constituents, m = n_jets ? n_jets : 1;
  if (P == 0) {
    eqg_error_set(EQG_EINVAL, "jet dataset: max_constituents must be >= 1");
    return NULL;
  }
  if (m > SIZE_MAX / (4 * P * sizeof(eqg_real))) {
    eqg_error_set(EQG_ENOMEM, "jet dataset: %zu jets x %zu constituents is too large",
                  n_jets, P);
    return NULL;
  }
  eqg_jet_dataset *ds = calloc(1, sizeof *ds);
  if (ds) {
    ds->n_jets = n_jets;
    ds->max_constituents = P;
    ds->nobj = calloc(m, sizeof *ds->nobj);
    ds->pmu = calloc(m * P * 4, sizeof *ds->pmu);
    ds->truth_pmu = calloc(m * 4, sizeof *ds->truth_pmu);
    ds->is_signal = calloc(m, sizeof *ds->is_signal);
    ds->jet_pt = calloc(m, sizeof *ds->jet_pt);
    ds->label = calloc(m * P, sizeof *ds->label);
    ds->mass = calloc(m * P, sizeof *ds->mass);
  }
  if (!ds || !ds->nobj || !ds->pmu || !ds->truth_pmu || !ds->is_signal || !ds->jet_pt ||
      !ds->label || !ds->mass) {
    eqg_jet_dataset_free(ds);
    eqg_error_set(EQG_ENOMEM, "jet dataset: out of memory for %zu jets x %zu constituents",
                  n_jets, P);
    return NULL;
  }
  return ds;
}

void eqg_jet_dataset_free(eqg_jet_dataset *ds)
{
  if (!ds) return;
  free(ds->nobj); free(ds->pmu); free(ds->truth_pmu); free(ds->is_signal);
  free(ds->jet_pt); free(ds->label); free(ds->mass);
  free(ds);
}

void eqg_jets_fill_derived(eqg_jet_dataset *ds, size_t i)
{
  const size_t P = ds->max_constituents;
  for (size_t k = 0; k < P; k++) {
    const bool in = k < (size_t)ds->nobj[i];
    ds->label[i * P + k] = in;
    ds->mass[i * P + k] = in ? eqg_jet_p4_mass(ds->pmu + 4 * (i * P + k)) : 0.0;
  }
}

/* ---- writing -------------------------------------------------------------------- */

/* Rows per chunk of the per-constituent datasets (N, P) and (N, P, 4): zero
 * padded, mostly zeros, so eqg_h5_write_array compresses them (rank 1 stays
 * contiguous whatever the chunk size). */
enum { CHUNK_ROWS = 512 };

static eqg_status check_rows(const eqg_jet_dataset *ds)
{
  for (size_t i = 0; i < ds->n_jets; i++) {
    if (ds->nobj[i] < 0 || (size_t)ds->nobj[i] > ds->max_constituents)
      return eqg_error_set(EQG_EINVAL, "jet dataset: jet %zu has Nobj = %d outside [0, %zu]",
                           i, ds->nobj[i], ds->max_constituents);
    if (ds->is_signal[i] != 0 && ds->is_signal[i] != 1)
      return eqg_error_set(EQG_EINVAL, "jet dataset: jet %zu has is_signal = %d (not 0/1)",
                           i, ds->is_signal[i]);
  }
  return EQG_OK;
}

static eqg_status write_all(hid_t file, const eqg_jet_dataset *ds)
{
  const hsize_t N = ds->n_jets, P = ds->max_constituents;
  const hsize_t d1[1] = { N }, d2[2] = { N, P }, d3[3] = { N, P, 4 }, d4[2] = { N, 4 };
  const hid_t F64 = H5T_IEEE_F64LE, I16 = H5T_STD_I16LE, D = H5T_NATIVE_DOUBLE,
              I = H5T_NATIVE_INT;
  const hsize_t C = CHUNK_ROWS;
  eqg_status st = eqg_h5_write_array(file, "Nobj", I16, I, ds->nobj, 1, d1, C);
  if (st == EQG_OK) st = eqg_h5_write_array(file, "Pmu", F64, D, ds->pmu, 3, d3, C);
  if (st == EQG_OK) st = eqg_h5_write_array(file, "truth_Pmu", F64, D, ds->truth_pmu, 2, d4, C);
  if (st == EQG_OK) st = eqg_h5_write_array(file, "is_signal", I16, I, ds->is_signal, 1, d1, C);
  if (st == EQG_OK) st = eqg_h5_write_array(file, "jet_pt", F64, D, ds->jet_pt, 1, d1, C);
  if (st == EQG_OK) st = eqg_h5_write_array(file, "label", I16, I, ds->label, 2, d2, C);
  if (st == EQG_OK) st = eqg_h5_write_array(file, "mass", F64, D, ds->mass, 2, d2, C);
  return st;
}

eqg_status eqg_jet_dataset_save(const char *path, const eqg_jet_dataset *ds,
                                eqg_status (*extra)(hid_t file, void *ctx), void *ctx)
{
  _Static_assert(sizeof(eqg_real) == sizeof(double), "jet datasets assume double eqg_real");
  eqg_status st = check_rows(ds);
  if (st != EQG_OK) return eqg_error_prefix(st, "writing '%s': ", path);
  hid_t file;
  char *tmp;
  st = eqg_h5_create_tmp(path, &file, &tmp);
  if (st != EQG_OK) return st;
  st = write_all(file, ds);
  if (st == EQG_OK && extra) st = extra(file, ctx);
  if (st != EQG_OK) {
    eqg_h5_discard(file, tmp);
    return eqg_error_prefix(st, "writing '%s': ", path);
  }
  return eqg_h5_commit(file, tmp, path);
}

/* ---- reading -------------------------------------------------------------------- */

/* Shape of `name` must be `want` on every axis where want != 0. */
static eqg_status check_shape(const char *name, int rank, const hsize_t *got,
                              const hsize_t *want, const char *layout)
{
  for (int i = 0; i < rank; i++)
    if (want[i] && got[i] != want[i]) {
      char g[96], w[96];
      eqg_h5_format_dims(g, sizeof g, rank, got);
      eqg_h5_format_dims(w, sizeof w, rank, want);
      return eqg_error_set(EQG_ESHAPE, "dataset '/%s' has shape %s, expected %s %s "
                           "(0: any)", name, g, w, layout);
    }
  return EQG_OK;
}

/* Integral values in [lo, hi] -> int; EQG_EFORMAT naming the jet otherwise. */
static eqg_status to_int(int *out, const double *v, size_t n, double lo, double hi,
                         const char *name)
{
  for (size_t i = 0; i < n; i++) {
    if (!(v[i] >= lo && v[i] <= hi && v[i] == floor(v[i])))
      return eqg_error_set(EQG_EFORMAT, "dataset '/%s': jet %zu has %g, expected an integer "
                           "in [%g, %g]", name, i, v[i], lo, hi);
    out[i] = (int)v[i];
  }
  return EQG_OK;
}

static eqg_status first_nonfinite(const double *v, size_t n, size_t per, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i]))
      return eqg_error_set(EQG_ENONFINITE, "dataset '/%s': jet %zu has a non-finite value",
                           name, i / per);
  return EQG_OK;
}

/* The datasets of the layout, and what load_open does with each. */
typedef struct spec {
  const char *name;
  bool required;
  int rank;
  const char *layout;
} spec;

enum { S_NOBJ, S_PMU, S_SIG, S_TRUTH, S_PT, S_LABEL, S_MASS, N_SPEC };
static const spec SPECS[N_SPEC] = {
  { "Nobj", true, 1, "(N)" }, { "Pmu", true, 3, "(N, P, 4)" }, { "is_signal", true, 1, "(N)" },
  { "truth_Pmu", false, 2, "(N, 4)" }, { "jet_pt", false, 1, "(N)" },
  { "label", false, 2, "(N, P)" }, { "mass", false, 2, "(N, P)" },
};

static eqg_status load_open(eqg_jet_dataset **out, hid_t file, size_t max_jets,
                            size_t max_constituents)
{
  hid_t d[N_SPEC];
  hsize_t dims[N_SPEC][MAX_RANK];
  for (int k = 0; k < N_SPEC; k++) d[k] = -1;
  eqg_jet_dataset *ds = NULL;
  double *buf = NULL;
  eqg_status st = EQG_OK;
  for (int k = 0; k < N_SPEC && st == EQG_OK; k++)
    st = eqg_h5_open_array(file, SPECS[k].name, SPECS[k].required,
                           EQG_H5_INTEGER | EQG_H5_FLOAT, SPECS[k].rank, SPECS[k].layout,
                           &d[k], dims[k]);
  if (st != EQG_OK) goto done;
  const hsize_t Nf = dims[S_NOBJ][0], Pf = dims[S_PMU][1];
  const hsize_t want[N_SPEC][MAX_RANK] = {
    { Nf }, { Nf, 0, 4 }, { Nf }, { Nf, 4 }, { Nf }, { Nf, Pf }, { Nf, Pf },
  };
  for (int k = 0; k < N_SPEC && st == EQG_OK; k++)
    if (d[k] >= 0) st = check_shape(SPECS[k].name, SPECS[k].rank, dims[k], want[k],
                                    SPECS[k].layout);
  if (st != EQG_OK) goto done;
  if (Pf == 0) {
    st = eqg_error_set(EQG_ESHAPE, "dataset '/Pmu' has no constituent axis (P = 0)");
    goto done;
  }
  const size_t N = max_jets > 0 && max_jets < Nf ? max_jets : (size_t)Nf;
  const size_t P = max_constituents > 0 && max_constituents < Pf ? max_constituents
                                                                   : (size_t)Pf;
  ds = eqg_jet_dataset_alloc(N, P);
  buf = malloc((N ? N : 1) * sizeof *buf);
  if (!ds || !buf) {
    st = ds ? eqg_error_set(EQG_ENOMEM, "jet dataset: out of memory") : EQG_ENOMEM;
    goto done;
  }
  const hsize_t c1[1] = { N }, c2[2] = { N, P }, c3[3] = { N, P, 4 }, c4[2] = { N, 4 };
  const hid_t D = H5T_NATIVE_DOUBLE;

  /* Nobj: integers in [0, P_file], then clipped to P */
  if ((st = eqg_h5_read_block(d[S_NOBJ], "Nobj", D, buf, 1, c1)) != EQG_OK ||
      (st = to_int(ds->nobj, buf, N, 0, (double)Pf, "Nobj")) != EQG_OK)
    goto done;
  for (size_t i = 0; i < N; i++)
    if ((size_t)ds->nobj[i] > P) ds->nobj[i] = (int)P;
  if ((st = eqg_h5_read_block(d[S_SIG], "is_signal", D, buf, 1, c1)) != EQG_OK ||
      (st = to_int(ds->is_signal, buf, N, 0, 1, "is_signal")) != EQG_OK)
    goto done;
  /* Pmu: finite, padding beyond Nobj set to exactly zero */
  if ((st = eqg_h5_read_block(d[S_PMU], "Pmu", D, ds->pmu, 3, c3)) != EQG_OK ||
      (st = first_nonfinite(ds->pmu, N * P * 4, P * 4, "Pmu")) != EQG_OK)
    goto done;
  for (size_t i = 0; i < N; i++)
    memset(ds->pmu + 4 * (i * P + (size_t)ds->nobj[i]), 0,
           4 * (P - (size_t)ds->nobj[i]) * sizeof *ds->pmu);
  if (d[S_TRUTH] >= 0 &&
      ((st = eqg_h5_read_block(d[S_TRUTH], "truth_Pmu", D, ds->truth_pmu, 2, c4)) != EQG_OK ||
       (st = first_nonfinite(ds->truth_pmu, N * 4, 4, "truth_Pmu")) != EQG_OK))
    goto done;
  if (d[S_PT] >= 0) {
    if ((st = eqg_h5_read_block(d[S_PT], "jet_pt", D, ds->jet_pt, 1, c1)) != EQG_OK ||
        (st = first_nonfinite(ds->jet_pt, N, 1, "jet_pt")) != EQG_OK)
      goto done;
  } else {
    for (size_t i = 0; i < N; i++) {
      double s[4] = { 0, 0, 0, 0 };
      for (size_t k = 0; k < (size_t)ds->nobj[i]; k++)
        for (int mu = 0; mu < 4; mu++) s[mu] += ds->pmu[4 * (i * P + k) + mu];
      ds->jet_pt[i] = eqg_jets_pt(s);
    }
  }
  /* label and mass from the file when present, else derived */
  for (size_t i = 0; i < N; i++) eqg_jets_fill_derived(ds, i);
  /* label: converted by HDF5 straight to int (no N x P double buffer), then 0/1 */
  if (d[S_LABEL] >= 0) {
    st = eqg_h5_read_block(d[S_LABEL], "label", H5T_NATIVE_INT, ds->label, 2, c2);
    if (st != EQG_OK) goto done;
    for (size_t i = 0; i < N * P; i++)
      if (ds->label[i] != 0 && ds->label[i] != 1) {
        st = eqg_error_set(EQG_EFORMAT, "dataset '/label': jet %zu has %d, expected 0 or 1",
                           i / P, ds->label[i]);
        goto done;
      }
  }
  if (d[S_MASS] >= 0 &&
      ((st = eqg_h5_read_block(d[S_MASS], "mass", D, ds->mass, 2, c2)) != EQG_OK ||
       (st = first_nonfinite(ds->mass, N * P, P, "mass")) != EQG_OK))
    goto done;
done:
  free(buf);
  {
    eqg_h5_quiet q = eqg_h5_quiet_begin();
    for (int k = 0; k < N_SPEC; k++)
      if (d[k] >= 0) H5Dclose(d[k]);
    H5Eclear2(H5E_DEFAULT);
    eqg_h5_quiet_end(q);
  }
  if (st != EQG_OK) {
    eqg_jet_dataset_free(ds);
    ds = NULL;
  }
  *out = ds;
  return st;
}

eqg_status eqg_jet_dataset_load(eqg_jet_dataset **out, const char *path, size_t max_jets,
                                size_t max_constituents)
{
  *out = NULL;
  hid_t file;
  eqg_status st = eqg_h5_open(path, false, &file);
  if (st != EQG_OK) return st;
  st = load_open(out, file, max_jets, max_constituents);
  eqg_h5_close(file);
  if (st != EQG_OK) return eqg_error_prefix(st, "loading '%s': ", path);
  return EQG_OK;
}
