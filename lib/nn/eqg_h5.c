/* eqg_h5.c: HDF5 helpers with errors routed into eqgnn messages. */
#include "nn/eqg_h5.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(eqg_real) == sizeof(double) || sizeof(eqg_real) == sizeof(float),
               "eqg_real is double or float");
/* Newer HDF5 renamed two functions used here. */
#if H5_VERSION_GE(1, 12, 0)
#define eqg_h5_is_hdf5(path) H5Fis_accessible((path), H5P_DEFAULT)
#define eqg_h5_vlen_free(type, space, buf) H5Treclaim((type), (space), H5P_DEFAULT, (buf))
#else
#define eqg_h5_is_hdf5(path) H5Fis_hdf5(path)
#define eqg_h5_vlen_free(type, space, buf) H5Dvlen_reclaim((type), (space), H5P_DEFAULT, (buf))
#endif

#define EQG_H5_REAL_MEM (sizeof(eqg_real) == sizeof(double) ? H5T_NATIVE_DOUBLE \
                                                             : H5T_NATIVE_FLOAT)

/* ---- error routing --------------------------------------------------------- */

/* While a helper runs, HDF5's automatic error printing is replaced by
 * capture_cb, which HDF5 calls at the moment an API call fails: it copies the
 * most specific description on the error stack into h5_detail, so the detail
 * survives later HDF5 calls (which clear the stack) until eqg_h5_fail() uses it.
 * The caller's own setting is restored afterwards. */
enum { H5_DETAIL_LEN = 384 };
static _Thread_local char h5_detail[H5_DETAIL_LEN];

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
  (void)n;
  char *out = data;
  /* Walking downward goes from the API call to where the error was detected:
   * the last non-empty description is the most specific one. */
  if (e->desc && e->desc[0]) snprintf(out, H5_DETAIL_LEN, "%s", e->desc);
  return 0;
}

static herr_t capture_cb(hid_t estack, void *data)
{
  (void)data;
  char d[H5_DETAIL_LEN] = "";
  H5Ewalk2(estack, H5E_WALK_DOWNWARD, walk_cb, d);
  if (d[0]) {
    for (char *c = d; *c; c++)
      if (*c == '\n' || *c == '\r') *c = ' ';
    memcpy(h5_detail, d, sizeof d);
  }
  return 0;
}

eqg_h5_quiet eqg_h5_quiet_begin(void)
{
  eqg_h5_quiet q = { NULL, NULL };
  H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data);
  H5Eset_auto2(H5E_DEFAULT, capture_cb, NULL);
  h5_detail[0] = '\0';
  return q;
}

void eqg_h5_quiet_end(eqg_h5_quiet q) { H5Eset_auto2(H5E_DEFAULT, q.func, q.data); }

/* An expected failure (probing for a link or attribute): forget it. */
static void h5_forget(void)
{
  H5Eclear2(H5E_DEFAULT);
  h5_detail[0] = '\0';
}

eqg_status eqg_h5_fail(eqg_status s, const char *fmt, ...)
{
  char msg[640];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  H5Eclear2(H5E_DEFAULT);
  if (h5_detail[0]) s = eqg_error_set(s, "%s (HDF5: %s)", msg, h5_detail);
  else s = eqg_error_set(s, "%s", msg);
  h5_detail[0] = '\0';
  return s;
}

static const char *errno_text(int err, char *buf, size_t size)
{
  if (strerror_r(err, buf, size) != 0) snprintf(buf, size, "errno %d", err);
  return buf;
}

/* "/group/name" for messages: the HDF5 path of `loc` joined with `name`. */
static const char *obj_path(hid_t loc, const char *name, char *buf, size_t size)
{
  char base[256] = "";
  ssize_t n = H5Iget_name(loc, base, sizeof base);
  if (n <= 0) snprintf(base, sizeof base, "?");
  if (!name) snprintf(buf, size, "%s", base);
  else if (strcmp(base, "/") == 0) snprintf(buf, size, "/%s", name);
  else snprintf(buf, size, "%s/%s", base, name);
  return buf;
}

