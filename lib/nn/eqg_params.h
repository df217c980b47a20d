/* eqg_params.h: every learnable number of a model in one flat block.
 *
 * Trainable parameters live contiguously in `data` with gradients in `grad`
 * (same layout), so an optimiser is one loop over p->size numbers.  Buffers
 * (batch-norm running statistics, ...) are saved in checkpoints but never
 * trained; they live in a separate block `buf`.  Each parameter or buffer has
 * a unique name ("layer0.edge_mlp.0.weight") and a (rows, cols) view.
 *
 * Adding may move the blocks: keep the integer id, and ask for the view with
 * eqg_params_get() after the model is built (every view is re-pointed when a
 * block moves, but the view array itself may move too, so an eqg_tensor *
 * obtained before an add is stale after it).
 *
 * Names: 1 .. EQG_PARAM_NAME_MAX - 1 characters from [A-Za-z0-9_.-], not
 * starting or ending with '.', no "..": dot-separated components, each usable
 * as an HDF5 link name. */
#ifndef EQG_PARAMS_H
#define EQG_PARAMS_H

#include "core/eqg_tensor.h"

enum { EQG_PARAM_NAME_MAX = 128 };

typedef struct eqg_param_info {
  char name[EQG_PARAM_NAME_MAX];
  size_t rows, cols;
  size_t offset;        /* into data/grad (trainable) or buf (buffer) */
  bool trainable;
} eqg_param_info;

typedef struct eqg_params {
  size_t n, cap;            /* entries */
  eqg_param_info *info;     /* (n) */
  eqg_tensor *view;         /* (n) views into the blocks; grad NULL for buffers */
  eqg_real *data, *grad;    /* (size) trainable values and gradients */
  size_t size;              /* trainable scalars */
  eqg_real *buf;            /* (buf_size) buffers */
  size_t buf_size;
  size_t data_cap, buf_cap; /* scalars allocated in data/grad and in buf */
} eqg_params;

eqg_params *eqg_params_alloc(void);
void eqg_params_free(eqg_params *p);                    /* NULL is fine */

/* Declare a zero-initialised entry.  Returns its id (>= 0), or -1 with a
 * message (empty or too long or duplicate name, ENOMEM). */
int eqg_params_add(eqg_params *p, const char *name, size_t rows, size_t cols,
                   bool trainable);
/* View of entry id (NULL with a message if id is out of range).  data/grad
 * point into the blocks; grad is NULL for buffers. */
eqg_tensor *eqg_params_get(eqg_params *p, int id);
int eqg_params_find(const eqg_params *p, const char *name);   /* -1 if absent */

size_t eqg_params_count(const eqg_params *p);           /* trainable scalars */
void eqg_params_zero_grad(eqg_params *p);
/* sqrt(sum g^2) over all trainable gradients. */
eqg_real eqg_params_grad_norm(const eqg_params *p);
/* As torch.nn.utils.clip_grad_norm_: with N the norm before,
 * g *= min(1, max_norm / (N + 1e-6)), so afterwards the norm is at most
 * max_norm.  Returns N.  A non-finite N leaves the gradients unchanged (the
 * caller decides what to do with a NaN step). */
eqg_real eqg_params_clip_grad_norm(eqg_params *p, eqg_real max_norm);

#endif
