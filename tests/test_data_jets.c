/* test_data_jets.c: the toy top-tagging jet generator and its HDF5 datasets.
 *
 * Physics: four-momentum is conserved at every decay and shower branching and
 * from the root to the final particles; every node is on its mass shell
 * (p^2 = t); every constituent has E >= |p|; constituents are pT-ordered and
 * zero padded; the jet passes the pT / eta selection; the top, W and QCD mass
 * distributions, multiplicities and tau_32 fall where the spec says; the
 * anti-kT clustering agrees with a brute-force implementation.  Reproducibility:
 * same seed -> same bits (1 or 2 threads) and byte-identical files; another
 * seed differs.  I/O: round trip, reading other storage types and optional
 * datasets missing, partial loads, and rejection of bad files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gsl/gsl_rng.h>
#include <hdf5.h>

#include "data/eqg_jets.h"
#include "data/eqg_jets_internal.h"
#include "eqg_test_dir.h"

/* ---- helpers ---------------------------------------------------------------------- */

static gsl_rng *rng_new(unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  assert_non_null(r);
  gsl_rng_set(r, seed);
  return r;
}

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *x, size_t n)
{
  qsort(x, n, sizeof *x, cmp_double);
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static eqg_jet_dataset *generate(size_t n, unsigned long seed, int threads,
                                 const eqg_jets_config *cfg)
{
  eqg_jet_dataset *ds = eqg_jet_dataset_alloc(n, cfg->max_constituents);
  assert_non_null(ds);
  gsl_rng *r = rng_new(seed);
  const eqg_status st = eqg_jets_generate(ds, cfg, r, threads);
  if (st != EQG_OK) fprintf(stderr, "%s\n", eqg_error_message());
  assert_int_equal(st, EQG_OK);
  gsl_rng_free(r);
  return ds;
}

static bool datasets_equal(const eqg_jet_dataset *a, const eqg_jet_dataset *b)
{
  const size_t N = a->n_jets, P = a->max_constituents;
  return a->n_jets == b->n_jets && P == b->max_constituents &&
         !memcmp(a->nobj, b->nobj, N * sizeof *a->nobj) &&
         !memcmp(a->pmu, b->pmu, N * P * 4 * sizeof *a->pmu) &&
         !memcmp(a->truth_pmu, b->truth_pmu, N * 4 * sizeof *a->truth_pmu) &&
         !memcmp(a->is_signal, b->is_signal, N * sizeof *a->is_signal) &&
         !memcmp(a->jet_pt, b->jet_pt, N * sizeof *a->jet_pt) &&
         !memcmp(a->label, b->label, N * P * sizeof *a->label) &&
         !memcmp(a->mass, b->mass, N * P * sizeof *a->mass);
}

/* ---- configuration ------------------------------------------------------------------ */

static void test_config(void **state)
{
  (void)state;
  eqg_jets_config c;
  eqg_jets_config_default(&c);
  assert_int_equal(eqg_jets_config_check(&c), EQG_OK);
  assert_int_equal(c.max_constituents, 200);
  eqg_jets_config b = c;
  b.gluon_fraction = 1.5;
  assert_int_equal(eqg_jets_config_check(&b), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "gluon_fraction"));
  b = c;
  b.q0 = 0.2;   /* below 2 m_final */
  assert_int_equal(eqg_jets_config_check(&b), EQG_EINVAL);
  b = c;
  b.jet_pt_max = b.jet_pt_min;
  assert_int_equal(eqg_jets_config_check(&b), EQG_EINVAL);
  b = c;
  b.m_top = NAN;
  assert_int_equal(eqg_jets_config_check(&b), EQG_EINVAL);
  b = c;
  b.max_constituents = 0;
  assert_int_equal(eqg_jets_config_check(&b), EQG_EINVAL);
  b = c;
  b.kt_min = 0.05;   /* below Lambda_QCD: the running coupling blows up */
  assert_int_equal(eqg_jets_config_check(&b), EQG_EINVAL);
}

/* ---- events: conservation and mass shells --------------------------------------------- */

