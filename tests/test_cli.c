/* test_cli.c: the experiment helpers: usage errors, strict number parsing,
 * atomic CSV, provenance attributes, the progress bar and the small helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "eqg_cli.h"

static void assert_message_has(const char *word)
{
  if (!strstr(eqg_error_message(), word))
    fail_msg("message \"%s\" lacks \"%s\"", eqg_error_message(), word);
}

/* ---- usage errors ---------------------------------------------------------------- */

/* stderr (fd 2) redirected into a temporary file between capture_begin() and
 * capture_end(), which returns what was written. */
static FILE *capture_file;
static int capture_saved_fd = -1;

static void capture_begin(void)
{
  fflush(stderr);
  capture_file = tmpfile();
  assert_non_null(capture_file);
  capture_saved_fd = dup(STDERR_FILENO);
  assert_true(capture_saved_fd >= 0);
  assert_true(dup2(fileno(capture_file), STDERR_FILENO) >= 0);
}

static const char *capture_end(void)
{
  static char buf[4096];
  fflush(stderr);
  dup2(capture_saved_fd, STDERR_FILENO);
  close(capture_saved_fd);
  capture_saved_fd = -1;
  rewind(capture_file);
  size_t n = fread(buf, 1, sizeof buf - 1, capture_file);
  buf[n] = '\0';
  fclose(capture_file);
  capture_file = NULL;
  return buf;
}

static void test_usage_error(void **state)
{
  (void)state;
  capture_begin();
  int rc = eqg_cli_usage_error("demo_fit", "--batch: %ld is larger than %s", 5L, "10 points");
  const char *err = capture_end();
  assert_int_equal(rc, 2);
  assert_string_equal(err, "demo_fit: --batch: 5 is larger than 10 points\n"
                           "Try 'demo_fit --help' for more information.\n");
  /* A message with a '%' passed through "%s" is printed as is. */
  capture_begin();
  rc = eqg_cli_usage_error("nbody", "%s", "100% wrong");
  err = capture_end();
  assert_int_equal(rc, 2);
  assert_string_equal(err, "nbody: 100% wrong\nTry 'nbody --help' for more information.\n");
}

/* Runs getopt_long over argv as the experiment programs do; returns the exit
 * code (2 on a bad option, else what eqg_cli_check_no_operands returns) and
 * the captured stderr in *err. */
static int parse_like_a_program(int argc, char *argv[], const char **err)
{
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "seed", required_argument, NULL, 256 },
    { NULL, 0, NULL, 0 }
  };
  optind = 0;   /* full re-initialisation of getopt between cases */
  opterr = 0;
  int rc = -1;
  capture_begin();
  for (;;) {
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    if (c == 'h' || c == 256) continue;
    rc = eqg_cli_getopt_error("prog", c, argv);
    break;
  }
  if (rc < 0) rc = eqg_cli_check_no_operands("prog", argc, argv);
  *err = capture_end();
  return rc;
}

static void test_getopt_errors(void **state)
{
  (void)state;
  const char *err;
  char *unknown_long[] = { "prog", "--bogus", NULL };
  assert_int_equal(parse_like_a_program(2, unknown_long, &err), 2);
  assert_string_equal(err, "prog: unknown option '--bogus'\n"
                           "Try 'prog --help' for more information.\n");

  char *unknown_short[] = { "prog", "-x", NULL };
  assert_int_equal(parse_like_a_program(2, unknown_short, &err), 2);
  assert_string_equal(err, "prog: unknown option '-x'\n"
                           "Try 'prog --help' for more information.\n");

  char *missing_value[] = { "prog", "--seed", NULL };
  assert_int_equal(parse_like_a_program(2, missing_value, &err), 2);
  assert_string_equal(err, "prog: option '--seed' needs a value\n"
                           "Try 'prog --help' for more information.\n");

  char *stray[] = { "prog", "--seed", "3", "stray", "more", NULL };
  assert_int_equal(parse_like_a_program(5, stray, &err), 2);
  assert_string_equal(err, "prog: unexpected argument 'stray'\n"
                           "Try 'prog --help' for more information.\n");

  char *fine[] = { "prog", "--seed", "3", "-h", NULL };
  assert_int_equal(parse_like_a_program(4, fine, &err), 0);
  assert_string_equal(err, "");
}

