/* eqg_lorentz.c: Lorentz transformations of four-vectors (E, px, py, pz) --
 * boost matrices from the rapidity, checks of Lambda^T eta Lambda = eta, the
 * so(1,3) basis, and the group types boostz, boost and lorentz.
 *
 * Boosts are built from cosh/sinh of the rapidity, never from 1 - beta^2,
 * which cancels catastrophically as beta -> 1; gamma - 1 = 2 sinh^2(eta/2)
 * keeps the small-eta part accurate. */
#include "groups/eqg_group.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>

/* B = (4, 4) boost along the unit vector n:
 * [[gamma, -gamma beta n^T], [-gamma beta n, I + (gamma - 1) n n^T]]. */
static void boost_unit_axis(eqg_real *B, const eqg_real n[3], eqg_real eta)
{
  const eqg_real ch = cosh(eta), sh = sinh(eta), h = sinh(0.5 * eta);
  const eqg_real gm1 = 2 * h * h;                  /* gamma - 1 */
  B[0] = ch;
  for (int i = 0; i < 3; i++) {
    B[1 + i] = -sh * n[i];
    B[4 * (1 + i)] = -sh * n[i];
    for (int j = 0; j < 3; j++)
      B[4 * (1 + i) + 1 + j] = (i == j ? 1 : 0) + gm1 * n[i] * n[j];
  }
}

eqg_status eqg_boost_matrix(eqg_real *B, const eqg_real n[3], eqg_real rapidity)
{
  const eqg_real n2 = n[0] * n[0] + n[1] * n[1] + n[2] * n[2];
  if (!(n2 > 0) || !isfinite(n2) || !isfinite(rapidity))
    return eqg_error_set(EQG_EINVAL, "boost: axis (%g, %g, %g) and rapidity %g must "
                         "be finite, axis nonzero", n[0], n[1], n[2], rapidity);
  const eqg_real inv = 1 / sqrt(n2);
  const eqg_real u[3] = { n[0] * inv, n[1] * inv, n[2] * inv };
  boost_unit_axis(B, u, rapidity);
  return EQG_OK;
}

void eqg_lorentz_embed_rotation(eqg_real *L4, const eqg_real *R3)
{
  memset(L4, 0, 16 * sizeof *L4);
  L4[0] = 1;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) L4[4 * (1 + i) + 1 + j] = R3[3 * i + j];
}

/* L = (6, 4, 4): J_a = diag(0, L_a); K_a = -(e_0 e_a^T + e_a e_0^T). */
void eqg_lorentz_generators(eqg_real *L)
{
  eqg_real L3[27];
  eqg_rotation_generators(L3);
  memset(L, 0, 96 * sizeof *L);
  for (int a = 0; a < 3; a++) {
    for (int b = 0; b < 3; b++)
      for (int c = 0; c < 3; c++) L[16 * a + 4 * (1 + b) + 1 + c] = L3[9 * a + 3 * b + c];
    L[16 * (3 + a) + 1 + a] = -1;
    L[16 * (3 + a) + 4 * (1 + a)] = -1;
  }
}

/* Determinant of a (4, 4) matrix by LU with partial pivoting. */
static eqg_real det4(const eqg_real *A)
{
  eqg_real U[16];
  memcpy(U, A, sizeof U);
  eqg_real det = 1;
  for (int k = 0; k < 4; k++) {
    int p = k;
    for (int i = k + 1; i < 4; i++)
      if (fabs(U[4 * i + k]) > fabs(U[4 * p + k])) p = i;
    if (U[4 * p + k] == 0) return 0;
    if (p != k) {
      for (int j = 0; j < 4; j++) {
        eqg_real t = U[4 * k + j]; U[4 * k + j] = U[4 * p + j]; U[4 * p + j] = t;
      }
      det = -det;
    }
    det *= U[4 * k + k];
    for (int i = k + 1; i < 4; i++) {
      const eqg_real f = U[4 * i + k] / U[4 * k + k];
      for (int j = k + 1; j < 4; j++) U[4 * i + j] -= f * U[4 * k + j];
    }
  }
  return det;
}

void eqg_group_check_lorentz(const eqg_real *L, eqg_real *err_metric, eqg_real *det,
                             eqg_real *l00)
{
  static const eqg_real g[4] = { 1, -1, -1, -1 };
  if (err_metric) {
    eqg_real err = 0;
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) {
        eqg_real s = 0;                              /* (Lambda^T eta Lambda)_ij */
        for (int k = 0; k < 4; k++) s += L[4 * k + i] * g[k] * L[4 * k + j];
        const eqg_real d = fabs(s - (i == j ? g[i] : 0));
        if (d > err || isnan(d)) err = d;
      }
    *err_metric = err;
  }
  if (det) *det = det4(L);
  if (l00) *l00 = L[0];
}

static void minkowski_metric(eqg_real *G)
{
  memset(G, 0, 16 * sizeof *G);
  G[0] = 1;
  G[5] = G[10] = G[15] = -1;
}

static void boostz_generators(eqg_real *L)
{
  eqg_real all[96];
  eqg_lorentz_generators(all);
  memcpy(L, all + 16 * 5, 16 * sizeof *L);   /* K_z */
}