static void test_event_conservation(void **state)
{
  (void)state;
  eqg_jets_config c;
  eqg_jets_config_default(&c);
  gsl_rng *r = rng_new(11);
  eqg_jet_event *ev = eqg_jet_event_alloc();
  assert_non_null(ev);
  double worst = 0, worst_sum = 0, worst_shell = 0;
  size_t n_final_total = 0, n_tops_checked = 0;
  for (int e = 0; e < 400; e++) {
    const int sig = e % 2;
    assert_int_equal(eqg_jet_event_generate(ev, sig, &c, r), EQG_OK);
    worst = fmax(worst, eqg_jet_event_max_violation(ev));
    /* by hand: every node with children, p = p_b + p_c (relative to E) */
    double sum[4] = { 0, 0, 0, 0 };
    for (size_t i = 0; i < ev->n_nodes; i++) {
      const eqg_jet_node *a = &ev->node[i];
      /* mass shell: p^2 = t (final: m_final^2) to rounding, relative to E^2 */
      const double m2 = a->p[0] * a->p[0] - a->p[1] * a->p[1] - a->p[2] * a->p[2] -
                        a->p[3] * a->p[3];
      worst_shell = fmax(worst_shell, fabs(m2 - a->t) / (a->p[0] * a->p[0]));
      if (a->child[0] < 0) {
        n_final_total++;
        const double pa = sqrt(a->p[1] * a->p[1] + a->p[2] * a->p[2] + a->p[3] * a->p[3]);
        assert_true(a->p[0] >= pa);
        assert_true(fabs(a->t - c.m_final * c.m_final) < 1e-15);
        for (int mu = 0; mu < 4; mu++) sum[mu] += a->p[mu];
        continue;
      }
      const eqg_jet_node *b = &ev->node[a->child[0]], *d = &ev->node[a->child[1]];
      assert_int_equal(b->parent, (int)i);
      assert_int_equal(d->parent, (int)i);
      for (int mu = 0; mu < 4; mu++)
        assert_true(fabs(a->p[mu] - b->p[mu] - d->p[mu]) <= 1e-14 * a->p[0]);
      /* daughters' masses fit into the parent's */
      assert_true(sqrt(b->t) + sqrt(d->t) <= sqrt(a->t) * (1 + 1e-12));
    }
    /* the full shower, no cuts: final particles sum to the root */
    for (int mu = 0; mu < 4; mu++)
      worst_sum = fmax(worst_sum, fabs(sum[mu] - ev->node[0].p[mu]) / ev->node[0].p[0]);
    if (sig) {
      /* t -> b W, W -> q q': the top and W masses in their Breit-Wigner windows */
      const eqg_jet_node *top = &ev->node[0];
      assert_int_equal(top->kind, EQG_JET_TOP);
      assert_int_equal(top->split, EQG_JET_SPLIT_DECAY);
      const eqg_jet_node *w = &ev->node[top->child[1]];
      assert_int_equal(w->kind, EQG_JET_W);
      assert_int_equal(ev->top_daughters[0], top->child[0]);
      assert_int_equal(ev->top_daughters[1], w->child[0]);
      assert_int_equal(ev->top_daughters[2], w->child[1]);
      assert_true(fabs(eqg_jet_p4_mass(top->p) - c.m_top) <= c.bw_cut * c.gamma_top + 1e-6);
      assert_true(fabs(eqg_jet_p4_mass(w->p) - c.m_w) <= c.bw_cut * c.gamma_w + 1e-6);
      n_tops_checked++;
    } else {
      assert_true(ev->node[0].kind == EQG_JET_QUARK || ev->node[0].kind == EQG_JET_GLUON);
    }
  }
  fprintf(stderr, "conservation: max node violation %.3g, root vs final sum %.3g, mass "
          "shell %.3g, %.1f final particles per event\n", worst, worst_sum, worst_shell,
          (double)n_final_total / 400);
  assert_true(worst < 1e-14);     /* rounding: a few 1e-16 */
  assert_true(worst_sum < 1e-12);
  assert_true(worst_shell < 1e-9);
  assert_int_equal(n_tops_checked, 200);
  /* a shower, not a single particle: tens of final particles on average */
  assert_true(n_final_total > 400 * 15);
  eqg_jet_event_free(ev);
  gsl_rng_free(r);
}

/* Massless final particles: E = |p| exactly, conservation to the rounding of the
 * light-cone projection. */
static void test_event_massless(void **state)
{
  (void)state;
  eqg_jets_config c;
  eqg_jets_config_default(&c);
  c.m_final = 0;
  gsl_rng *r = rng_new(12);
  eqg_jet_event *ev = eqg_jet_event_alloc();
  assert_non_null(ev);
  for (int e = 0; e < 100; e++) {
    assert_int_equal(eqg_jet_event_generate(ev, e % 2, &c, r), EQG_OK);
    assert_true(eqg_jet_event_max_violation(ev) < 1e-10);
    double sum[4] = { 0, 0, 0, 0 };
    for (size_t i = 0; i < ev->n_nodes; i++) {
      const double *p = ev->node[i].p;
      if (ev->node[i].child[0] >= 0) continue;
      assert_true(p[0] == sqrt(p[1] * p[1] + p[2] * p[2] + p[3] * p[3]));
      for (int mu = 0; mu < 4; mu++) sum[mu] += p[mu];
    }
    for (int mu = 0; mu < 4; mu++)
      assert_true(fabs(sum[mu] - ev->node[0].p[mu]) < 1e-9 * ev->node[0].p[0]);
  }
  eqg_jet_event_free(ev);
  gsl_rng_free(r);
}