/* ---- small helpers ----------------------------------------------------------------- */

static void test_small_helpers(void **state)
{
  (void)state;
  double odd[] = { 3, 1, 2 }, even[] = { 4, 1, 3, 2 };
  assert_true(eqg_cli_median(odd, 3) == 2);
  assert_true(odd[0] == 1 && odd[1] == 2 && odd[2] == 3);   /* sorted in place */
  assert_true(eqg_cli_median(even, 4) == 2.5);
  assert_true(isnan(eqg_cli_median(even, 0)));

  double t0 = eqg_cli_now(), t1 = eqg_cli_now();
  assert_true(t0 > 0 && t1 >= t0);

  static const char *const cases[][3] = {
    { "out.h5", ".csv", "out.csv" },
    { "dir/run.h5", "_summary.csv", "dir/run_summary.csv" },
    { "results", ".csv", "results.csv" },   /* no .h5 to drop */
    { ".h5", ".csv", ".h5.csv" },           /* the name is not only the extension */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *p = eqg_cli_path_beside(cases[i][0], cases[i][1]);
    assert_non_null(p);
    assert_string_equal(p, cases[i][2]);
    free(p);
  }
}

static void test_ensure_dir(void **state)
{
  (void)state;
  char dir[] = "/tmp/eqg_cli_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char sub[128], file[128], deep[160];
  snprintf(sub, sizeof sub, "%s/out", dir);
  snprintf(file, sizeof file, "%s/afile", dir);
  snprintf(deep, sizeof deep, "%s/no/such", dir);

  struct stat sb;
  assert_int_equal(eqg_cli_ensure_dir("--outdir", sub), EQG_OK);   /* created */
  assert_int_equal(stat(sub, &sb), 0);
  assert_true(S_ISDIR(sb.st_mode));
  assert_int_equal(eqg_cli_ensure_dir("--outdir", sub), EQG_OK);   /* already there */

  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fclose(f);
  char want[256];
  assert_int_equal(eqg_cli_ensure_dir("--outdir", file), EQG_EIO);
  snprintf(want, sizeof want, "--outdir '%s' is not a directory", file);
  assert_string_equal(eqg_error_message(), want);
  assert_int_equal(eqg_cli_ensure_dir("--outdir", deep), EQG_EIO);   /* parents are not made */
  assert_message_has("cannot create directory");
  assert_message_has("No such file");
  assert_int_not_equal(stat(deep, &sb), 0);

  assert_int_equal(remove(file), 0);
  assert_int_equal(rmdir(sub), 0);
  assert_int_equal(rmdir(dir), 0);
}

/* ---- dataset generators ------------------------------------------------------------ */

/* Parses argv as jets_gen does (sizes --n-train, ...; one option of its own,
 * --extra N); returns what eqg_cli_gen_finish returns, or 2 on a bad value. */
static int parse_like_a_generator(int argc, char *argv[], eqg_cli_gen *g, long *extra,
                                  const char **err)
{
  static const struct option longopts[] = {
    EQG_CLI_GEN_LONGOPTS("n-"),
    { "extra", required_argument, NULL, 256 },
    { NULL, 0, NULL, 0 }
  };
  eqg_cli_gen_defaults(g, "n-", (const long[EQG_CLI_N_SPLITS]){ 600, 200, 300 });
  int c, rc = -1;
  optind = opterr = 0;
  capture_begin();
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    eqg_status st;
    if (!eqg_cli_gen_parse(g, c, optarg, &st)) {
      if (c == 256) st = eqg_cli_parse_long("--extra", optarg, 0, 9, extra);
      else {
        rc = eqg_cli_getopt_error("gen", c, argv);
        break;
      }
    }
    if (st != EQG_OK) {
      rc = eqg_cli_usage_error("gen", "%s", eqg_error_message());
      break;
    }
  }
  if (rc < 0) rc = eqg_cli_gen_finish(g, "gen", argc, argv, (const long[]){ 6, 2, 3 });
  *err = capture_end();
  return rc;
}

