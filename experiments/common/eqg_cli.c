/* eqg_cli.c: usage errors, strict option parsing, provenance, progress bar, atomic CSV. */
#include "eqg_cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef EQG_HAVE_OPENMP
#include <omp.h>
#endif
#ifndef EQG_USE_GSLCBLAS
/* OpenBLAS extension; its cblas.h declares it too, other CBLAS headers may not. */
void openblas_set_num_threads(int num_threads);
#endif

/* ---- usage errors ---------------------------------------------------------------- */

int eqg_cli_usage_error(const char *program, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", program);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\nTry '%s --help' for more information.\n", program);
  va_end(ap);
  return 2;
}

int eqg_cli_getopt_error(const char *program, int c, char *const argv[])
{
  if (c == ':') return eqg_cli_usage_error(program, "option '%s' needs a value", argv[optind - 1]);
  if (optopt && optopt < 256) return eqg_cli_usage_error(program, "unknown option '-%c'", optopt);
  return eqg_cli_usage_error(program, "unknown option '%s'", argv[optind - 1]);
}

int eqg_cli_check_no_operands(const char *program, int argc, char *const argv[])
{
  if (optind >= argc) return 0;
  return eqg_cli_usage_error(program, "unexpected argument '%s'", argv[optind]);
}

/* ---- small helpers ----------------------------------------------------------------- */

double eqg_cli_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double eqg_cli_median(double *x, size_t n)
{
  if (n == 0) return NAN;
  qsort(x, n, sizeof *x, cmp_double);
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

eqg_status eqg_cli_resume_mismatch(const char *path, const char *what, const char *file_val,
                                   const char *run_val)
{
  return eqg_error_set(EQG_EINVAL, "--resume: checkpoint '%s' has %s %s but this run has %s",
                       path, what, file_val, run_val);
}

char *eqg_cli_path_beside(const char *path, const char *suffix)
{
  size_t n = strlen(path), k = strlen(suffix);
  if (n > 3 && strcmp(path + n - 3, ".h5") == 0) n -= 3;
  char *p = malloc(n + k + 1);
  if (p) {
    memcpy(p, path, n);
    memcpy(p + n, suffix, k + 1);
  }
  return p;
}

eqg_status eqg_cli_ensure_dir(const char *opt, const char *dir)
{
  struct stat sb;
  if (stat(dir, &sb) == 0) {
    if (!S_ISDIR(sb.st_mode))
      return eqg_error_set(EQG_EIO, "%s '%s' is not a directory", opt, dir);
    return EQG_OK;
  }
  if (mkdir(dir, 0777) != 0)
    return eqg_error_set(EQG_EIO, "cannot create directory '%s': %s", dir, strerror(errno));
  return EQG_OK;
}

/* ---- strict numbers -------------------------------------------------------------- */

/* Common checks before strto*: not NULL/empty, no leading blank. */
static eqg_status pre_check(const char *opt, const char *s, const char *what)
{
  if (!s || !*s) return eqg_error_set(EQG_EINVAL, "%s: empty value, expected %s", opt, what);
  if (isspace((unsigned char)s[0]))
    return eqg_error_set(EQG_EINVAL, "%s: '%s' is not %s", opt, s, what);
  return EQG_OK;
}

eqg_status eqg_cli_parse_long(const char *opt, const char *s, long min, long max, long *out)
{
  eqg_status st = pre_check(opt, s, "an integer");
  if (st != EQG_OK) return st;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0')
    return eqg_error_set(EQG_EINVAL, "%s: '%s' is not an integer", opt, s);
  if (errno == ERANGE || v < min || v > max)
    return eqg_error_set(EQG_EINVAL, "%s: %s is out of range [%ld, %ld]", opt, s, min, max);
  *out = v;
  return EQG_OK;
}

/* Unsigned parse into unsigned long long; a minus sign is rejected (strtoull
 * would silently wrap "-1" to the largest value). */
static eqg_status parse_unsigned(const char *opt, const char *s, unsigned long long min,
                                 unsigned long long max, unsigned long long *out)
{
  eqg_status st = pre_check(opt, s, "a non-negative integer");
  if (st != EQG_OK) return st;
  if (s[0] == '-')
    return eqg_error_set(EQG_EINVAL, "%s: %s is out of range [%llu, %llu]", opt, s, min, max);
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || *end != '\0')
    return eqg_error_set(EQG_EINVAL, "%s: '%s' is not a non-negative integer", opt, s);
  if (errno == ERANGE || v < min || v > max)
    return eqg_error_set(EQG_EINVAL, "%s: %s is out of range [%llu, %llu]", opt, s, min, max);
  *out = v;
  return EQG_OK;
}

