/* eqg_rotation.c: rotations of R^3 -- axis-angle matrices, Haar sampling,
 * the so(3) basis, and the group types so3, o3 and so2z. */
#include "groups/eqg_group.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_math.h>

/* R = (3, 3) rotation by angle about the unit vector n (Rodrigues):
 * R = I + sin K + (1 - cos) K^2 with K = [n]_x, 1 - cos = 2 sin^2(angle/2). */
static void rotation_unit_axis(eqg_real *R, const eqg_real n[3], eqg_real angle)
{
  const eqg_real s = sin(angle), h = sin(0.5 * angle), c1 = 2 * h * h;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      R[3 * i + j] = (i == j ? 1 : 0) + c1 * (n[i] * n[j] - (i == j ? 1 : 0));
  /* + sin K, K = [[0, -n_z, n_y], [n_z, 0, -n_x], [-n_y, n_x, 0]] */
  R[1] -= s * n[2]; R[2] += s * n[1];
  R[3] += s * n[2]; R[5] -= s * n[0];
  R[6] -= s * n[1]; R[7] += s * n[0];
}

eqg_status eqg_rotation_matrix_axis_angle(eqg_real *R, const eqg_real axis[3],
                                          eqg_real angle)
{
  const eqg_real n2 = axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2];
  if (!(n2 > 0) || !isfinite(n2) || !isfinite(angle))
    return eqg_error_set(EQG_EINVAL, "rotation: axis (%g, %g, %g) and angle %g must "
                         "be finite, axis nonzero", axis[0], axis[1], axis[2], angle);
  const eqg_real inv = 1 / sqrt(n2);
  const eqg_real n[3] = { axis[0] * inv, axis[1] * inv, axis[2] * inv };
  rotation_unit_axis(R, n, angle);
  return EQG_OK;
}

/* Shoemake (Graphics Gems III): with u1, u2, u3 ~ U[0, 1),
 *   q = (sqrt(1-u1) sin 2 pi u2, sqrt(1-u1) cos 2 pi u2,
 *        sqrt(u1)   sin 2 pi u3, sqrt(u1)   cos 2 pi u3)
 * is uniform on S^3, and S^3 -> SO(3) maps the uniform measure to Haar
 * measure.  The matrix uses s = 2 / |q|^2, so it is orthogonal to rounding
 * even when |q| = 1 holds only to rounding. */
void eqg_rotation_sample_haar(eqg_real *R, gsl_rng *r)
{
  const eqg_real u1 = gsl_rng_uniform(r), u2 = gsl_rng_uniform(r),
                 u3 = gsl_rng_uniform(r);
  const eqg_real a = sqrt(1 - u1), b = sqrt(u1);
  const eqg_real w = a * sin(2 * M_PI * u2), x = a * cos(2 * M_PI * u2),
                 y = b * sin(2 * M_PI * u3), z = b * cos(2 * M_PI * u3);
  const eqg_real s = 2 / (w * w + x * x + y * y + z * z);
  R[0] = 1 - s * (y * y + z * z); R[1] = s * (x * y - z * w); R[2] = s * (x * z + y * w);
  R[3] = s * (x * y + z * w); R[4] = 1 - s * (x * x + z * z); R[5] = s * (y * z - x * w);
  R[6] = s * (x * z - y * w); R[7] = s * (y * z + x * w); R[8] = 1 - s * (x * x + y * y);
}

/* (L_a)_{bc} = -epsilon_{abc}: L_a v = e_a x v. */
void eqg_rotation_generators(eqg_real *L)
{
  memset(L, 0, 27 * sizeof *L);
  for (int a = 0; a < 3; a++) {
    const int b = (a + 1) % 3, c = (a + 2) % 3;   /* (a, b, c) cyclic */
    L[9 * a + 3 * b + c] = -1;
    L[9 * a + 3 * c + b] = 1;
  }
}

static void euclid_metric(eqg_real *G)
{
  memset(G, 0, 9 * sizeof *G);
  G[0] = G[4] = G[8] = 1;
}

static void so3_sample(const eqg_group *g, gsl_rng *r, eqg_group_elem *e)
{
  (void)g;
  eqg_group_elem_identity(e, 3);
  eqg_rotation_sample_haar(e->M, r);
}

/* Haar SO(3), then the parity -I with probability 1/2 (Haar on O(3)). */
static void o3_sample(const eqg_group *g, gsl_rng *r, eqg_group_elem *e)
{
  so3_sample(g, r, e);
  if (gsl_rng_uniform(r) < 0.5)
    for (int i = 0; i < 9; i++) e->M[i] = -e->M[i];
}

/* R_z(theta), theta ~ U[0, 2 pi). */
static void so2z_sample(const eqg_group *g, gsl_rng *r, eqg_group_elem *e)
{
  (void)g;
  const eqg_real th = 2 * M_PI * gsl_rng_uniform(r);
  const eqg_real c = cos(th), s = sin(th);
  eqg_group_elem_identity(e, 3);
  e->M[0] = c; e->M[1] = -s;
  e->M[3] = s; e->M[4] = c;
}

static void so2z_generators(eqg_real *L)
{
  eqg_real all[27];
  eqg_rotation_generators(all);
  memcpy(L, all + 18, 9 * sizeof *L);   /* L_z */
}

const eqg_group_type eqg_group_so3 = {
  .name = "so3",
  .description = "rotations SO(3), Haar-uniform (Shoemake quaternion)",
  .dim = 3, .n_generators = 3, .gen_dim = 3,
  .sample = so3_sample, .generators = eqg_rotation_generators, .metric = euclid_metric,
};

const eqg_group_type eqg_group_o3 = {
  .name = "o3",
  .description = "rotations and reflections O(3): Haar SO(3) times parity with p = 1/2",
  .dim = 3, .n_generators = 3, .gen_dim = 3,
  .sample = o3_sample, .generators = eqg_rotation_generators, .metric = euclid_metric,
};

const eqg_group_type eqg_group_so2z = {
  .name = "so2z",
  .description = "rotations SO(2) about the z (beam) axis, uniform angle",
  .dim = 3, .n_generators = 1, .gen_dim = 3,
  .sample = so2z_sample, .generators = so2z_generators, .metric = euclid_metric,
};
