/* eqg_nbody_cli.h: the command-line options that nbody and nbody_sweep share
 * (where the data are, how much of them, which frames, batch, learning rate,
 * evaluation cadence, threads, seed, quick mode), parsed once for both
 * programs, and the loading of the three data files they name.
 *
 * A program lists EQG_NBT_CLI_LONGOPTS in its getopt_long table, hands every
 * option code to eqg_nbt_cli_parse() before its own switch, calls
 * eqg_nbt_cli_finish() after the loop and eqg_nbt_cli_load() for the data. */
#ifndef EQG_NBODY_CLI_H
#define EQG_NBODY_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "eqg_nbody_train.h"

typedef struct eqg_nbt_cli {
  const char *datadir;
  const char *file[3];     /* train, valid, test: NULL -> DATADIR/nbody_<split>.h5 */
  long n_valid, n_test;
  long input_frame, target_frame;   /* -1: the data's defaults (eqg_nbt_split_load) */
  long batch, eval_every, threads;
  double lr;               /* < 0: the model's default */
  unsigned long seed;      /* nbody: the run's; nbody_sweep: the first */
  bool quick;              /* tiny run for CI on nbody_gen --quick files */
  bool set_valid, set_test, set_batch, set_eval;   /* given on the command line */
  char path[3][EQG_NBT_PATH_MAX];   /* resolved by eqg_nbt_cli_finish */
} eqg_nbt_cli;

/* Option codes, above any code a program uses for its own options. */
enum {
  EQG_NBT_OPT_DATADIR = 0x1000, EQG_NBT_OPT_TRAIN_FILE, EQG_NBT_OPT_VALID_FILE,
  EQG_NBT_OPT_TEST_FILE, EQG_NBT_OPT_N_VALID, EQG_NBT_OPT_N_TEST, EQG_NBT_OPT_IN_FRAME,
  EQG_NBT_OPT_OUT_FRAME, EQG_NBT_OPT_BATCH, EQG_NBT_OPT_LR, EQG_NBT_OPT_EVAL_EVERY,
  EQG_NBT_OPT_THREADS, EQG_NBT_OPT_SEED, EQG_NBT_OPT_QUICK
};

#define EQG_NBT_CLI_LONGOPTS                                                    \
  { "datadir", required_argument, NULL, EQG_NBT_OPT_DATADIR },                  \
  { "train-file", required_argument, NULL, EQG_NBT_OPT_TRAIN_FILE },            \
  { "valid-file", required_argument, NULL, EQG_NBT_OPT_VALID_FILE },            \
  { "test-file", required_argument, NULL, EQG_NBT_OPT_TEST_FILE },              \
  { "n-valid", required_argument, NULL, EQG_NBT_OPT_N_VALID },                  \
  { "n-test", required_argument, NULL, EQG_NBT_OPT_N_TEST },                    \
  { "input-frame", required_argument, NULL, EQG_NBT_OPT_IN_FRAME },             \
  { "target-frame", required_argument, NULL, EQG_NBT_OPT_OUT_FRAME },           \
  { "batch", required_argument, NULL, EQG_NBT_OPT_BATCH },                      \
  { "lr", required_argument, NULL, EQG_NBT_OPT_LR },                            \
  { "eval-every", required_argument, NULL, EQG_NBT_OPT_EVAL_EVERY },            \
  { "threads", required_argument, NULL, EQG_NBT_OPT_THREADS },                  \
  { "seed", required_argument, NULL, EQG_NBT_OPT_SEED },                        \
  { "quick", no_argument, NULL, EQG_NBT_OPT_QUICK }

/* The paper's protocol: datadir ".", 2000 validation and test trajectories,
 * the data's default frames, batch 100, per-model lr, evaluation every 5
 * epochs, 1 thread; seed 1. */
void eqg_nbt_cli_defaults(eqg_nbt_cli *cli);

/* If getopt's code c is a shared option, parse `arg` into cli, set *st
 * (EQG_EINVAL with a message naming the option) and return true. */
bool eqg_nbt_cli_parse(eqg_nbt_cli *cli, int c, const char *arg, eqg_status *st);

/* After the loop: with --quick, values not given become the quick sizes
 * (quick_eval validation and test trajectories, batch quick_batch,
 * evaluation every epoch); then resolve the data paths and set the threads
 * (eqg_cli_set_threads). */
eqg_status eqg_nbt_cli_finish(eqg_nbt_cli *cli, long quick_eval, long quick_batch);

/* Load split[k] from path[k]: the first n_train training trajectories (0: all),
 * --n-valid and --n-test of the others.  Frames left at -1 become the data's
 * defaults (eqg_nbt_split_load), in cli.  Messages start with the split:
 * "valid data: ...".  The caller clears the splits, also on failure. */
eqg_status eqg_nbt_cli_load(eqg_nbt_cli *cli, eqg_nbt_split split[3], long n_train);

/* Result-file attributes of the shared settings: eval_every, input_frame,
 * target_frame, train_file, valid_file, test_file, threads. */
eqg_status eqg_nbt_cli_write_attrs(hid_t file, const eqg_nbt_cli *cli);

/* The results in `file` (written with eqg_nbt_cli_write_attrs) come from the
 * same data and evaluation as cli: equal eval_every and frames, and data file
 * paths naming the same files (equal, or resolving to one existing file);
 * threads may differ.  EQG_EFORMAT
 * naming the first difference, or a missing attribute, otherwise. */
eqg_status eqg_nbt_cli_check_attrs(hid_t file, const eqg_nbt_cli *cli);

#endif
