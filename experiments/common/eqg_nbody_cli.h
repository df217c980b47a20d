/* eqg_nbody_cli.h: the command-line options that nbody and nbody_sweep share
 * (where the data are, how much of them, which frames, batch, learning rate,
 * evaluation cadence, threads), parsed once for both programs.
 *
 * A program lists EQG_NBT_CLI_LONGOPTS in its getopt_long table, hands every
 * option code to eqg_nbt_cli_parse() before its own switch, and calls
 * eqg_nbt_cli_finish() after the loop. */
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
  bool set_valid, set_test, set_batch, set_eval;   /* given on the command line */
  char path[3][EQG_NBT_PATH_MAX];   /* resolved by eqg_nbt_cli_finish */
} eqg_nbt_cli;

/* Option codes, above any code a program uses for its own options. */
enum {
  EQG_NBT_OPT_DATADIR = 0x1000, EQG_NBT_OPT_TRAIN_FILE, EQG_NBT_OPT_VALID_FILE,
  EQG_NBT_OPT_TEST_FILE, EQG_NBT_OPT_N_VALID, EQG_NBT_OPT_N_TEST, EQG_NBT_OPT_IN_FRAME,
  EQG_NBT_OPT_OUT_FRAME, EQG_NBT_OPT_BATCH, EQG_NBT_OPT_LR, EQG_NBT_OPT_EVAL_EVERY,
  EQG_NBT_OPT_THREADS
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
  { "threads", required_argument, NULL, EQG_NBT_OPT_THREADS }

/* The paper's protocol: datadir ".", 2000 validation and test trajectories,
 * the data's default frames, batch 100, per-model lr, evaluation every 5
 * epochs, 1 thread. */
void eqg_nbt_cli_defaults(eqg_nbt_cli *cli);

/* If getopt's code c is a shared option, parse `arg` into cli, set *st
 * (EQG_EINVAL with a message naming the option) and return true. */
bool eqg_nbt_cli_parse(eqg_nbt_cli *cli, int c, const char *arg, eqg_status *st);

/* After the loop: with --quick, values not given become the quick sizes
 * (quick_eval validation and test trajectories, batch quick_batch,
 * evaluation every epoch); then resolve the data paths. */
eqg_status eqg_nbt_cli_finish(eqg_nbt_cli *cli, bool quick, long quick_eval, long quick_batch);

/* Result-file attributes of the shared settings: eval_every, input_frame,
 * target_frame, train_file, valid_file, test_file, threads. */
eqg_status eqg_nbt_cli_write_attrs(hid_t file, const eqg_nbt_cli *cli);

#endif
