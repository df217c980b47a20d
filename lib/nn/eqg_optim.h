/* eqg_optim.h: optimisers over a parameter block (GSL type pattern).
 *
 * An optimiser keeps `n_state` moment vectors of p->size numbers each
 * ("m", "v" for Adam; "momentum" for SGD), which checkpoints save by name. */
#ifndef EQG_OPTIM_H
#define EQG_OPTIM_H

#include "nn/eqg_params.h"

typedef struct eqg_optim_config {
  eqg_real lr;            /* base learning rate (schedules scale it per step) */
  eqg_real momentum;      /* SGD: 0 for plain SGD */
  bool nesterov;          /* SGD */
  eqg_real beta1, beta2;  /* Adam/AdamW: 0.9, 0.999 */
  eqg_real eps;           /* Adam/AdamW: 1e-8 */
  eqg_real weight_decay;  /* SGD/Adam: L2 added to the gradient; AdamW: decoupled */
} eqg_optim_config;

/* Defaults as in PyTorch (lr 1e-3, momentum 0, betas 0.9/0.999, eps 1e-8,
 * wd 0).  eqg_optim_config_for() below gives the type's own weight decay
 * default (AdamW: 0.01, as torch.optim.AdamW). */
eqg_optim_config eqg_optim_config_default(void);

typedef struct eqg_optim eqg_optim;

typedef struct eqg_optim_type {
  const char *name;            /* "sgd", "adam", "adamw" */
  int n_state;                 /* moment vectors */
  const char *state_names[2];
  /* x -= update(g, state) with learning rate lr at step t (1-based). */
  void (*step)(eqg_optim *o, eqg_real *x, const eqg_real *g, size_t n, eqg_real lr);
} eqg_optim_type;

extern const eqg_optim_type eqg_optim_sgd, eqg_optim_adam, eqg_optim_adamw;
/* NULL-terminated list for lookup by name. */
extern const eqg_optim_type *const eqg_optim_types[];
const eqg_optim_type *eqg_optim_type_find(const char *name);  /* NULL if unknown */
eqg_optim_config eqg_optim_config_for(const eqg_optim_type *type);

struct eqg_optim {
  const eqg_optim_type *type;
  eqg_optim_config cfg;
  size_t n;                  /* parameter count */
  long step;                 /* steps taken */
  eqg_real *state[2];        /* (n) each, first type->n_state used */
};

/* Zeroed moments, step 0.  NULL with a message on ENOMEM or an invalid
 * config (lr, momentum, eps or weight decay negative or not finite; betas
 * outside [0, 1); nesterov without momentum). */
eqg_optim *eqg_optim_alloc(const eqg_optim_type *type, const eqg_optim_config *cfg, size_t n);
void eqg_optim_free(eqg_optim *o);                      /* NULL is fine */
/* One update of p->data from p->grad with learning rate lr (from a schedule):
 * o->step += 1, then type->step.  p->size must equal o->n (allocate the
 * optimiser after the model is built); a mismatch is a bug and asserts. */
void eqg_optim_step(eqg_optim *o, eqg_params *p, eqg_real lr);

#endif
