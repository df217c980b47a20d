/* eqg_nbody_io.c: N-body datasets in memory and in HDF5 (layout in eqg_nbody.h).
 *
 * The rank-4 loc/vel and the integer clipped counts go through eqg_h5's N-d
 * helpers (eqg_h5_open_array, eqg_h5_write_array, eqg_h5_read_block) and so
 * share its error contract: HDF5's printing is off while they run, and a
 * failure records "<what> (HDF5: <innermost description>)". */
#include "data/eqg_nbody.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/eqg_h5.h"

enum { D = EQG_NBODY_DIM, MAX_RANK = 4 };

#define REAL_MEM_TYPE (sizeof(eqg_real) == sizeof(double) ? H5T_NATIVE_DOUBLE \
                                                           : H5T_NATIVE_FLOAT)

/* ---- rank-N datasets --------------------------------------------------------------- */

/* Read the first `rows` entries along axis 0 of an open dataset into `data`. */
static eqg_status read_rows(hid_t dset, const char *name, hid_t mtype, void *data, int rank,
                            const hsize_t *dims, hsize_t rows)
{
  hsize_t count[MAX_RANK];
  for (int i = 0; i < rank; i++) count[i] = i == 0 ? rows : dims[i];
  return eqg_h5_read_block(dset, name, mtype, data, rank, count);
}

static void close_dset(hid_t dset)
{
  if (dset < 0) return;
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  H5Dclose(dset);
  H5Eclear2(H5E_DEFAULT);
  eqg_h5_quiet_end(q);
}

/* ---- in memory ----------------------------------------------------------------------- */

/* a * b * ..., false on size_t overflow. */
static bool mul_size(size_t *out, size_t a, size_t b)
{
  if (b != 0 && a > SIZE_MAX / b) return false;
  *out = a * b;
  return true;
}

/* Allocate the arrays of ds (sizes set); false if out of memory or too big. */
static bool alloc_arrays(eqg_nbody_dataset *ds)
{
  size_t per_traj, n_loc, n_q;
  if (!mul_size(&per_traj, ds->n_frames, ds->n_particles) ||
      !mul_size(&per_traj, per_traj, D) || !mul_size(&n_loc, per_traj, ds->n_traj) ||
      !mul_size(&n_q, ds->n_traj, ds->n_particles) || n_loc > SIZE_MAX / sizeof(eqg_real))
    return false;
  /* calloc(0) may return NULL: allocate at least one element. */
  ds->loc = calloc(n_loc ? n_loc : 1, sizeof *ds->loc);
  ds->vel = calloc(n_loc ? n_loc : 1, sizeof *ds->vel);
  ds->charges = calloc(n_q ? n_q : 1, sizeof *ds->charges);
  ds->clipped = calloc(ds->n_traj ? ds->n_traj : 1, sizeof *ds->clipped);
  return ds->loc && ds->vel && ds->charges && ds->clipped;
}

eqg_nbody_dataset *eqg_nbody_dataset_alloc(const eqg_nbody_config *cfg, size_t n_traj)
{
  if (eqg_nbody_config_check(cfg) != EQG_OK) return NULL;
  eqg_nbody_dataset *ds = calloc(1, sizeof *ds);
  if (!ds) {
    eqg_error_set(EQG_ENOMEM, "nbody dataset: out of memory");
    return NULL;
  }
  ds->cfg = *cfg;
  ds->n_traj = n_traj;
  ds->n_frames = eqg_nbody_n_frames(cfg);
  ds->n_particles = cfg->n_particles;
  if (!alloc_arrays(ds)) {
    eqg_error_set(EQG_ENOMEM, "nbody dataset: out of memory for %zu trajectories of %zu "
                  "frames x %zu particles", n_traj, ds->n_frames, ds->n_particles);
    eqg_nbody_dataset_free(ds);
    return NULL;
  }
  return ds;
}

void eqg_nbody_dataset_free(eqg_nbody_dataset *ds)
{
  if (!ds) return;
  free(ds->loc);
  free(ds->vel);
  free(ds->charges);
  free(ds->clipped);
  free(ds);
}