eqg_status eqg_cli_parse_ulong(const char *opt, const char *s, unsigned long min,
                               unsigned long max, unsigned long *out)
{
  unsigned long long v = 0;
  eqg_status st = parse_unsigned(opt, s, min, max, &v);
  if (st == EQG_OK) *out = (unsigned long)v;
  return st;
}

eqg_status eqg_cli_parse_size(const char *opt, const char *s, size_t min, size_t max,
                              size_t *out)
{
  unsigned long long v = 0;
  eqg_status st = parse_unsigned(opt, s, min, max, &v);
  if (st == EQG_OK) *out = (size_t)v;
  return st;
}

eqg_status eqg_cli_parse_double(const char *opt, const char *s, double min, double max,
                                double *out)
{
  eqg_status st = pre_check(opt, s, "a number");
  if (st != EQG_OK) return st;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end != '\0')
    return eqg_error_set(EQG_EINVAL, "%s: '%s' is not a number", opt, s);
  if (errno == ERANGE)   /* overflow to +-HUGE_VAL or underflow */
    return eqg_error_set(EQG_EINVAL, "%s: %s is out of range [%g, %g]", opt, s, min, max);
  if (!isfinite(v))      /* "nan", "inf" */
    return eqg_error_set(EQG_EINVAL, "%s: '%s' is not a finite number", opt, s);
  if (v < min || v > max)
    return eqg_error_set(EQG_EINVAL, "%s: %s is out of range [%g, %g]", opt, s, min, max);
  *out = v;
  return EQG_OK;
}

eqg_status eqg_cli_parse_choice(const char *opt, const char *s, const char *const names[],
                                int n, int *k)
{
  for (int i = 0; i < n; i++)
    if (strcmp(s, names[i]) == 0) {
      *k = i;
      return EQG_OK;
    }
  char list[512] = "";
  size_t used = 0;
  for (int i = 0; i < n && used < sizeof list; i++)
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                             i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
  return eqg_error_set(EQG_EINVAL, "%s: '%s' is not %s", opt, s, list);
}

/* ---- provenance -------------------------------------------------------------------- */

static bool shell_safe(const char *a)
{
  if (!*a) return false;
  for (const char *c = a; *c; c++)
    if (!isalnum((unsigned char)*c) && !strchr("_-+=.,/:@%^", *c)) return false;
  return true;
}

/* argv joined by spaces; arguments with other characters are single-quoted
 * ('it'\''s'), so the string can be pasted back into a shell. */
static char *join_args(int argc, char *const argv[])
{
  size_t len = 1;
  for (int i = 0; i < argc; i++) len += 4 * strlen(argv[i]) + 3;
  char *out = malloc(len), *w = out;
  if (!out) return NULL;
  for (int i = 0; i < argc; i++) {
    if (i) *w++ = ' ';
    const char *a = argv[i];
    if (shell_safe(a)) {
      size_t n = strlen(a);
      memcpy(w, a, n);
      w += n;
      continue;
    }
    *w++ = '\'';
    for (; *a; a++) {
      if (*a == '\'') {
        memcpy(w, "'\\''", 4);
        w += 4;
      } else {
        *w++ = *a;
      }
    }
    *w++ = '\'';
  }
  *w = '\0';
  return out;
}

