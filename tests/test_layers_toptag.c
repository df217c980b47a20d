/* test_layers_toptag.c: the non-geometric top-tagging baselines "deepsets"
 * (PFN / Deep Sets block) and "edgeconv" (ParticleNet's EdgeConv), and their
 * model presets pfn_top and particlenet_top.
 *
 *   - registry entries: found by name, not geometric, no coordinate output,
 *     no claim for any group at D = 3 or 4;
 *   - parameter names and counts against the formulas in the layer files
 *     (deepsets 2F^2 + (S + 2) F: 33,024 at F = 128; edgeconv
 *     5F^2 + (A + 8) F: 20,992 at F = 64);
 *   - a fourth-order central finite-difference check of the whole layer
 *     forward (inputs h, s or a, and EVERY trainable parameter; relative error
 *     <= 1e-6) for both families, residual and plain, edgeconv in training
 *     mode (batch statistics) and eval mode, on jets connected by their
 *     eta-phi kNN graph;
 *   - deepsets is permutation-equivariant node by node, and the pfn_top and
 *     particlenet_top models (eval mode; the kNN graph rebuilt after the
 *     shuffle) give the same jet output for every order of the constituents
 *     (relative difference <= 1e-12: sums in another order);
 *   - neither model is boost-invariant (they claim nothing): a boost of the
 *     constituents along x with rapidity 1 changes the jet output by > 1e-3
 *     relative, and so does a rotation about the beam axis;
 *   - edgeconv without edges, with a missing or unexpected edge attribute. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <gsl/gsl_rng.h>

#include "eqgnn.h"
#include "eqg_gc_util.h"

#define GRAD_TOL 1e-6
#define PERM_TOL 1e-12
#define BREAK_MIN 1e-3

enum { N_JETS = 3, KNN = 4 };
static const eqg_index JET_COUNTS[N_JETS] = { 7, 2, 9 };

/* ---- jets ------------------------------------------------------------------------ */

/* Toy jets: massless-ish constituents with pT in [5, 60] GeV, (eta, phi)
 * within +-0.4 of a random axis; node scalars [psi(m), 0] with m = 0.14. */
typedef struct jets {
  size_t n;                  /* nodes */
  eqg_real *x, *h;           /* (n, 4), (n, 2) */
} jets;

static void jets_make(jets *j, gsl_rng *r, const eqg_index *counts, size_t G)
{
  j->n = 0;
  for (size_t g = 0; g < G; g++) j->n += (size_t)counts[g];
  j->x = malloc(j->n * 4 * sizeof *j->x);
  j->h = malloc(j->n * 2 * sizeof *j->h);
  assert_true(j->x && j->h);
  const eqg_real m = 0.14;
  size_t i = 0;
  for (size_t g = 0; g < G; g++) {
    const eqg_real eta0 = 2 * gsl_rng_uniform(r) - 1, phi0 = 6 * gsl_rng_uniform(r) - 3;
    for (eqg_index k = 0; k < counts[g]; k++, i++) {
      const eqg_real pt = 5 + 55 * gsl_rng_uniform(r);
      const eqg_real eta = eta0 + 0.8 * (gsl_rng_uniform(r) - 0.5);
      const eqg_real phi = phi0 + 0.8 * (gsl_rng_uniform(r) - 0.5);
      eqg_real *p = j->x + 4 * i;
      p[1] = pt * cos(phi);
      p[2] = pt * sin(phi);
      p[3] = pt * sinh(eta);
      p[0] = sqrt(m * m + p[1] * p[1] + p[2] * p[2] + p[3] * p[3]);
      j->h[2 * i] = log1p(m);
      j->h[2 * i + 1] = 0;
    }
  }
}

static void jets_free(jets *j)
{
  free(j->x);
  free(j->h);
}

/* A batch of the jets (scalars: 2), kNN-connected in eta-phi or not at all. */
static eqg_graph_batch *jets_batch(const jets *j, const eqg_index *counts, size_t G,
                                   bool knn)
{
  eqg_graph_batch *b = eqg_graph_batch_alloc(4, 2, false);
  assert_non_null(b);
  assert_int_equal(eqg_graph_batch_set_nodes(b, G, counts, j->x, NULL, j->h), EQG_OK);
  if (knn) assert_int_equal(eqg_graph_batch_connect_knn(b, KNN, EQG_KNN_ETA_PHI), EQG_OK);
  return b;
}