eqg_status eqg_nbody_dataset_generate(eqg_nbody_dataset *ds, gsl_rng *r, unsigned long seed,
                                      const char *split, int n_threads)
{
  ds->split_seed = seed;
  snprintf(ds->split, sizeof ds->split, "%s", split ? split : "");
  return eqg_nbody_simulate_many(ds->loc, ds->vel, ds->charges, ds->clipped, &ds->cfg, r,
                                 ds->n_traj, n_threads);
}

/* ---- writing ----------------------------------------------------------------------- */

eqg_status eqg_nbody_dataset_write(hid_t file, const eqg_nbody_dataset *ds)
{
  const eqg_nbody_config *c = &ds->cfg;
  if (ds->n_particles != c->n_particles || ds->n_frames != eqg_nbody_n_frames(c))
    return eqg_error_set(EQG_ESHAPE, "nbody dataset: %zu frames x %zu particles do not fit "
                         "its configuration (%zu x %zu)", ds->n_frames, ds->n_particles,
                         eqg_nbody_n_frames(c), c->n_particles);
  const hsize_t dl[4] = { ds->n_traj, ds->n_frames, ds->n_particles, D };
  const hsize_t dq[2] = { ds->n_traj, ds->n_particles };
  const hsize_t dc[1] = { ds->n_traj };
  uint64_t *clipped = malloc((ds->n_traj ? ds->n_traj : 1) * sizeof *clipped);
  if (!clipped) return eqg_error_set(EQG_ENOMEM, "nbody dataset: out of memory");
  for (size_t t = 0; t < ds->n_traj; t++) clipped[t] = ds->clipped[t];

  /* Contiguous (chunk_rows 0), as these files have always been written. */
  const hid_t F64 = H5T_IEEE_F64LE, R = REAL_MEM_TYPE;
  eqg_status st = eqg_h5_write_array(file, "loc", F64, R, ds->loc, 4, dl, 0);
  if (st == EQG_OK) st = eqg_h5_write_array(file, "vel", F64, R, ds->vel, 4, dl, 0);
  if (st == EQG_OK) st = eqg_h5_write_array(file, "charges", F64, R, ds->charges, 2, dq, 0);
  if (st == EQG_OK)
    st = eqg_h5_write_array(file, "clipped", H5T_STD_U64LE, H5T_NATIVE_UINT64, clipped, 1, dc,
                            0);
  free(clipped);

  const struct { const char *name; size_t v; } sizes[] = {
    { "n_traj", ds->n_traj }, { "n_frames", ds->n_frames },
    { "n_particles", ds->n_particles }, { "T", c->T }, { "sample_freq", c->sample_freq },
  };
  for (size_t i = 0; st == EQG_OK && i < sizeof sizes / sizeof *sizes; i++)
    st = eqg_h5_write_attr_long(file, sizes[i].name, (long)sizes[i].v);
  const struct { const char *name; double v; } reals[] = {
    { "dt", c->dt }, { "clip", c->clip }, { "speed", c->speed }, { "pos_std", c->pos_std },
    { "interaction", c->interaction }, { "box", c->box },
  };
  for (size_t i = 0; st == EQG_OK && i < sizeof reals / sizeof *reals; i++)
    st = eqg_h5_write_attr_double(file, reals[i].name, reals[i].v);
  if (st == EQG_OK) st = eqg_h5_write_attr_string(file, "split", ds->split);
  if (st == EQG_OK) st = eqg_h5_write_attr_ulong(file, "split_seed", ds->split_seed);
  return st;
}

eqg_status eqg_nbody_dataset_save(const char *path, const eqg_nbody_dataset *ds)
{
  hid_t file;
  char *tmp;
  eqg_status st = eqg_h5_create_tmp(path, &file, &tmp);
  if (st != EQG_OK) return st;
  st = eqg_nbody_dataset_write(file, ds);
  if (st != EQG_OK) {
    eqg_h5_discard(file, tmp);
    return eqg_error_prefix(st, "writing '%s': ", path);
  }
  return eqg_h5_commit(file, tmp, path);
}

/* ---- reading ----------------------------------------------------------------------- */

/* First trajectory (axis 0 of rows of `per` values) holding a non-finite value. */
static bool find_nonfinite(const eqg_real *a, size_t rows, size_t per, size_t *row)
{
  for (size_t i = 0; i < rows * per; i++)
    if (!isfinite(a[i])) {
      *row = i / per;
      return true;
    }
  return false;
}

