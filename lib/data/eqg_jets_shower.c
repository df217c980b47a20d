/* eqg_jets_shower.c: the event tree of one jet: the hard parton (a top decaying
 * t -> b W, W -> q q', or a light quark / gluon) and a virtuality-ordered
 * final-state parton shower of every parton.
 *
 * Shower (in the style of the mass-ordered showers of Pythia 6 / Ellis-Stirling-
 * Webber ch. 5, kept simple):
 * - evolution variable t = m^2 (the parton's virtuality), from t_max downwards;
 *   the parton stops (becomes a final particle of mass m_final) when t < q0^2;
 * - branchings a -> b c with b taking the energy fraction z, with the LO QCD
 *   splitting functions (C_F = 4/3, C_A = 3, T_R = 1/2, n_f = 5):
 *     q -> q g: P_qq(z) = C_F (1 + z^2) / (1 - z)          (z: the quark)
 *     g -> g g: P_gg(z) = C_A (z/(1-z) + (1-z)/z + z(1-z))
 *     g -> q q: P_qg(z) = T_R n_f (z^2 + (1-z)^2)          (z: the quark)
 *   and the no-branching (Sudakov) probability between t_max and t
 *     Delta = exp(-int_t^tmax dt'/t' int dz alpha_s(kT^2)/(2 pi) P(z)),
 *   kT^2 = z (1 - z) t, alpha_s running at one loop (or fixed);
 * - veto algorithm: trial branchings from the overestimates alpha_max = alpha_s
 *   (kt_min^2), P_qq <= 2 C_F / (1 - z), P_gg <= C_A (1/z + 1/(1-z)), P_qg <= T_R n_f
 *   on z in [eps, 1 - eps], eps = kt_min / (2 E) (a bound on every physical z),
 *   for which t is drawn as t = t_prev R^(1/I), I = int dz alpha_max/(2 pi) P_over;
 *   a trial is accepted with probability alpha_s(kT^2) P(z) / (alpha_max P_over(z))
 *   if it is physical: z inside the massless limits (1 -+ beta)/2, beta =
 *   sqrt(1 - t/E^2), and kT >= kt_min;
 * - daughters start their evolution from the parent's virtuality t_a (Pythia 6's
 *   mass-ordered shower); m_b + m_c <= m_a is then enforced by evolving the
 *   heavier daughter further down until the pair fits;
 * - optional angular ordering (cfg->angular_ordering, off by default): a
 *   branching is vetoed if its opening angle theta^2 ~ t / (z (1-z) E^2) exceeds
 *   its parent's (Pythia 6's coherence option; ~14 instead of ~32 final
 *   particles per event with the defaults);
 * - kinematics, exact: a -> b c is a two-body decay in a's rest frame with the
 *   daughters' masses, at the polar angle (to a's direction of motion) that
 *   gives b the energy fraction z for massless daughters, cos theta* =
 *   (2 z - 1) / beta_a, and a uniform azimuth.  So p_a = p_b + p_c at every
 *   branching, and the energy sharing is z up to O(m_b^2, m_c^2) corrections.
 *   Energies used to generate a branching are estimates (the parent's z times
 *   its estimate); kinematics uses the actual momenta (cos theta* clamped).
 * - no spin correlations, no colour coherence (unless angular_ordering), no
 *   hadronisation; final particles have mass m_final (the pion mass by default).
 *
 * Decays: top mass and W mass from truncated relativistic Breit-Wigners; t -> b W
 * and W -> q q' isotropic in the parent's rest frame, exact two-body kinematics
 * with the daughters' shower masses (b and light quarks are massless partons
 * before the shower).  Shower start: b from (m_t - m_W)^2, W daughters from
 * m_W^2, the QCD parton from (start_scale pT)^2.
 *
 * The tree is a flat array: children are appended after their parent, so
 * processing nodes in index order visits parents before children. */
#include "data/eqg_jets_internal.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_math.h>

static const double CF = 4.0 / 3.0, CA = 3.0, TR = 0.5, NF = 5.0;

eqg_jet_event *eqg_jet_event_alloc(void)
{
  eqg_jet_event *ev = calloc(1, sizeof *ev);
  if (!ev) eqg_error_set(EQG_ENOMEM, "jets: out of memory for an event");
  return ev;
}

void eqg_jet_event_free(eqg_jet_event *ev)
{
  if (!ev) return;
  free(ev->node);
  free(ev);
}

