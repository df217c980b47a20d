/* eqg_layer.c: the registry of layer families and the neutral defaults. */
#include "layers/eqg_layer.h"

#include <stdio.h>
#include <string.h>

const eqg_layer_type *const eqg_layer_types[] = {
  &eqg_layer_gnn, &eqg_layer_rf, &eqg_layer_schnet, &eqg_layer_egnn,
  &eqg_layer_lgeb, &eqg_layer_vecnet,
  &eqg_layer_deepsets, &eqg_layer_edgeconv,
  &eqg_layer_lconv,
  NULL
};

eqg_layer_config eqg_layer_config_default(size_t dim, size_t width)
{
  return (eqg_layer_config){
    .dim = dim,
    .width = width,
    .act = EQG_ACT_SILU,
    .update_x = true,
    .residual = true,
    .coord_agg = EQG_AGG_MEAN,
    .coord_scale = 1,
    .n_rbf = 50,
    .rbf_cutoff = 5,
    .rbf_gamma = 10,
    .equivariant_fraction = 1,
    .metric = dim == 4 ? EQG_METRIC_MINKOWSKI : EQG_METRIC_EUCLIDEAN,
  };
}

const eqg_layer_type *eqg_layer_type_find(const char *name)
{
  for (const eqg_layer_type *const *t = eqg_layer_types; *t; t++)
    if (name && strcmp((*t)->name, name) == 0) return *t;
  char list[256] = "";
  size_t used = 0;
  for (const eqg_layer_type *const *t = eqg_layer_types; *t; t++) {
    int n = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", (*t)->name);
    if (n < 0 || (size_t)n >= sizeof list - used) break;
    used += (size_t)n;
  }
  eqg_error_set(EQG_EINVAL, "unknown layer family '%s' (known: %s)", name ? name : "(null)", list);
  return NULL;
}