/* Attributes present override cfg fields; sizes are checked against the data. */
static eqg_status read_attrs(hid_t file, eqg_nbody_dataset *ds)
{
  eqg_nbody_config *c = &ds->cfg;
  eqg_status st = EQG_OK;
  struct { const char *name; size_t *v; } sizes[] = {
    { "n_particles", &c->n_particles }, { "T", &c->T }, { "sample_freq", &c->sample_freq },
  };
  for (size_t i = 0; st == EQG_OK && i < sizeof sizes / sizeof *sizes; i++) {
    long v;
    if (!eqg_h5_has_attr(file, sizes[i].name)) continue;
    st = eqg_h5_read_attr_long(file, sizes[i].name, &v);
    if (st == EQG_OK && v < 0)
      st = eqg_error_set(EQG_EFORMAT, "attribute '%s' = %ld is negative", sizes[i].name, v);
    if (st == EQG_OK) *sizes[i].v = (size_t)v;
  }
  struct { const char *name; double *v; } reals[] = {
    { "dt", &c->dt }, { "clip", &c->clip }, { "speed", &c->speed },
    { "pos_std", &c->pos_std }, { "interaction", &c->interaction }, { "box", &c->box },
  };
  for (size_t i = 0; st == EQG_OK && i < sizeof reals / sizeof *reals; i++)
    if (eqg_h5_has_attr(file, reals[i].name))
      st = eqg_h5_read_attr_double(file, reals[i].name, reals[i].v);
  if (st == EQG_OK && eqg_h5_has_attr(file, "split")) {
    char *s = NULL;
    st = eqg_h5_read_attr_string(file, "split", &s);
    if (st == EQG_OK) snprintf(ds->split, sizeof ds->split, "%s", s);
    free(s);
  }
  if (st == EQG_OK && eqg_h5_has_attr(file, "split_seed"))
    st = eqg_h5_read_attr_ulong(file, "split_seed", &ds->split_seed);
  if (st != EQG_OK) return st;
  if (c->n_particles != ds->n_particles)
    return eqg_error_set(EQG_EFORMAT, "attribute n_particles = %zu but the data have %zu "
                         "particles", c->n_particles, ds->n_particles);
  if (eqg_nbody_n_frames(c) != ds->n_frames)
    return eqg_error_set(EQG_EFORMAT, "attributes T = %zu, sample_freq = %zu give %zu "
                         "frames but the data have %zu", c->T, c->sample_freq,
                         eqg_nbody_n_frames(c), ds->n_frames);
  return EQG_OK;
}

