/* eqg_schedule.h: learning-rate schedules as a small config and one formula.
 *
 * t is a 0-based count of steps or of epochs, whichever the caller advances
 * the schedule by (all lengths below are in the same unit); eqg_schedule_lr(s,
 * t) is the learning rate to use during step/epoch t.  Notation: lr the base
 * (peak) rate, lr_min the floor of the cosine kinds.
 *
 *   CONSTANT        lr(t) = lr
 *   STEP            lr(t) = lr gamma^floor(t / step_size)         (torch StepLR)
 *   COSINE          lr(t) = lr_min + (lr - lr_min) (1 + cos(pi min(t, T) / T)) / 2
 *                   (torch CosineAnnealingLR up to T, then held at lr_min)
 *   WARMUP_RESTARTS linear warm-up over W, then cosine with warm restarts
 *                   (torch CosineAnnealingWarmRestarts, T0, T_mult):
 *                     t < W:  lr(t) = lr t / W      (0 at t = 0, lr reached at t = W)
 *                     t >= W: u = t - W; cycle i has length T_i = T0 T_mult^i;
 *                             T_cur = u - (T_0 + ... + T_{i-1}) for the cycle
 *                             holding u, and
 *                             lr(t) = lr_min + (lr - lr_min) (1 + cos(pi T_cur / T_i)) / 2
 *                   so lr(W) = lr, and each restart (T_cur = 0) returns to lr.
 *
 * Final halving (any kind, off when halve_last = 0; LorentzNet's protocol):
 * with E = total - halve_last, the schedule above holds for t < E and each of
 * the last halve_last epochs halves the previous rate:
 *     t >= E:  lr(t) = lr_base(E - 1) 0.5^(t - E + 1).
 * LorentzNet (top tagging): AdamW, lr 1e-3, W = 4 (paper; 5 in the code),
 * T0 = 4, T_mult = 2, total = 35, halve_last = 3: epochs 4..31 are three
 * complete cosine cycles (4 + 8 + 16) and epochs 32, 33, 34 run at lr(31)/2,
 * /4, /8. */
#ifndef EQG_SCHEDULE_H
#define EQG_SCHEDULE_H

#include "core/eqg_core.h"

typedef enum eqg_schedule_kind {
  EQG_SCHEDULE_CONSTANT,
  EQG_SCHEDULE_STEP,
  EQG_SCHEDULE_COSINE,
  EQG_SCHEDULE_WARMUP_RESTARTS,
  EQG_SCHEDULE_KIND_COUNT
} eqg_schedule_kind;

typedef struct eqg_schedule {
  eqg_schedule_kind kind;
  eqg_real lr;          /* base (peak) learning rate */
  eqg_real lr_min;      /* COSINE, WARMUP_RESTARTS: floor eta_min */
  long step_size;       /* STEP: k >= 1 */
  eqg_real gamma;       /* STEP: factor every k */
  long T;               /* COSINE: annealing length >= 1 */
  long warmup;          /* WARMUP_RESTARTS: W >= 0 */
  long T0;              /* WARMUP_RESTARTS: first cycle >= 1 */
  long T_mult;          /* WARMUP_RESTARTS: cycle growth >= 1 */
  long halve_last;      /* final halving over this many epochs; 0 = off */
  long total;           /* total epochs (needed when halve_last > 0) */
} eqg_schedule;

/* Configs with everything else off (halve_last = 0). */
eqg_schedule eqg_schedule_constant(eqg_real lr);
eqg_schedule eqg_schedule_step(eqg_real lr, long step_size, eqg_real gamma);
eqg_schedule eqg_schedule_cosine(eqg_real lr, long T, eqg_real lr_min);
eqg_schedule eqg_schedule_warmup_restarts(eqg_real lr, long warmup, long T0, long T_mult,
                                          eqg_real lr_min);

/* EQG_EINVAL with a message if a field needed by the kind is out of range
 * (non-finite or negative rates, lengths below their minimum, halve_last
 * outside [0, total - 1]). */
eqg_status eqg_schedule_check(const eqg_schedule *s);

/* Learning rate for step/epoch t >= 0 (t < 0 is treated as 0).  The config
 * must pass eqg_schedule_check; otherwise the result is NaN. */
eqg_real eqg_schedule_lr(const eqg_schedule *s, long step_or_epoch);

/* "constant", "step", "cosine", "warmup_restarts"; find returns -1 if unknown. */
const char *eqg_schedule_kind_name(eqg_schedule_kind k);
int eqg_schedule_kind_find(const char *name);

#endif
