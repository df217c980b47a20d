/* eqg_jets_gen.c: selected jets (one, and datasets of many in parallel).
 *
 * Jet definition: anti-kT, R = jet_r (0.8), E-scheme, on all final particles
 * of the event; the hardest (highest-pT) jet is the candidate.  It is kept if
 * jet_pt_min <= pT <= jet_pt_max and |eta| < jet_eta_max, and for top jets
 * (match_top) if the top and its decay quarks b, q, q' (before their showers)
 * lie within Delta R < jet_r of the jet axis (rapidity-phi), as in the
 * reference dataset's truth matching; otherwise the event is regenerated from
 * the same rng.  Constituents are the jet's particles, pT-ordered (descending),
 * the first P kept; jet_pt is the pT of the whole jet (all its constituents). */
#include "data/eqg_jets_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#ifdef EQG_HAVE_OPENMP
#include <omp.h>
#endif

static int cmp_pt_desc(const void *a, const void *b)
{
  const double pa = eqg_jets_pt(a), pb = eqg_jets_pt(b);
  if (pa != pb) return pa < pb ? 1 : -1;
  return memcmp(a, b, 4 * sizeof(double));   /* deterministic tie break */
}

static bool within(const double jet[4], const double p[4], double R)
{
  return eqg_jets_dr2(eqg_jets_rapidity(jet), eqg_jets_phi(jet), eqg_jets_rapidity(p),
                      eqg_jets_phi(p)) < R * R;
}

/* Does the event's hardest jet pass?  On success buf (n, 4) holds its
 * constituents pT-ordered and *n their number. */
static bool select_jet(const eqg_jet_event *ev, const eqg_jets_config *cfg, double *buf,
                       unsigned char *members, size_t *n, double jet[4], eqg_status *st)
{
  size_t nf = 0;
  for (size_t i = 0; i < ev->n_nodes; i++)
    if (ev->node[i].child[0] < 0) memcpy(buf + 4 * nf++, ev->node[i].p, 4 * sizeof *buf);
  *st = eqg_jets_antikt_hardest(jet, members, buf, nf, cfg->jet_r);
  if (*st != EQG_OK) return false;
  const double pt = eqg_jets_pt(jet);
  if (pt < cfg->jet_pt_min || pt > cfg->jet_pt_max) return false;
  if (!(fabs(eqg_jets_eta(jet)) < cfg->jet_eta_max)) return false;
  if (ev->is_signal && cfg->match_top) {
    if (!within(jet, ev->node[0].p, cfg->jet_r)) return false;
    for (int k = 0; k < 3; k++)
      if (!within(jet, ev->node[ev->top_daughters[k]].p, cfg->jet_r)) return false;
  }
  size_t m = 0;
  for (size_t i = 0; i < nf; i++)
    if (members[i]) memmove(buf + 4 * m++, buf + 4 * i, 4 * sizeof *buf);
  qsort(buf, m, 4 * sizeof *buf, cmp_pt_desc);
  *n = m;
  return true;
}

eqg_status eqg_jet_generate_one(eqg_real *pmu, int *nobj, eqg_real *jet_pt, eqg_real *truth,
                                int is_signal, const eqg_jets_config *cfg, gsl_rng *r,
                                eqg_jet_event *work)
{
  const size_t P = cfg->max_constituents;
  double *buf = NULL;
  unsigned char *members = NULL;
  size_t cap = 0;
  eqg_status st = EQG_OK;
  for (size_t attempt = 0; attempt < cfg->max_tries; attempt++) {
    st = eqg_jet_event_generate(work, is_signal, cfg, r);
    if (st != EQG_OK) break;
    if (work->n_nodes > cap) {
      cap = work->n_nodes;
      free(buf);
      free(members);
      buf = malloc(4 * cap * sizeof *buf);
      members = malloc(cap);
      if (!buf || !members) {
        st = eqg_error_set(EQG_ENOMEM, "jets: out of memory for %zu particles", cap);
        break;
      }
    }
    size_t n = 0;
    double jet[4];
    if (!select_jet(work, cfg, buf, members, &n, jet, &st)) {
      if (st != EQG_OK) break;
      continue;
    }
    const size_t keep = n < P ? n : P;
    memset(pmu, 0, 4 * P * sizeof *pmu);
    for (size_t k = 0; k < 4 * keep; k++) pmu[k] = buf[k];
    *nobj = (int)keep;
    *jet_pt = eqg_jets_pt(jet);
    for (int mu = 0; mu < 4; mu++) truth[mu] = is_signal ? work->node[0].p[mu] : 0.0;
    free(buf);
    free(members);
    return EQG_OK;
  }
  free(buf);
  free(members);
  if (st != EQG_OK) return st;
  return eqg_error_set(EQG_ERANGE, "jets: no %s jet passed the selection in %zu events "
                       "(pT %g..%g GeV, |eta| < %g)", is_signal ? "top" : "QCD",
                       cfg->max_tries, cfg->jet_pt_min, cfg->jet_pt_max, cfg->jet_eta_max);
}

