/* eqg_jets_cluster.c: sequential-recombination clustering (anti-kT jets,
 * exclusive-kT subjets) and the jet observables of eqg_jets.h.
 *
 * Distances (E-scheme recombination, (rapidity, phi) plane):
 *   d_ij = min(w_i, w_j) Delta R_ij^2 / R^2,  d_iB = w_i,
 *   w = 1 / pT^2 (anti-kT) or pT^2 (kT).
 * The algorithm keeps each pseudojet's geometric nearest neighbour j(i) (in
 * Delta R) and the distance w_i Delta R_ij(i)^2 / R^2 (FastJet's NNH idea: the
 * smallest d_ij over all pairs is min_i of these, since for the minimal pair
 * with w_i <= w_j, j must be i's geometric nearest neighbour).  Each step finds
 * the smallest in O(n); a merge updates only the pseudojets whose neighbour
 * was involved, so a jet costs O(n^2) overall.  A beam distance makes the
 * pseudojet a final jet.  Exclusive
 * kT for subjets uses no beam distance and stops at N pseudojets. */
#include "data/eqg_jets_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double SUBJET_R0 = 0.8, W_MASS = 80.4;

typedef struct cluster {
  size_t n, n_active;
  double (*p)[4];          /* (n, 4) pseudojet momenta */
  double *w, *y, *phi;     /* (n) distance weight, rapidity, azimuth */
  double *nnd;             /* (n) Delta R^2 to the geometric nearest neighbour */
  int *nn;                 /* (n) geometric nearest neighbour, -1: none */
  int *owner;              /* (n) pseudojet holding original particle k */
  unsigned char *active;   /* (n) */
  int anti;                /* 1: anti-kT weights, 0: kT */
  double inv_r2;
} cluster;

static void cluster_free(cluster *c)
{
  free(c->p); free(c->w); free(c->y); free(c->phi); free(c->nnd); free(c->nn);
  free(c->owner); free(c->active);
}

static void pseudojet_update(cluster *c, size_t i)
{
  const double pt2 = c->p[i][1] * c->p[i][1] + c->p[i][2] * c->p[i][2];
  /* anti-kT weight: guard pT = 0 (a particle along the beam) */
  c->w[i] = c->anti ? (pt2 > 0 ? 1 / pt2 : DBL_MAX) : pt2;
  c->y[i] = eqg_jets_rapidity(c->p[i]);
  c->phi[i] = eqg_jets_phi(c->p[i]);
}

static double dr2(const cluster *c, size_t i, size_t j)
{
  return eqg_jets_dr2(c->y[i], c->phi[i], c->y[j], c->phi[j]);
}

static void nn_update(cluster *c, size_t i)
{
  c->nn[i] = -1;
  c->nnd[i] = DBL_MAX;
  for (size_t j = 0; j < c->n; j++) {
    if (j == i || !c->active[j]) continue;
    const double d = dr2(c, i, j);
    if (d < c->nnd[i]) { c->nnd[i] = d; c->nn[i] = (int)j; }
  }
}

static eqg_status cluster_init(cluster *c, const double *p, size_t n, double R, int anti)
{
  memset(c, 0, sizeof *c);
  c->n = c->n_active = n;
  c->anti = anti;
  c->inv_r2 = 1 / (R * R);
  const size_t m = n ? n : 1;
  c->p = malloc(m * sizeof *c->p);
  c->w = malloc(m * sizeof *c->w); c->y = malloc(m * sizeof *c->y);
  c->phi = malloc(m * sizeof *c->phi); c->nnd = malloc(m * sizeof *c->nnd);
  c->nn = malloc(m * sizeof *c->nn); c->owner = malloc(m * sizeof *c->owner);
  c->active = malloc(m);
  if (!c->p || !c->w || !c->y || !c->phi || !c->nnd || !c->nn || !c->owner || !c->active) {
    cluster_free(c);
    return eqg_error_set(EQG_ENOMEM, "jets: out of memory clustering %zu particles", n);
  }
  for (size_t i = 0; i < n; i++) {
    memcpy(c->p[i], p + 4 * i, sizeof c->p[i]);
    c->owner[i] = (int)i;
    c->active[i] = 1;
    pseudojet_update(c, i);
  }
  for (size_t i = 0; i < n; i++) nn_update(c, i);
  return EQG_OK;
}

/* One step: the smallest distance among d_ij (and d_iB if `beam`).  Returns the
 * index of a pseudojet that became a final jet (beam step), or -1 after a merge. */
static int cluster_step(cluster *c, bool beam)
{
  size_t best = SIZE_MAX;
  double dmin = DBL_MAX;
  bool to_beam = false;
  for (size_t i = 0; i < c->n; i++) {
    if (!c->active[i]) continue;
    const double d = c->nn[i] >= 0 ? c->w[i] * c->nnd[i] * c->inv_r2 : DBL_MAX;
    if (d < dmin) { dmin = d; best = i; to_beam = false; }
    if (beam && c->w[i] < dmin) { dmin = c->w[i]; best = i; to_beam = true; }
  }
  EQG_ASSERT(best != SIZE_MAX);
  const size_t i = best;
  if (to_beam || c->nn[i] < 0) {
    c->active[i] = 0;
    c->n_active--;
    for (size_t k = 0; k < c->n; k++)
      if (c->active[k] && c->nn[k] == (int)i) nn_update(c, k);
    return (int)i;
  }
  const size_t j = (size_t)c->nn[i];
  for (int mu = 0; mu < 4; mu++) c->p[i][mu] += c->p[j][mu];
  pseudojet_update(c, i);
  c->active[j] = 0;
  c->n_active--;
  for (size_t k = 0; k < c->n; k++)
    if (c->owner[k] == (int)j) c->owner[k] = (int)i;
  nn_update(c, i);
  for (size_t k = 0; k < c->n; k++) {
    if (!c->active[k] || k == i) continue;
    if (c->nn[k] == (int)i || c->nn[k] == (int)j) {
      nn_update(c, k);
    } else {
      const double d = dr2(c, k, i);
      if (d < c->nnd[k]) { c->nnd[k] = d; c->nn[k] = (int)i; }
    }
  }
  return -1;
}

