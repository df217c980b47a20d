/* eqg_test_dir.c: temporary-directory fixtures of the file-writing tests. */
#include "eqg_test_dir.h"

#include <stdarg.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <hdf5.h>

int eqg_test_dir_setup(void **state, const char *tag)
{
  eqg_test_dir *d = calloc(1, sizeof *d);
  if (!d) return -1;
  snprintf(d->dir, sizeof d->dir, "/tmp/eqg_%s_XXXXXX", tag);
  if (!mkdtemp(d->dir)) {
    free(d);
    return -1;
  }
  snprintf(d->path, sizeof d->path, "%s/ck.h5", d->dir);
  *state = d;
  return 0;
}

int eqg_test_dir_teardown(void **state)
{
  eqg_test_dir *d = *state;
  ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open_ids != 0) fprintf(stderr, "%zd HDF5 objects left open\n", open_ids);
  DIR *dir = opendir(d->dir);
  if (dir) {
    struct dirent *e;
    char p[512];
    while ((e = readdir(dir)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
        snprintf(p, sizeof p, "%s/%s", d->dir, e->d_name);
        remove(p);
      }
    closedir(dir);
  }
  int rc = rmdir(d->dir);
  free(d);
  return rc == 0 && open_ids == 0 ? 0 : -1;
}

void eqg_test_dir_join(char *out, size_t size, const eqg_test_dir *d, const char *name)
{
  snprintf(out, size, "%s/%s", d->dir, name);
}

unsigned char *eqg_test_slurp(const char *path, size_t *size)
{
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  long n = ftell(f);
  assert_true(n > 0);
  rewind(f);
  unsigned char *buf = malloc((size_t)n);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *size = (size_t)n;
  return buf;
}