eqg_status eqg_jets_generate(eqg_jet_dataset *ds, const eqg_jets_config *cfg, gsl_rng *r,
                             int n_threads)
{
  eqg_status st = eqg_jets_config_check(cfg);
  if (st != EQG_OK) return st;
  if (ds->max_constituents != cfg->max_constituents)
    return eqg_error_set(EQG_ESHAPE, "jets: dataset has P = %zu, config max_constituents "
                         "= %zu", ds->max_constituents, cfg->max_constituents);
  if (n_threads < 0)
    return eqg_error_set(EQG_EINVAL, "jets: n_threads = %d must be >= 0", n_threads);
  const size_t N = ds->n_jets, P = ds->max_constituents;
  if (N == 0) return EQG_OK;
  /* balanced labels: floor(N/2) tops, one more for odd N by a coin, shuffled */
  const size_t n_sig = N / 2 + ((N % 2) ? (gsl_rng_uniform(r) < 0.5) : 0);
  for (size_t i = 0; i < N; i++) ds->is_signal[i] = i < n_sig;
  gsl_ran_shuffle(r, ds->is_signal, N, sizeof *ds->is_signal);
  /* jet i uses mt19937 seeded with (base + i) mod 2^32: distinct within the set */
  const unsigned long base = gsl_rng_get(r);

  size_t first_bad = SIZE_MAX;
  eqg_status bad_status = EQG_OK;
  char bad_msg[512] = "";
#ifdef EQG_HAVE_OPENMP
  const int nt = n_threads > 0 ? n_threads : omp_get_max_threads();
#pragma omp parallel num_threads(nt) if (N > 1 && nt > 1)
#else
  (void)n_threads;
#endif
  {
    gsl_rng *jr = gsl_rng_alloc(gsl_rng_mt19937);
    eqg_jet_event *ev = eqg_jet_event_alloc();
#ifdef EQG_HAVE_OPENMP
#pragma omp for schedule(dynamic, 16)
#endif
    for (size_t i = 0; i < N; i++) {
      eqg_status s = EQG_OK;
      if (!jr || !ev) {
        s = eqg_error_set(EQG_ENOMEM, "jets: out of memory for a worker");
      } else {
        gsl_rng_set(jr, (base + i) & 0xffffffffUL);
        s = eqg_jet_generate_one(ds->pmu + 4 * P * i, &ds->nobj[i], &ds->jet_pt[i],
                                 ds->truth_pmu + 4 * i, ds->is_signal[i], cfg, jr, ev);
        if (s == EQG_OK) eqg_jets_fill_derived(ds, i);
      }
      if (s != EQG_OK) {
#ifdef EQG_HAVE_OPENMP
#pragma omp critical(eqg_jets_first_bad)
#endif
        if (i < first_bad) {
          first_bad = i;
          bad_status = s;
          snprintf(bad_msg, sizeof bad_msg, "%s", eqg_error_message());
        }
      }
    }
    eqg_jet_event_free(ev);
    gsl_rng_free(jr);
  }
  if (first_bad != SIZE_MAX)
    return eqg_error_set(bad_status, "jets: jet %zu: %s", first_bad, bad_msg);
  return EQG_OK;
}
