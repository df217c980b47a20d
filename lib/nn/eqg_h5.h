/* eqg_h5.h: small HDF5 helpers for checkpoints, datasets and result files.
 *
 * Every helper turns off HDF5's automatic error printing while it runs (and
 * restores the caller's setting afterwards), and on failure walks HDF5's error
 * stack into the eqgnn message: "<what eqgnn was doing> (HDF5: <innermost
 * HDF5 description>)".  So the library never prints; callers read
 * eqg_error_message().  Functions returning hid_t give a negative id on failure.
 *
 * Numbers are stored as IEEE float64 little-endian whatever eqg_real is; the
 * memory type follows eqg_real, and HDF5 converts.
 *
 * Atomic writes: eqg_h5_create_tmp() creates "<path>.tmp.<pid>";
 * eqg_h5_commit() closes it, fsyncs it and rename()s it over `path`, so a
 * killed run never leaves a half-written file under the final name (at worst a
 * stale "*.tmp.<pid>").  On any error the temporary file is removed. */
#ifndef EQG_H5_H
#define EQG_H5_H

#include <hdf5.h>

#include "core/eqg_core.h"

/* ---- files and objects ---------------------------------------------------- */

/* Open an existing file.  Missing or unreadable file: EQG_EIO naming the path
 * and errno's text; a file that is not HDF5 or is damaged (truncated):
 * EQG_EFORMAT.  Objects still open when the file is closed are closed with it. */
eqg_status eqg_h5_open(const char *path, bool writable, hid_t *file);

/* Create "<path>.tmp.<pid>" (truncating a stale one) for writing.  *tmp gets
 * the malloc'd temporary name, owned by commit/discard. */
eqg_status eqg_h5_create_tmp(const char *path, hid_t *file, char **tmp);
/* Close `file`, fsync `tmp`, rename it over `path`, fsync the directory.  Always
 * consumes `file` and `tmp`; on failure `tmp` is removed and `path` untouched. */
eqg_status eqg_h5_commit(hid_t file, char *tmp, const char *path);
/* Error path: close `file`, remove and free `tmp` (negative file / NULL ok). */
void eqg_h5_discard(hid_t file, char *tmp);

/* Close any file, group, dataset, attribute, dataspace or datatype id;
 * negative ids are ignored. */
eqg_status eqg_h5_close(hid_t id);

hid_t eqg_h5_group_create(hid_t loc, const char *name);
hid_t eqg_h5_group_open(hid_t loc, const char *name);

/* Does the link `name` exist in `loc`?  (false on any error, never prints) */
bool eqg_h5_exists(hid_t loc, const char *name);

/* Number of links in a group, and the malloc'd name of link i (name order). */
eqg_status eqg_h5_link_count(hid_t group, size_t *n);
char *eqg_h5_link_name(hid_t group, size_t i);

/* ---- datasets ------------------------------------------------------------- */

/* (rows, cols) float64 dataset; replaces an existing link of that name. */
eqg_status eqg_h5_write_matrix(hid_t loc, const char *name, const eqg_real *data,
                               size_t rows, size_t cols);
/* (n) float64 dataset; replaces an existing link of that name. */
eqg_status eqg_h5_write_vector(hid_t loc, const char *name, const eqg_real *data,
                               size_t n);

/* Rank (1 or 2; anything else is EQG_EFORMAT) and dims of a dataset; for rank 1
 * dims[1] is set to 1. */
eqg_status eqg_h5_dataset_shape(hid_t loc, const char *name, int *rank,
                                size_t dims[2]);

/* Read a rank-2 (rows, cols) / rank-1 (n) floating-point dataset into `data`.
 * Another rank or shape or a non-float type: EQG_ESHAPE / EQG_EFORMAT with
 * both shapes in the message.  Values are not checked for NaN/Inf here. */
eqg_status eqg_h5_read_matrix(hid_t loc, const char *name, eqg_real *data,
                              size_t rows, size_t cols);
eqg_status eqg_h5_read_vector(hid_t loc, const char *name, eqg_real *data, size_t n);

/* ---- attributes (on a file, group or dataset; writing replaces) ------------ */