eqg_status eqg_jets_antikt_hardest(double jet[4], unsigned char *members, const double *p,
                                   size_t n, double R)
{
  memset(jet, 0, 4 * sizeof *jet);
  memset(members, 0, n);
  if (n == 0) return EQG_OK;
  cluster c;
  eqg_status st = cluster_init(&c, p, n, R, 1);
  if (st != EQG_OK) return st;
  double best_pt2 = -1;
  while (c.n_active > 0) {
    const int f = cluster_step(&c, true);
    if (f < 0) continue;
    const double pt2 = c.p[f][1] * c.p[f][1] + c.p[f][2] * c.p[f][2];
    if (pt2 <= best_pt2) continue;
    best_pt2 = pt2;
    memcpy(jet, c.p[f], 4 * sizeof *jet);
    for (size_t k = 0; k < n; k++) members[k] = c.owner[k] == f;
  }
  cluster_free(&c);
  return EQG_OK;
}

/* ---- observables --------------------------------------------------------------- */

static double pair_mass(const double a[4], const double b[4])
{
  const double s[4] = { a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3] };
  return eqg_jet_p4_mass(s);
}

/* tau_N with the N axes ax (N, 4) (beta = 1, normalised by sum pT R0). */
static double tau_n(const double *p, size_t n, double (*ax)[4], size_t N)
{
  double ya[3], pa[3], num = 0, den = 0;
  for (size_t a = 0; a < N; a++) {
    ya[a] = eqg_jets_rapidity(ax[a]);
    pa[a] = eqg_jets_phi(ax[a]);
  }
  for (size_t i = 0; i < n; i++) {
    const double *q = p + 4 * i, pt = eqg_jets_pt(q);
    const double y = eqg_jets_rapidity(q), phi = eqg_jets_phi(q);
    double dmin = DBL_MAX;
    for (size_t a = 0; a < N; a++) dmin = fmin(dmin, eqg_jets_dr2(y, phi, ya[a], pa[a]));
    num += pt * sqrt(dmin);
    den += pt * SUBJET_R0;
  }
  return den > 0 ? num / den : 0.0;
}

/* The three exclusive-kT subjets: W candidate, smallest and two-hardest masses. */
static void subjet_masses(eqg_jet_obs *o, double (*s)[4])
{
  /* pairs (0,1), (0,2), (1,2) */
  const double m[3] = { pair_mass(s[0], s[1]), pair_mass(s[0], s[2]), pair_mass(s[1], s[2]) };
  o->m_w = m[0];
  o->m_min = m[0];
  for (int k = 1; k < 3; k++) {
    if (fabs(m[k] - W_MASS) < fabs(o->m_w - W_MASS)) o->m_w = m[k];
    o->m_min = fmin(o->m_min, m[k]);
  }
  /* the softest subjet is left out of the two-hardest pair */
  const double pt[3] = { eqg_jets_pt(s[0]), eqg_jets_pt(s[1]), eqg_jets_pt(s[2]) };
  const int soft = pt[0] <= pt[1] && pt[0] <= pt[2] ? 0 : (pt[1] <= pt[2] ? 1 : 2);
  o->m_12 = m[2 - soft];   /* pair without `soft`: index 2 - soft maps 0->(1,2), 1->(0,2), 2->(0,1) */
}

eqg_status eqg_jet_observables(eqg_jet_obs *o, const eqg_real *p, size_t n)
{
  memset(o, 0, sizeof *o);
  o->n = (int)n;
  double sum[4] = { 0, 0, 0, 0 };
  for (size_t i = 0; i < n; i++)
    for (int mu = 0; mu < 4; mu++) sum[mu] += p[4 * i + mu];
  o->pt = eqg_jets_pt(sum);
  o->eta = n ? eqg_jets_eta(sum) : 0.0;
  o->mass = eqg_jet_p4_mass(sum);
  if (n == 0) return EQG_OK;
  cluster c;
  eqg_status st = cluster_init(&c, p, n, 1.0, 0);
  if (st != EQG_OK) return st;
  double axes[3][4];
  for (size_t N = 3; N >= 1; N--) {
    while (c.n_active > N) cluster_step(&c, false);
    if (n < N) continue;   /* tau_N = 0: fewer particles than axes */
    size_t a = 0;
    for (size_t i = 0; i < c.n && a < N; i++)
      if (c.active[i]) memcpy(axes[a++], c.p[i], sizeof axes[0]);
    o->tau[N - 1] = tau_n(p, n, axes, N);
    if (N == 3) subjet_masses(o, axes);
  }
  cluster_free(&c);
  o->tau21 = o->tau[0] > 0 ? o->tau[1] / o->tau[0] : 0.0;
  o->tau32 = o->tau[1] > 0 ? o->tau[2] / o->tau[1] : 0.0;
  return EQG_OK;
}
