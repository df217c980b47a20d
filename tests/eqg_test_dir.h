/* eqg_test_dir.h: a fresh temporary directory per test (cmocka fixtures), for
 * the tests that write files (checkpoints, datasets).
 *
 *   static int setup(void **s) { return eqg_test_dir_setup(s, "jets"); }
 *   ... cmocka_unit_test_setup_teardown(test, setup, eqg_test_dir_teardown) ...
 *
 * Teardown fails the test if any HDF5 object is still open (every file,
 * group, dataset and attribute must be closed, on error paths too), then
 * removes the directory's files and the directory. */
#ifndef EQG_TEST_DIR_H
#define EQG_TEST_DIR_H

#include <stddef.h>

typedef struct eqg_test_dir {
  char dir[64];     /* /tmp/eqg_<tag>_XXXXXX */
  char path[128];   /* dir/ck.h5: a default file name */
} eqg_test_dir;

/* *state gets a malloc'd eqg_test_dir with a new directory; -1 on failure. */
int eqg_test_dir_setup(void **state, const char *tag);
int eqg_test_dir_teardown(void **state);

/* out = dir/name */
void eqg_test_dir_join(char *out, size_t size, const eqg_test_dir *d, const char *name);

/* The whole (non-empty) file in a malloc'd buffer, *size its length. */
unsigned char *eqg_test_slurp(const char *path, size_t *size);

#endif