bool eqg_h5_has_attr(hid_t obj, const char *name);

eqg_status eqg_h5_write_attr_int(hid_t obj, const char *name, int v);
eqg_status eqg_h5_write_attr_long(hid_t obj, const char *name, long v);
eqg_status eqg_h5_write_attr_ulong(hid_t obj, const char *name, unsigned long v);
eqg_status eqg_h5_write_attr_double(hid_t obj, const char *name, double v);
/* Fixed-length, NUL-padded ASCII/UTF-8 string. */
eqg_status eqg_h5_write_attr_string(hid_t obj, const char *name, const char *s);

/* Reading checks the attribute is a scalar (or one element) of the right class:
 * integers must be HDF5 integers and fit the C type (EQG_ERANGE otherwise);
 * doubles may be stored as float or integer.  A missing attribute is
 * EQG_EFORMAT "no attribute 'name'". */
eqg_status eqg_h5_read_attr_int(hid_t obj, const char *name, int *v);
eqg_status eqg_h5_read_attr_long(hid_t obj, const char *name, long *v);
eqg_status eqg_h5_read_attr_ulong(hid_t obj, const char *name, unsigned long *v);
eqg_status eqg_h5_read_attr_double(hid_t obj, const char *name, double *v);
/* Fixed- or variable-length string attribute; *s is malloc'd (free() it). */
eqg_status eqg_h5_read_attr_string(hid_t obj, const char *name, char **s);

/* ---- for code that calls the HDF5 C API itself (rank > 2, integer types) ----
 * eqg_h5_quiet_begin() turns HDF5's error printing off and captures the most
 * specific description of the next failing call; eqg_h5_fail(), right after
 * that call, records "<fmt ...> (HDF5: <description>)" and returns s;
 * eqg_h5_quiet_end() restores the caller's setting. */
typedef struct eqg_h5_quiet {
  H5E_auto2_t func;
  void *data;
} eqg_h5_quiet;

eqg_h5_quiet eqg_h5_quiet_begin(void);
void eqg_h5_quiet_end(eqg_h5_quiet q);
eqg_status eqg_h5_fail(eqg_status s, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
/* Open dataset `name` of `loc` with rank `rank` and elements of a class in
 * `classes` (EQG_H5_INTEGER | EQG_H5_FLOAT); dims (rank entries) gets its
 * shape and *dset stays open for the caller.  `layout` names the axes in
 * messages, e.g. "(n_traj, n_particles)".  A missing dataset is EQG_EFORMAT if
 * `required`, else EQG_OK with *dset = -1; a wrong class or rank EQG_EFORMAT. */
enum { EQG_H5_INTEGER = 1, EQG_H5_FLOAT = 2 };
eqg_status eqg_h5_open_array(hid_t loc, const char *name, bool required, unsigned classes,
                             int rank, const char *layout, hid_t *dset, hsize_t *dims);
/* Create dataset `name` of `loc` with file type `ftype` and shape dims (rank
 * 1..H5S_MAX_RANK) and write `data` (memory type `mtype`; not read when the
 * shape has no element).  No modification times are stored, so equal data
 * give byte-identical files.  chunk_rows > 0, rank >= 2 and dims[0] > 0:
 * chunks of chunk_rows along axis 0 (fewer if there are fewer), byte shuffle
 * and gzip level 1, which every HDF5 / h5py build reads; else contiguous. */
eqg_status eqg_h5_write_array(hid_t loc, const char *name, hid_t ftype, hid_t mtype,
                              const void *data, int rank, const hsize_t *dims,
                              hsize_t chunk_rows);
/* Read the block [0, count) of the open dataset `dset` (rank `rank`, named
 * `name` in messages) into `data` as memory type `mtype`: EQG_EFORMAT if HDF5
 * cannot (block outside the dataset, no conversion).  An empty block reads
 * nothing. */
eqg_status eqg_h5_read_block(hid_t dset, const char *name, hid_t mtype, void *data, int rank,
                             const hsize_t *count);

/* "3 x 200 x 4" (rank 0: "scalar") into buf. */
void eqg_h5_format_dims(char *buf, size_t size, int rank, const hsize_t *dims);

#endif