/* ---- a layer with its parameters ---------------------------------------------------- */

typedef struct harness {
  const eqg_layer_type *type;
  eqg_layer_config cfg;
  eqg_params *p;
  void *layer;
  const eqg_graph_batch *b;
  bool training;
} harness;

static void harness_init(harness *H, const char *family, const eqg_layer_config *cfg,
                         const eqg_graph_batch *b, gsl_rng *r)
{
  H->type = eqg_layer_type_find(family);
  assert_non_null(H->type);
  H->cfg = *cfg;
  H->p = eqg_params_alloc();
  assert_non_null(H->p);
  H->layer = H->type->alloc(H->p, "layer0", cfg, r);
  if (!H->layer) fail_msg("%s alloc: %s", family, eqg_error_message());
  H->b = b;
  H->training = true;
}

static void harness_free(harness *H)
{
  H->type->free(H->layer);
  eqg_params_free(H->p);
}

/* inputs: h, s, a, then the trainable parameters */
static eqg_tensor *layer_fn(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  harness *H = ctx;
  t->training = H->training;
  eqg_layer_io io = { .h = in[0], .s = H->cfg.n_scalars ? in[1] : NULL,
                      .a = H->cfg.n_edge_attr ? in[2] : NULL };
  if (H->type->forward(t, H->p, H->layer, H->b, &io) != EQG_OK) return NULL;
  return io.h;
}

static void gradcheck_layer(const char *label, harness *H, gsl_rng *r)
{
  const size_t N = H->b->n_nodes, E = H->b->n_edges, F = H->cfg.width;
  eqg_tensor *h = gc_tensor(r, N, F, -1, 1, true);
  eqg_tensor *s = gc_tensor(r, N, H->cfg.n_scalars ? H->cfg.n_scalars : 1, -1, 1, true);
  eqg_tensor *a = gc_tensor(r, E ? E : 1, H->cfg.n_edge_attr ? H->cfg.n_edge_attr : 1, -1, 1,
                            true);
  eqg_tensor **in = calloc(3 + H->p->n, sizeof *in);
  assert_non_null(in);
  in[0] = h;
  in[1] = s;
  in[2] = a;
  size_t n = 3, expect = N * F + (H->cfg.n_scalars ? N * H->cfg.n_scalars : 0) +
                         (H->cfg.n_edge_attr ? E * H->cfg.n_edge_attr : 0);
  for (size_t k = 0; k < H->p->n; k++)
    if (H->p->info[k].trainable) {
      in[n++] = eqg_params_get(H->p, (int)k);
      expect += H->p->info[k].rows * H->p->info[k].cols;
    }
  eqg_gradcheck_result res;
  eqg_status st = eqg_gradcheck(layer_fn, H, n, in, EQG_GRADCHECK_STEP, 99, &res);
  if (st != EQG_OK) fail_msg("%s: gradcheck did not run: %s", label, eqg_error_message());
  print_message("  %-34s gradcheck max rel. error %.3g over %zu elements\n", label,
                res.max_err, res.n_checked);
  /* unused s or a columns have a zero gradient both ways and are counted too */
  assert_true(res.n_checked >= expect);
  if (!(res.max_err <= GRAD_TOL))
    fail_msg("%s: relative error %.3g > %g at input %zu element %zu (analytic %.12g, "
             "numeric %.12g)", label, res.max_err, GRAD_TOL, res.worst_input, res.worst_elem,
             res.analytic, res.numeric);
  free(in);
  gc_tensor_free(h);
  gc_tensor_free(s);
  gc_tensor_free(a);
}

/* ======================================================================== */