void eqg_h5_format_dims(char *buf, size_t size, int rank, const hsize_t *dims)
{
  size_t used = 0;
  buf[0] = '\0';
  if (rank == 0) snprintf(buf, size, "scalar");
  for (int i = 0; i < rank && used < size; i++) {
    const int w = snprintf(buf + used, size - used, "%s%llu", i ? " x " : "",
                           (unsigned long long)dims[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
}

eqg_status eqg_h5_open_array(hid_t loc, const char *name, bool required, unsigned classes,
                             int rank, const char *layout, hid_t *dset, hsize_t *dims)
{
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  eqg_status st = EQG_OK;
  hid_t type = -1, space = -1;
  *dset = -1;
  if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) {
    h5_forget();
    if (required) st = eqg_error_set(EQG_EFORMAT, "no dataset '/%s' %s", name, layout);
    goto done;
  }
  if ((*dset = H5Dopen2(loc, name, H5P_DEFAULT)) < 0) {
    st = eqg_h5_fail(EQG_EFORMAT, "cannot open dataset '/%s'", name);
    goto done;
  }
  if ((type = H5Dget_type(*dset)) < 0 || (space = H5Dget_space(*dset)) < 0) {
    st = eqg_h5_fail(EQG_EFORMAT, "cannot read the type and shape of dataset '/%s'", name);
    goto done;
  }
  const H5T_class_t cls = H5Tget_class(type);
  if (!((cls == H5T_INTEGER && (classes & EQG_H5_INTEGER)) ||
        (cls == H5T_FLOAT && (classes & EQG_H5_FLOAT)))) {
    st = eqg_error_set(EQG_EFORMAT, "dataset '/%s' is not %s", name,
                       classes == EQG_H5_FLOAT ? "floating-point"
                       : classes == EQG_H5_INTEGER ? "integer" : "numeric");
    goto done;
  }
  const int r = H5Sget_simple_extent_ndims(space);
  if (r != rank) {
    st = eqg_error_set(EQG_EFORMAT, "dataset '/%s' has rank %d, expected %d %s", name, r,
                       rank, layout);
    goto done;
  }
  H5Sget_simple_extent_dims(space, dims, NULL);
done:
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  if (st != EQG_OK && *dset >= 0) {
    H5Dclose(*dset);
    *dset = -1;
  }
  eqg_h5_quiet_end(q);
  return st;
}

/* Chunking and compression for eqg_h5_write_array, meant for zero-padded
 * arrays (mostly zeros): byte shuffle and gzip level 1; on the jet datasets
 * level 4 saves only 5% more and writes 1.8x slower. */
static herr_t set_compression(hid_t dcpl, int rank, const hsize_t *dims, hsize_t chunk_rows)
{
  if (chunk_rows == 0 || rank < 2 || dims[0] == 0) return 0;
  hsize_t chunk[H5S_MAX_RANK];
  for (int i = 0; i < rank; i++) chunk[i] = dims[i] ? dims[i] : 1;
  if (chunk[0] > chunk_rows) chunk[0] = chunk_rows;
  if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_shuffle(dcpl) < 0) return -1;
  return H5Pset_deflate(dcpl, 1);
}

eqg_status eqg_h5_write_array(hid_t loc, const char *name, hid_t ftype, hid_t mtype,
                              const void *data, int rank, const hsize_t *dims,
                              hsize_t chunk_rows)
{
  if (rank < 1 || rank > H5S_MAX_RANK)
    return eqg_error_set(EQG_EINVAL, "dataset '/%s': rank %d is not in 1..%d", name, rank,
                         H5S_MAX_RANK);
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  eqg_status st = EQG_OK;
  hid_t space = -1, dcpl = -1, dset = -1;
  hsize_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  if ((space = H5Screate_simple(rank, dims, NULL)) < 0 ||
      (dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 ||
      H5Pset_obj_track_times(dcpl, false) < 0 ||
      set_compression(dcpl, rank, dims, chunk_rows) < 0 ||
      (dset = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0)
    st = eqg_h5_fail(EQG_EIO, "cannot create dataset '/%s'", name);
  else if (n > 0 && H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    st = eqg_h5_fail(EQG_EIO, "cannot write dataset '/%s'", name);
  if (dset >= 0) H5Dclose(dset);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (space >= 0) H5Sclose(space);
  eqg_h5_quiet_end(q);
  return st;
}

eqg_status eqg_h5_read_block(hid_t dset, const char *name, hid_t mtype, void *data, int rank,
                             const hsize_t *count)
{
  if (rank < 1 || rank > H5S_MAX_RANK)
    return eqg_error_set(EQG_EINVAL, "dataset '/%s': rank %d is not in 1..%d", name, rank,
                         H5S_MAX_RANK);
  hsize_t start[H5S_MAX_RANK] = { 0 }, n = 1;
  for (int i = 0; i < rank; i++) n *= count[i];
  if (n == 0) return EQG_OK;
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  eqg_status st = EQG_OK;
  hid_t fspace = -1, mspace = -1;
  if ((fspace = H5Dget_space(dset)) < 0 ||
      H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
      (mspace = H5Screate_simple(rank, count, NULL)) < 0 ||
      H5Dread(dset, mtype, mspace, fspace, H5P_DEFAULT, data) < 0)
    st = eqg_h5_fail(EQG_EFORMAT, "cannot read dataset '/%s'", name);
  if (mspace >= 0) H5Sclose(mspace);
  if (fspace >= 0) H5Sclose(fspace);
  eqg_h5_quiet_end(q);
  return st;
}

/* ---- files and objects ----------------------------------------------------- */

static hid_t fapl_strong(void)
{
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0 && H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
    H5Pclose(fapl);
    return -1;
  }
  return fapl;
}

eqg_status eqg_h5_open(const char *path, bool writable, hid_t *file)
{
  char eb[128];
  *file = -1;
  int fd = open(path, writable ? O_RDWR : O_RDONLY);
  if (fd < 0)
    return eqg_error_set(EQG_EIO, "cannot open '%s': %s", path,
                         errno_text(errno, eb, sizeof eb));
  struct stat sb;
  bool is_dir = fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode);
  close(fd);
  if (is_dir) return eqg_error_set(EQG_EIO, "cannot open '%s': it is a directory", path);

  eqg_h5_quiet q = eqg_h5_quiet_begin();
  eqg_status st = EQG_OK;
  htri_t is = eqg_h5_is_hdf5(path);
  if (is == 0) {
    st = eqg_error_set(EQG_EFORMAT, "'%s' is not an HDF5 file", path);
  } else if (is < 0) {
    st = eqg_h5_fail(EQG_EIO, "cannot open '%s'", path);
  } else {
    hid_t fapl = fapl_strong();
    if (fapl < 0) {
      st = eqg_h5_fail(EQG_ENOMEM, "cannot open '%s'", path);
    } else {
      *file = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
      if (*file < 0) st = eqg_h5_fail(EQG_EFORMAT, "cannot open HDF5 file '%s'", path);
      H5Pclose(fapl);
    }
  }
  eqg_h5_quiet_end(q);
  return st;
}

eqg_status eqg_h5_create_tmp(const char *path, hid_t *file, char **tmp)
{
  *file = -1;
  *tmp = NULL;
  size_t len = strlen(path) + 32;
  char *t = malloc(len);
  if (!t) return eqg_error_set(EQG_ENOMEM, "cannot create '%s': out of memory", path);
  snprintf(t, len, "%s.tmp.%ld", path, (long)getpid());

  eqg_h5_quiet q = eqg_h5_quiet_begin();
  eqg_status st = EQG_OK;
  hid_t fapl = fapl_strong();
  hid_t f = fapl < 0 ? -1 : H5Fcreate(t, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (fapl >= 0) H5Pclose(fapl);
  if (f < 0) st = eqg_h5_fail(EQG_EIO, "cannot create '%s'", t);
  eqg_h5_quiet_end(q);
  if (st != EQG_OK) {
    remove(t);
    free(t);
    return st;
  }
  *file = f;
  *tmp = t;
  return EQG_OK;
}

/* Best effort: make the rename itself durable. */
static void fsync_parent_dir(const char *path)
{
  const char *slash = strrchr(path, '/');
  char *dir = NULL;
  if (!slash) dir = strdup(".");
  else if (slash == path) dir = strdup("/");
  else {
    size_t n = (size_t)(slash - path);
    dir = malloc(n + 1);
    if (dir) {
      memcpy(dir, path, n);
      dir[n] = '\0';
    }
  }
  if (!dir) return;
  int fd = open(dir, O_RDONLY);
  if (fd >= 0) {
    (void)fsync(fd);   /* some file systems refuse fsync on directories */
    close(fd);
  }
  free(dir);
}

eqg_status eqg_h5_commit(hid_t file, char *tmp, const char *path)
{
  char eb[128];
  eqg_status st = EQG_OK;
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  if (H5Fclose(file) < 0) st = eqg_h5_fail(EQG_EIO, "cannot close '%s'", tmp);
  eqg_h5_quiet_end(q);
  if (st != EQG_OK) goto fail;

  int fd = open(tmp, O_RDWR);
  if (fd < 0) {
    st = eqg_error_set(EQG_EIO, "cannot reopen '%s': %s", tmp, errno_text(errno, eb, sizeof eb));
    goto fail;
  }
  if (fsync(fd) != 0) {
    st = eqg_error_set(EQG_EIO, "cannot sync '%s': %s", tmp, errno_text(errno, eb, sizeof eb));
    close(fd);
    goto fail;
  }
  if (close(fd) != 0) {
    st = eqg_error_set(EQG_EIO, "cannot close '%s': %s", tmp, errno_text(errno, eb, sizeof eb));
    goto fail;
  }
  if (rename(tmp, path) != 0) {
    st = eqg_error_set(EQG_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                       errno_text(errno, eb, sizeof eb));
    goto fail;
  }
  fsync_parent_dir(path);
  free(tmp);
  return EQG_OK;
fail:
  remove(tmp);
  free(tmp);
  return st;
}

void eqg_h5_discard(hid_t file, char *tmp)
{
  if (file >= 0) {
    eqg_h5_quiet q = eqg_h5_quiet_begin();
    H5Fclose(file);
    h5_forget();
    eqg_h5_quiet_end(q);
  }
  if (tmp) {
    remove(tmp);
    free(tmp);
  }
}

eqg_status eqg_h5_close(hid_t id)
{
  if (id < 0) return EQG_OK;
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  herr_t rc;
  switch (H5Iget_type(id)) {
  case H5I_FILE: rc = H5Fclose(id); break;
  case H5I_GROUP: rc = H5Gclose(id); break;
  case H5I_DATASET: rc = H5Dclose(id); break;
  case H5I_ATTR: rc = H5Aclose(id); break;
  case H5I_DATASPACE: rc = H5Sclose(id); break;
  case H5I_DATATYPE: rc = H5Tclose(id); break;
  case H5I_GENPROP_LST: rc = H5Pclose(id); break;
  default: rc = -1; break;
  }
  eqg_status st = rc < 0 ? eqg_h5_fail(EQG_EIO, "cannot close HDF5 object %lld", (long long)id)
                         : EQG_OK;
  eqg_h5_quiet_end(q);
  return st;
}

hid_t eqg_h5_group_create(hid_t loc, const char *name)
{
  char pb[512];
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) eqg_h5_fail(EQG_EIO, "cannot create group '%s'", obj_path(loc, name, pb, sizeof pb));
  eqg_h5_quiet_end(q);
  return g;
}

hid_t eqg_h5_group_open(hid_t loc, const char *name)
{
  char pb[512];
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  hid_t g = -1;
  if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) {
    h5_forget();
    eqg_error_set(EQG_EFORMAT, "no group '%s'", obj_path(loc, name, pb, sizeof pb));
  } else {
    g = H5Gopen2(loc, name, H5P_DEFAULT);
    if (g < 0) eqg_h5_fail(EQG_EFORMAT, "cannot open group '%s'", obj_path(loc, name, pb, sizeof pb));
  }
  eqg_h5_quiet_end(q);
  return g;
}

bool eqg_h5_exists(hid_t loc, const char *name)
{
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  htri_t e = H5Lexists(loc, name, H5P_DEFAULT);
  if (e < 0) h5_forget();
  eqg_h5_quiet_end(q);
  return e > 0;
}

eqg_status eqg_h5_link_count(hid_t group, size_t *n)
{
  char pb[512];
  *n = 0;
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  H5G_info_t info;
  eqg_status st = EQG_OK;
  if (H5Gget_info(group, &info) < 0)
    st = eqg_h5_fail(EQG_EFORMAT, "cannot list group '%s'", obj_path(group, NULL, pb, sizeof pb));
  else
    *n = (size_t)info.nlinks;
  eqg_h5_quiet_end(q);
  return st;
}

char *eqg_h5_link_name(hid_t group, size_t i)
{
  char pb[512];
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  char *name = NULL;
  ssize_t len = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i,
                                   NULL, 0, H5P_DEFAULT);
  if (len < 0) {
    eqg_h5_fail(EQG_EFORMAT, "cannot read link %zu of group '%s'", i,
            obj_path(group, NULL, pb, sizeof pb));
  } else if (!(name = malloc((size_t)len + 1))) {
    eqg_error_set(EQG_ENOMEM, "link name: out of memory");
  } else if (H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i,
                                name, (size_t)len + 1, H5P_DEFAULT) < 0) {
    eqg_h5_fail(EQG_EFORMAT, "cannot read link %zu of group '%s'", i,
            obj_path(group, NULL, pb, sizeof pb));
    free(name);
    name = NULL;
  }
  eqg_h5_quiet_end(q);
  return name;
}

