/* eqg_jets_kin.c: four-vector kinematics, two-body decays, Breit-Wigner masses,
 * alpha_s, and the generator configuration.
 *
 * Decays are exact two-body decays in the parent's rest frame followed by a
 * boost, so four-momentum is conserved to rounding at every decay and every
 * shower branching (both use eqg_jets_two_body). */
#include "data/eqg_jets_internal.h"

#include <math.h>

#include <gsl/gsl_math.h>

static const double MZ = 91.1876;

void eqg_jets_config_default(eqg_jets_config *cfg)
{
  *cfg = (eqg_jets_config){
    .gen_pt_min = 500, .gen_pt_max = 700, .gen_eta_max = 2.0, .gluon_fraction = 0.5,
    .m_top = 173.0, .gamma_top = 1.4, .m_w = 80.4, .gamma_w = 2.1, .bw_cut = 10,
    .q0 = 1.0, .alpha_s_mz = 0.118, .running_alpha_s = 1, .kt_min = 0.4, .angular_ordering = 0,
    .start_scale = 1.0, .m_final = 0.13957,
    .jet_r = 0.8, .jet_pt_min = 550, .jet_pt_max = 650, .jet_eta_max = 2.0,
    .match_top = 1, .max_constituents = 200, .max_tries = 1000,
  };
}

eqg_status eqg_jets_config_check(const eqg_jets_config *c)
{
#define BAD(...) return eqg_error_set(EQG_EINVAL, "jets config: " __VA_ARGS__)
  const double v[] = { c->gen_pt_min, c->gen_pt_max, c->gen_eta_max, c->gluon_fraction,
                       c->m_top, c->gamma_top, c->m_w, c->gamma_w, c->bw_cut, c->q0,
                       c->alpha_s_mz, c->kt_min, c->start_scale, c->m_final, c->jet_r,
                       c->jet_pt_min, c->jet_pt_max, c->jet_eta_max };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    if (!isfinite(v[i])) BAD("parameter %zu is not finite", i);
  if (!(c->gen_pt_min > 0 && c->gen_pt_max >= c->gen_pt_min))
    BAD("gen_pt range [%g, %g] must satisfy 0 < min <= max", c->gen_pt_min, c->gen_pt_max);
  if (!(c->gen_eta_max >= 0)) BAD("gen_eta_max = %g must be >= 0", c->gen_eta_max);
  if (!(c->gluon_fraction >= 0 && c->gluon_fraction <= 1))
    BAD("gluon_fraction = %g must be in [0, 1]", c->gluon_fraction);
  if (!(c->gamma_top > 0 && c->gamma_w > 0 && c->bw_cut > 0))
    BAD("gamma_top, gamma_w and bw_cut must be > 0");
  if (!(c->m_final >= 0 && c->q0 > 2 * c->m_final))
    BAD("need m_final >= 0 and q0 = %g > 2 m_final = %g", c->q0, 2 * c->m_final);
  if (!(c->m_w - c->bw_cut * c->gamma_w > 2 * c->q0))
    BAD("m_w - bw_cut gamma_w = %g must exceed 2 q0", c->m_w - c->bw_cut * c->gamma_w);
  if (!(c->m_top - c->bw_cut * c->gamma_top > c->m_w + c->bw_cut * c->gamma_w + c->q0))
    BAD("the top (m_top - bw_cut gamma_top = %g) must be able to decay into b W",
        c->m_top - c->bw_cut * c->gamma_top);
  if (!(c->alpha_s_mz > 0 && c->alpha_s_mz < 1))
    BAD("alpha_s_mz = %g must be in (0, 1)", c->alpha_s_mz);
  if (!(c->kt_min > 0 && c->kt_min <= c->q0))
    BAD("kt_min = %g must be in (0, q0]", c->kt_min);
  if (c->running_alpha_s) {
    const double b0 = 23.0 / (12 * M_PI);
    if (!(1 + c->alpha_s_mz * b0 * log(c->kt_min * c->kt_min / (MZ * MZ)) > 0.1))
      BAD("kt_min = %g GeV is too close to the Landau pole of the running alpha_s",
          c->kt_min);
  }
  if (!(c->start_scale > 0)) BAD("start_scale = %g must be > 0", c->start_scale);
  if (!(c->jet_r > 0 && c->jet_r <= 1.5)) BAD("jet_r = %g must be in (0, 1.5]", c->jet_r);
  if (!(c->jet_pt_max > c->jet_pt_min && c->jet_pt_min >= 0))
    BAD("jet pT window [%g, %g] is empty", c->jet_pt_min, c->jet_pt_max);
  if (!(c->jet_eta_max > 0)) BAD("jet_eta_max = %g must be > 0", c->jet_eta_max);
  if (c->max_constituents == 0 || c->max_constituents > 32767)
    BAD("max_constituents = %zu must be in 1..32767 (Nobj is int16)", c->max_constituents);
  if (c->max_tries == 0) BAD("max_tries must be >= 1");
#undef BAD
  return EQG_OK;
}

double eqg_jet_p4_mass(const double p[4])
{
  const double m2 = p[0] * p[0] - p[1] * p[1] - p[2] * p[2] - p[3] * p[3];
  return m2 > 0 ? sqrt(m2) : 0.0;
}

double eqg_jets_pt(const double p[4]) { return hypot(p[1], p[2]); }

