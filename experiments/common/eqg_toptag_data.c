/* eqg_toptag_data.c: top-tagging models, inputs, data splits, boosts,
 * batches and prediction (see eqg_toptag_train.h). */
#include "eqg_toptag_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { D = EQG_TT_D, S = EQG_TT_S, N_BEAMS = EQG_TT_N_BEAMS };

/* ---- models ------------------------------------------------------------------ */

static const char *const model_names[EQG_TT_MODEL_COUNT] = {
  "lorentznet", "egnn", "gnn", "pfn", "particlenet", "vecnet", "egnn_minkowski"
};
static const char *const model_presets[EQG_TT_MODEL_COUNT] = {
  "lorentznet", "egnn_top", "gnn_top", "pfn_top", "particlenet_top", "vecnet_top",
  "egnn_minkowski_top"
};
_Static_assert(sizeof model_names / sizeof *model_names == EQG_TT_MODEL_COUNT,
               "one name per model kind");
_Static_assert(sizeof model_presets / sizeof *model_presets == EQG_TT_MODEL_COUNT,
               "one preset per model kind");

const char *eqg_tt_model_name(eqg_tt_model_kind k)
{
  return (unsigned)k < EQG_TT_MODEL_COUNT ? model_names[k] : "?";
}

eqg_status eqg_tt_model_find(const char *name, eqg_tt_model_kind *k)
{
  for (int i = 0; i < EQG_TT_MODEL_COUNT; i++)
    if (name && strcmp(name, model_names[i]) == 0) {
      *k = (eqg_tt_model_kind)i;
      return EQG_OK;
    }
  return eqg_error_set(EQG_EINVAL, "unknown model '%s' (known: lorentznet, egnn, gnn, pfn, "
                       "particlenet, vecnet, egnn_minkowski)", name ? name : "(null)");
}

eqg_status eqg_tt_model_list(const char *list, eqg_tt_model_kind *kinds, size_t cap, size_t *n)
{
  *n = 0;
  const char *p = list;
  while (p && *p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    char name[64];
    if (len == 0 || len >= sizeof name)
      return eqg_error_set(EQG_EINVAL, "empty or overlong model name in '%s'", list);
    memcpy(name, p, len);
    name[len] = 0;
    if (*n >= cap) return eqg_error_set(EQG_EINVAL, "more than %zu models in '%s'", cap, list);
    eqg_status st = eqg_tt_model_find(name, &kinds[*n]);
    if (st != EQG_OK) return st;
    (*n)++;
    p = comma ? comma + 1 : NULL;
  }
  if (*n == 0) return eqg_error_set(EQG_EINVAL, "no model given");
  return EQG_OK;
}

eqg_status eqg_tt_model_config(eqg_model_config *cfg, const eqg_tt_model_spec *spec)
{
  if ((unsigned)spec->kind >= EQG_TT_MODEL_COUNT)
    return eqg_error_set(EQG_EINVAL, "model kind %d out of range", (int)spec->kind);
  eqg_status st = eqg_model_config_preset(cfg, model_presets[spec->kind]);
  if (st != EQG_OK) return st;
  if (spec->width) cfg->layer.width = spec->width;
  if (spec->depth) cfg->depth = spec->depth;
  if (spec->vec_fraction >= 0) {
    if (spec->kind != EQG_TT_VECNET)
      return eqg_error_set(EQG_EINVAL, "the equivariant fraction is a vecnet setting, not %s's",
                           model_names[spec->kind]);
    if (!(spec->vec_fraction <= 1))
      return eqg_error_set(EQG_EINVAL, "equivariant fraction %g outside [0, 1]",
                           spec->vec_fraction);
    cfg->layer.equivariant_fraction = spec->vec_fraction;
  }
  return EQG_OK;
}

eqg_model *eqg_tt_model_alloc(const eqg_tt_model_spec *spec, unsigned long seed)
{
  eqg_model_config cfg;
  if (eqg_tt_model_config(&cfg, spec) != EQG_OK) return NULL;
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  if (!rng) {
    eqg_error_set(EQG_ENOMEM, "model: out of memory");
    return NULL;
  }
  gsl_rng_set(rng, seed);
  eqg_model *m = eqg_model_alloc(&cfg, rng);
  gsl_rng_free(rng);
  return m;
}