static void test_registry(void **state)
{
  (void)state;
  const eqg_layer_type *fam[] = { &eqg_layer_deepsets, &eqg_layer_edgeconv };
  const char *names[] = { "deepsets", "edgeconv" };
  eqg_layer_config c3 = eqg_layer_config_default(3, 8), c4 = eqg_layer_config_default(4, 8);
  for (int f = 0; f < 2; f++) {
    assert_ptr_equal(eqg_layer_type_find(names[f]), fam[f]);
    assert_false(fam[f]->geometric);
    assert_int_equal(fam[f]->coords_out, EQG_COORDS_NONE);
    bool listed = false;
    for (const eqg_layer_type *const *t = eqg_layer_types; *t; t++) listed |= *t == fam[f];
    assert_true(listed);
    for (const eqg_group_type *const *g = eqg_group_types; *g; g++) {
      assert_false(fam[f]->claims(&c3, *g));
      assert_false(fam[f]->claims(&c4, *g));
    }
  }
}

static size_t count_prefix(const eqg_params *p, const char *prefix)
{
  size_t n = 0;
  for (size_t k = 0; k < p->n; k++)
    if (p->info[k].trainable && strncmp(p->info[k].name, prefix, strlen(prefix)) == 0)
      n += p->info[k].rows * p->info[k].cols;
  return n;
}

static void test_param_counts(void **state)
{
  (void)state;
  gsl_rng *r = gc_rng(1);
  harness H;
  /* deepsets: 2F^2 + (S + 2) F */
  eqg_layer_config c = eqg_layer_config_default(4, 128);
  harness_init(&H, "deepsets", &c, NULL, r);
  assert_int_equal(eqg_params_count(H.p), 33024);
  assert_int_equal(H.p->n, 4);
  const char *ds_names[] = { "layer0.phi.0.weight", "layer0.phi.0.bias", "layer0.phi.1.weight",
                             "layer0.phi.1.bias" };
  for (int k = 0; k < 4; k++) assert_true(eqg_params_find(H.p, ds_names[k]) >= 0);
  harness_free(&H);
  c.n_scalars = 2;
  c.residual = false;
  harness_init(&H, "deepsets", &c, NULL, r);
  assert_int_equal(eqg_params_count(H.p), 2 * 128 * 128 + 4 * 128);
  harness_free(&H);

  /* edgeconv: 5F^2 + (A + 8) F, buffers 4 x (1, F) running statistics */
  c = eqg_layer_config_default(4, 64);
  harness_init(&H, "edgeconv", &c, NULL, r);
  assert_int_equal(eqg_params_count(H.p), 20992);
  assert_int_equal(count_prefix(H.p, "layer0.phi_e.0."), 128 * 64 + 2 * 64);
  assert_int_equal(count_prefix(H.p, "layer0.shortcut."), 64 * 64 + 2 * 64);
  assert_int_equal(eqg_params_find(H.p, "layer0.phi_e.0.bias"), -1);   /* BN follows */
  assert_true(eqg_params_find(H.p, "layer0.phi_e.2.running_var") >= 0);
  assert_int_equal(H.p->buf_size, 2 * 4 * 64);
  harness_free(&H);
  c.n_edge_attr = 3;
  c.residual = false;
  harness_init(&H, "edgeconv", &c, NULL, r);
  assert_int_equal(eqg_params_count(H.p), 4 * 64 * 64 + (3 + 6) * 64);
  assert_int_equal(eqg_params_find(H.p, "layer0.shortcut.weight"), -1);
  harness_free(&H);

  /* presets built on them (documented in eqg_model.h) */
  const struct { const char *name; size_t n; } presets[] = {
    { "pfn_top", 83714 }, { "particlenet_top", 67714 },
  };
  for (int k = 0; k < 2; k++) {
    eqg_model_config mc;
    assert_int_equal(eqg_model_config_preset(&mc, presets[k].name), EQG_OK);
    eqg_model *m = eqg_model_alloc(&mc, r);
    assert_non_null(m);
    print_message("  %-16s %zu parameters\n", presets[k].name, eqg_model_param_count(m));
    assert_int_equal(eqg_model_param_count(m), presets[k].n);
    eqg_model_free(m);
  }
  gsl_rng_free(r);
}