/* Append a node; its index, or -1 (EQG_ENOMEM recorded). */
static int node_new(eqg_jet_event *ev, int kind, int parent, double e_est)
{
  if (ev->n_nodes == ev->cap) {
    const size_t cap = ev->cap ? 2 * ev->cap : 256;
    eqg_jet_node *n = realloc(ev->node, cap * sizeof *n);
    if (!n || cap > (size_t)INT32_MAX) {
      if (n) ev->node = n;
      eqg_error_set(EQG_ENOMEM, "jets: out of memory for %zu shower nodes", cap);
      return -1;
    }
    ev->node = n;
    ev->cap = cap;
  }
  const int i = (int)ev->n_nodes++;
  ev->node[i] = (eqg_jet_node){ .kind = kind, .split = EQG_JET_SPLIT_NONE,
                                .child = { -1, -1 }, .parent = parent, .e_est = e_est,
                                .theta2_max = HUGE_VAL };
  return i;
}

/* ---- Sudakov evolution --------------------------------------------------------- */

/* Draw the next branching of parton nd below t_max (see the top of the file):
 * sets t, z, phi and split, or makes it a final particle (t = m_final^2). */
static void evolve(eqg_jet_node *nd, double t_max, const eqg_jets_config *cfg, gsl_rng *r)
{
  const double th2max = nd->theta2_max;
  const double E = nd->e_est, t0 = cfg->q0 * cfg->q0, kt2min = cfg->kt_min * cfg->kt_min;
  nd->split = EQG_JET_SPLIT_NONE;
  nd->t = cfg->m_final * cfg->m_final;
  nd->z = 0;
  nd->phi = 0;
  const double eps = cfg->kt_min / (2 * E);
  if (!(E > 0) || eps >= 0.5) return;
  double t = fmin(t_max, E * E);
  const double amax = eqg_jets_alpha_s(cfg, kt2min), a = amax / (2 * M_PI);
  const double L = log((1 - eps) / eps);
  const bool gluon = nd->kind == EQG_JET_GLUON;
  /* overestimated integrals int dz a P_over(z) per channel */
  const double c_qqg = gluon ? 0 : a * 2 * CF * L;
  const double c_ggg = gluon ? a * 2 * CA * L : 0;
  const double c_gqq = gluon ? a * TR * NF * (1 - 2 * eps) : 0;
  const double c_tot = c_qqg + c_ggg + c_gqq;
  for (;;) {
    t *= pow(gsl_rng_uniform_pos(r), 1 / c_tot);
    if (t < t0) return;
    /* channel, then z from its overestimate */
    const double uc = gsl_rng_uniform(r) * c_tot, uz = gsl_rng_uniform(r);
    int ch;
    double z, ratio;   /* ratio = P(z) / P_over(z) <= 1 */
    if (uc < c_qqg) {
      ch = EQG_JET_SPLIT_QQG;
      z = 1 - eps * exp(uz * L);                 /* density 1/(1-z) */
      ratio = (1 + z * z) / 2;
    } else if (uc < c_qqg + c_ggg) {
      ch = EQG_JET_SPLIT_GGG;
      const double u = eps * exp(uz * L);        /* density 1/z + 1/(1-z) */
      z = gsl_rng_uniform(r) < 0.5 ? u : 1 - u;
      const double w = z * (1 - z);
      ratio = (1 - w) * (1 - w);                 /* = z^2 + (1-z)^2 + z^2 (1-z)^2 */
    } else {
      ch = EQG_JET_SPLIT_GQQ;
      z = eps + (1 - 2 * eps) * uz;              /* flat */
      ratio = z * z + (1 - z) * (1 - z);
    }
    const double beta = sqrt(fmax(0.0, 1 - t / (E * E)));
    if (z < (1 - beta) / 2 || z > (1 + beta) / 2) continue;
    const double kt2 = z * (1 - z) * t;
    if (kt2 < kt2min) continue;
    if (cfg->angular_ordering && t / (z * (1 - z) * E * E) > th2max) continue;
    if (gsl_rng_uniform(r) * amax > eqg_jets_alpha_s(cfg, kt2) * ratio) continue;
    nd->t = t;
    nd->z = z;
    nd->phi = 2 * M_PI * gsl_rng_uniform(r);
    nd->split = ch;
    return;
  }
}

/* Make sqrt(t_b) + sqrt(t_c) <= sqrt(t_a): evolve the heavier daughter further
 * down until it fits (terminates: two final particles have 2 m_final < q0). */
static void fit_daughters(eqg_jet_event *ev, int b, int c, double m_a,
                          const eqg_jets_config *cfg, gsl_rng *r)
{
  for (;;) {
    eqg_jet_node *nb = &ev->node[b], *nc = &ev->node[c];
    if (sqrt(nb->t) + sqrt(nc->t) <= m_a) return;
    eqg_jet_node *h = nb->t >= nc->t ? nb : nc;
    /* the heavier one final means both final: excluded by q0 > 2 m_final, as a
     * branching parent has m_a >= q0 (eqg_jets_config_check) */
    EQG_ASSERT(h->split != EQG_JET_SPLIT_NONE);
    evolve(h, h->t, cfg, r);
  }
}