const char *const eqg_tt_features_name[EQG_TT_FEATURES_COUNT] = { "p4", "rel" };
const char *const eqg_tt_schedule_name[EQG_TT_SCHEDULE_COUNT] = { "cosine", "lorentznet" };

eqg_status eqg_tt_inputs_check(eqg_tt_model_kind k, const eqg_tt_inputs *in)
{
  if ((unsigned)in->features >= EQG_TT_FEATURES_COUNT)
    return eqg_error_set(EQG_EINVAL, "unknown feature kind %d", (int)in->features);
  if (in->features == EQG_TT_FEATURES_REL &&
      (k == EQG_TT_LORENTZNET || k == EQG_TT_EGNN || k == EQG_TT_VECNET ||
       k == EQG_TT_EGNN_MINKOWSKI))
    return eqg_error_set(EQG_EINVAL, "jet-relative features are for the non-geometric models "
                         "(gnn, pfn, particlenet); %s works on four-momenta",
                         eqg_tt_model_name(k));
  if (in->knn < 1) return eqg_error_set(EQG_EINVAL, "knn %d must be >= 1", in->knn);
  if (!(in->p_scale > 0 && isfinite(in->p_scale)))
    return eqg_error_set(EQG_EINVAL, "momentum scale %g must be positive", in->p_scale);
  return EQG_OK;
}

eqg_tt_inputs eqg_tt_inputs_default(eqg_tt_model_kind k)
{
  const bool lorentz = k == EQG_TT_LORENTZNET || k == EQG_TT_VECNET || k == EQG_TT_EGNN_MINKOWSKI;
  const bool geometric = lorentz || k == EQG_TT_EGNN;
  return (eqg_tt_inputs){ .beams = true, .knn = 16, .p_scale = lorentz ? 1 : 100,
                          .features = geometric ? EQG_TT_FEATURES_P4 : EQG_TT_FEATURES_REL };
}

/* ---- data ----------------------------------------------------------------------- */

static double psi(double z) { return z >= 0 ? log1p(z) : -log1p(-z); }

void eqg_tt_split_clear(eqg_tt_split *s)
{
  if (s->owner) {
    free(s->x);
    free(s->h);
    free(s->counts);
    free(s->labels);
  }
  memset(s, 0, sizeof *s);
}

eqg_tt_split eqg_tt_split_head(const eqg_tt_split *s, size_t n)
{
  eqg_tt_split h = *s;
  EQG_ASSERT(n <= s->n);
  h.n = n;
  h.owner = false;
  return h;
}

size_t eqg_tt_split_n_signal(const eqg_tt_split *s)
{
  size_t k = 0;
  for (size_t i = 0; i < s->n; i++) k += s->labels[i] == 1;
  return k;
}

eqg_status eqg_tt_split_load(eqg_tt_split *s, const char *path, size_t max_jets,
                             size_t max_constituents, double p_scale)
{
  memset(s, 0, sizeof *s);
  if (!(p_scale > 0 && isfinite(p_scale)))
    return eqg_error_set(EQG_EINVAL, "momentum scale %g must be positive", p_scale);
  eqg_jet_dataset *ds = NULL;
  eqg_status st = eqg_jet_dataset_load(&ds, path, max_jets, max_constituents);
  if (st != EQG_OK) return st;
  const size_t n = ds->n_jets, P = ds->max_constituents;
  if (n == 0) {
    eqg_jet_dataset_free(ds);
    return eqg_error_set(EQG_EINVAL, "'%s' holds no jets", path);
  }
  s->n = n;
  s->P = P;
  s->p_scale = p_scale;
  s->owner = true;
  s->x = malloc(n * P * D * sizeof *s->x);
  s->h = calloc(n * P * S, sizeof *s->h);
  s->counts = malloc(n * sizeof *s->counts);
  s->labels = malloc(n * sizeof *s->labels);
  if (!s->x || !s->h || !s->counts || !s->labels) {
    eqg_tt_split_clear(s);
    eqg_jet_dataset_free(ds);
    return eqg_error_set(EQG_ENOMEM, "'%s': out of memory for %zu jets", path, n);
  }
  for (size_t i = 0; i < n * P * D; i++) s->x[i] = ds->pmu[i] / p_scale;
  for (size_t i = 0; i < n * P; i++) s->h[i * S] = psi(ds->mass[i]);
  for (size_t g = 0; g < n; g++) {
    s->counts[g] = (eqg_index)ds->nobj[g];
    s->labels[g] = (eqg_index)ds->is_signal[g];
  }
  eqg_jet_dataset_free(ds);
  return EQG_OK;
}

