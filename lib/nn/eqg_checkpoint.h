/* eqg_checkpoint.h: save and restore parameters, buffers and optimiser state.
 *
 * On-disk layout (HDF5, format_version 1):
 *   /                 attributes format = "eqgnn-checkpoint", format_version = 1,
 *                     model_type, model_config, program, eqgnn_version (strings),
 *                     seed (uint64), step, epoch (int64)
 *   /params/<name>    one (rows, cols) float64 dataset per trainable parameter,
 *                     named exactly like the parameter ("layer0.edge_mlp.0.weight")
 *   /buffers/<name>   the same for non-trainable entries (may be empty)
 *   /optim            only when an optimiser was saved: attributes type ("adam"),
 *                     step, size, and informational lr, momentum, nesterov,
 *                     beta1, beta2, eps, weight_decay; one (size) float64 dataset
 *                     per state vector, named like the optimiser's state ("m", "v")
 *
 * Saving writes "<path>.tmp.<pid>" and renames it over `path` (see eqg_h5.h), so
 * an interrupted save never damages an existing checkpoint.  Saving refuses
 * non-finite values, so a diverged run cannot overwrite a good checkpoint.
 *
 * Loading validates everything before touching the model: the file is an
 * eqgnn checkpoint of a supported version, every parameter and buffer of the
 * model is present with the same shape, the file has no others, all values are
 * finite, and (when an optimiser is given) type and size match.  On any
 * mismatch the model, optimiser and `meta` are left exactly as they were and
 * the message says what does not match ("checkpoint x.h5: parameter
 * 'layer1.weight' has shape 64 x 32 in the file but 64 x 72 in the model"). */
#ifndef EQG_CHECKPOINT_H
#define EQG_CHECKPOINT_H

#include "nn/eqg_h5.h"
#include "nn/eqg_params.h"
#include "nn/eqg_optim.h"

#define EQG_CHECKPOINT_FORMAT "eqgnn-checkpoint"
enum { EQG_CHECKPOINT_VERSION = 1 };

typedef struct eqg_checkpoint_meta {
  char model_type[64];      /* "egnn", ... */
  char model_config[1024];  /* free text: "family=egnn width=64 depth=4" */
  char program[256];        /* program that wrote the checkpoint */
  unsigned long seed;
  long step;                /* training steps taken */
  long epoch;
  char version[32];         /* load: eqgnn version that wrote the file; save ignores it
                             * and writes eqg_version() */
  char revision[64];        /* load: its source revision (eqg_revision(); "unknown" for
                             * files written before the attribute existed); save
                             * ignores it and writes eqg_revision() */
} eqg_checkpoint_meta;

/* `opt` and `meta` may be NULL (no /optim group; empty strings and zeros).
 * opt->n must equal p->size. */
eqg_status eqg_checkpoint_save(const char *path, const eqg_params *p,
                               const eqg_optim *opt, const eqg_checkpoint_meta *meta);

/* A checkpoint plus one group of the program's own (run settings, history):
 * eqg_checkpoint_save() into "<path>.stage.<pid>", create /<group> there and
 * let fill(g, ctx) write it, then rename the whole over `path`, so readers see
 * the old file or the complete new one.  On any failure `path` is untouched
 * and no staging file is left behind. */
eqg_status eqg_checkpoint_save_group(const char *path, const eqg_params *p,
                                     const eqg_optim *opt, const eqg_checkpoint_meta *meta,
                                     const char *group,
                                     eqg_status (*fill)(hid_t g, const void *ctx),
                                     const void *ctx);

/* Open checkpoint `path` read-only and its group /<group> (see
 * eqg_checkpoint_save_group); close both with eqg_h5_close().  A file without
 * the group is EQG_EFORMAT "'<path>' has no /<group> group (not a checkpoint
 * of <writers>)"; on failure *file and *g are -1. */
eqg_status eqg_checkpoint_group_open(const char *path, const char *group, const char *writers,
                                     hid_t *file, hid_t *g);

/* `opt` may be NULL (the file's /optim is then ignored); `meta` may be NULL. */
eqg_status eqg_checkpoint_load(const char *path, eqg_params *p, eqg_optim *opt,
                               eqg_checkpoint_meta *meta);

#endif