static void test_generator_options(void **state)
{
  (void)state;
  eqg_cli_gen g;
  long extra = -1;
  const char *err;
  char *none[] = { "gen", NULL };
  assert_int_equal(parse_like_a_generator(1, none, &g, &extra, &err), -1);
  assert_true(g.seed == 1 && g.threads == 1 && !g.quick);
  assert_string_equal(g.outdir, ".");
  assert_true(g.n[0] == 600 && g.n[1] == 200 && g.n[2] == 300);

  /* --quick replaces only the sizes not given; the program's own options pass. */
  char *quick[] = { "gen", "--quick", "--n-valid", "7", "--extra", "4", "--seed", "4294967295",
                    "--threads", "2", "--outdir", "d", NULL };
  assert_int_equal(parse_like_a_generator(12, quick, &g, &extra, &err), -1);
  assert_string_equal(err, "");
  assert_true(g.n[0] == 6 && g.n[1] == 7 && g.n[2] == 3);
  assert_true(g.quick && g.seed == 4294967295UL && g.threads == 2 && extra == 4);
  assert_string_equal(g.outdir, "d");

  /* Messages name the program's option. */
  char *bad_size[] = { "gen", "--n-test", "-1", NULL };
  assert_int_equal(parse_like_a_generator(3, bad_size, &g, &extra, &err), 2);
  assert_non_null(strstr(err, "gen: --n-test: -1 is out of range"));
  char *bad_threads[] = { "gen", "--threads", "0", NULL };
  assert_int_equal(parse_like_a_generator(3, bad_threads, &g, &extra, &err), 2);
  assert_non_null(strstr(err, "gen: --threads: 0 is out of range [1, 1024]"));
  char *stray[] = { "gen", "--quick", "stray", NULL };
  assert_int_equal(parse_like_a_generator(3, stray, &g, &extra, &err), 2);
  assert_non_null(strstr(err, "gen: unexpected argument 'stray'"));

  /* Split seeds: 3 seed + k + 1, modulo 2^32. */
  assert_true(eqg_cli_split_seed(1, 0) == 4 && eqg_cli_split_seed(1, 2) == 6);
  assert_true(eqg_cli_split_seed(4294967295UL, 0) == 4294967294UL);
  assert_string_equal(eqg_cli_split_name[1], "valid");
}

/* ---- strict numbers -------------------------------------------------------------- */

