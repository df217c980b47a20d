/* eqg_group.c: the group registry, the eqg_group object (validated sampling
 * parameters) and the affine action of an element on batches of vectors. */
#include "groups/eqg_group.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const eqg_group_type *const eqg_group_types[] = {
  &eqg_group_so3, &eqg_group_o3, &eqg_group_translation, &eqg_group_so2z,
  &eqg_group_boostz, &eqg_group_boost, &eqg_group_lorentz, NULL
};

const eqg_group_type *eqg_group_type_find(const char *name)
{
  if (name != NULL)
    for (const eqg_group_type *const *t = eqg_group_types; *t != NULL; t++)
      if (strcmp((*t)->name, name) == 0) return *t;
  eqg_error_set(EQG_EINVAL, "unknown group '%s' (known: so3, o3, translation, "
                "so2z, boostz, boost, lorentz)", name ? name : "(null)");
  return NULL;
}

eqg_group_params eqg_group_params_default(void)
{
  return (eqg_group_params){
    .rapidity_mode = EQG_RAPIDITY_UNIFORM,
    .rapidity = 1.0,
    .velocity_sigma = 0.1,
    .fixed_axis = false,
    .axis = { 0.0, 0.0, 1.0 },
    .translation_sigma = 1.0,
  };
}

/* Check p and normalise its axis in place. */
static eqg_status eqg_group_params_check(eqg_group_params *p)
{
  if ((unsigned)p->rapidity_mode >= (unsigned)EQG_RAPIDITY_MODE_COUNT)
    return eqg_error_set(EQG_EINVAL, "group: unknown rapidity mode %d",
                         (int)p->rapidity_mode);
  if (!isfinite(p->rapidity))
    return eqg_error_set(EQG_EINVAL, "group: rapidity %g is not finite", p->rapidity);
  if (p->rapidity_mode == EQG_RAPIDITY_UNIFORM && p->rapidity < 0)
    return eqg_error_set(EQG_EINVAL, "group: maximum rapidity %g must be >= 0",
                         p->rapidity);
  if (p->rapidity_mode == EQG_RAPIDITY_VELOCITY &&
      !(p->velocity_sigma > 0 && p->velocity_sigma <= 1))
    return eqg_error_set(EQG_EINVAL, "group: velocity sigma %g must be in (0, 1]",
                         p->velocity_sigma);
  if (p->fixed_axis) {
    eqg_real n2 = p->axis[0] * p->axis[0] + p->axis[1] * p->axis[1]
                + p->axis[2] * p->axis[2];
    if (!(n2 > 0) || !isfinite(n2))
      return eqg_error_set(EQG_EINVAL, "group: boost axis (%g, %g, %g) must be "
                           "finite and nonzero", p->axis[0], p->axis[1], p->axis[2]);
    eqg_real inv = 1 / sqrt(n2);
    for (int i = 0; i < 3; i++) p->axis[i] *= inv;
  }
  if (!(p->translation_sigma >= 0) || !isfinite(p->translation_sigma))
    return eqg_error_set(EQG_EINVAL, "group: translation sigma %g must be finite "
                         "and >= 0", p->translation_sigma);
  return EQG_OK;
}

eqg_group *eqg_group_alloc(const eqg_group_type *type, const eqg_group_params *p)
{
  if (type == NULL) {
    eqg_error_set(EQG_EINVAL, "group: NULL type");
    return NULL;
  }
  eqg_group_params q = p ? *p : eqg_group_params_default();
  if (eqg_group_params_check(&q) != EQG_OK) {
    eqg_error_prefix(EQG_EINVAL, "%s: ", type->name);
    return NULL;
  }
  eqg_group *g = malloc(sizeof *g);
  if (g == NULL) {
    eqg_error_set(EQG_ENOMEM, "group %s: out of memory", type->name);
    return NULL;
  }
  g->type = type;
  g->params = q;
  return g;
}

void eqg_group_free(eqg_group *g) { free(g); }

void eqg_group_sample(const eqg_group *g, gsl_rng *r, eqg_group_elem *e)
{
  g->type->sample(g, r, e);
  EQG_ASSERT(e->dim == g->type->dim);
}

void eqg_group_elem_identity(eqg_group_elem *e, size_t dim)
{
  EQG_ASSERT(dim >= 1 && dim <= EQG_GROUP_MAX_DIM);
  memset(e, 0, sizeof *e);
  e->dim = dim;
  for (size_t i = 0; i < dim; i++) e->M[i * dim + i] = 1;
}

void eqg_matrix_apply_rows(eqg_real *y, const eqg_real *M, const eqg_real *x,
                           size_t n, size_t dim)
{
  EQG_ASSERT(dim <= EQG_GROUP_MAX_DIM);
  for (size_t k = 0; k < n; k++) {
    eqg_real xk[EQG_GROUP_MAX_DIM];            /* copy: y may alias x */
    memcpy(xk, x + k * dim, dim * sizeof *xk);
    for (size_t i = 0; i < dim; i++) {
      eqg_real s = 0;
      for (size_t j = 0; j < dim; j++) s += M[i * dim + j] * xk[j];
      y[k * dim + i] = s;
    }
  }
}

eqg_status eqg_group_act(eqg_real *out, const eqg_group_elem *e, const eqg_real *in,
                         size_t n, eqg_vector_kind kind)
{
  if ((unsigned)kind >= (unsigned)EQG_VECTOR_KIND_COUNT)
    return eqg_error_set(EQG_EINVAL, "group act: unknown vector kind %d", (int)kind);
  const size_t d = e->dim;
  eqg_matrix_apply_rows(out, e->M, in, n, d);
  if (kind == EQG_VECTOR_POSITION)
    for (size_t k = 0; k < n; k++)
      for (size_t i = 0; i < d; i++) out[k * d + i] += e->t[i];
  return EQG_OK;
}

eqg_status eqg_group_elem_compose(eqg_group_elem *out, const eqg_group_elem *a,
                                  const eqg_group_elem *b)
{
  if (a->dim != b->dim)
    return eqg_error_set(EQG_ESHAPE, "group compose: dimensions %zu and %zu differ",
                         a->dim, b->dim);
  const size_t d = a->dim;
  eqg_group_elem c = { .dim = d };
  for (size_t i = 0; i < d; i++) {
    for (size_t j = 0; j < d; j++) {
      eqg_real s = 0;
      for (size_t k = 0; k < d; k++) s += a->M[i * d + k] * b->M[k * d + j];
      c.M[i * d + j] = s;
    }
    eqg_real s = a->t[i];
    for (size_t k = 0; k < d; k++) s += a->M[i * d + k] * b->t[k];
    c.t[i] = s;
  }
  *out = c;
  return EQG_OK;
}

void eqg_group_elem_homogeneous(eqg_real *H, const eqg_group_elem *e)
{
  const size_t d = e->dim, h = d + 1;
  for (size_t i = 0; i < d; i++) {
    for (size_t j = 0; j < d; j++) H[i * h + j] = e->M[i * d + j];
    H[i * h + d] = e->t[i];
  }
  for (size_t j = 0; j < d; j++) H[d * h + j] = 0;
  H[d * h + d] = 1;
}
