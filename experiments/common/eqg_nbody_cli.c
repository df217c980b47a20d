/* eqg_nbody_cli.c: options shared by nbody and nbody_sweep (eqg_nbody_cli.h). */
#define _XOPEN_SOURCE 700   /* realpath */
#include "eqg_nbody_cli.h"

#include <stdlib.h>
#include <string.h>

#include "eqg_cli.h"
#include "nn/eqg_h5.h"

enum { MAX_COUNT = 100000000 };

void eqg_nbt_cli_defaults(eqg_nbt_cli *cli)
{
  *cli = (eqg_nbt_cli){ .datadir = ".", .n_valid = 2000, .n_test = 2000, .input_frame = -1,
                        .target_frame = -1, .batch = 100, .eval_every = 5, .threads = 1,
                        .lr = -1, .seed = 1 };
}

bool eqg_nbt_cli_parse(eqg_nbt_cli *cli, int c, const char *arg, eqg_status *st)
{
  *st = EQG_OK;
  switch (c) {
  case EQG_NBT_OPT_DATADIR: cli->datadir = arg; break;
  case EQG_NBT_OPT_TRAIN_FILE: cli->file[0] = arg; break;
  case EQG_NBT_OPT_VALID_FILE: cli->file[1] = arg; break;
  case EQG_NBT_OPT_TEST_FILE: cli->file[2] = arg; break;
  case EQG_NBT_OPT_N_VALID:
    *st = eqg_cli_parse_long("--n-valid", arg, 1, MAX_COUNT, &cli->n_valid);
    cli->set_valid = true;
    break;
  case EQG_NBT_OPT_N_TEST:
    *st = eqg_cli_parse_long("--n-test", arg, 1, MAX_COUNT, &cli->n_test);
    cli->set_test = true;
    break;
  case EQG_NBT_OPT_IN_FRAME:
    *st = eqg_cli_parse_long("--input-frame", arg, 0, MAX_COUNT, &cli->input_frame);
    break;
  case EQG_NBT_OPT_OUT_FRAME:
    *st = eqg_cli_parse_long("--target-frame", arg, 0, MAX_COUNT, &cli->target_frame);
    break;
  case EQG_NBT_OPT_BATCH:
    *st = eqg_cli_parse_long("--batch", arg, 1, MAX_COUNT, &cli->batch);
    cli->set_batch = true;
    break;
  case EQG_NBT_OPT_LR:
    *st = eqg_cli_parse_double("--lr", arg, 0, 1, &cli->lr);
    if (*st == EQG_OK && !(cli->lr > 0))
      *st = eqg_error_set(EQG_EINVAL, "--lr: %s must be positive", arg);
    break;
  case EQG_NBT_OPT_EVAL_EVERY:
    *st = eqg_cli_parse_long("--eval-every", arg, 1, MAX_COUNT, &cli->eval_every);
    cli->set_eval = true;
    break;
  case EQG_NBT_OPT_THREADS: *st = eqg_cli_parse_long("--threads", arg, 1, 1024, &cli->threads); break;
  case EQG_NBT_OPT_SEED:
    *st = eqg_cli_parse_ulong("--seed", arg, 0, 4294967295UL, &cli->seed);
    break;
  case EQG_NBT_OPT_QUICK: cli->quick = true; break;
  default: return false;
  }
  return true;
}

eqg_status eqg_nbt_cli_finish(eqg_nbt_cli *cli, long quick_eval, long quick_batch)
{
  if (cli->quick) {
    if (!cli->set_valid) cli->n_valid = quick_eval;
    if (!cli->set_test) cli->n_test = quick_eval;
    if (!cli->set_batch) cli->batch = quick_batch;
    if (!cli->set_eval) cli->eval_every = 1;
  }
  eqg_status st = eqg_nbt_data_paths(cli->path, cli->datadir, cli->file);
  if (st != EQG_OK) return st;
  return eqg_cli_set_threads(cli->threads);
}

eqg_status eqg_nbt_cli_load(eqg_nbt_cli *cli, eqg_nbt_split split[3], long n_train)
{
  const long n[3] = { n_train, cli->n_valid, cli->n_test };
  for (int k = 0; k < 3; k++) {
    eqg_status st = eqg_nbt_split_load(&split[k], cli->path[k], (size_t)n[k], cli->quick,
                                       &cli->input_frame, &cli->target_frame);
    if (st != EQG_OK) return eqg_error_prefix(st, "%s data: ", eqg_nbt_split_name[k]);
  }
  return EQG_OK;
}

eqg_status eqg_nbt_cli_write_attrs(hid_t file, const eqg_nbt_cli *cli)
{
  eqg_status st;
  if ((st = eqg_h5_write_attr_long(file, "eval_every", cli->eval_every)) ||
      (st = eqg_h5_write_attr_long(file, "input_frame", cli->input_frame)) ||
      (st = eqg_h5_write_attr_long(file, "target_frame", cli->target_frame)) ||
      (st = eqg_h5_write_attr_string(file, "train_file", cli->path[0])) ||
      (st = eqg_h5_write_attr_string(file, "valid_file", cli->path[1])) ||
      (st = eqg_h5_write_attr_string(file, "test_file", cli->path[2])) ||
      (st = eqg_h5_write_attr_long(file, "threads", cli->threads)))
    return st;
  return EQG_OK;
}

static eqg_status check_long(hid_t file, const char *name, long want)
{
  long v;
  if (!eqg_h5_has_attr(file, name) || eqg_h5_read_attr_long(file, name, &v) != EQG_OK)
    return eqg_error_set(EQG_EFORMAT, "no attribute '%s'", name);
  if (v != want)
    return eqg_error_set(EQG_EFORMAT, "%s %ld there, %ld here", name, v, want);
  return EQG_OK;
}

/* The same path, or two paths of one existing file (relative and absolute). */
static bool same_file(const char *a, const char *b)
{
  if (strcmp(a, b) == 0) return true;
  char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
  const bool same = ra && rb && strcmp(ra, rb) == 0;
  free(ra);
  free(rb);
  return same;
}

static eqg_status check_path(hid_t file, const char *name, const char *want)
{
  char *v = NULL;
  if (!eqg_h5_has_attr(file, name) || eqg_h5_read_attr_string(file, name, &v) != EQG_OK)
    return eqg_error_set(EQG_EFORMAT, "no attribute '%s'", name);
  eqg_status st = EQG_OK;
  if (!same_file(v, want))
    st = eqg_error_set(EQG_EFORMAT, "%s '%s' there, '%s' here", name, v, want);
  free(v);
  return st;
}

eqg_status eqg_nbt_cli_check_attrs(hid_t file, const eqg_nbt_cli *cli)
{
  eqg_status st;
  if ((st = check_long(file, "eval_every", cli->eval_every)) ||
      (st = check_long(file, "input_frame", cli->input_frame)) ||
      (st = check_long(file, "target_frame", cli->target_frame)) ||
      (st = check_path(file, "train_file", cli->path[0])) ||
      (st = check_path(file, "valid_file", cli->path[1])) ||
      (st = check_path(file, "test_file", cli->path[2])))
    return st;
  return EQG_OK;
}