static void test_parse_long(void **state)
{
  (void)state;
  long v = 0;
  assert_int_equal(eqg_cli_parse_long("--width", "64", 1, 1024, &v), EQG_OK);
  assert_int_equal(v, 64);
  assert_int_equal(eqg_cli_parse_long("--shift", "-12", -100, 100, &v), EQG_OK);
  assert_int_equal(v, -12);
  assert_int_equal(eqg_cli_parse_long("--shift", "+7", -100, 100, &v), EQG_OK);
  assert_int_equal(v, 7);
  assert_int_equal(eqg_cli_parse_long("--n", "0010", 0, 100, &v), EQG_OK);
  assert_int_equal(v, 10);                                   /* decimal, not octal */
  assert_int_equal(eqg_cli_parse_long("--n", "9223372036854775807", LONG_MIN, LONG_MAX, &v),
                   EQG_OK);
  assert_true(v == LONG_MAX);

  static const char *const bad[] = { "12abc", "", "abc", " 12", "12 ", "1.5", "0x10",
                                     "--3", "1e3", "-" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    v = 99;
    eqg_error_clear();
    assert_int_equal(eqg_cli_parse_long("--width", bad[i], LONG_MIN, LONG_MAX, &v), EQG_EINVAL);
    assert_int_equal(v, 99);                                 /* untouched */
    assert_message_has("--width");
  }
  assert_int_equal(eqg_cli_parse_long("--width", "12abc", 1, 100, &v), EQG_EINVAL);
  assert_string_equal(eqg_error_message(), "--width: '12abc' is not an integer");
  assert_int_equal(eqg_cli_parse_long("--width", "", 1, 100, &v), EQG_EINVAL);
  assert_message_has("empty");
  assert_int_equal(eqg_cli_parse_long("--width", NULL, 1, 100, &v), EQG_EINVAL);
  assert_message_has("empty");
  /* Overflow of long and the caller's range. */
  assert_int_equal(eqg_cli_parse_long("--steps", "99999999999999999999", 0, LONG_MAX, &v),
                   EQG_EINVAL);
  assert_message_has("out of range");
  assert_int_equal(eqg_cli_parse_long("--steps", "-99999999999999999999", LONG_MIN, 0, &v),
                   EQG_EINVAL);
  assert_message_has("out of range");
  assert_int_equal(eqg_cli_parse_long("--width", "0", 1, 64, &v), EQG_EINVAL);
  assert_string_equal(eqg_error_message(), "--width: 0 is out of range [1, 64]");
  assert_int_equal(eqg_cli_parse_long("--width", "65", 1, 64, &v), EQG_EINVAL);
  assert_int_equal(eqg_cli_parse_long("--width", "64", 1, 64, &v), EQG_OK);   /* inclusive */
  assert_int_equal(eqg_cli_parse_long("--width", "1", 1, 64, &v), EQG_OK);
}

static void test_parse_unsigned(void **state)
{
  (void)state;
  size_t z = 5;
  unsigned long u = 5;
  assert_int_equal(eqg_cli_parse_size("--batch", "128", 1, 4096, &z), EQG_OK);
  assert_int_equal(z, 128);
  assert_int_equal(eqg_cli_parse_ulong("--seed", "18446744073709551615", 0, ULONG_MAX, &u),
                   EQG_OK);
  assert_true(u == ULONG_MAX);
  /* strtoull would wrap "-1" to the largest value: rejected. */
  z = 5;
  assert_int_equal(eqg_cli_parse_size("--batch", "-1", 0, SIZE_MAX, &z), EQG_EINVAL);
  assert_int_equal(z, 5);
  assert_message_has("--batch");
  assert_int_equal(eqg_cli_parse_size("--batch", "18446744073709551616", 0, SIZE_MAX, &z),
                   EQG_EINVAL);
  assert_message_has("out of range");
  assert_int_equal(eqg_cli_parse_size("--batch", "12abc", 0, SIZE_MAX, &z), EQG_EINVAL);
  assert_message_has("'12abc' is not a non-negative integer");
  assert_int_equal(eqg_cli_parse_size("--batch", "", 0, SIZE_MAX, &z), EQG_EINVAL);
  assert_int_equal(eqg_cli_parse_size("--batch", " 3", 0, SIZE_MAX, &z), EQG_EINVAL);
  assert_int_equal(eqg_cli_parse_size("--batch", "0", 1, 10, &z), EQG_EINVAL);
  assert_int_equal(z, 5);
  assert_int_equal(eqg_cli_parse_ulong("--seed", "7x", 0, ULONG_MAX, &u), EQG_EINVAL);
  assert_message_has("--seed");
}

