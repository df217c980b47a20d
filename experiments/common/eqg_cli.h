/* eqg_cli.h: helpers shared by the experiment programs.
 *
 * - usage errors: "<program>: <message>" and the --help hint on stderr, exit
 *   code 2, including getopt_long's own failures and stray operands;
 * - strict number parsing for getopt_long option values, with messages that
 *   name the option ("--width: '12abc' is not an integer");
 * - a provenance record written as root attributes of a results HDF5 file;
 * - a progress bar on stderr, drawn only when stderr is a terminal;
 * - a CSV writer that writes "<path>.tmp.<pid>" and renames it on close, so a
 *   killed run never leaves a half-written CSV under the final name;
 * - the options and start-up that the dataset generators share (three splits,
 *   --outdir, --seed, --threads, --quick).
 *
 * Like the library, these functions return a status and record the message
 * (eqg_error_message()); the program decides what to print. */
#ifndef EQG_CLI_H
#define EQG_CLI_H

#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "eqgnn.h"
#include "nn/eqg_h5.h"

/* ---- strict numbers -------------------------------------------------------------
 * The whole string must be the number: no leading/trailing blanks or junk, not
 * empty, no overflow, within [min, max] (inclusive).  Doubles must be finite.
 * `opt` names the option in the message ("--lr").  *out is untouched on error. */
eqg_status eqg_cli_parse_long(const char *opt, const char *s, long min, long max, long *out);
eqg_status eqg_cli_parse_ulong(const char *opt, const char *s, unsigned long min,
                               unsigned long max, unsigned long *out);
eqg_status eqg_cli_parse_size(const char *opt, const char *s, size_t min, size_t max,
                              size_t *out);
eqg_status eqg_cli_parse_double(const char *opt, const char *s, double min, double max,
                                double *out);
/* *k <- the index of s among names[0 .. n-1]; otherwise EQG_EINVAL
 * "<opt>: 's' is not a, b or c" and *k untouched. */
eqg_status eqg_cli_parse_choice(const char *opt, const char *s, const char *const names[],
                                int n, int *k);

/* ---- usage errors ---------------------------------------------------------------
 * Each prints to stderr
 *   <program>: <message>
 *   Try '<program> --help' for more information.
 * and returns 2, the exit status for bad options.  Typical use:
 *   opterr = 0;
 *   while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
 *     switch (c) {
 *     ...
 *     default: return eqg_cli_getopt_error(PROG, c, argv);
 *     }
 *     if (st != EQG_OK) return eqg_cli_usage_error(PROG, "%s", eqg_error_message());
 *   }
 *   if (eqg_cli_check_no_operands(PROG, argc, argv)) return 2; */
