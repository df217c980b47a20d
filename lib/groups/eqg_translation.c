/* eqg_translation.c: the translation group R^3 acting on positions.
 *
 * An element is x -> x + t (M = I), t ~ N(0, sigma^2 I_3), sigma =
 * params.translation_sigma.  Translations are not linear on R^3, so their Lie
 * algebra lives in the homogeneous representation on (x, y, z, 1):
 * (T_a)_{a,3} = 1, exp(sum_a t_a T_a) = [[I, t], [0, 1]]; [T_a, T_b] = 0.  The
 * metric is the Euclidean one: distances between positions (and displacements
 * themselves) are unchanged. */
#include "groups/eqg_group.h"

#include <string.h>

#include <gsl/gsl_randist.h>

static void translation_sample(const eqg_group *g, gsl_rng *r, eqg_group_elem *e)
{
  eqg_group_elem_identity(e, 3);
  for (int i = 0; i < 3; i++) e->t[i] = gsl_ran_gaussian(r, g->params.translation_sigma);
}

/* L = (3, 4, 4): T_a = e_a e_3^T in homogeneous coordinates. */
static void translation_generators(eqg_real *L)
{
  memset(L, 0, 48 * sizeof *L);
  for (int a = 0; a < 3; a++) L[16 * a + 4 * a + 3] = 1;
}

static void translation_metric(eqg_real *G)
{
  memset(G, 0, 9 * sizeof *G);
  G[0] = G[4] = G[8] = 1;
}

const eqg_group_type eqg_group_translation = {
  .name = "translation",
  .description = "translations of positions in R^3, offsets ~ N(0, sigma^2)",
  .dim = 3, .n_generators = 3, .gen_dim = 4,
  .sample = translation_sample, .generators = translation_generators,
  .metric = translation_metric,
};
