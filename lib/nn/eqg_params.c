/* eqg_params.c: the flat parameter block (see eqg_params.h).
 *
 * Storage: info/view grow by doubling `cap`; data/grad and buf grow by
 * doubling their capacities (data_cap, buf_cap) so building a model of k
 * entries costs O(log k) reallocations.  New scalars are zeroed.  After any
 * block moves, every view is re-pointed from its (offset, trainable). */
#include "nn/eqg_params.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

eqg_params *eqg_params_alloc(void)
{
  eqg_params *p = calloc(1, sizeof *p);
  if (!p) eqg_error_set(EQG_ENOMEM, "params: cannot allocate");
  return p;
}

void eqg_params_free(eqg_params *p)
{
  if (!p) return;
  free(p->info);
  free(p->view);
  free(p->data);
  free(p->grad);
  free(p->buf);
  free(p);
}

/* Point view k at its storage (NULL data for empty entries in empty blocks). */
static void params_repoint(eqg_params *p)
{
  for (size_t k = 0; k < p->n; k++) {
    const eqg_param_info *in = &p->info[k];
    eqg_tensor *v = &p->view[k];
    v->rows = in->rows;
    v->cols = in->cols;
    if (in->trainable) {
      v->data = p->data ? p->data + in->offset : NULL;
      v->grad = p->grad ? p->grad + in->offset : NULL;
    } else {
      v->data = p->buf ? p->buf + in->offset : NULL;
      v->grad = NULL;
    }
  }
}

/* Why `name` is not acceptable, or NULL if it is. */
static const char *name_problem(const char *name)
{
  if (!name || !name[0]) return "empty name";
  size_t len = strlen(name);
  if (len >= EQG_PARAM_NAME_MAX) return "name too long";
  if (name[0] == '.' || name[len - 1] == '.') return "name starts or ends with '.'";
  if (strstr(name, "..")) return "name has an empty component (\"..\")";
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return "name has a character outside [A-Za-z0-9_.-]";
  }
  return NULL;
}

/* Grow a real block to hold `need` scalars (zeroing the new tail); *cap is
 * updated only on success. */
static bool grow_reals(eqg_real **blk, size_t *cap, size_t need)
{
  if (need <= *cap) return true;
  size_t c = *cap ? *cap : 64;
  while (c < need) c = c > SIZE_MAX / 2 ? need : 2 * c;
  if (c > SIZE_MAX / sizeof(eqg_real)) return false;
  eqg_real *g = realloc(*blk, c * sizeof *g);
  if (!g) return false;
  memset(g + *cap, 0, (c - *cap) * sizeof *g);
  *blk = g;
  *cap = c;
  return true;
}

int eqg_params_add(eqg_params *p, const char *name, size_t rows, size_t cols,
                   bool trainable)
{
  const char *why = name_problem(name);
  if (why) {
    eqg_error_set(EQG_EINVAL, "params: %s: \"%.*s\"", why, (int)EQG_PARAM_NAME_MAX,
                  name ? name : "(null)");
    return -1;
  }
  if (eqg_params_find(p, name) >= 0) {
    eqg_error_set(EQG_EINVAL, "params: duplicate name \"%s\"", name);
    return -1;
  }
  if (p->n >= (size_t)INT32_MAX) {
    eqg_error_set(EQG_ERANGE, "params: too many entries");
    return -1;
  }
  size_t used = trainable ? p->size : p->buf_size;
  if (cols != 0 && rows > (SIZE_MAX / sizeof(eqg_real) - used) / cols) {
    eqg_error_set(EQG_ENOMEM, "params: \"%s\" of %zu x %zu overflows", name, rows, cols);
    return -1;
  }
  size_t m = rows * cols;

  if (p->n == p->cap) {
    size_t c = p->cap ? 2 * p->cap : 16;
    eqg_param_info *info = realloc(p->info, c * sizeof *info);
    if (info) p->info = info;
    eqg_tensor *view = info ? realloc(p->view, c * sizeof *view) : NULL;
    if (view) p->view = view;
    if (!info || !view) {
      eqg_error_set(EQG_ENOMEM, "params: cannot grow to %zu entries", c);
      return -1;
    }
    p->cap = c;
  }
  if (trainable) {
    /* data and grad share one capacity: grow both before committing it. */
    size_t cap_d = p->data_cap, cap_g = p->data_cap;
    if (!grow_reals(&p->data, &cap_d, p->size + m) ||
        !grow_reals(&p->grad, &cap_g, p->size + m)) {
      /* A block that did grow keeps its zeroed tail; data_cap stays the
       * smaller, still-true capacity. */
      params_repoint(p);
      eqg_error_set(EQG_ENOMEM, "params: cannot grow the block for \"%s\"", name);
      return -1;
    }
    p->data_cap = cap_d;
  } else if (!grow_reals(&p->buf, &p->buf_cap, p->buf_size + m)) {
    eqg_error_set(EQG_ENOMEM, "params: cannot grow the buffer block for \"%s\"", name);
    return -1;
  }

  eqg_param_info *in = &p->info[p->n];
  memset(in, 0, sizeof *in);
  memcpy(in->name, name, strlen(name) + 1);
  in->rows = rows;
  in->cols = cols;
  in->trainable = trainable;
  in->offset = used;
  if (trainable) p->size += m; else p->buf_size += m;
  p->n++;
  params_repoint(p);
  return (int)(p->n - 1);
}

eqg_tensor *eqg_params_get(eqg_params *p, int id)
{
  if (id < 0 || (size_t)id >= p->n) {
    eqg_error_set(EQG_ERANGE, "params: no entry with id %d (%zu entries)", id, p->n);
    return NULL;
  }
  return &p->view[id];
}

int eqg_params_find(const eqg_params *p, const char *name)
{
  if (!name) return -1;
  for (size_t k = 0; k < p->n; k++)
    if (strcmp(p->info[k].name, name) == 0) return (int)k;
  return -1;
}

size_t eqg_params_count(const eqg_params *p) { return p->size; }

void eqg_params_zero_grad(eqg_params *p)
{
  if (p->size) memset(p->grad, 0, p->size * sizeof *p->grad);
}

eqg_real eqg_params_grad_norm(const eqg_params *p)
{
  eqg_real s = 0;
  for (size_t i = 0; i < p->size; i++) s += p->grad[i] * p->grad[i];
  return sqrt(s);
}

eqg_real eqg_params_clip_grad_norm(eqg_params *p, eqg_real max_norm)
{
  eqg_real norm = eqg_params_grad_norm(p);
  if (!isfinite(norm)) return norm;
  eqg_real coef = max_norm / (norm + 1e-6);
  if (coef < 1) {
    if (coef < 0) coef = 0;
    for (size_t i = 0; i < p->size; i++) p->grad[i] *= coef;
  }
  return norm;
}