eqg_status eqg_cli_provenance_init(eqg_cli_provenance *pv, int argc, char *const argv[],
                                   unsigned long seed)
{
  memset(pv, 0, sizeof *pv);
  const char *prog = argc > 0 && argv[0] ? argv[0] : "?";
  const char *slash = strrchr(prog, '/');
  snprintf(pv->program, sizeof pv->program, "%s", slash ? slash + 1 : prog);
  pv->arguments = join_args(argc, argv);
  if (!pv->arguments) return eqg_error_set(EQG_ENOMEM, "provenance: out of memory");
  pv->seed = seed;
  snprintf(pv->version, sizeof pv->version, "%s", eqg_version());
  snprintf(pv->revision, sizeof pv->revision, "%s", eqg_revision());
  time_t now = time(NULL);
  struct tm tm;
  if (now == (time_t)-1 || !gmtime_r(&now, &tm) ||
      strftime(pv->date, sizeof pv->date, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf(pv->date, sizeof pv->date, "unknown");
  return EQG_OK;
}

void eqg_cli_provenance_clear(eqg_cli_provenance *pv)
{
  free(pv->arguments);
  pv->arguments = NULL;
}

eqg_status eqg_cli_provenance_write(hid_t file, const eqg_cli_provenance *pv)
{
  eqg_status st;
  if ((st = eqg_h5_write_attr_string(file, "program", pv->program)) ||
      (st = eqg_h5_write_attr_string(file, "arguments", pv->arguments ? pv->arguments : "")) ||
      (st = eqg_h5_write_attr_ulong(file, "seed", pv->seed)) ||
      (st = eqg_h5_write_attr_string(file, "eqgnn_version", pv->version)) ||
      (st = eqg_h5_write_attr_string(file, "eqgnn_revision", pv->revision)) ||
      (st = eqg_h5_write_attr_string(file, "date", pv->date)))
    return eqg_error_prefix(st, "writing provenance: ");
  return EQG_OK;
}

/* ---- progress bar ------------------------------------------------------------------ */

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
  return (double)(b->tv_sec - a->tv_sec) + 1e-9 * (double)(b->tv_nsec - a->tv_nsec);
}

static void format_duration(char *buf, size_t size, double s)
{
  if (!isfinite(s) || s < 0) {
    snprintf(buf, size, "?");
    return;
  }
  unsigned long t = (unsigned long)(s + 0.5);
  if (t >= 3600) snprintf(buf, size, "%luh%02lum", t / 3600, t % 3600 / 60);
  else if (t >= 60) snprintf(buf, size, "%lum%02lus", t / 60, t % 60);
  else snprintf(buf, size, "%lus", t);
}

void eqg_cli_progress_begin(eqg_cli_progress *pb, const char *label, size_t total)
{
  memset(pb, 0, sizeof *pb);
  pb->out = stderr;
  pb->enabled = isatty(fileno(stderr)) == 1;
  pb->label = label ? label : "";
  pb->total = total;
  clock_gettime(CLOCK_MONOTONIC, &pb->start);
}

void eqg_cli_progress_update(eqg_cli_progress *pb, size_t done, const char *fmt, ...)
{
  if (!pb->enabled) return;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (pb->drawn && done < pb->total && seconds_between(&pb->last, &now) < 0.1) return;
  pb->last = now;

  char status[64] = "";
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(status, sizeof status, fmt, ap);
    va_end(ap);
  }
  enum { WIDTH = 20 };
  double frac = pb->total ? (double)(done > pb->total ? pb->total : done) / (double)pb->total
                          : 1.0;
  char bar[WIDTH + 1];
  size_t fill = (size_t)(frac * WIDTH);
  for (size_t i = 0; i < WIDTH; i++) bar[i] = i < fill ? '#' : '.';
  bar[WIDTH] = '\0';
  double elapsed = seconds_between(&pb->start, &now);
  char eta[32];
  if (done >= pb->total) format_duration(eta, sizeof eta, elapsed);
  else if (done == 0) snprintf(eta, sizeof eta, "?");
  else format_duration(eta, sizeof eta, elapsed / (double)done * (double)(pb->total - done));
  fprintf(pb->out, "\r%s [%s] %zu/%zu %3.0f%% %s %s %s\033[K", pb->label, bar, done,
          pb->total, 100.0 * frac, status, done >= pb->total ? "took" : "ETA", eta);
  fflush(pb->out);
  pb->drawn = true;
}