static void test_gradcheck(void **state)
{
  (void)state;
  gsl_rng *r = gc_rng(2);
  jets j;
  jets_make(&j, r, JET_COUNTS, N_JETS);
  eqg_graph_batch *none = jets_batch(&j, JET_COUNTS, N_JETS, false);
  eqg_graph_batch *knn = jets_batch(&j, JET_COUNTS, N_JETS, true);
  assert_int_equal(knn->n_edges, 7 * 4 + 2 * 1 + 9 * 4);
  harness H;

  eqg_layer_config c = eqg_layer_config_default(4, 5);
  harness_init(&H, "deepsets", &c, none, r);
  gradcheck_layer("deepsets (residual, silu)", &H, r);
  harness_free(&H);
  c.residual = false;
  c.n_scalars = 2;
  c.act = EQG_ACT_TANH;
  harness_init(&H, "deepsets", &c, none, r);
  gradcheck_layer("deepsets (plain, tanh, S = 2)", &H, r);
  harness_free(&H);

  c = eqg_layer_config_default(4, 4);
  harness_init(&H, "edgeconv", &c, knn, r);
  gradcheck_layer("edgeconv (residual, train BN)", &H, r);
  H.training = false;
  gradcheck_layer("edgeconv (residual, eval BN)", &H, r);
  harness_free(&H);
  c.residual = false;
  c.n_edge_attr = 2;
  c.act = EQG_ACT_TANH;
  harness_init(&H, "edgeconv", &c, knn, r);
  gradcheck_layer("edgeconv (plain, tanh, A = 2)", &H, r);
  harness_free(&H);

  eqg_graph_batch_free(none);
  eqg_graph_batch_free(knn);
  jets_free(&j);
  gsl_rng_free(r);
}

/* ---- permutations -------------------------------------------------------------------- */

static eqg_real rel_diff(const eqg_real *a, const eqg_real *b, size_t n)
{
  eqg_real d = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    d += (a[i] - b[i]) * (a[i] - b[i]);
    s += b[i] * b[i];
  }
  return s > 0 ? sqrt(d / s) : sqrt(d);
}

/* Jet-level outputs (G, 2) of model m, eval mode, into y. */
static void model_eval(eqg_model *m, const eqg_graph_batch *b, eqg_real *y)
{
  eqg_tape *t = eqg_tape_alloc(1 << 20, NULL);
  assert_non_null(t);
  t->training = false;
  t->grad_enabled = false;
  eqg_tensor *out = eqg_model_forward(t, m, b);
  if (!out) fail_msg("forward: %s", eqg_error_message());
  assert_int_equal(out->rows, b->n_graphs);
  memcpy(y, out->data, eqg_tensor_size(out) * sizeof *y);
  eqg_tape_free(t);
}

/* j with the constituents of each jet in a random order (same counts). */
static void jets_shuffled(jets *out, const jets *j, const eqg_index *counts, size_t G,
                          gsl_rng *r)
{
  out->n = j->n;
  out->x = malloc(j->n * 4 * sizeof *out->x);
  out->h = malloc(j->n * 2 * sizeof *out->h);
  assert_true(out->x && out->h);
  size_t first = 0;
  for (size_t g = 0; g < G; g++) {
    const size_t m = (size_t)counts[g];
    size_t perm[64];
    assert_true(m <= 64);
    for (size_t i = 0; i < m; i++) perm[i] = i;
    for (size_t i = m; i > 1; i--) {
      size_t k = (size_t)gsl_rng_uniform_int(r, i), tmp = perm[i - 1];
      perm[i - 1] = perm[k];
      perm[k] = tmp;
    }
    for (size_t i = 0; i < m; i++) {
      memcpy(out->x + 4 * (first + i), j->x + 4 * (first + perm[i]), 4 * sizeof *out->x);
      memcpy(out->h + 2 * (first + i), j->h + 2 * (first + perm[i]), 2 * sizeof *out->h);
    }
    first += m;
  }
}