const char *const eqg_tt_split_name[3] = { "train", "valid", "test" };

eqg_status eqg_tt_data_paths(char path[3][EQG_TT_PATH_MAX], const char *datadir,
                             const char *const file[3])
{
  if (!*datadir) return eqg_error_set(EQG_EINVAL, "--datadir: empty directory name");
  for (int k = 0; k < 3; k++) {
    if (file[k] && !*file[k])
      return eqg_error_set(EQG_EINVAL, "--%s-file: empty file name", eqg_tt_split_name[k]);
    int w = file[k] ? snprintf(path[k], EQG_TT_PATH_MAX, "%s", file[k])
                    : snprintf(path[k], EQG_TT_PATH_MAX, "%s/%s.h5", datadir,
                               eqg_tt_split_name[k]);
    if (w < 0 || w >= EQG_TT_PATH_MAX)
      return eqg_error_set(EQG_EINVAL, "data file path too long");
  }
  return EQG_OK;
}

/* ---- boosts ----------------------------------------------------------------------- */

const char *const eqg_tt_axis_name[EQG_TT_AXIS_COUNT] = { "x", "jet" };

/* B (4, 4): active boost with velocity beta along unit n: p_n -> gamma (p_n +
 * beta E).  eqg_boost_matrix boosts the frame (p_n decreases) along its n. */
static eqg_status active_boost(eqg_real B[16], const eqg_real n[3], double beta)
{
  const eqg_real m[3] = { -n[0], -n[1], -n[2] };
  if (beta == 0) {
    for (int k = 0; k < 16; k++) B[k] = k % 5 == 0;
    return EQG_OK;
  }
  return eqg_boost_matrix(B, m, atanh(beta));
}

/* rows x (n, 4) <- B x in place. */
static void apply_rows(eqg_real *x, size_t n, const eqg_real B[16])
{
  for (size_t i = 0; i < n; i++) {
    eqg_real *p = x + 4 * i, q[4];
    for (int a = 0; a < 4; a++)
      q[a] = B[4 * a] * p[0] + B[4 * a + 1] * p[1] + B[4 * a + 2] * p[2] + B[4 * a + 3] * p[3];
    memcpy(p, q, sizeof q);
  }
}

/* ---- batches -------------------------------------------------------------------- */

static const eqg_real beam_h[N_BEAMS * S] = { 0, 0.69314718055994530942, 0, 0.69314718055994530942 };


void eqg_tt_work_free(tt_work *w)
{
  eqg_graph_batch_free(w->b);
  free(w->labels);
  free(w->seq);
  free(w->ids);
  memset(w, 0, sizeof *w);
}

eqg_status eqg_tt_work_alloc(tt_work *w, size_t cap, size_t n_seq)
{
  memset(w, 0, sizeof *w);
  w->cap = cap;
  w->b = eqg_graph_batch_alloc(D, S, false);
  w->labels = malloc(cap * sizeof *w->labels);
  w->ids = malloc(cap * sizeof *w->ids);
  w->seq = malloc((n_seq ? n_seq : 1) * sizeof *w->seq);
  if (!w->b || !w->labels || !w->ids || !w->seq) {
    eqg_tt_work_free(w);
    return eqg_error_set(EQG_ENOMEM, "out of memory for a batch of %zu jets", cap);
  }
  for (size_t i = 0; i < n_seq; i++) w->seq[i] = i;
  return EQG_OK;
}


static eqg_status boost_batch(eqg_graph_batch *b, const eqg_tt_inputs *in, const tt_boosting *bo)
{
  const size_t K = in->beams ? N_BEAMS : 0;
  for (size_t g = 0; g < b->n_graphs; g++) {
    eqg_real *x = b->x + (size_t)b->offsets[g] * D;
    const size_t rows = (size_t)b->counts[g], real = rows - K;
    eqg_real n[3] = { 1, 0, 0 }, B[16];
    double beta;
    bool beams;
    if (bo->fixed) {
      beta = bo->fixed->beta;
      beams = bo->fixed->beams;
      if (bo->fixed->axis == EQG_TT_AXIS_JET) {
        n[0] = 0;
        for (size_t i = K; i < rows; i++)
          for (int c = 0; c < 3; c++) n[c] += x[4 * i + 1 + c];
        if (!(n[0] * n[0] + n[1] * n[1] + n[2] * n[2] > 0)) n[0] = 1;
      }
    } else {
      beta = bo->beta_max * gsl_rng_uniform(bo->rng);
      beams = bo->beams;
      const double cz = 2 * gsl_rng_uniform(bo->rng) - 1, ph = 6.283185307179586477 * gsl_rng_uniform(bo->rng);
      const double sz = sqrt(fmax(0, 1 - cz * cz));
      n[0] = sz * cos(ph);
      n[1] = sz * sin(ph);
      n[2] = cz;
    }
    eqg_status st = active_boost(B, n, beta);
    if (st != EQG_OK) return st;
    if (beams) apply_rows(x, K, B);
    apply_rows(x + K * D, real, B);
  }
  return EQG_OK;
}