void eqg_cli_progress_end(eqg_cli_progress *pb)
{
  if (pb->enabled && pb->drawn) {
    fputc('\n', pb->out);
    fflush(pb->out);
  }
  pb->drawn = false;
}

void eqg_cli_progress_clear(eqg_cli_progress *pb)
{
  if (pb->enabled && pb->drawn) {
    fputs("\r\033[K", pb->out);
    fflush(pb->out);
  }
  pb->drawn = false;
}

/* ---- threads ----------------------------------------------------------------------- */

eqg_status eqg_cli_set_threads(long n)
{
  if (n < 1 || n > INT32_MAX)
    return eqg_error_set(EQG_EINVAL, "thread count %ld is outside [1, %ld]", n, (long)INT32_MAX);
#ifndef EQG_USE_GSLCBLAS
  openblas_set_num_threads((int)n);
#endif
#ifdef EQG_HAVE_OPENMP
  omp_set_num_threads((int)n);
#endif
  return EQG_OK;
}

/* ---- dataset generators ------------------------------------------------------------ */

const char *const eqg_cli_split_name[EQG_CLI_N_SPLITS] = { "train", "valid", "test" };

void eqg_cli_gen_defaults(eqg_cli_gen *g, const char *stem, const long n[EQG_CLI_N_SPLITS])
{
  *g = (eqg_cli_gen){ .seed = 1, .threads = 1, .outdir = ".", .stem = stem };
  for (int k = 0; k < EQG_CLI_N_SPLITS; k++) g->n[k] = n[k];
}

bool eqg_cli_gen_parse(eqg_cli_gen *g, int c, const char *arg, eqg_status *st)
{
  *st = EQG_OK;
  switch (c) {
  case EQG_CLI_GEN_OPT_SEED:
    *st = eqg_cli_parse_ulong("--seed", arg, 0, 4294967295UL, &g->seed);
    return true;
  case EQG_CLI_GEN_OPT_OUTDIR: g->outdir = arg; return true;
  case EQG_CLI_GEN_OPT_TRAIN: case EQG_CLI_GEN_OPT_VALID: case EQG_CLI_GEN_OPT_TEST: {
    const int k = c - EQG_CLI_GEN_OPT_TRAIN;
    char opt[32];
    snprintf(opt, sizeof opt, "--%s%s", g->stem, eqg_cli_split_name[k]);
    *st = eqg_cli_parse_long(opt, arg, 0, 10000000, &g->n[k]);
    g->n_set[k] = true;
    return true;
  }
  case EQG_CLI_GEN_OPT_THREADS:
    *st = eqg_cli_parse_long("--threads", arg, 1, 1024, &g->threads);
    return true;
  case EQG_CLI_GEN_OPT_QUICK: g->quick = true; return true;
  default: return false;
  }
}

int eqg_cli_gen_finish(eqg_cli_gen *g, const char *program, int argc, char *const argv[],
                       const long quick_n[EQG_CLI_N_SPLITS])
{
  if (eqg_cli_check_no_operands(program, argc, argv)) return 2;
  if (g->quick)
    for (int k = 0; k < EQG_CLI_N_SPLITS; k++)
      if (!g->n_set[k]) g->n[k] = quick_n[k];
  return -1;
}