/* deepsets block: row i of the output is a function of row i only. */
static void test_deepsets_node_equivariance(void **state)
{
  (void)state;
  gsl_rng *r = gc_rng(3);
  jets j;
  jets_make(&j, r, JET_COUNTS, N_JETS);
  eqg_graph_batch *b = jets_batch(&j, JET_COUNTS, N_JETS, false);
  const size_t N = b->n_nodes, F = 6;
  eqg_layer_config c = eqg_layer_config_default(4, F);
  harness H;
  harness_init(&H, "deepsets", &c, b, r);
  eqg_tensor *h = gc_tensor(r, N, F, -1, 1, false), *hp = gc_tensor(r, N, F, -1, 1, false);
  /* hp = h with rows reversed */
  for (size_t i = 0; i < N; i++) memcpy(hp->data + i * F, h->data + (N - 1 - i) * F, F * sizeof(eqg_real));
  eqg_tape *t = eqg_tape_alloc(1 << 20, r);
  eqg_layer_io io = { .h = h };
  assert_int_equal(H.type->forward(t, H.p, H.layer, b, &io), EQG_OK);
  eqg_real *y = malloc(N * F * sizeof *y);
  assert_non_null(y);
  memcpy(y, io.h->data, N * F * sizeof *y);
  io = (eqg_layer_io){ .h = hp };
  assert_int_equal(H.type->forward(t, H.p, H.layer, b, &io), EQG_OK);
  for (size_t i = 0; i < N; i++)
    assert_memory_equal(io.h->data + i * F, y + (N - 1 - i) * F, F * sizeof *y);
  free(y);
  eqg_tape_free(t);
  gc_tensor_free(h);
  gc_tensor_free(hp);
  harness_free(&H);
  eqg_graph_batch_free(b);
  jets_free(&j);
  gsl_rng_free(r);
}

/* pfn_top and particlenet_top: the jet outputs do not depend on the order of
 * the constituents (kNN graph rebuilt from the shuffled jets). */
static void test_model_permutation_invariance(void **state)
{
  (void)state;
  gsl_rng *r = gc_rng(4);
  const char *presets[] = { "pfn_top", "particlenet_top" };
  for (int k = 0; k < 2; k++) {
    eqg_model_config mc;
    assert_int_equal(eqg_model_config_preset(&mc, presets[k]), EQG_OK);
    eqg_model *m = eqg_model_alloc(&mc, r);
    assert_non_null(m);
    const bool knn = k == 1;
    jets j;
    jets_make(&j, r, JET_COUNTS, N_JETS);
    eqg_graph_batch *b = jets_batch(&j, JET_COUNTS, N_JETS, knn);
    eqg_real y0[2 * N_JETS], y1[2 * N_JETS];
    model_eval(m, b, y0);
    eqg_real worst = 0;
    for (int rep = 0; rep < 5; rep++) {
      jets s;
      jets_shuffled(&s, &j, JET_COUNTS, N_JETS, r);
      eqg_graph_batch *bs = jets_batch(&s, JET_COUNTS, N_JETS, knn);
      model_eval(m, bs, y1);
      worst = fmax(worst, rel_diff(y1, y0, 2 * N_JETS));
      eqg_graph_batch_free(bs);
      jets_free(&s);
    }
    print_message("  %-16s max rel. change under constituent permutations %.3g\n",
                  presets[k], worst);
    assert_true(worst <= PERM_TOL);
    eqg_graph_batch_free(b);
    jets_free(&j);
    eqg_model_free(m);
  }
  gsl_rng_free(r);
}

/* They claim nothing, and indeed a boost along x (rapidity 1) or a rotation
 * about z by 1 rad changes the output at order one. */