static void test_parse_choice(void **state)
{
  (void)state;
  static const char *const names[] = { "fraction", "width", "vecnet" };
  int k = -1;
  assert_int_equal(eqg_cli_parse_choice("--study", "width", names, 3, &k), EQG_OK);
  assert_int_equal(k, 1);
  assert_int_equal(eqg_cli_parse_choice("--study", "Width", names, 3, &k), EQG_EINVAL);
  assert_int_equal(k, 1);
  assert_string_equal(eqg_error_message(), "--study: 'Width' is not fraction, width or vecnet");
  assert_int_equal(eqg_cli_parse_choice("--s", "x", names, 2, &k), EQG_EINVAL);
  assert_string_equal(eqg_error_message(), "--s: 'x' is not fraction or width");
}

/* EQG_RESUME_CHECK: passes equal settings, and on the first unequal one sets
 * st to the mismatch message (both values printed with the format) and leaves. */
static eqg_status resume_checks(long batch_file, double lr_file, int *checks_passed)
{
  eqg_status st = EQG_OK;
  const char *path = "run.ckpt.h5";
  *checks_passed = 0;
  EQG_RESUME_CHECK(batch_file == 100, path, "--batch", "%ld", batch_file, 100L);
  (*checks_passed)++;
  EQG_RESUME_CHECK(lr_file == 5e-4, path, "--lr", "%.17g", lr_file, 5e-4);
  (*checks_passed)++;
done:
  return st;
}

static void test_resume_check(void **state)
{
  (void)state;
  int passed;
  assert_int_equal(resume_checks(100, 5e-4, &passed), EQG_OK);
  assert_int_equal(passed, 2);
  assert_int_equal(resume_checks(100, 1e-3, &passed), EQG_EINVAL);
  assert_int_equal(passed, 1);
  assert_string_equal(eqg_error_message(), "--resume: checkpoint 'run.ckpt.h5' has --lr "
                      "0.001 but this run has 0.00050000000000000001");
  assert_int_equal(resume_checks(64, 1e-3, &passed), EQG_EINVAL);
  assert_int_equal(passed, 0);
  assert_string_equal(eqg_error_message(), "--resume: checkpoint 'run.ckpt.h5' has --batch "
                      "64 but this run has 100");
}

static void test_parse_double(void **state)
{
  (void)state;
  double d = 0;
  assert_int_equal(eqg_cli_parse_double("--lr", "1e-3", 0, 1, &d), EQG_OK);
  assert_true(d == 1e-3);
  assert_int_equal(eqg_cli_parse_double("--lr", "0.5", 0, 1, &d), EQG_OK);
  assert_true(d == 0.5);
  assert_int_equal(eqg_cli_parse_double("--x", "-2.25", -10, 10, &d), EQG_OK);
  assert_true(d == -2.25);

  static const char *const bad[] = { "nan", "NaN", "inf", "-inf", "infinity", "1e999",
                                     "-1e999", "1e-999", "", "abc", "0.1x", " 0.1",
                                     "0.1 ", "1,5" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    d = 42;
    eqg_error_clear();
    if (eqg_cli_parse_double("--lr", bad[i], -HUGE_VAL, HUGE_VAL, &d) != EQG_EINVAL)
      fail_msg("'%s' was accepted", bad[i]);
    assert_true(d == 42);
    assert_message_has("--lr");
  }
  assert_int_equal(eqg_cli_parse_double("--lr", "nan", 0, 1, &d), EQG_EINVAL);
  assert_message_has("not a finite number");
  assert_int_equal(eqg_cli_parse_double("--lr", "1e999", 0, HUGE_VAL, &d), EQG_EINVAL);
  assert_message_has("out of range");
  assert_int_equal(eqg_cli_parse_double("--lr", "0.1x", 0, 1, &d), EQG_EINVAL);
  assert_string_equal(eqg_error_message(), "--lr: '0.1x' is not a number");
  assert_int_equal(eqg_cli_parse_double("--lr", "2", 0, 1, &d), EQG_EINVAL);
  assert_string_equal(eqg_error_message(), "--lr: 2 is out of range [0, 1]");
  assert_int_equal(eqg_cli_parse_double("--lr", "1", 0, 1, &d), EQG_OK);   /* inclusive */
}