/* ---- datasets ---------------------------------------------------------------- */

/* Remove an existing link so writing replaces it (quiet mode is on). */
static eqg_status unlink_existing(hid_t loc, const char *name, const char *what)
{
  char pb[512];
  htri_t e = H5Lexists(loc, name, H5P_DEFAULT);
  if (e < 0)
    return eqg_h5_fail(EQG_EIO, "cannot write %s '%s'", what, obj_path(loc, name, pb, sizeof pb));
  if (e > 0 && H5Ldelete(loc, name, H5P_DEFAULT) < 0)
    return eqg_h5_fail(EQG_EIO, "cannot replace %s '%s'", what, obj_path(loc, name, pb, sizeof pb));
  return EQG_OK;
}

static eqg_status write_array(hid_t loc, const char *name, const eqg_real *data,
                              int rank, const hsize_t *dims)
{
  char pb[512];
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  hid_t space = -1, dset = -1;
  eqg_status st = unlink_existing(loc, name, "dataset");
  if (st != EQG_OK) goto done;
  space = H5Screate_simple(rank, dims, NULL);
  if (space < 0) {
    st = eqg_h5_fail(EQG_EIO, "cannot write dataset '%s'", obj_path(loc, name, pb, sizeof pb));
    goto done;
  }
  dset = H5Dcreate2(loc, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (dset < 0) {
    st = eqg_h5_fail(EQG_EIO, "cannot create dataset '%s'", obj_path(loc, name, pb, sizeof pb));
    goto done;
  }
  hsize_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  if (n > 0 && H5Dwrite(dset, EQG_H5_REAL_MEM, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    st = eqg_h5_fail(EQG_EIO, "cannot write dataset '%s'", obj_path(loc, name, pb, sizeof pb));
done:
  if (dset >= 0) H5Dclose(dset);
  if (space >= 0) H5Sclose(space);
  eqg_h5_quiet_end(q);
  return st;
}

eqg_status eqg_h5_write_matrix(hid_t loc, const char *name, const eqg_real *data,
                               size_t rows, size_t cols)
{
  const hsize_t dims[2] = { rows, cols };
  return write_array(loc, name, data, 2, dims);
}

eqg_status eqg_h5_write_vector(hid_t loc, const char *name, const eqg_real *data, size_t n)
{
  const hsize_t dims[1] = { n };
  return write_array(loc, name, data, 1, dims);
}

/* Open dataset `name`, checking it exists (quiet mode is on). */
static eqg_status open_dataset(hid_t loc, const char *name, hid_t *dset)
{
  char pb[512];
  *dset = -1;
  htri_t e = H5Lexists(loc, name, H5P_DEFAULT);
  if (e <= 0) {
    h5_forget();
    return eqg_error_set(EQG_EFORMAT, "no dataset '%s'", obj_path(loc, name, pb, sizeof pb));
  }
  *dset = H5Dopen2(loc, name, H5P_DEFAULT);
  if (*dset < 0)
    return eqg_h5_fail(EQG_EFORMAT, "cannot open dataset '%s'", obj_path(loc, name, pb, sizeof pb));
  return EQG_OK;
}

/* Rank and dims of an open dataset (quiet mode is on). */
static eqg_status dataset_dims(hid_t dset, const char *name, int *rank, hsize_t dims[2])
{
  char pb[512];
  hid_t space = H5Dget_space(dset);
  if (space < 0) return eqg_h5_fail(EQG_EFORMAT, "cannot read the shape of dataset '%s'", name);
  int r = H5Sget_simple_extent_ndims(space);
  eqg_status st = EQG_OK;
  if (r < 0) {
    st = eqg_h5_fail(EQG_EFORMAT, "cannot read the shape of dataset '%s'",
                 obj_path(dset, NULL, pb, sizeof pb));
  } else if (r < 1 || r > 2) {
    st = eqg_error_set(EQG_EFORMAT, "dataset '%s' has rank %d, expected 1 or 2",
                       obj_path(dset, NULL, pb, sizeof pb), r);
  } else {
    H5Sget_simple_extent_dims(space, dims, NULL);
    if (r == 1) dims[1] = 1;
    *rank = r;
  }
  H5Sclose(space);
  return st;
}

eqg_status eqg_h5_dataset_shape(hid_t loc, const char *name, int *rank, size_t dims[2])
{
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  hid_t dset;
  hsize_t d[2] = { 0, 0 };
  eqg_status st = open_dataset(loc, name, &dset);
  if (st == EQG_OK) st = dataset_dims(dset, name, rank, d);
  if (dset >= 0) H5Dclose(dset);
  eqg_h5_quiet_end(q);
  if (st == EQG_OK) {
    dims[0] = (size_t)d[0];
    dims[1] = (size_t)d[1];
  }
  return st;
}

static eqg_status read_array(hid_t loc, const char *name, eqg_real *data,
                             int rank, const hsize_t *want)
{
  char pb[512], got_s[64], want_s[64];
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  hid_t dset, type = -1;
  int r = 0;
  hsize_t d[2] = { 0, 0 };
  eqg_status st = open_dataset(loc, name, &dset);
  if (st != EQG_OK) goto done;
  type = H5Dget_type(dset);
  if (type < 0) {
    st = eqg_h5_fail(EQG_EFORMAT, "cannot read the type of dataset '%s'",
                 obj_path(loc, name, pb, sizeof pb));
    goto done;
  }
  if (H5Tget_class(type) != H5T_FLOAT) {
    st = eqg_error_set(EQG_EFORMAT, "dataset '%s' is not floating-point",
                       obj_path(loc, name, pb, sizeof pb));
    goto done;
  }
  st = dataset_dims(dset, name, &r, d);
  if (st != EQG_OK) goto done;
  if (r != rank || d[0] != want[0] || (rank == 2 && d[1] != want[1])) {
    eqg_h5_format_dims(got_s, sizeof got_s, r, d);
    eqg_h5_format_dims(want_s, sizeof want_s, rank, want);
    st = eqg_error_set(EQG_ESHAPE, "dataset '%s' has shape %s, expected %s",
                       obj_path(loc, name, pb, sizeof pb), got_s, want_s);
    goto done;
  }
  hsize_t n = rank == 2 ? d[0] * d[1] : d[0];
  if (n > 0 && H5Dread(dset, EQG_H5_REAL_MEM, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    st = eqg_h5_fail(EQG_EFORMAT, "cannot read dataset '%s'", obj_path(loc, name, pb, sizeof pb));
done:
  if (type >= 0) H5Tclose(type);
  if (dset >= 0) H5Dclose(dset);
  eqg_h5_quiet_end(q);
  return st;
}

eqg_status eqg_h5_read_matrix(hid_t loc, const char *name, eqg_real *data,
                              size_t rows, size_t cols)
{
  const hsize_t want[2] = { rows, cols };
  return read_array(loc, name, data, 2, want);
}

eqg_status eqg_h5_read_vector(hid_t loc, const char *name, eqg_real *data, size_t n)
{
  const hsize_t want[1] = { n };
  return read_array(loc, name, data, 1, want);
}

/* ---- attributes ---------------------------------------------------------------- */

bool eqg_h5_has_attr(hid_t obj, const char *name)
{
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  htri_t e = H5Aexists(obj, name);
  if (e < 0) h5_forget();
  eqg_h5_quiet_end(q);
  return e > 0;
}

static eqg_status write_attr(hid_t obj, const char *name, hid_t file_type, hid_t mem_type,
                             const void *value)
{
  char pb[512];
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  hid_t space = -1, attr = -1;
  eqg_status st = EQG_OK;
  htri_t e = H5Aexists(obj, name);
  if (e < 0 || (e > 0 && H5Adelete(obj, name) < 0)) {
    st = eqg_h5_fail(EQG_EIO, "cannot replace attribute '%s' of '%s'", name,
                 obj_path(obj, NULL, pb, sizeof pb));
    goto done;
  }
  space = H5Screate(H5S_SCALAR);
  attr = space < 0 ? -1 : H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0 || H5Awrite(attr, mem_type, value) < 0)
    st = eqg_h5_fail(EQG_EIO, "cannot write attribute '%s' of '%s'", name,
                 obj_path(obj, NULL, pb, sizeof pb));
done:
  if (attr >= 0) H5Aclose(attr);
  if (space >= 0) H5Sclose(space);
  eqg_h5_quiet_end(q);
  return st;
}

eqg_status eqg_h5_write_attr_int(hid_t obj, const char *name, int v)
{
  return write_attr(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT, &v);
}

eqg_status eqg_h5_write_attr_long(hid_t obj, const char *name, long v)
{
  return write_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_LONG, &v);
}

eqg_status eqg_h5_write_attr_ulong(hid_t obj, const char *name, unsigned long v)
{
  return write_attr(obj, name, H5T_STD_U64LE, H5T_NATIVE_ULONG, &v);
}

eqg_status eqg_h5_write_attr_double(hid_t obj, const char *name, double v)
{
  return write_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

eqg_status eqg_h5_write_attr_string(hid_t obj, const char *name, const char *s)
{
  char pb[512];
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  hid_t type = H5Tcopy(H5T_C_S1);
  eqg_status st = EQG_OK;
  if (type < 0 || H5Tset_size(type, strlen(s) + 1) < 0 ||
      H5Tset_strpad(type, H5T_STR_NULLTERM) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0)
    st = eqg_h5_fail(EQG_EIO, "cannot write attribute '%s' of '%s'", name,
                 obj_path(obj, NULL, pb, sizeof pb));
  eqg_h5_quiet_end(q);
  if (st == EQG_OK) st = write_attr(obj, name, type, type, s);
  if (type >= 0) eqg_h5_close(type);
  return st;
}

/* Open attribute `name` holding exactly one element; *type gets its file type
 * (quiet mode is on). */
static eqg_status open_attr(hid_t obj, const char *name, hid_t *attr, hid_t *type)
{
  char pb[512];
  *attr = *type = -1;
  htri_t e = H5Aexists(obj, name);
  if (e <= 0) {
    h5_forget();
    return eqg_error_set(EQG_EFORMAT, "no attribute '%s' on '%s'", name,
                         obj_path(obj, NULL, pb, sizeof pb));
  }
  *attr = H5Aopen(obj, name, H5P_DEFAULT);
  if (*attr < 0)
    return eqg_h5_fail(EQG_EFORMAT, "cannot open attribute '%s' of '%s'", name,
                   obj_path(obj, NULL, pb, sizeof pb));
  hid_t space = H5Aget_space(*attr);
  hssize_t npoints = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
  if (space >= 0) H5Sclose(space);
  if (npoints != 1)
    return eqg_error_set(EQG_EFORMAT, "attribute '%s' of '%s' is not a single value", name,
                         obj_path(obj, NULL, pb, sizeof pb));
  *type = H5Aget_type(*attr);
  if (*type < 0)
    return eqg_h5_fail(EQG_EFORMAT, "cannot read the type of attribute '%s' of '%s'", name,
                   obj_path(obj, NULL, pb, sizeof pb));
  return EQG_OK;
}

static void close_attr(hid_t attr, hid_t type)
{
  if (type >= 0) H5Tclose(type);
  if (attr >= 0) H5Aclose(attr);
}

/* Integer attribute as a 64-bit value of its own signedness. */
static eqg_status read_attr_integer(hid_t obj, const char *name, bool *is_signed,
                                    long long *sv, unsigned long long *uv)
{
  char pb[512];
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  hid_t attr, type;
  eqg_status st = open_attr(obj, name, &attr, &type);
  if (st != EQG_OK) goto done;
  if (H5Tget_class(type) != H5T_INTEGER) {
    st = eqg_error_set(EQG_EFORMAT, "attribute '%s' of '%s' is not an integer", name,
                       obj_path(obj, NULL, pb, sizeof pb));
    goto done;
  }
  *is_signed = H5Tget_sign(type) != H5T_SGN_NONE;
  herr_t rc = *is_signed ? H5Aread(attr, H5T_NATIVE_LLONG, sv)
                         : H5Aread(attr, H5T_NATIVE_ULLONG, uv);
  if (rc < 0)
    st = eqg_h5_fail(EQG_EFORMAT, "cannot read attribute '%s' of '%s'", name,
                 obj_path(obj, NULL, pb, sizeof pb));
done:
  close_attr(attr, type);
  eqg_h5_quiet_end(q);
  return st;
}

static eqg_status read_attr_ranged(hid_t obj, const char *name, long long lo,
                                   unsigned long long hi, long long *sv,
                                   unsigned long long *uv, bool *neg)
{
  char pb[512];
  bool is_signed = true;
  long long s = 0;
  unsigned long long u = 0;
  eqg_status st = read_attr_integer(obj, name, &is_signed, &s, &u);
  if (st != EQG_OK) return st;
  *neg = is_signed && s < 0;
  bool ok = is_signed ? (s >= lo && (s < 0 || (unsigned long long)s <= hi)) : u <= hi;
  if (!ok) {
    eqg_h5_quiet q = eqg_h5_quiet_begin();
    obj_path(obj, NULL, pb, sizeof pb);
    eqg_h5_quiet_end(q);
    if (is_signed)
      return eqg_error_set(EQG_ERANGE, "attribute '%s' of '%s' = %lld is out of range",
                           name, pb, s);
    return eqg_error_set(EQG_ERANGE, "attribute '%s' of '%s' = %llu is out of range",
                         name, pb, u);
  }
  *sv = is_signed ? s : (long long)0;
  *uv = is_signed ? (s < 0 ? 0 : (unsigned long long)s) : u;
  return EQG_OK;
}

eqg_status eqg_h5_read_attr_int(hid_t obj, const char *name, int *v)
{
  long long s;
  unsigned long long u;
  bool neg;
  eqg_status st = read_attr_ranged(obj, name, INT_MIN, INT_MAX, &s, &u, &neg);
  if (st == EQG_OK) *v = neg ? (int)s : (int)u;
  return st;
}

eqg_status eqg_h5_read_attr_long(hid_t obj, const char *name, long *v)
{
  long long s;
  unsigned long long u;
  bool neg;
  eqg_status st = read_attr_ranged(obj, name, LONG_MIN, LONG_MAX, &s, &u, &neg);
  if (st == EQG_OK) *v = neg ? (long)s : (long)u;
  return st;
}

eqg_status eqg_h5_read_attr_ulong(hid_t obj, const char *name, unsigned long *v)
{
  long long s;
  unsigned long long u;
  bool neg;
  eqg_status st = read_attr_ranged(obj, name, 0, ULONG_MAX, &s, &u, &neg);
  if (st == EQG_OK) *v = (unsigned long)u;
  return st;
}

eqg_status eqg_h5_read_attr_double(hid_t obj, const char *name, double *v)
{
  char pb[512];
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  hid_t attr, type;
  eqg_status st = open_attr(obj, name, &attr, &type);
  if (st != EQG_OK) goto done;
  H5T_class_t cls = H5Tget_class(type);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
    st = eqg_error_set(EQG_EFORMAT, "attribute '%s' of '%s' is not a number", name,
                       obj_path(obj, NULL, pb, sizeof pb));
    goto done;
  }
  if (H5Aread(attr, H5T_NATIVE_DOUBLE, v) < 0)
    st = eqg_h5_fail(EQG_EFORMAT, "cannot read attribute '%s' of '%s'", name,
                 obj_path(obj, NULL, pb, sizeof pb));
done:
  close_attr(attr, type);
  eqg_h5_quiet_end(q);
  return st;
}

eqg_status eqg_h5_read_attr_string(hid_t obj, const char *name, char **s)
{
  char pb[512];
  *s = NULL;
  eqg_h5_quiet q = eqg_h5_quiet_begin();
  hid_t attr, type, mem = -1, space = -1;
  char *out = NULL;
  eqg_status st = open_attr(obj, name, &attr, &type);
  if (st != EQG_OK) goto done;
  if (H5Tget_class(type) != H5T_STRING) {
    st = eqg_error_set(EQG_EFORMAT, "attribute '%s' of '%s' is not a string", name,
                       obj_path(obj, NULL, pb, sizeof pb));
    goto done;
  }
  htri_t vlen = H5Tis_variable_str(type);
  if (vlen > 0) {
    mem = H5Tcopy(H5T_C_S1);
    space = H5Aget_space(attr);
    char *v = NULL;
    if (mem < 0 || space < 0 || H5Tset_size(mem, H5T_VARIABLE) < 0 ||
        H5Aread(attr, mem, &v) < 0) {
      st = eqg_h5_fail(EQG_EFORMAT, "cannot read attribute '%s' of '%s'", name,
                   obj_path(obj, NULL, pb, sizeof pb));
      goto done;
    }
    out = strdup(v ? v : "");
    eqg_h5_vlen_free(mem, space, &v);
  } else if (vlen == 0) {
    size_t size = H5Tget_size(type);
    mem = H5Tcopy(type);
    out = calloc(size + 1, 1);
    if (out && (mem < 0 || H5Aread(attr, mem, out) < 0)) {
      st = eqg_h5_fail(EQG_EFORMAT, "cannot read attribute '%s' of '%s'", name,
                   obj_path(obj, NULL, pb, sizeof pb));
      goto done;
    }
    if (out && H5Tget_strpad(type) == H5T_STR_SPACEPAD) {
      size_t n = strlen(out);
      while (n > 0 && out[n - 1] == ' ') out[--n] = '\0';
    }
  } else {
    st = eqg_h5_fail(EQG_EFORMAT, "cannot read attribute '%s' of '%s'", name,
                 obj_path(obj, NULL, pb, sizeof pb));
    goto done;
  }
  if (!out) st = eqg_error_set(EQG_ENOMEM, "attribute '%s': out of memory", name);
done:
  if (st != EQG_OK) {
    free(out);
    out = NULL;
  }
  if (space >= 0) H5Sclose(space);
  if (mem >= 0) H5Tclose(mem);
  close_attr(attr, type);
  eqg_h5_quiet_end(q);
  *s = out;
  return st;
}