/* The angular-ordering option: still exact, and coherence suppresses wide-angle
 * soft emission, so fewer final particles than without it. */
static void test_angular_ordering(void **state)
{
  (void)state;
  eqg_jets_config c;
  eqg_jets_config_default(&c);
  eqg_jets_config ao = c;
  ao.angular_ordering = 1;
  gsl_rng *r = rng_new(13);
  eqg_jet_event *ev = eqg_jet_event_alloc();
  assert_non_null(ev);
  size_t n_final[2] = { 0, 0 };
  for (int e = 0; e < 300; e++)
    for (int k = 0; k < 2; k++) {
      assert_int_equal(eqg_jet_event_generate(ev, e % 2, k ? &ao : &c, r), EQG_OK);
      assert_true(eqg_jet_event_max_violation(ev) < 1e-14);
      for (size_t i = 0; i < ev->n_nodes; i++) n_final[k] += ev->node[i].child[0] < 0;
    }
  fprintf(stderr, "final particles per event: %.1f without, %.1f with angular ordering\n",
          n_final[0] / 300.0, n_final[1] / 300.0);
  assert_true(n_final[1] < n_final[0] * 0.8);
  eqg_jet_event_free(ev);
  gsl_rng_free(r);
}

/* Breit-Wigner masses: median at the pole, half the draws within +- Gamma/2. */
static void test_breit_wigner(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(5);
  enum { N = 20000 };
  double *m = malloc(N * sizeof *m);
  assert_non_null(m);
  size_t core = 0;
  for (int i = 0; i < N; i++) {
    m[i] = eqg_jets_breit_wigner(r, 80.4, 2.1, 80.4 - 21, 80.4 + 21);
    assert_true(m[i] >= 80.4 - 21 && m[i] <= 80.4 + 21);
    core += fabs(m[i] - 80.4) < 1.05;
  }
  assert_true(fabs(median(m, N) - 80.4) < 0.1);
  /* untruncated Cauchy in s: P(|m - M| < Gamma/2) ~ 1/2; truncation at 10 Gamma
   * raises it by ~1/(1 - 2/(pi 10)) */
  assert_in_range(core, (size_t)(0.48 * N), (size_t)(0.58 * N));
  free(m);
  gsl_rng_free(r);
}

/* ---- clustering --------------------------------------------------------------------- */

/* Brute-force anti-kT: O(n^3), the hardest jet's members. */
static void antikt_naive(double jet[4], unsigned char *mem, const double *p, size_t n,
                         double R)
{
  double (*q)[4] = malloc(n * sizeof *q);
  int *owner = malloc(n * sizeof *owner);
  unsigned char *act = malloc(n);
  assert_true(q && owner && act);
  for (size_t i = 0; i < n; i++) {
    memcpy(q[i], p + 4 * i, sizeof q[i]);
    owner[i] = (int)i;
    act[i] = 1;
  }
  double best = -1;
  memset(jet, 0, 4 * sizeof *jet);
  for (size_t left = n; left > 0;) {
    double dmin = DBL_MAX;
    size_t bi = 0, bj = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
      if (!act[i]) continue;
      const double pti2 = q[i][1] * q[i][1] + q[i][2] * q[i][2];
      if (1 / pti2 < dmin) { dmin = 1 / pti2; bi = i; bj = SIZE_MAX; }
      for (size_t j = i + 1; j < n; j++) {
        if (!act[j]) continue;
        const double ptj2 = q[j][1] * q[j][1] + q[j][2] * q[j][2];
        const double d = fmin(1 / pti2, 1 / ptj2) *
                         eqg_jets_dr2(eqg_jets_rapidity(q[i]), eqg_jets_phi(q[i]),
                                      eqg_jets_rapidity(q[j]), eqg_jets_phi(q[j])) / (R * R);
        if (d < dmin) { dmin = d; bi = i; bj = j; }
      }
    }
    if (bj == SIZE_MAX) {
      act[bi] = 0;
      left--;
      const double pt2 = q[bi][1] * q[bi][1] + q[bi][2] * q[bi][2];
      if (pt2 > best) {
        best = pt2;
        memcpy(jet, q[bi], sizeof q[bi]);
        for (size_t k = 0; k < n; k++) mem[k] = owner[k] == (int)bi;
      }
    } else {
      for (int mu = 0; mu < 4; mu++) q[bi][mu] += q[bj][mu];
      act[bj] = 0;
      left--;
      for (size_t k = 0; k < n; k++)
        if (owner[k] == (int)bj) owner[k] = (int)bi;
    }
  }
  free(q);
  free(owner);
  free(act);
}