/* x of every graph of b <- jet-relative features (eqg_tt_features): for
 * constituent i of jet J (the sum of the constituents),
 *   (a (eta_i - eta_J), a (phi_i - phi_J) wrapped to (-pi, pi],
 *    c (log(pT_i / pT_J) - mu), c (log(E_i / E_J) - mu)),
 * pseudorapidity eta = asinh(pz / pT); beams get zeros.  pT and E are
 * floored at 1e-300 times the jet's so that the logs stay finite.  The
 * affine maps (EQG_TT_REL_*) bring every column to O(1): raw, the angles
 * have a spread of ~0.2 and the log ratios a mean of ~-4 and a spread of
 * ~1.5 (toy jets, 20-50 constituents), and that imbalance kept gnn and pfn
 * on a loss plateau for hundreds of steps (issue 5 follow-up). */
static void relative_features(eqg_graph_batch *b, const eqg_tt_inputs *in)
{
  const size_t K = in->beams ? N_BEAMS : 0;
  const double pi = 3.14159265358979323846;
  for (size_t g = 0; g < b->n_graphs; g++) {
    eqg_real *x = b->x + (size_t)b->offsets[g] * D;
    const size_t rows = (size_t)b->counts[g];
    double J[4] = { 0, 0, 0, 0 };
    for (size_t i = K; i < rows; i++)
      for (int c = 0; c < 4; c++) J[c] += x[4 * i + c];
    const double ptJ = hypot(J[1], J[2]);
    const double etaJ = ptJ > 0 ? asinh(J[3] / ptJ) : 0, phiJ = atan2(J[2], J[1]);
    for (size_t i = 0; i < rows; i++) {
      eqg_real *p = x + 4 * i;
      if (i < K || !(ptJ > 0 && J[0] > 0)) {
        p[0] = p[1] = p[2] = p[3] = 0;
        continue;
      }
      const double pt = fmax(hypot(p[1], p[2]), 1e-300 * ptJ), e = fmax(p[0], 1e-300 * J[0]);
      double dphi = atan2(p[2], p[1]) - phiJ;
      dphi = dphi > pi ? dphi - 2 * pi : dphi <= -pi ? dphi + 2 * pi : dphi;
      const double deta = asinh(p[3] / pt) - etaJ;
      p[0] = EQG_TT_REL_ANGLE_SCALE * deta;
      p[1] = EQG_TT_REL_ANGLE_SCALE * dphi;
      p[2] = EQG_TT_REL_LOG_SCALE * (log(pt / ptJ) - EQG_TT_REL_LOG_SHIFT);
      p[3] = EQG_TT_REL_LOG_SCALE * (log(e / J[0]) - EQG_TT_REL_LOG_SHIFT);
    }
  }
}

/* Batch of jets ids[0 .. nb-1] of s (beams, scalars, boosts, edges); labels in
 * w->labels. */