/* ---- atomic CSV ------------------------------------------------------------------ */

static int count_entries(const char *dir, const char *needle)
{
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
        (!needle || strstr(e->d_name, needle)))
      n++;
  closedir(d);
  return n;
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void test_csv_atomic(void **state)
{
  (void)state;
  char dir[] = "/tmp/eqg_cli_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128], tmp[160];
  snprintf(path, sizeof path, "%s/out.csv", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());

  /* An older version exists; it stays until close renames over it. */
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("old\n", f);
  fclose(f);

  eqg_cli_csv *c = eqg_cli_csv_open(path, "epoch,loss");
  assert_non_null(c);
  assert_int_equal(eqg_cli_csv_row(c, "%d,%.17g", 1, 0.5), EQG_OK);
  assert_int_equal(eqg_cli_csv_row(c, "%d,%.17g", 2, 0.1), EQG_OK);
  assert_string_equal(slurp(path), "old\n");               /* not yet replaced */
  struct stat sb;
  assert_int_equal(stat(tmp, &sb), 0);                     /* written beside it */
  assert_int_equal(eqg_cli_csv_close(c), EQG_OK);
  assert_string_equal(slurp(path), "epoch,loss\n1,0.5\n2,0.10000000000000001\n");
  assert_int_equal(count_entries(dir, ".tmp."), 0);
  assert_int_equal(count_entries(dir, NULL), 1);

  /* Discarding (the error path of a program) keeps the old file. */
  c = eqg_cli_csv_open(path, NULL);
  assert_non_null(c);
  assert_int_equal(eqg_cli_csv_row(c, "partial"), EQG_OK);
  eqg_cli_csv_discard(c);
  eqg_cli_csv_discard(NULL);
  assert_string_equal(slurp(path), "epoch,loss\n1,0.5\n2,0.10000000000000001\n");
  assert_int_equal(count_entries(dir, NULL), 1);

  /* No header: only the rows. */
  c = eqg_cli_csv_open(path, NULL);
  assert_non_null(c);
  assert_int_equal(eqg_cli_csv_row(c, "x"), EQG_OK);
  assert_int_equal(eqg_cli_csv_close(c), EQG_OK);
  assert_string_equal(slurp(path), "x\n");

  /* A directory that does not exist: NULL with a message naming the file. */
  char bad[160];
  snprintf(bad, sizeof bad, "%s/missing/out.csv", dir);
  assert_null(eqg_cli_csv_open(bad, "a"));
  assert_message_has("missing/out.csv");

  /* The final name is a directory: rename fails at close, temp file removed. */
  char sub[160];
  snprintf(sub, sizeof sub, "%s/adir", dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  char inner[200];
  snprintf(inner, sizeof inner, "%s/x", sub);
  f = fopen(inner, "w");
  assert_non_null(f);
  fclose(f);
  c = eqg_cli_csv_open(sub, "a");
  assert_non_null(c);
  assert_int_equal(eqg_cli_csv_close(c), EQG_EIO);
  assert_message_has("rename");
  assert_int_equal(count_entries(dir, ".tmp."), 0);

  remove(inner);
  rmdir(sub);
  remove(path);
  assert_int_equal(rmdir(dir), 0);
}

/* ---- provenance and progress ----------------------------------------------------- */

static void test_provenance(void **state)
{
  (void)state;
  char dir[] = "/tmp/eqg_cli_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/r.h5", dir);

  char *argv[] = { "./build/experiments/train", "--seed", "42", "--name", "it's a test",
                   "" };
  eqg_cli_provenance pv;
  assert_int_equal(eqg_cli_provenance_init(&pv, 6, argv, 42), EQG_OK);
  assert_string_equal(pv.program, "train");
  assert_string_equal(pv.arguments,
                      "./build/experiments/train --seed 42 --name 'it'\\''s a test' ''");
  assert_string_equal(pv.version, eqg_version());
  /* a git description or "unknown": one non-empty line */
  assert_string_equal(pv.revision, eqg_revision());
  assert_true(strlen(pv.revision) > 0 && !strchr(pv.revision, '\n'));
  /* 2024-05-01T12:34:56Z */
  assert_int_equal(strlen(pv.date), 20);
  assert_true(pv.date[4] == '-' && pv.date[10] == 'T' && pv.date[19] == 'Z');

  hid_t f;
  char *tmp;
  assert_int_equal(eqg_h5_create_tmp(path, &f, &tmp), EQG_OK);
  assert_int_equal(eqg_cli_provenance_write(f, &pv), EQG_OK);
  assert_int_equal(eqg_h5_commit(f, tmp, path), EQG_OK);
  assert_int_equal(eqg_h5_open(path, false, &f), EQG_OK);
  char *s;
  unsigned long seed;
  assert_int_equal(eqg_h5_read_attr_string(f, "arguments", &s), EQG_OK);
  assert_string_equal(s, pv.arguments);
  free(s);
  assert_int_equal(eqg_h5_read_attr_string(f, "date", &s), EQG_OK);
  assert_string_equal(s, pv.date);
  free(s);
  assert_int_equal(eqg_h5_read_attr_string(f, "program", &s), EQG_OK);
  assert_string_equal(s, "train");
  free(s);
  assert_int_equal(eqg_h5_read_attr_string(f, "eqgnn_version", &s), EQG_OK);
  assert_string_equal(s, eqg_version());
  free(s);
  assert_int_equal(eqg_h5_read_attr_string(f, "eqgnn_revision", &s), EQG_OK);
  assert_string_equal(s, eqg_revision());
  free(s);
  assert_int_equal(eqg_h5_read_attr_ulong(f, "seed", &seed), EQG_OK);
  assert_true(seed == 42);
  eqg_h5_close(f);
  eqg_cli_provenance_clear(&pv);
  assert_null(pv.arguments);
  remove(path);
  assert_int_equal(rmdir(dir), 0);
}