/* Uniform direction on S^2: z ~ U[-1, 1], phi ~ U[0, 2 pi). */
static void random_direction(eqg_real n[3], gsl_rng *r)
{
  const eqg_real z = 2 * gsl_rng_uniform(r) - 1, phi = 2 * M_PI * gsl_rng_uniform(r);
  const eqg_real rho = sqrt((1 - z) * (1 + z));
  n[0] = rho * cos(phi); n[1] = rho * sin(phi); n[2] = z;
}

/* Velocity beta ~ N(0, sigma^2), redrawn while |beta| >= 1 (sigma <= 1). */
static eqg_real velocity_1d(gsl_rng *r, eqg_real sigma)
{
  eqg_real b;
  do b = gsl_ran_gaussian(r, sigma); while (fabs(b) >= 1);
  return b;
}

/* Axis n (unit) and signed rapidity eta of a boost drawn from g's parameters.
 * axis: the fixed axis, or NULL for a uniformly random one.  symmetric:
 * UNIFORM draws eta in [-max, max] (else [0, max]). */
static void draw_boost(const eqg_group *g, gsl_rng *r, const eqg_real *axis,
                       bool symmetric, eqg_real n[3], eqg_real *eta)
{
  const eqg_group_params *p = &g->params;
  if (p->rapidity_mode == EQG_RAPIDITY_VELOCITY && axis == NULL) {
    eqg_real b[3], b2;
    do {
      for (int i = 0; i < 3; i++) b[i] = gsl_ran_gaussian(r, p->velocity_sigma);
      b2 = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
    } while (b2 >= 1);
    const eqg_real bn = sqrt(b2);
    if (bn == 0) { n[0] = n[1] = 0; n[2] = 1; *eta = 0; return; }
    for (int i = 0; i < 3; i++) n[i] = b[i] / bn;
    *eta = atanh(bn);
    return;
  }
  if (axis) memcpy(n, axis, 3 * sizeof *n);
  else random_direction(n, r);
  switch (p->rapidity_mode) {
  case EQG_RAPIDITY_UNIFORM:
    *eta = symmetric ? (2 * gsl_rng_uniform(r) - 1) * p->rapidity
                     : gsl_rng_uniform(r) * p->rapidity;
    break;
  case EQG_RAPIDITY_FIXED:
    *eta = p->rapidity;
    break;
  case EQG_RAPIDITY_VELOCITY:
    *eta = atanh(velocity_1d(r, p->velocity_sigma));
    break;
  case EQG_RAPIDITY_MODE_COUNT:
  default:
    *eta = 0;
    EQG_ASSERT(!"rapidity mode validated by eqg_group_alloc");
  }
}

static void boostz_sample(const eqg_group *g, gsl_rng *r, eqg_group_elem *e)
{
  static const eqg_real ez[3] = { 0, 0, 1 };
  eqg_real n[3], eta;
  draw_boost(g, r, ez, true, n, &eta);
  eqg_group_elem_identity(e, 4);
  boost_unit_axis(e->M, n, eta);
}

static void boost_sample(const eqg_group *g, gsl_rng *r, eqg_group_elem *e)
{
  eqg_real n[3], eta;
  draw_boost(g, r, g->params.fixed_axis ? g->params.axis : NULL, false, n, &eta);
  eqg_group_elem_identity(e, 4);
  boost_unit_axis(e->M, n, eta);
}

/* Lambda = R B: R Haar on SO(3) embedded as diag(1, R), B a boost as in
 * boost_sample.  Every proper orthochronous Lambda has this polar form. */
static void lorentz_sample(const eqg_group *g, gsl_rng *r, eqg_group_elem *e)
{
  eqg_real R3[9], R[16], B[16], n[3], eta;
  eqg_rotation_sample_haar(R3, r);
  eqg_lorentz_embed_rotation(R, R3);
  draw_boost(g, r, g->params.fixed_axis ? g->params.axis : NULL, false, n, &eta);
  boost_unit_axis(B, n, eta);
  eqg_group_elem_identity(e, 4);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      eqg_real s = 0;
      for (int k = 0; k < 4; k++) s += R[4 * i + k] * B[4 * k + j];
      e->M[4 * i + j] = s;
    }
}

const eqg_group_type eqg_group_boostz = {
  .name = "boostz",
  .description = "boosts along the z (beam) axis, rapidity U[-max, max] or fixed",
  .dim = 4, .n_generators = 1, .gen_dim = 4,
  .sample = boostz_sample, .generators = boostz_generators, .metric = minkowski_metric,
};

const eqg_group_type eqg_group_boost = {
  .name = "boost",
  .description = "pure boosts along a random (or given) axis, rapidity U[0, max] "
                 "or fixed; generators span so(1,3)",
  .dim = 4, .n_generators = 6, .gen_dim = 4,
  .sample = boost_sample, .generators = eqg_lorentz_generators,
  .metric = minkowski_metric,
};

const eqg_group_type eqg_group_lorentz = {
  .name = "lorentz",
  .description = "proper orthochronous Lorentz group SO+(1,3): Haar rotation "
                 "times a random-axis boost",
  .dim = 4, .n_generators = 6, .gen_dim = 4,
  .sample = lorentz_sample, .generators = eqg_lorentz_generators,
  .metric = minkowski_metric,
};
