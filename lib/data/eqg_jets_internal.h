/* eqg_jets_internal.h: helpers shared by the eqg_jets*.c files (not installed).
 * Four-vectors are double[4] = (E, px, py, pz). */
#ifndef EQG_JETS_INTERNAL_H
#define EQG_JETS_INTERNAL_H

#include "data/eqg_jets.h"

double eqg_jets_pt(const double p[4]);
double eqg_jets_eta(const double p[4]);      /* pseudorapidity (+-1e5 along the beam) */
double eqg_jets_rapidity(const double p[4]); /* rapidity (+-1e5 along the beam) */
double eqg_jets_phi(const double p[4]);      /* atan2(py, px) in (-pi, pi] */
double eqg_jets_dphi(double a, double b);    /* a, b in [-pi, pi]: |a - b| wrapped to [0, pi] */
/* Delta R^2 in (rapidity, phi) */
double eqg_jets_dr2(double y1, double phi1, double y2, double phi2);

/* Two-body decay of P (mass m, given: P^2 = m^2 up to rounding) into masses m1,
 * m2 (m1 + m2 <= m).  In the rest frame daughter 1 flies along
 *   n* = cos_theta e + sin_theta (cos phi e1 + sin phi e2),
 * e the direction of P's momentum (the z axis if P is at rest), (e1, e2) a fixed
 * orthonormal completion; both are boosted back to P's frame:
 *   E = (E_P E* + P.p*) / m,  p = p* + P ((P.p*) / (m (E_P + m)) + E* / m),
 * so p1 + p2 = P exactly in exact arithmetic. */
void eqg_jets_two_body(double p1[4], double p2[4], const double P[4], double m, double m1,
                       double m2, double cos_theta, double phi);

/* Mass drawn from the relativistic Breit-Wigner in s = m^2,
 *   f(s) ~ 1 / ((s - M^2)^2 + M^2 Gamma^2),
 * truncated to m in [lo, hi] (by inverting the arctan CDF). */
double eqg_jets_breit_wigner(gsl_rng *r, double M, double Gamma, double lo, double hi);

/* alpha_s at scale mu^2 (one loop, nf = 5, from alpha_s(m_Z); fixed if not running). */
double eqg_jets_alpha_s(const eqg_jets_config *cfg, double mu2);

/* Anti-kT (E-scheme) on the n final particles p (n, 4) with radius R: *jet gets
 * the hardest inclusive jet's momentum, members (n) 1 for its constituents.
 * EQG_ENOMEM only. */
eqg_status eqg_jets_antikt_hardest(double jet[4], unsigned char *members, const double *p,
                                   size_t n, double R);

/* Row i of ds from its pmu and nobj: label (1 for k < nobj) and mass
 * (sqrt(max(E^2 - p^2, 0)) for k < nobj, 0 beyond). */
void eqg_jets_fill_derived(eqg_jet_dataset *ds, size_t i);

#endif