double eqg_jets_eta(const double p[4])
{
  const double pt = eqg_jets_pt(p);
  if (pt == 0) return p[3] >= 0 ? 1e5 : -1e5;
  return asinh(p[3] / pt);
}

double eqg_jets_rapidity(const double p[4])
{
  const double a = p[0] + p[3], b = p[0] - p[3];
  if (!(a > 0)) return -1e5;
  if (!(b > 0)) return 1e5;
  return 0.5 * log(a / b);
}

double eqg_jets_phi(const double p[4])
{
  return (p[1] == 0 && p[2] == 0) ? 0.0 : atan2(p[2], p[1]);
}

double eqg_jets_dphi(double a, double b)
{
  const double d = fabs(a - b);   /* a, b in [-pi, pi]: d <= 2 pi */
  return d > M_PI ? 2 * M_PI - d : d;
}

double eqg_jets_dr2(double y1, double phi1, double y2, double phi2)
{
  const double dy = y1 - y2, dp = eqg_jets_dphi(phi1, phi2);
  return dy * dy + dp * dp;
}

/* Orthonormal (e, e1, e2) with e along v (z if v = 0). */
static void frame(double e[3], double e1[3], double e2[3], const double v[3])
{
  const double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  if (n > 0) {
    for (int i = 0; i < 3; i++) e[i] = v[i] / n;
  } else {
    e[0] = 0; e[1] = 0; e[2] = 1;
  }
  /* e1: the axis least parallel to e, made orthogonal (Gram-Schmidt). */
  double a[3] = { 0, 0, 0 };
  const double ax = fabs(e[0]), ay = fabs(e[1]), az = fabs(e[2]);
  a[(ax <= ay && ax <= az) ? 0 : (ay <= az ? 1 : 2)] = 1;
  const double d = a[0] * e[0] + a[1] * e[1] + a[2] * e[2];
  for (int i = 0; i < 3; i++) e1[i] = a[i] - d * e[i];
  const double n1 = sqrt(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]);
  for (int i = 0; i < 3; i++) e1[i] /= n1;
  e2[0] = e[1] * e1[2] - e[2] * e1[1];
  e2[1] = e[2] * e1[0] - e[0] * e1[2];
  e2[2] = e[0] * e1[1] - e[1] * e1[0];
}

/* Boost the rest-frame (es, ps) of a system P of mass m to P's frame. */
static void boost(double out[4], double es, const double ps[3], const double P[4], double m)
{
  const double pp = P[1] * ps[0] + P[2] * ps[1] + P[3] * ps[2];
  const double f = pp / (m * (P[0] + m)) + es / m;
  out[0] = (P[0] * es + pp) / m;
  for (int i = 0; i < 3; i++) out[i + 1] = ps[i] + f * P[i + 1];
}

void eqg_jets_two_body(double p1[4], double p2[4], const double P[4], double m, double m1,
                       double m2, double cos_theta, double phi)
{
  const double m_2 = m * m;
  /* |p*| = sqrt(lambda(m^2, m1^2, m2^2)) / (2 m), lambda = (m^2 - (m1+m2)^2)(m^2 - (m1-m2)^2) */
  const double lam = (m_2 - (m1 + m2) * (m1 + m2)) * (m_2 - (m1 - m2) * (m1 - m2));
  const double ps = lam > 0 ? sqrt(lam) / (2 * m) : 0.0;
  const double e1s = (m_2 + m1 * m1 - m2 * m2) / (2 * m), e2s = m - e1s;
  const double ct = cos_theta > 1 ? 1 : (cos_theta < -1 ? -1 : cos_theta);
  const double st = sqrt(fmax(0.0, 1 - ct * ct));
  double e[3], e1[3], e2[3], n[3], q1[3], q2[3];
  frame(e, e1, e2, P + 1);
  for (int i = 0; i < 3; i++) {
    n[i] = ct * e[i] + st * (cos(phi) * e1[i] + sin(phi) * e2[i]);
    q1[i] = ps * n[i];
    q2[i] = -q1[i];
  }
  boost(p1, e1s, q1, P, m);
  boost(p2, e2s, q2, P, m);
}

double eqg_jets_breit_wigner(gsl_rng *r, double M, double Gamma, double lo, double hi)
{
  /* s = M^2 + M Gamma tan(u): u uniform between the images of lo^2 and hi^2. */
  const double mg = M * Gamma;
  const double ulo = atan((lo * lo - M * M) / mg), uhi = atan((hi * hi - M * M) / mg);
  const double u = ulo + (uhi - ulo) * gsl_rng_uniform(r);
  const double s = M * M + mg * tan(u);
  const double m = sqrt(fmax(s, lo * lo));
  return m < lo ? lo : (m > hi ? hi : m);
}

double eqg_jets_alpha_s(const eqg_jets_config *cfg, double mu2)
{
  if (!cfg->running_alpha_s) return cfg->alpha_s_mz;
  /* alpha_s(mu^2) = alpha_s(m_Z) / (1 + alpha_s(m_Z) b0 ln(mu^2 / m_Z^2)), b0 = (33 - 2 nf) / (12 pi) */
  const double b0 = 23.0 / (12 * M_PI);
  return cfg->alpha_s_mz / (1 + cfg->alpha_s_mz * b0 * log(mu2 / (MZ * MZ)));
}