/* Create the daughters of the shower branching at node a and draw their own
 * branchings. */
static eqg_status branch(eqg_jet_event *ev, int a, const eqg_jets_config *cfg, gsl_rng *r)
{
  const eqg_jet_node na = ev->node[a];
  int kb = EQG_JET_QUARK, kc = EQG_JET_GLUON;
  if (na.split == EQG_JET_SPLIT_GGG) kb = EQG_JET_GLUON;
  else if (na.split == EQG_JET_SPLIT_GQQ) kc = EQG_JET_QUARK;
  const int b = node_new(ev, kb, a, na.z * na.e_est);
  const int c = b < 0 ? -1 : node_new(ev, kc, a, (1 - na.z) * na.e_est);
  if (c < 0) return EQG_ENOMEM;
  ev->node[a].child[0] = b;
  ev->node[a].child[1] = c;
  const double th2 = na.t / (na.z * (1 - na.z) * na.e_est * na.e_est);
  ev->node[b].theta2_max = ev->node[c].theta2_max = th2;
  evolve(&ev->node[b], na.t, cfg, r);
  evolve(&ev->node[c], na.t, cfg, r);
  fit_daughters(ev, b, c, sqrt(na.t), cfg, r);
  return EQG_OK;
}

/* Four-momenta of all nodes below the root (whose p is set), parents first. */
static void build_kinematics(eqg_jet_event *ev, double m_final)
{
  for (size_t i = 0; i < ev->n_nodes; i++) {
    eqg_jet_node *a = &ev->node[i];
    if (a->child[0] < 0) {
      /* Massive final particles keep the boosted E: E - |p| = m^2 / (E + |p|) is far
       * above rounding, and p_parent = p_b + p_c stays exact to rounding.  Massless
       * ones are put on the light cone, E = |p|, so that E >= |p| holds exactly
       * (this moves E by the rounding of the boosts, ~1e-13 of the hard scale). */
      if (m_final == 0)
        a->p[0] = sqrt(a->p[1] * a->p[1] + a->p[2] * a->p[2] + a->p[3] * a->p[3]);
      continue;
    }
    eqg_jet_node *b = &ev->node[a->child[0]], *c = &ev->node[a->child[1]];
    double ct = a->cos_theta;
    if (a->split != EQG_JET_SPLIT_DECAY) {
      const double pa = sqrt(a->p[1] * a->p[1] + a->p[2] * a->p[2] + a->p[3] * a->p[3]);
      const double beta = pa / a->p[0];
      ct = beta > 0 ? (2 * a->z - 1) / beta : 0.0;
    }
    eqg_jets_two_body(b->p, c->p, a->p, sqrt(a->t), sqrt(b->t), sqrt(c->t), ct, a->phi);
  }
}

/* (E, p) of mass m, transverse momentum pt, pseudorapidity eta, azimuth phi. */
static void p4_from(double p[4], double pt, double eta, double phi, double m)
{
  p[1] = pt * cos(phi);
  p[2] = pt * sin(phi);
  p[3] = pt * sinh(eta);
  const double pa = pt * cosh(eta);
  p[0] = sqrt(pa * pa + m * m);
}

/* Decay node a (t, p set) isotropically into (b, c) with rest-frame masses
 * mb_est, mc_est for the energy estimates of the daughters. */
static eqg_status decay_setup(eqg_jet_event *ev, int a, int kb, int kc, double mb_est,
                              double mc_est, gsl_rng *r, double pb[4], double pc[4])
{
  eqg_jet_node *na = &ev->node[a];
  na->split = EQG_JET_SPLIT_DECAY;
  na->cos_theta = 2 * gsl_rng_uniform(r) - 1;
  na->phi = 2 * M_PI * gsl_rng_uniform(r);
  eqg_jets_two_body(pb, pc, na->p, sqrt(na->t), mb_est, mc_est, na->cos_theta, na->phi);
  const int b = node_new(ev, kb, a, pb[0]);
  const int c = b < 0 ? -1 : node_new(ev, kc, a, pc[0]);
  if (c < 0) return EQG_ENOMEM;
  ev->node[a].child[0] = b;
  ev->node[a].child[1] = c;
  return EQG_OK;
}

