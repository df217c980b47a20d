/* eqg_schedule.c: learning-rate schedules (formulas in eqg_schedule.h). */
#include "nn/eqg_schedule.h"

#include <limits.h>
#include <math.h>
#include <string.h>

static const char *const kind_names[] = {
  [EQG_SCHEDULE_CONSTANT] = "constant",
  [EQG_SCHEDULE_STEP] = "step",
  [EQG_SCHEDULE_COSINE] = "cosine",
  [EQG_SCHEDULE_WARMUP_RESTARTS] = "warmup_restarts",
};
_Static_assert(sizeof kind_names / sizeof *kind_names == EQG_SCHEDULE_KIND_COUNT,
               "one name per schedule kind");

const char *eqg_schedule_kind_name(eqg_schedule_kind k)
{
  return (k >= 0 && k < EQG_SCHEDULE_KIND_COUNT) ? kind_names[k] : "unknown";
}

int eqg_schedule_kind_find(const char *name)
{
  if (!name) return -1;
  for (int k = 0; k < EQG_SCHEDULE_KIND_COUNT; k++)
    if (strcmp(kind_names[k], name) == 0) return k;
  return -1;
}

eqg_schedule eqg_schedule_constant(eqg_real lr)
{
  return (eqg_schedule){ .kind = EQG_SCHEDULE_CONSTANT, .lr = lr };
}

eqg_schedule eqg_schedule_step(eqg_real lr, long step_size, eqg_real gamma)
{
  return (eqg_schedule){ .kind = EQG_SCHEDULE_STEP, .lr = lr, .step_size = step_size,
                         .gamma = gamma };
}

eqg_schedule eqg_schedule_cosine(eqg_real lr, long T, eqg_real lr_min)
{
  return (eqg_schedule){ .kind = EQG_SCHEDULE_COSINE, .lr = lr, .T = T, .lr_min = lr_min };
}

eqg_schedule eqg_schedule_warmup_restarts(eqg_real lr, long warmup, long T0, long T_mult,
                                          eqg_real lr_min)
{
  return (eqg_schedule){ .kind = EQG_SCHEDULE_WARMUP_RESTARTS, .lr = lr, .warmup = warmup,
                         .T0 = T0, .T_mult = T_mult, .lr_min = lr_min };
}

static bool rate_ok(eqg_real v) { return isfinite(v) && v >= 0; }

eqg_status eqg_schedule_check(const eqg_schedule *s)
{
  if (!s) return eqg_error_set(EQG_EINVAL, "schedule: NULL config");
  if (s->kind < 0 || s->kind >= EQG_SCHEDULE_KIND_COUNT)
    return eqg_error_set(EQG_EINVAL, "schedule: unknown kind %d", (int)s->kind);
  const char *name = kind_names[s->kind];
  if (!rate_ok(s->lr)) return eqg_error_set(EQG_EINVAL, "schedule %s: invalid lr %g", name, s->lr);
  switch (s->kind) {
  case EQG_SCHEDULE_CONSTANT:
    break;
  case EQG_SCHEDULE_STEP:
    if (s->step_size < 1)
      return eqg_error_set(EQG_EINVAL, "schedule step: step_size %ld < 1", s->step_size);
    if (!rate_ok(s->gamma))
      return eqg_error_set(EQG_EINVAL, "schedule step: invalid gamma %g", s->gamma);
    break;
  case EQG_SCHEDULE_COSINE:
    if (s->T < 1) return eqg_error_set(EQG_EINVAL, "schedule cosine: T %ld < 1", s->T);
    if (!rate_ok(s->lr_min))
      return eqg_error_set(EQG_EINVAL, "schedule cosine: invalid lr_min %g", s->lr_min);
    break;
  case EQG_SCHEDULE_WARMUP_RESTARTS:
    if (s->warmup < 0)
      return eqg_error_set(EQG_EINVAL, "schedule warmup_restarts: warmup %ld < 0", s->warmup);
    if (s->T0 < 1 || s->T_mult < 1)
      return eqg_error_set(EQG_EINVAL, "schedule warmup_restarts: T0 %ld and T_mult %ld must be >= 1",
                           s->T0, s->T_mult);
    if (!rate_ok(s->lr_min))
      return eqg_error_set(EQG_EINVAL, "schedule warmup_restarts: invalid lr_min %g", s->lr_min);
    break;
  default:
    break;
  }
  if (s->halve_last < 0 || (s->halve_last > 0 && s->halve_last >= s->total))
    return eqg_error_set(EQG_EINVAL, "schedule %s: halve_last %ld must be in [0, total %ld - 1]",
                         name, s->halve_last, s->total);
  return EQG_OK;
}

/* lr_min + (lr - lr_min) (1 + cos(pi cur / len)) / 2 */
static eqg_real cosine(eqg_real lr, eqg_real lr_min, eqg_real cur, eqg_real len)
{
  const eqg_real pi = 3.14159265358979323846;
  return lr_min + (lr - lr_min) * (1 + cos(pi * cur / len)) / 2;
}

/* The schedule without the final halving. */
static eqg_real base_lr(const eqg_schedule *s, long t)
{
  switch (s->kind) {
  case EQG_SCHEDULE_CONSTANT:
    return s->lr;
  case EQG_SCHEDULE_STEP:
    return s->lr * pow(s->gamma, (eqg_real)(t / s->step_size));
  case EQG_SCHEDULE_COSINE:
    return cosine(s->lr, s->lr_min, (eqg_real)(t < s->T ? t : s->T), (eqg_real)s->T);
  case EQG_SCHEDULE_WARMUP_RESTARTS: {
    if (t < s->warmup) return s->lr * (eqg_real)t / (eqg_real)s->warmup;
    /* Walk the cycles in integers: exact at every restart boundary. */
    long cur = t - s->warmup, len = s->T0;
    while (cur >= len) {
      cur -= len;
      if (len > LONG_MAX / s->T_mult)   /* this cycle outlasts any long t */
        return cosine(s->lr, s->lr_min, (eqg_real)cur, (eqg_real)len * (eqg_real)s->T_mult);
      len *= s->T_mult;
    }
    return cosine(s->lr, s->lr_min, (eqg_real)cur, (eqg_real)len);
  }
  default:
    return NAN;
  }
}

eqg_real eqg_schedule_lr(const eqg_schedule *s, long step_or_epoch)
{
  if (eqg_schedule_check(s) != EQG_OK) return NAN;
  long t = step_or_epoch < 0 ? 0 : step_or_epoch;
  if (s->halve_last > 0) {
    long E = s->total - s->halve_last;   /* first halved epoch, >= 1 */
    if (t >= E) return base_lr(s, E - 1) * pow(0.5, (eqg_real)(t - E + 1));
  }
  return base_lr(s, t);
}