static eqg_status load_open(eqg_nbody_dataset **out, hid_t file, size_t max_traj)
{
  char got[96], want[96];
  hid_t loc = -1, vel = -1, chg = -1, clp = -1;
  hsize_t dl[4], dv[4], dq[2], dc[1];
  eqg_nbody_dataset *ds = NULL;
  eqg_status st = eqg_h5_open_array(file, "loc", true, EQG_H5_FLOAT, 4,
                                    "(n_traj, n_frames, n_particles, 3)",
                                    &loc, dl);
  if (st != EQG_OK) goto done;
  if (dl[3] != D || dl[1] < 1 || dl[2] < 1) {
    eqg_h5_format_dims(got, sizeof got, 4, dl);
    st = eqg_error_set(EQG_ESHAPE, "dataset '/loc' has shape %s, expected (n_traj, "
                       "n_frames >= 1, n_particles >= 1, 3)", got);
    goto done;
  }
  st = eqg_h5_open_array(file, "vel", true, EQG_H5_FLOAT, 4,
                         "(n_traj, n_frames, n_particles, 3)", &vel, dv);
  if (st != EQG_OK) goto done;
  if (memcmp(dl, dv, sizeof dl) != 0) {
    eqg_h5_format_dims(got, sizeof got, 4, dv);
    eqg_h5_format_dims(want, sizeof want, 4, dl);
    st = eqg_error_set(EQG_ESHAPE, "dataset '/vel' has shape %s but '/loc' has %s", got,
                       want);
    goto done;
  }
  st = eqg_h5_open_array(file, "charges", true, EQG_H5_FLOAT, 2, "(n_traj, n_particles)", &chg,
                         dq);
  if (st != EQG_OK) goto done;
  if (dq[0] != dl[0] || dq[1] != dl[2]) {
    eqg_h5_format_dims(got, sizeof got, 2, dq);
    eqg_h5_format_dims(want, sizeof want, 2, (const hsize_t[2]){ dl[0], dl[2] });
    st = eqg_error_set(EQG_ESHAPE, "dataset '/charges' has shape %s, expected %s "
                       "(n_traj, n_particles of '/loc')", got, want);
    goto done;
  }
  if (eqg_h5_exists(file, "clipped")) {
    st = eqg_h5_open_array(file, "clipped", true, EQG_H5_INTEGER, 1, "(n_traj)", &clp, dc);
    if (st != EQG_OK) goto done;
    if (dc[0] != dl[0]) {
      st = eqg_error_set(EQG_ESHAPE, "dataset '/clipped' has %llu entries, expected %llu "
                         "(n_traj of '/loc')", (unsigned long long)dc[0],
                         (unsigned long long)dl[0]);
      goto done;
    }
  }

  ds = calloc(1, sizeof *ds);
  if (!ds) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory");
    goto done;
  }
  ds->n_traj = max_traj > 0 && max_traj < dl[0] ? max_traj : (size_t)dl[0];
  ds->n_frames = (size_t)dl[1];
  ds->n_particles = (size_t)dl[2];
  eqg_nbody_config_default(&ds->cfg);
  ds->cfg.n_particles = ds->n_particles;
  if (!alloc_arrays(ds)) {
    st = eqg_error_set(EQG_ENOMEM, "out of memory for %zu trajectories", ds->n_traj);
    goto done;
  }
  const hsize_t rows = ds->n_traj;
  uint64_t *clipped = NULL;
  if ((st = read_rows(loc, "loc", REAL_MEM_TYPE, ds->loc, 4, dl, rows)) != EQG_OK ||
      (st = read_rows(vel, "vel", REAL_MEM_TYPE, ds->vel, 4, dv, rows)) != EQG_OK ||
      (st = read_rows(chg, "charges", REAL_MEM_TYPE, ds->charges, 2, dq, rows)) != EQG_OK)
    goto done;
  if (clp >= 0) {
    clipped = malloc((rows ? rows : 1) * sizeof *clipped);
    if (!clipped) {
      st = eqg_error_set(EQG_ENOMEM, "out of memory");
      goto done;
    }
    st = read_rows(clp, "clipped", H5T_NATIVE_UINT64, clipped, 1, dc, rows);
    for (size_t t = 0; st == EQG_OK && t < ds->n_traj; t++) ds->clipped[t] = clipped[t];
    free(clipped);
    if (st != EQG_OK) goto done;
  }

  const size_t per = ds->n_frames * ds->n_particles * D;
  const struct { const char *name; const eqg_real *a; size_t per; } arrays[] = {
    { "loc", ds->loc, per }, { "vel", ds->vel, per }, { "charges", ds->charges, ds->n_particles },
  };
  for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++) {
    size_t bad;
    if (find_nonfinite(arrays[i].a, ds->n_traj, arrays[i].per, &bad)) {
      st = eqg_error_set(EQG_ENONFINITE, "dataset '/%s' has a non-finite value "
                         "(trajectory %zu)", arrays[i].name, bad);
      goto done;
    }
  }
  st = read_attrs(file, ds);
done:
  close_dset(loc);
  close_dset(vel);
  close_dset(chg);
  close_dset(clp);
  if (st != EQG_OK) {
    eqg_nbody_dataset_free(ds);
    ds = NULL;
  }
  *out = ds;
  return st;
}

eqg_status eqg_nbody_dataset_load(eqg_nbody_dataset **out, const char *path, size_t max_traj)
{
  *out = NULL;
  hid_t file;
  eqg_status st = eqg_h5_open(path, false, &file);
  if (st != EQG_OK) return eqg_error_prefix(st, "loading N-body data: ");
  st = load_open(out, file, max_traj);
  eqg_h5_close(file);
  if (st != EQG_OK) return eqg_error_prefix(st, "loading '%s': ", path);
  return EQG_OK;
}