static void test_antikt_matches_naive(void **state)
{
  (void)state;
  eqg_jets_config c;
  eqg_jets_config_default(&c);
  gsl_rng *r = rng_new(21);
  eqg_jet_event *ev = eqg_jet_event_alloc();
  assert_non_null(ev);
  for (int e = 0; e < 40; e++) {
    assert_int_equal(eqg_jet_event_generate(ev, e % 2, &c, r), EQG_OK);
    double *p = malloc(4 * ev->n_nodes * sizeof *p);
    unsigned char *m1 = malloc(ev->n_nodes), *m2 = malloc(ev->n_nodes);
    assert_true(p && m1 && m2);
    size_t n = 0;
    for (size_t i = 0; i < ev->n_nodes; i++)
      if (ev->node[i].child[0] < 0) memcpy(p + 4 * n++, ev->node[i].p, 4 * sizeof *p);
    double j1[4], j2[4];
    assert_int_equal(eqg_jets_antikt_hardest(j1, m1, p, n, 0.8), EQG_OK);
    antikt_naive(j2, m2, p, n, 0.8);
    assert_memory_equal(m1, m2, n);
    for (int mu = 0; mu < 4; mu++) assert_true(fabs(j1[mu] - j2[mu]) <= 1e-9 * j1[0]);
    free(p);
    free(m1);
    free(m2);
  }
  eqg_jet_event_free(ev);
  gsl_rng_free(r);
}

/* Observables of hand-made configurations. */
static void test_observables_simple(void **state)
{
  (void)state;
  /* three massless prongs far apart: tau_3 = 0 exactly (each is its own axis),
   * the three pair masses m_ij^2 = 2 E_i E_j (1 - cos theta_ij) */
  const double e = 100;
  const double p[3 * 4] = {
    e, e, 0, 0,
    e, e * cos(0.3), e * sin(0.3), 0,
    e, e * cos(0.3), -e * sin(0.3) * 0.5, e * sin(0.3) * sqrt(0.75),
  };
  eqg_jet_obs o;
  assert_int_equal(eqg_jet_observables(&o, p, 3), EQG_OK);
  assert_int_equal(o.n, 3);
  assert_true(o.tau[2] == 0);
  assert_true(o.tau[0] > o.tau[1]);
  assert_true(o.tau[1] > 0);
  const double m01 = sqrt(2 * e * e * (1 - cos(0.3)));
  double s[4] = { 0, 0, 0, 0 };
  for (int k = 0; k < 12; k++) s[k % 4] += p[k];
  assert_true(fabs(o.mass - eqg_jet_p4_mass(s)) < 1e-9);
  assert_true(o.m_min <= m01 + 1e-9);
  assert_true(o.m_w > 0 && o.m_12 > 0);
  /* one particle: no substructure */
  assert_int_equal(eqg_jet_observables(&o, p, 1), EQG_OK);
  assert_true(o.tau[0] == 0 && o.tau32 == 0 && o.m_w == 0);
  assert_true(fabs(o.mass) < 1e-6);
}

/* ---- selected jets ------------------------------------------------------------------- */