eqg_status eqg_tt_build_batch(tt_work *w, const eqg_model *m, const eqg_tt_inputs *in,
                              const eqg_tt_split *s, const size_t *ids, size_t nb,
                              const tt_boosting *bo)
{
  EQG_ASSERT(nb <= w->cap);
  for (size_t k = 0; k < nb; k++) {
    w->ids[k] = (eqg_index)ids[k];
    w->labels[k] = s->labels[ids[k]];
  }
  const eqg_padded_graphs pg = { .n_graphs = s->n, .max_nodes = s->P, .dim = D,
                                 .n_scalars = S, .x = s->x, .h = s->h, .counts = s->counts };
  const eqg_fixed_nodes beams = { .count = N_BEAMS, .x = eqg_beam_nodes_x, .h = beam_h };
  eqg_graph_batch *b = w->b;
  eqg_status st = eqg_graph_batch_from_padded(b, &pg, w->ids, nb, in->beams ? &beams : NULL);
  if (st != EQG_OK) return st;
  if (bo && (bo->fixed || bo->rng) && (st = boost_batch(b, in, bo)) != EQG_OK) return st;
  const eqg_layer_type *f = m->cfg.family;
  if (f == &eqg_layer_edgeconv) st = eqg_graph_batch_connect_knn(b, in->knn, EQG_KNN_ETA_PHI);
  else if (f != &eqg_layer_deepsets) st = eqg_graph_batch_connect_full(b);   /* pfn: no edges */
  if (st == EQG_OK && in->features == EQG_TT_FEATURES_REL) relative_features(b, in);
  return st;
}

/* logits (G, 2) -> scores l1 - l0 */
static void logit_scores(eqg_real *scores, const eqg_tensor *logits)
{
  for (size_t g = 0; g < logits->rows; g++)
    scores[g] = logits->data[2 * g + 1] - logits->data[2 * g];
}

eqg_status eqg_tt_predict_work(eqg_real *scores, double *loss, eqg_tape *t, tt_work *w,
                               eqg_model *m, const eqg_tt_inputs *in, const eqg_tt_split *s,
                               const eqg_tt_boost *boost)
{
  t->training = false;
  t->grad_enabled = false;
  double sum = 0;
  const tt_boosting bo = { .fixed = boost };
  for (size_t s0 = 0; s0 < s->n; s0 += w->cap) {
    const size_t nb = s->n - s0 < w->cap ? s->n - s0 : w->cap;
    eqg_status st = eqg_tt_build_batch(w, m, in, s, w->seq + s0, nb, boost ? &bo : NULL);
    if (st != EQG_OK) return eqg_error_prefix(st, "evaluation: ");
    eqg_tape_reset(t);
    eqg_tensor *logits = eqg_model_forward(t, m, w->b);
    eqg_tensor *l = eqg_softmax_xent(t, logits, w->labels);
    if (!l) return eqg_error_prefix(eqg_tape_status(t), "evaluation: ");
    logit_scores(scores + s0, logits);
    sum += l->data[0] * (double)nb;
  }
  if (loss) *loss = sum / (double)s->n;
  for (size_t i = 0; i < s->n; i++)
    if (!isfinite(scores[i]))
      return eqg_error_set(EQG_ENONFINITE, "evaluation: score of jet %zu is %g", i, scores[i]);
  return EQG_OK;
}

eqg_status eqg_tt_predict(eqg_real *scores, double *loss, eqg_model *m,
                          const eqg_tt_inputs *in, const eqg_tt_split *s,
                          const eqg_tt_boost *boost, size_t batch)
{
  tt_work w;
  eqg_status st = eqg_tt_work_alloc(&w, batch ? batch : 1, s->n);
  if (st != EQG_OK) return st;
  eqg_tape *t = eqg_tape_alloc((size_t)1 << 24, NULL);
  if (!t) st = eqg_error_set(EQG_ENOMEM, "out of memory for the tape");
  else st = eqg_tt_predict_work(scores, loss, t, &w, m, in, s, boost);
  eqg_tape_free(t);
  eqg_tt_work_free(&w);
  return st;
}

eqg_status eqg_tt_write_roc_csv(const char *path, const eqg_real *scores,
                                const eqg_index *labels, size_t n)
{
  eqg_roc *roc = NULL;
  eqg_status st = eqg_roc_alloc(&roc, scores, labels, n);
  if (st != EQG_OK) return st;
  eqg_roc_drop_intermediate(roc);
  eqg_cli_csv *c = eqg_cli_csv_open(path, "eps_s,eps_b,threshold");
  if (!c) {
    eqg_roc_free(roc);
    return EQG_EIO;
  }
  for (size_t k = 0; k < roc->n_points; k++)
    if ((st = eqg_cli_csv_row(c, "%.17g,%.17g,%.17g", roc->eps_s[k], roc->eps_b[k],
                              roc->threshold[k])) != EQG_OK) {
      eqg_cli_csv_discard(c);
      eqg_roc_free(roc);
      return st;
    }
  eqg_roc_free(roc);
  return eqg_cli_csv_close(c);
}