static void test_progress(void **state)
{
  (void)state;
  /* Not a terminal under the test runner (stderr redirected): a no-op. */
  eqg_cli_progress pb;
  eqg_cli_progress_begin(&pb, "train", 10);
  if (!isatty(STDERR_FILENO)) assert_false(pb.enabled);
  eqg_cli_progress_end(&pb);

  /* Forced on into a file: throttled, and the final state is always drawn. */
  FILE *out = tmpfile();
  assert_non_null(out);
  eqg_cli_progress_begin(&pb, "train", 1000);
  pb.enabled = true;
  pb.out = out;
  for (size_t i = 1; i <= 1000; i++) eqg_cli_progress_update(&pb, i, "loss %.4f", 1.0 / (double)i);
  eqg_cli_progress_end(&pb);
  rewind(out);
  char buf[8192];
  size_t n = fread(buf, 1, sizeof buf - 1, out);
  buf[n] = '\0';
  fclose(out);
  int draws = 0;
  for (char *c = buf; *c; c++) draws += *c == '\r';
  assert_true(draws >= 2 && draws < 100);   /* first and last, not 1000 */
  assert_non_null(strstr(buf, "1000/1000 100% loss 0.0010 took"));
  assert_non_null(strstr(buf, "[####################]"));
  assert_true(buf[n - 1] == '\n');
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_usage_error),
    cmocka_unit_test(test_getopt_errors),
    cmocka_unit_test(test_small_helpers),
    cmocka_unit_test(test_ensure_dir),
    cmocka_unit_test(test_generator_options),
    cmocka_unit_test(test_parse_long),
    cmocka_unit_test(test_parse_unsigned),
    cmocka_unit_test(test_parse_choice),
    cmocka_unit_test(test_resume_check),
    cmocka_unit_test(test_parse_double),
    cmocka_unit_test(test_csv_atomic),
    cmocka_unit_test(test_provenance),
    cmocka_unit_test(test_progress),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