static void test_not_lorentz_invariant(void **state)
{
  (void)state;
  gsl_rng *r = gc_rng(5);
  const char *presets[] = { "pfn_top", "particlenet_top" };
  const eqg_real xhat[3] = { 1, 0, 0 };
  for (int k = 0; k < 2; k++) {
    eqg_model_config mc;
    assert_int_equal(eqg_model_config_preset(&mc, presets[k]), EQG_OK);
    eqg_model *m = eqg_model_alloc(&mc, r);
    assert_non_null(m);
    for (const eqg_group_type *const *g = eqg_group_types; *g; g++)
      assert_false(mc.family->claims(&mc.layer, *g));
    const bool knn = k == 1;
    jets j;
    jets_make(&j, r, JET_COUNTS, N_JETS);
    eqg_graph_batch *b = jets_batch(&j, JET_COUNTS, N_JETS, knn);
    eqg_real y0[2 * N_JETS], y1[2 * N_JETS];
    model_eval(m, b, y0);
    for (int which = 0; which < 2; which++) {
      eqg_group_elem e;
      eqg_group_elem_identity(&e, 4);
      if (which == 0) {
        assert_int_equal(eqg_boost_matrix(e.M, xhat, 1.0), EQG_OK);
      } else {
        e.M[5] = e.M[10] = cos(1.0);
        e.M[6] = -sin(1.0);
        e.M[9] = sin(1.0);
      }
      jets t = { .n = j.n, .x = malloc(j.n * 4 * sizeof(eqg_real)), .h = j.h };
      assert_non_null(t.x);
      assert_int_equal(eqg_group_act(t.x, &e, j.x, j.n, EQG_VECTOR_DISPLACEMENT), EQG_OK);
      eqg_graph_batch *bt = jets_batch(&t, JET_COUNTS, N_JETS, knn);
      model_eval(m, bt, y1);
      const eqg_real d = rel_diff(y1, y0, 2 * N_JETS);
      print_message("  %-16s rel. change of the jet output under a %s: %.3g\n", presets[k],
                    which ? "z rotation by 1 rad" : "boost along x, rapidity 1", d);
      assert_true(d > BREAK_MIN);
      eqg_graph_batch_free(bt);
      free(t.x);
    }
    eqg_graph_batch_free(b);
    jets_free(&j);
    eqg_model_free(m);
  }
  gsl_rng_free(r);
}

/* edgeconv: no edges at all (m_i = 0), attribute mismatches are refused. */
static void test_edgeconv_edges(void **state)
{
  (void)state;
  gsl_rng *r = gc_rng(6);
  jets j;
  jets_make(&j, r, JET_COUNTS, N_JETS);
  eqg_graph_batch *none = jets_batch(&j, JET_COUNTS, N_JETS, false);
  eqg_graph_batch *knn = jets_batch(&j, JET_COUNTS, N_JETS, true);
  const size_t N = none->n_nodes, F = 4;
  eqg_layer_config c = eqg_layer_config_default(4, F);
  harness H;
  harness_init(&H, "edgeconv", &c, none, r);
  eqg_tensor *h = gc_tensor(r, N, F, -1, 1, false);
  eqg_tensor *a = gc_tensor(r, knn->n_edges, 1, -1, 1, false);
  eqg_tape *t = eqg_tape_alloc(1 << 20, r);
  t->training = true;
  eqg_layer_io io = { .h = h };
  assert_int_equal(H.type->forward(t, H.p, H.layer, none, &io), EQG_OK);
  for (size_t i = 0; i < N * F; i++) assert_true(isfinite(io.h->data[i]));
  eqg_tape_reset(t);
  io = (eqg_layer_io){ .h = h, .a = a };
  eqg_error_clear();
  assert_int_equal(H.type->forward(t, H.p, H.layer, knn, &io), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "n_edge_attr = 0"));
  assert_ptr_equal(io.h, h);
  harness_free(&H);
  c.n_edge_attr = 2;
  harness_init(&H, "edgeconv", &c, knn, r);
  eqg_tape_reset(t);
  io = (eqg_layer_io){ .h = h, .a = a };
  assert_int_equal(H.type->forward(t, H.p, H.layer, knn, &io), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "edgeconv"));
  harness_free(&H);
  eqg_params *p = eqg_params_alloc();
  c.width = 0;
  assert_null(eqg_layer_edgeconv.alloc(p, "e", &c, r));
  assert_null(eqg_layer_deepsets.alloc(p, "d", &c, r));
  assert_null(eqg_layer_deepsets.alloc(p, "d", NULL, r));
  eqg_layer_edgeconv.free(NULL);
  eqg_layer_deepsets.free(NULL);
  eqg_params_free(p);
  eqg_tape_free(t);
  gc_tensor_free(h);
  gc_tensor_free(a);
  eqg_graph_batch_free(none);
  eqg_graph_batch_free(knn);
  jets_free(&j);
  gsl_rng_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_registry),
    cmocka_unit_test(test_param_counts),
    cmocka_unit_test(test_gradcheck),
    cmocka_unit_test(test_deepsets_node_equivariance),
    cmocka_unit_test(test_model_permutation_invariance),
    cmocka_unit_test(test_not_lorentz_invariant),
    cmocka_unit_test(test_edgeconv_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