int eqg_cli_usage_error(const char *program, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
/* For getopt_long's return ':' (missing value: "option '--x' needs a value")
 * or '?' (anything else: "unknown option '-x'" / "unknown option '--x'"),
 * called right after it (reads optind and optopt; optstring starts with ':'). */
int eqg_cli_getopt_error(const char *program, int c, char *const argv[]);
/* After the option loop: 0 if argv has no operands left (optind == argc),
 * else "unexpected argument '<first>'" and 2. */
int eqg_cli_check_no_operands(const char *program, int argc, char *const argv[]);

/* ---- small helpers ---------------------------------------------------------------- */
double eqg_cli_now(void);   /* CLOCK_MONOTONIC seconds */
/* Median of x[0..n-1], which it sorts in place (ascending); NaN for n = 0. */
double eqg_cli_median(double *x, size_t n);
/* "<path minus a trailing .h5>" + suffix (malloc'd; NULL on ENOMEM): the CSV
 * paths beside an --out FILE.h5, e.g. suffix ".csv" or "_summary.csv". */
char *eqg_cli_path_beside(const char *path, const char *suffix);
/* Create directory `dir` if it does not exist (not its parents); an existing
 * non-directory is EQG_EIO "<opt> '<dir>' is not a directory". */
eqg_status eqg_cli_ensure_dir(const char *opt, const char *dir);

/* ---- --resume ------------------------------------------------------------------- */
/* EQG_EINVAL "--resume: checkpoint '<path>' has <what> <file_val> but this run
 * has <run_val>". */
eqg_status eqg_cli_resume_mismatch(const char *path, const char *what, const char *file_val,
                                   const char *run_val);
/* In a loader with `eqg_status st` and a `done:` label: unless cond, set st to
 * the mismatch of the two values printed with fmt and goto done. */
#define EQG_RESUME_CHECK(cond, path, what, fmt, file_val, run_val)   \
  do {                                                                  \
    if (!(cond)) {                                                      \
      char fv_[64], rv_[64];                                            \
      snprintf(fv_, sizeof fv_, fmt, file_val);                         \
      snprintf(rv_, sizeof rv_, fmt, run_val);                          \
      st = eqg_cli_resume_mismatch(path, what, fv_, rv_);               \
      goto done;                                                        \
    }                                                                   \
  } while (0)

/* ---- provenance ---------------------------------------------------------------- */
typedef struct eqg_cli_provenance {
  char program[256];    /* basename of argv[0] */
  char *arguments;      /* argv joined by spaces, shell-quoted where needed (malloc'd) */
  unsigned long seed;
  char version[32];     /* eqg_version() */
  char revision[64];    /* eqg_revision() */
  char date[32];        /* UTC, ISO-8601: "2024-05-01T12:34:56Z" */
} eqg_cli_provenance;

eqg_status eqg_cli_provenance_init(eqg_cli_provenance *pv, int argc, char *const argv[],
                                   unsigned long seed);
void eqg_cli_provenance_clear(eqg_cli_provenance *pv);   /* frees `arguments` */
/* Root attributes program, arguments, seed, eqgnn_version, eqgnn_revision,
 * date of `file`. */
eqg_status eqg_cli_provenance_write(hid_t file, const eqg_cli_provenance *pv);

/* ---- progress bar ----------------------------------------------------------------
 *   eqg_cli_progress pb;
 *   eqg_cli_progress_begin(&pb, "train", n_steps);
 *   for (...) eqg_cli_progress_update(&pb, step + 1, "loss %.4f", loss);
 *   eqg_cli_progress_end(&pb);
 * Draws "label [#####.....] done/total pct status ETA 1m23s" on one line,
 * at most ~10 times a second (and always when done == total).  Disabled (every
 * call a cheap no-op) unless stderr is a terminal. */
typedef struct eqg_cli_progress {
  bool enabled;
  FILE *out;                   /* stderr */
  const char *label;
  size_t total;
  struct timespec start, last; /* CLOCK_MONOTONIC */
  bool drawn;                  /* something is on the line */
} eqg_cli_progress;

void eqg_cli_progress_begin(eqg_cli_progress *pb, const char *label, size_t total);
void eqg_cli_progress_update(eqg_cli_progress *pb, size_t done, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;
/* Finishes the line (newline) if anything was drawn. */
void eqg_cli_progress_end(eqg_cli_progress *pb);
/* Erases the bar's line, so that a table row printed on stdout next does not
 * mix with it on a terminal; the bar redraws at its next update. */
void eqg_cli_progress_clear(eqg_cli_progress *pb);

/* ---- threads ---------------------------------------------------------------------
 * Set the OpenBLAS thread count (not in a gslcblas build) and the OpenMP thread
 * count (when built with OpenMP) to n >= 1; EQG_EINVAL otherwise.  Programs
 * call it once at start-up with their --threads value, whose default is 1: the
 * products here are small (tens to hundreds of columns), where extra threads
 * cost more than they gain, and one thread keeps runs bitwise reproducible
 * whatever the machine (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are overridden). */
eqg_status eqg_cli_set_threads(long n);

/* ---- dataset generators ----------------------------------------------------------
 * nbody_gen and jets_gen write three splits; they share --seed, --outdir, one
 * size option per split, --threads and --quick.  A generator lists
 * EQG_CLI_GEN_LONGOPTS(stem) in its getopt_long table (stem "": --train,
 * --valid, --test; stem "n-": --n-train, ...), calls eqg_cli_gen_defaults()
 * before the loop, hands every option code to eqg_cli_gen_parse() before its
 * own switch, then calls eqg_cli_gen_finish() after the loop and, once its own
 * checks pass, eqg_cli_gen_start(). */
enum { EQG_CLI_N_SPLITS = 3 };
extern const char *const eqg_cli_split_name[EQG_CLI_N_SPLITS];   /* train, valid, test */

typedef struct eqg_cli_gen {
  unsigned long seed;
  long n[EQG_CLI_N_SPLITS];       /* items per split: train, valid, test */
  long threads;
  bool quick;
  const char *outdir;
  const char *stem;               /* of the size options, for messages */
  bool n_set[EQG_CLI_N_SPLITS];   /* given on the command line */
} eqg_cli_gen;

/* Option codes, above any code a program uses for its own options. */
enum {
  EQG_CLI_GEN_OPT_SEED = 0x1100, EQG_CLI_GEN_OPT_OUTDIR, EQG_CLI_GEN_OPT_TRAIN,
  EQG_CLI_GEN_OPT_VALID, EQG_CLI_GEN_OPT_TEST, EQG_CLI_GEN_OPT_THREADS, EQG_CLI_GEN_OPT_QUICK
};
_Static_assert(EQG_CLI_GEN_OPT_TEST - EQG_CLI_GEN_OPT_TRAIN == EQG_CLI_N_SPLITS - 1,
               "one size option per split, in split order");

#define EQG_CLI_GEN_LONGOPTS(stem)                                              \
  { "seed", required_argument, NULL, EQG_CLI_GEN_OPT_SEED },                    \
  { "outdir", required_argument, NULL, EQG_CLI_GEN_OPT_OUTDIR },                \
  { stem "train", required_argument, NULL, EQG_CLI_GEN_OPT_TRAIN },             \
  { stem "valid", required_argument, NULL, EQG_CLI_GEN_OPT_VALID },             \
  { stem "test", required_argument, NULL, EQG_CLI_GEN_OPT_TEST },               \
  { "threads", required_argument, NULL, EQG_CLI_GEN_OPT_THREADS },              \
  { "quick", no_argument, NULL, EQG_CLI_GEN_OPT_QUICK }

/* Seed 1, sizes n[], 1 thread, outdir "."; `stem` as in EQG_CLI_GEN_LONGOPTS. */
void eqg_cli_gen_defaults(eqg_cli_gen *g, const char *stem, const long n[EQG_CLI_N_SPLITS]);
/* If getopt's code c is a shared option, parse `arg` into g, set *st
 * (EQG_EINVAL with a message naming the option) and return true. */
bool eqg_cli_gen_parse(eqg_cli_gen *g, int c, const char *arg, eqg_status *st);
/* After the loop: 2 on a stray operand (message printed), else -1; with
 * --quick, sizes not given become quick_n[]. */
int eqg_cli_gen_finish(eqg_cli_gen *g, const char *program, int argc, char *const argv[],
                       const long quick_n[EQG_CLI_N_SPLITS]);
/* Set the threads (2 on failure), create --outdir and record the provenance
 * (1 on failure); messages are printed as "<program>: <message>".  -1 when all
 * went well: the caller owns *pv (eqg_cli_provenance_clear). */
int eqg_cli_gen_start(const eqg_cli_gen *g, const char *program, int argc,
                      char *const argv[], eqg_cli_provenance *pv);
/* (3 seed + k + 1) mod 2^32: split k's own mt19937 seed, so the splits never
 * share a random stream and none depends on the sizes of the others. */
unsigned long eqg_cli_split_seed(unsigned long seed, int k);

/* ---- atomic CSV ------------------------------------------------------------------ */
typedef struct eqg_cli_csv eqg_cli_csv;

/* Create "<path>.tmp.<pid>"; writes `header` as the first line unless NULL. */
eqg_cli_csv *eqg_cli_csv_open(const char *path, const char *header);
/* One line (the newline is added), printf-style: "%d,%.17g". */
eqg_status eqg_cli_csv_row(eqg_cli_csv *c, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
/* Flush, fsync, close, rename over the final path; always frees `c`.  Any write
 * error since open is reported here, and then the temporary file is removed. */
eqg_status eqg_cli_csv_close(eqg_cli_csv *c);
/* Error path: close and remove the temporary file; NULL is fine. */
void eqg_cli_csv_discard(eqg_cli_csv *c);

#endif