static eqg_status top_setup(eqg_jet_event *ev, double pt, double eta, double phi,
                            const eqg_jets_config *cfg, gsl_rng *r)
{
  const double mt = eqg_jets_breit_wigner(r, cfg->m_top, cfg->gamma_top,
                                          cfg->m_top - cfg->bw_cut * cfg->gamma_top,
                                          cfg->m_top + cfg->bw_cut * cfg->gamma_top);
  const double mw = eqg_jets_breit_wigner(r, cfg->m_w, cfg->gamma_w,
                                          cfg->m_w - cfg->bw_cut * cfg->gamma_w,
                                          cfg->m_w + cfg->bw_cut * cfg->gamma_w);
  const int top = node_new(ev, EQG_JET_TOP, -1, 0);
  if (top < 0) return EQG_ENOMEM;
  ev->node[top].t = mt * mt;
  p4_from(ev->node[top].p, pt, eta, phi, mt);
  ev->node[top].e_est = ev->node[top].p[0];
  double pb[4], pw[4], pq[4], pq2[4];
  eqg_status st = decay_setup(ev, top, EQG_JET_QUARK, EQG_JET_W, 0, mw, r, pb, pw);
  if (st != EQG_OK) return st;
  const int b = ev->node[top].child[0], w = ev->node[top].child[1];
  ev->node[w].t = mw * mw;
  for (int i = 0; i < 4; i++) ev->node[w].p[i] = pw[i];   /* for the estimates only */
  st = decay_setup(ev, w, EQG_JET_QUARK, EQG_JET_QUARK, 0, 0, r, pq, pq2);
  if (st != EQG_OK) return st;
  const int q = ev->node[w].child[0], q2 = ev->node[w].child[1];
  evolve(&ev->node[b], (mt - mw) * (mt - mw), cfg, r);
  evolve(&ev->node[q], mw * mw, cfg, r);
  evolve(&ev->node[q2], mw * mw, cfg, r);
  fit_daughters(ev, q, q2, mw, cfg, r);
  /* the W cannot shrink: evolve the b further while m_b + m_W > m_t */
  while (sqrt(ev->node[b].t) + mw > mt && ev->node[b].split != EQG_JET_SPLIT_NONE)
    evolve(&ev->node[b], ev->node[b].t, cfg, r);
  ev->top_daughters[0] = b;
  ev->top_daughters[1] = q;
  ev->top_daughters[2] = q2;
  return EQG_OK;
}

eqg_status eqg_jet_event_generate(eqg_jet_event *ev, int is_signal,
                                  const eqg_jets_config *cfg, gsl_rng *r)
{
  ev->n_nodes = 0;
  ev->is_signal = is_signal ? 1 : 0;
  ev->top_daughters[0] = ev->top_daughters[1] = ev->top_daughters[2] = -1;
  const double pt = cfg->gen_pt_min + (cfg->gen_pt_max - cfg->gen_pt_min) * gsl_rng_uniform(r);
  const double eta = cfg->gen_eta_max * (2 * gsl_rng_uniform(r) - 1);
  const double phi = M_PI * (2 * gsl_rng_uniform(r) - 1);
  eqg_status st = EQG_OK;
  if (is_signal) {
    st = top_setup(ev, pt, eta, phi, cfg, r);
  } else {
    const int kind = gsl_rng_uniform(r) < cfg->gluon_fraction ? EQG_JET_GLUON : EQG_JET_QUARK;
    const int root = node_new(ev, kind, -1, pt * cosh(eta));
    if (root < 0) return EQG_ENOMEM;
    const double s = cfg->start_scale * pt;
    evolve(&ev->node[root], s * s, cfg, r);
    p4_from(ev->node[root].p, pt, eta, phi, sqrt(ev->node[root].t));
  }
  if (st != EQG_OK) return st;
  /* shower: every parton with a pending branching, parents before children */
  for (size_t i = 0; i < ev->n_nodes; i++) {
    const int s = ev->node[i].split;
    if (s == EQG_JET_SPLIT_NONE || s == EQG_JET_SPLIT_DECAY) continue;
    st = branch(ev, (int)i, cfg, r);
    if (st != EQG_OK) return st;
  }
  build_kinematics(ev, cfg->m_final);
  return EQG_OK;
}

double eqg_jet_event_max_violation(const eqg_jet_event *ev)
{
  double worst = 0;
  for (size_t i = 0; i < ev->n_nodes; i++) {
    const eqg_jet_node *a = &ev->node[i];
    if (a->child[0] < 0) continue;
    const double *b = ev->node[a->child[0]].p, *c = ev->node[a->child[1]].p;
    for (int mu = 0; mu < 4; mu++)
      worst = fmax(worst, fabs(a->p[mu] - b[mu] - c[mu]) / a->p[0]);
  }
  return worst;
}