int eqg_cli_gen_start(const eqg_cli_gen *g, const char *program, int argc,
                      char *const argv[], eqg_cli_provenance *pv)
{
  if (eqg_cli_set_threads(g->threads) != EQG_OK)
    return eqg_cli_usage_error(program, "%s", eqg_error_message());
  if (eqg_cli_ensure_dir("--outdir", g->outdir) != EQG_OK ||
      eqg_cli_provenance_init(pv, argc, argv, g->seed) != EQG_OK) {
    fprintf(stderr, "%s: %s\n", program, eqg_error_message());
    return 1;
  }
  return -1;
}

unsigned long eqg_cli_split_seed(unsigned long seed, int k)
{
  return (3 * seed + (unsigned long)k + 1) & 0xffffffffUL;
}

/* ---- atomic CSV -------------------------------------------------------------------- */

struct eqg_cli_csv {
  FILE *f;
  char *path, *tmp;
  int err;          /* first errno of a failed write, 0 if none */
};

static void csv_free(eqg_cli_csv *c)
{
  free(c->path);
  free(c->tmp);
  free(c);
}

eqg_cli_csv *eqg_cli_csv_open(const char *path, const char *header)
{
  char eb[128];
  eqg_cli_csv *c = calloc(1, sizeof *c);
  size_t len = strlen(path) + 32;
  if (!c || !(c->path = strdup(path)) || !(c->tmp = malloc(len))) {
    if (c) csv_free(c);
    eqg_error_set(EQG_ENOMEM, "csv %s: out of memory", path);
    return NULL;
  }
  snprintf(c->tmp, len, "%s.tmp.%ld", path, (long)getpid());
  c->f = fopen(c->tmp, "w");
  if (!c->f) {
    int e = errno;
    if (strerror_r(e, eb, sizeof eb) != 0) snprintf(eb, sizeof eb, "errno %d", e);
    eqg_error_set(EQG_EIO, "cannot create '%s': %s", c->tmp, eb);
    csv_free(c);
    return NULL;
  }
  if (header && eqg_cli_csv_row(c, "%s", header) != EQG_OK) {
    eqg_cli_csv_discard(c);
    return NULL;
  }
  return c;
}

eqg_status eqg_cli_csv_row(eqg_cli_csv *c, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  errno = 0;
  int n = vfprintf(c->f, fmt, ap);
  va_end(ap);
  if (n < 0 || fputc('\n', c->f) == EOF) {
    if (!c->err) c->err = errno ? errno : EIO;
    return eqg_error_set(EQG_EIO, "writing '%s' failed", c->tmp);
  }
  return EQG_OK;
}

eqg_status eqg_cli_csv_close(eqg_cli_csv *c)
{
  char eb[128];
  int e = c->err;
  const char *what = "write";
  if (!e && fflush(c->f) != 0) e = errno ? errno : EIO;
  if (!e && ferror(c->f)) e = EIO;
  if (!e && fsync(fileno(c->f)) != 0) {
    e = errno;
    what = "sync";
  }
  if (fclose(c->f) != 0 && !e) {
    e = errno ? errno : EIO;
    what = "close";
  }
  c->f = NULL;
  if (!e && rename(c->tmp, c->path) != 0) {
    e = errno;
    what = "rename";
  }
  if (e) {
    if (strerror_r(e, eb, sizeof eb) != 0) snprintf(eb, sizeof eb, "errno %d", e);
    eqg_status st = eqg_error_set(EQG_EIO, "cannot %s '%s': %s", what, c->tmp, eb);
    remove(c->tmp);
    csv_free(c);
    return st;
  }
  /* Best effort: make the rename durable. */
  char *slash = strrchr(c->path, '/');
  if (slash == c->path) slash[1] = '\0';
  else if (slash) *slash = '\0';
  int fd = open(slash ? c->path : ".", O_RDONLY);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  csv_free(c);
  return EQG_OK;
}

void eqg_cli_csv_discard(eqg_cli_csv *c)
{
  if (!c) return;
  if (c->f) fclose(c->f);
  remove(c->tmp);
  csv_free(c);
}