static void test_jets_selection(void **state)
{
  (void)state;
  eqg_jets_config c;
  eqg_jets_config_default(&c);
  c.max_constituents = 40;   /* some jets are truncated */
  eqg_jet_dataset *ds = generate(400, 7, 1, &c);
  const size_t P = ds->max_constituents;
  size_t n_sig = 0, n_trunc = 0;
  for (size_t i = 0; i < ds->n_jets; i++) {
    const eqg_real *p = ds->pmu + 4 * P * i;
    const size_t n = (size_t)ds->nobj[i];
    assert_true(n >= 1 && n <= P);
    n_sig += ds->is_signal[i];
    n_trunc += n == P;
    double s[4] = { 0, 0, 0, 0 };
    for (size_t k = 0; k < P; k++) {
      const eqg_real *q = p + 4 * k;
      if (k >= n) {
        /* zero padding, exactly */
        assert_true(q[0] == 0 && q[1] == 0 && q[2] == 0 && q[3] == 0);
        assert_int_equal(ds->label[i * P + k], 0);
        assert_true(ds->mass[i * P + k] == 0);
        continue;
      }
      const double pa = sqrt(q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
      assert_true(q[0] >= pa);                                   /* E >= |p| */
      assert_int_equal(ds->label[i * P + k], 1);
      assert_true(fabs(ds->mass[i * P + k] - c.m_final) < 1e-6);
      if (k > 0) assert_true(eqg_jets_pt(q) <= eqg_jets_pt(q - 4));   /* pT-ordered */
      for (int mu = 0; mu < 4; mu++) s[mu] += q[mu];
    }
    /* selection */
    assert_true(ds->jet_pt[i] >= c.jet_pt_min && ds->jet_pt[i] <= c.jet_pt_max);
    if (n < P) {
      /* all constituents kept: their sum is the jet */
      assert_true(fabs(eqg_jets_pt(s) - ds->jet_pt[i]) <= 1e-9 * ds->jet_pt[i]);
      assert_true(fabs(eqg_jets_eta(s)) < c.jet_eta_max);
      /* anti-kT R = 0.8: constituents near the axis */
      for (size_t k = 0; k < n; k++)
        assert_true(eqg_jets_dr2(eqg_jets_rapidity(s), eqg_jets_phi(s),
                                 eqg_jets_rapidity(p + 4 * k), eqg_jets_phi(p + 4 * k)) <
                    (1.2 * c.jet_r) * (1.2 * c.jet_r));
    }
    /* truth: the top for signal (mass in its window), zeros for QCD */
    const eqg_real *t = ds->truth_pmu + 4 * i;
    if (ds->is_signal[i]) {
      assert_true(fabs(eqg_jet_p4_mass(t) - c.m_top) <= c.bw_cut * c.gamma_top + 1e-6);
    } else {
      assert_true(t[0] == 0 && t[1] == 0 && t[2] == 0 && t[3] == 0);
    }
  }
  assert_int_equal(n_sig, 200);   /* balanced */
  assert_true(n_trunc > 0);       /* the truncation was exercised */
  eqg_jet_dataset_free(ds);

  /* odd sizes: one class has one more */
  c.max_constituents = 200;
  ds = generate(11, 8, 1, &c);
  size_t s11 = 0;
  for (size_t i = 0; i < 11; i++) s11 += ds->is_signal[i];
  assert_true(s11 == 5 || s11 == 6);
  eqg_jet_dataset_free(ds);
}

/* Mass peaks, multiplicities and tau_32 per class on 3000 jets. */
static void test_physics_distributions(void **state)
{
  (void)state;
  eqg_jets_config c;
  eqg_jets_config_default(&c);
  enum { N = 3000 };
  eqg_jet_dataset *ds = generate(N, 99, 2, &c);
  const size_t P = ds->max_constituents;
  double *v[2][4];   /* [qcd, top][mass, m_w, n, tau32] */
  size_t cnt[2] = { 0, 0 }, hist[60] = { 0 };
  for (int k = 0; k < 2; k++)
    for (int j = 0; j < 4; j++) {
      v[k][j] = malloc(N * sizeof(double));
      assert_non_null(v[k][j]);
    }
  for (size_t i = 0; i < N; i++) {
    eqg_jet_obs o;
    assert_int_equal(eqg_jet_observables(&o, ds->pmu + 4 * P * i, (size_t)ds->nobj[i]),
                     EQG_OK);
    const int k = ds->is_signal[i];
    v[k][0][cnt[k]] = o.mass;
    v[k][1][cnt[k]] = o.m_w;
    v[k][2][cnt[k]] = o.n;
    v[k][3][cnt[k]] = o.tau32;
    cnt[k]++;
    if (k == 1 && o.mass < 300) hist[(int)(o.mass / 5)]++;
  }
  size_t mode = 0;
  for (size_t b = 1; b < 60; b++)
    if (hist[b] > hist[mode]) mode = b;
  double med[2][4];
  for (int k = 0; k < 2; k++)
    for (int j = 0; j < 4; j++) med[k][j] = median(v[k][j], cnt[k]);
  fprintf(stderr, "medians (top / QCD): mass %.1f / %.1f, W candidate %.1f / %.1f, "
          "multiplicity %.0f / %.0f, tau32 %.3f / %.3f; top mass mode %zu-%zu GeV\n",
          med[1][0], med[0][0], med[1][1], med[0][1], med[1][2], med[0][2], med[1][3],
          med[0][3], 5 * mode, 5 * mode + 5);
  assert_in_range(cnt[1], N / 2, N / 2);
  assert_true(med[1][0] > 150 && med[1][0] < 190);        /* top mass */
  assert_true(5.0 * mode >= 160 && 5.0 * mode <= 180);    /* top peak near 173 */
  assert_true(med[1][1] > 65 && med[1][1] < 95);          /* W candidate */
  assert_true(med[0][0] < 120 && med[0][0] < med[1][0] - 50);   /* QCD falls below */
  assert_true(med[1][2] >= 15 && med[0][2] >= 15);        /* tens of constituents */
  assert_true(med[1][2] > med[0][2]);                     /* three prongs radiate more */
  assert_true(med[1][3] < med[0][3] - 0.1);               /* tau_32 lower for tops */
  for (int k = 0; k < 2; k++)
    for (int j = 0; j < 4; j++) free(v[k][j]);
  eqg_jet_dataset_free(ds);
}

/* Same seed -> same bits with 1 or 2 threads; another seed differs. */
static void test_deterministic(void **state)
{
  (void)state;
  eqg_jets_config c;
  eqg_jets_config_default(&c);
  c.max_constituents = 60;
  eqg_jet_dataset *a = generate(64, 3, 1, &c), *b = generate(64, 3, 2, &c),
                  *d = generate(64, 4, 1, &c);
  assert_true(datasets_equal(a, b));
  assert_false(datasets_equal(a, d));
  assert_true(memcmp(a->pmu, d->pmu, 64 * 60 * 4 * sizeof *a->pmu) != 0);
  eqg_jet_dataset_free(a);
  eqg_jet_dataset_free(b);
  eqg_jet_dataset_free(d);
}

/* ---- I/O ------------------------------------------------------------------------------- */

typedef eqg_test_dir fixture;

static int setup(void **state) { return eqg_test_dir_setup(state, "jets"); }

static eqg_status add_attr(hid_t file, void *ctx)
{
  (void)ctx;
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(file, "test_attr", H5T_NATIVE_INT, sp, H5P_DEFAULT, H5P_DEFAULT);
  const int v = 42;
  const herr_t e = H5Awrite(a, H5T_NATIVE_INT, &v);
  H5Aclose(a);
  H5Sclose(sp);
  return e < 0 ? eqg_error_set(EQG_EIO, "attr") : EQG_OK;
}

static eqg_status fail_extra(hid_t file, void *ctx)
{
  (void)file;
  (void)ctx;
  return eqg_error_set(EQG_EIO, "extra failed on purpose");
}

static void test_roundtrip(void **state)
{
  fixture *fx = *state;
  char p1[256], p2[256];
  eqg_test_dir_join(p1, sizeof p1, fx, "a.h5");
  eqg_test_dir_join(p2, sizeof p2, fx, "b.h5");
  eqg_jets_config c;
  eqg_jets_config_default(&c);
  eqg_jet_dataset *ds = generate(30, 5, 1, &c);
  assert_int_equal(eqg_jet_dataset_save(p1, ds, add_attr, NULL), EQG_OK);
  eqg_jet_dataset *again = generate(30, 5, 1, &c);
  assert_int_equal(eqg_jet_dataset_save(p2, again, add_attr, NULL), EQG_OK);
  /* same seed -> byte-identical files */
  size_t n1, n2;
  unsigned char *b1 = eqg_test_slurp(p1, &n1), *b2 = eqg_test_slurp(p2, &n2);
  assert_int_equal(n1, n2);
  assert_memory_equal(b1, b2, n1);
  free(b1);
  free(b2);

  eqg_jet_dataset *back = NULL;
  assert_int_equal(eqg_jet_dataset_load(&back, p1, 0, 0), EQG_OK);
  assert_true(datasets_equal(ds, back));
  /* storage types of the layout */
  hid_t f = H5Fopen(p1, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(f >= 0);
  const char *i16[] = { "Nobj", "is_signal", "label" };
  for (int k = 0; k < 3; k++) {
    hid_t d = H5Dopen2(f, i16[k], H5P_DEFAULT), t = H5Dget_type(d);
    assert_true(H5Tequal(t, H5T_STD_I16LE) > 0);
    H5Tclose(t);
    H5Dclose(d);
  }
  hid_t d = H5Dopen2(f, "Pmu", H5P_DEFAULT), sp = H5Dget_space(d);
  hsize_t dims[3];
  assert_int_equal(H5Sget_simple_extent_dims(sp, dims, NULL), 3);
  assert_true(dims[0] == 30 && dims[1] == 200 && dims[2] == 4);
  H5Sclose(sp);
  H5Dclose(d);
  assert_true(H5Aexists(f, "test_attr") > 0);
  H5Fclose(f);
  eqg_jet_dataset_free(back);

  /* partial loads: the first 7 jets, the 10 hardest constituents */
  assert_int_equal(eqg_jet_dataset_load(&back, p1, 7, 10), EQG_OK);
  assert_int_equal(back->n_jets, 7);
  assert_int_equal(back->max_constituents, 10);
  for (size_t i = 0; i < 7; i++) {
    assert_int_equal(back->nobj[i], ds->nobj[i] < 10 ? ds->nobj[i] : 10);
    assert_memory_equal(back->pmu + 40 * i, ds->pmu + 800 * i, 40 * sizeof(double));
    assert_true(back->jet_pt[i] == ds->jet_pt[i]);
    assert_int_equal(back->is_signal[i], ds->is_signal[i]);
    for (size_t k = 0; k < 10; k++)
      assert_int_equal(back->label[10 * i + k], (int)(k < (size_t)back->nobj[i]));
  }
  eqg_jet_dataset_free(back);
  /* more than in the file: everything */
  assert_int_equal(eqg_jet_dataset_load(&back, p1, 1000, 1000), EQG_OK);
  assert_int_equal(back->n_jets, 30);
  assert_int_equal(back->max_constituents, 200);
  eqg_jet_dataset_free(back);

  /* a failing extra callback leaves no file behind */
  char p3[256];
  eqg_test_dir_join(p3, sizeof p3, fx, "c.h5");
  assert_int_equal(eqg_jet_dataset_save(p3, ds, fail_extra, NULL), EQG_EIO);
  assert_int_equal(access(p3, F_OK), -1);
  /* bad rows are refused */
  ds->nobj[3] = 201;
  assert_int_equal(eqg_jet_dataset_save(p3, ds, NULL, NULL), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "jet 3"));
  assert_int_equal(access(p3, F_OK), -1);
  eqg_jet_dataset_free(ds);
  eqg_jet_dataset_free(again);
}

/* A file in the layout written like h5py would with other types: what to put. */
typedef struct raw_file {
  hid_t nobj_type, pmu_type, sig_type;
  int pmu_last;          /* 4, or something else for a bad shape */
  bool with_sig;
  double nan_jet;        /* >= 0: NaN in that jet's Pmu */
  long nobj_bad;         /* > 0: jet 1's Nobj */
  int sig_bad;           /* != 0: jet 2's is_signal */
} raw_file;

static void write_raw(hid_t f, const char *name, hid_t ftype, hid_t mtype, const void *data,
                      int rank, const hsize_t *dims)
{
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  hid_t d = H5Dcreate2(f, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(d >= 0);
  assert_true(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
  H5Dclose(d);
  H5Sclose(sp);
}

/* 4 jets, P = 6: jet j has j + 1 massless constituents along x (pT 10, 9, ...). */
static void make_raw(const char *path, const raw_file *rf)
{
  enum { N = 4, P = 6 };
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(f >= 0);
  long nobj[N];
  double pmu[N * P * 5] = { 0 };
  double sig[N];
  const int last = rf->pmu_last;
  for (int j = 0; j < N; j++) {
    nobj[j] = j + 1;
    sig[j] = j % 2;
    for (int k = 0; k <= j; k++) {
      const double pt = 10 - k, eta = 0.1 * k, phi = 0.05 * k;
      double *q = pmu + (j * P + k) * last;
      q[0] = pt * cosh(eta);
      q[1] = pt * cos(phi);
      q[2] = pt * sin(phi);
      if (last > 3) q[3] = pt * sinh(eta);
    }
  }
  if (rf->nan_jet >= 0) pmu[((int)rf->nan_jet * P) * last + 1] = NAN;
  if (rf->nobj_bad > 0) nobj[1] = rf->nobj_bad;
  if (rf->sig_bad) sig[2] = rf->sig_bad;
  const hsize_t d1[1] = { N }, d3[3] = { N, P, (hsize_t)last };
  write_raw(f, "Nobj", rf->nobj_type, H5T_NATIVE_LONG, nobj, 1, d1);
  write_raw(f, "Pmu", rf->pmu_type, H5T_NATIVE_DOUBLE, pmu, 3, d3);
  if (rf->with_sig) write_raw(f, "is_signal", rf->sig_type, H5T_NATIVE_DOUBLE, sig, 1, d1);
  H5Fclose(f);
}

static raw_file raw_default(void)
{
  return (raw_file){ .nobj_type = H5T_STD_I64LE, .pmu_type = H5T_IEEE_F32LE,
                     .sig_type = H5T_STD_I8LE, .pmu_last = 4, .with_sig = true,
                     .nan_jet = -1 };
}

static void test_load_other_types(void **state)
{
  fixture *fx = *state;
  char path[256];
  eqg_test_dir_join(path, sizeof path, fx, "raw.h5");
  raw_file rf = raw_default();
  make_raw(path, &rf);
  eqg_jet_dataset *ds = NULL;
  const eqg_status st = eqg_jet_dataset_load(&ds, path, 0, 0);
  if (st != EQG_OK) fprintf(stderr, "%s\n", eqg_error_message());
  assert_int_equal(st, EQG_OK);
  assert_int_equal(ds->n_jets, 4);
  assert_int_equal(ds->max_constituents, 6);
  for (size_t j = 0; j < 4; j++) {
    assert_int_equal(ds->nobj[j], (int)j + 1);
    assert_int_equal(ds->is_signal[j], (int)(j % 2));
    double s[4] = { 0, 0, 0, 0 };
    for (size_t k = 0; k < 6; k++) {
      const double *q = ds->pmu + 4 * (6 * j + k);
      /* float32 storage: the values are the float roundings */
      if (k <= j) {
        const double pt = 10.0 - (double)k, eta = 0.1 * (double)k;
        assert_true(q[0] == (double)(float)(pt * cosh(eta)));
        for (int mu = 0; mu < 4; mu++) s[mu] += q[mu];
      }
      /* label derived from Nobj, mass computed from Pmu (massless up to float) */
      assert_int_equal(ds->label[6 * j + k], (int)(k <= j));
      assert_true(ds->mass[6 * j + k] < 1e-2 * q[0] + 1e-12);
    }
    /* jet_pt computed from the constituents; truth_Pmu zeros */
    assert_true(fabs(ds->jet_pt[j] - eqg_jets_pt(s)) < 1e-12 * ds->jet_pt[j]);
    for (int mu = 0; mu < 4; mu++) assert_true(ds->truth_pmu[4 * j + mu] == 0);
  }
  eqg_jet_dataset_free(ds);
  /* float64 Nobj and float is_signal are fine too when integral */
  rf.nobj_type = H5T_IEEE_F64LE;
  rf.sig_type = H5T_IEEE_F32LE;
  make_raw(path, &rf);
  assert_int_equal(eqg_jet_dataset_load(&ds, path, 0, 3), EQG_OK);
  assert_int_equal(ds->max_constituents, 3);
  assert_int_equal(ds->nobj[3], 3);
  eqg_jet_dataset_free(ds);
}

static void expect_reject(const char *path, eqg_status want, const char *needle)
{
  eqg_jet_dataset *ds = (eqg_jet_dataset *)1;
  const eqg_status st = eqg_jet_dataset_load(&ds, path, 0, 0);
  if (st != want || !strstr(eqg_error_message(), needle))
    fprintf(stderr, "got %d '%s', want %d with '%s'\n", st, eqg_error_message(), want,
            needle);
  assert_int_equal(st, want);
  assert_null(ds);
  assert_non_null(strstr(eqg_error_message(), needle));
}

static void test_load_rejects(void **state)
{
  fixture *fx = *state;
  char path[256];
  eqg_test_dir_join(path, sizeof path, fx, "bad.h5");
  raw_file rf = raw_default();
  rf.with_sig = false;
  make_raw(path, &rf);
  expect_reject(path, EQG_EFORMAT, "is_signal");
  rf = raw_default();
  rf.pmu_last = 3;
  make_raw(path, &rf);
  expect_reject(path, EQG_ESHAPE, "Pmu");
  rf = raw_default();
  rf.nan_jet = 2;
  make_raw(path, &rf);
  expect_reject(path, EQG_ENONFINITE, "jet 2");
  rf = raw_default();
  rf.nobj_bad = 7;   /* > P = 6 */
  make_raw(path, &rf);
  expect_reject(path, EQG_EFORMAT, "Nobj");
  expect_reject(path, EQG_EFORMAT, "jet 1");
  rf = raw_default();
  rf.nobj_bad = -1;   /* negative: make_raw writes it only when > 0, so set by hand */
  make_raw(path, &rf);
  {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), d = H5Dopen2(f, "Nobj", H5P_DEFAULT);
    const long bad[4] = { 1, -1, 3, 4 };
    assert_true(H5Dwrite(d, H5T_NATIVE_LONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, bad) >= 0);
    H5Dclose(d);
    H5Fclose(f);
  }
  expect_reject(path, EQG_EFORMAT, "Nobj");
  rf = raw_default();
  rf.sig_bad = 2;
  make_raw(path, &rf);
  expect_reject(path, EQG_EFORMAT, "is_signal");
  /* an optional dataset of the wrong size */
  rf = raw_default();
  make_raw(path, &rf);
  {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    const double pt[3] = { 1, 2, 3 };
    write_raw(f, "jet_pt", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, pt, 1, (hsize_t[1]){ 3 });
    H5Fclose(f);
  }
  expect_reject(path, EQG_ESHAPE, "jet_pt");
  /* a label that is not 0/1 */
  make_raw(path, &rf);
  {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    int lab[4 * 6] = { 0 };
    lab[2 * 6 + 1] = 2;
    write_raw(f, "label", H5T_STD_I16LE, H5T_NATIVE_INT, lab, 2, (hsize_t[2]){ 4, 6 });
    H5Fclose(f);
  }
  expect_reject(path, EQG_EFORMAT, "label");
  expect_reject(path, EQG_EFORMAT, "jet 2");
  /* not HDF5; missing */
  FILE *t = fopen(path, "w");
  assert_non_null(t);
  fputs("Nobj,Pmu\n1,2\n", t);
  fclose(t);
  expect_reject(path, EQG_EFORMAT, "bad.h5");
  eqg_test_dir_join(path, sizeof path, fx, "missing.h5");
  expect_reject(path, EQG_EIO, "missing.h5");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_config),
    cmocka_unit_test(test_event_conservation),
    cmocka_unit_test(test_event_massless),
    cmocka_unit_test(test_angular_ordering),
    cmocka_unit_test(test_breit_wigner),
    cmocka_unit_test(test_antikt_matches_naive),
    cmocka_unit_test(test_observables_simple),
    cmocka_unit_test(test_jets_selection),
    cmocka_unit_test(test_physics_distributions),
    cmocka_unit_test(test_deterministic),
    cmocka_unit_test_setup_teardown(test_roundtrip, setup, eqg_test_dir_teardown),
    cmocka_unit_test_setup_teardown(test_load_other_types, setup, eqg_test_dir_teardown),
    cmocka_unit_test_setup_teardown(test_load_rejects, setup, eqg_test_dir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
