/* test_layers_lie.c: the L-conv family ("lconv") and lgeb with a general metric.
 *
 *   - lconv parameter count against the formula in eqg_layer_lconv.c, the
 *     generator parameter's name and (n_L D, D) shape;
 *   - a finite-difference check of one lconv block w.r.t. x, h, vec, the edge
 *     attributes and EVERY parameter (generators and mixer included), at
 *     D = 3 and D = 4 (Minkowski and a general metric);
 *   - lconv models with ONE generator fixed to L_z (so(2), Euclidean) are
 *     exactly equivariant under rotations about z (node output) and invariant
 *     (graph output); with K_z (Minkowski, D = 4) under z-boosts;
 *   - and NOT otherwise: random learnable generators break so2z, and the full
 *     so(3) basis breaks so3 (the adjoint mixing of the generators), so the
 *     equivariance above is not an accident of the test;
 *   - lgeb with EQG_METRIC_GENERAL and G = diag(1, -1, -1, -1) reproduces the
 *     Minkowski block to rounding and claims nothing; a non-symmetric G and
 *     bad lconv configurations are rejected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gsl/gsl_randist.h>

#include "eqgnn.h"

enum { NG = 3, NMAX = 16, F = 8, C = 2, A_ATTR = 1 };
static const eqg_index counts[NG] = { 4, 1, 5 };

/* A batch of NG fully connected graphs with coordinates x (N, D) (random if
 * x == NULL, filled into x_out), 2 node scalars and n_attr edge attributes. */
static eqg_graph_batch *batch_new(size_t D, size_t n_attr, const eqg_real *x, eqg_real *x_out,
                                  gsl_rng *r)
{
  const size_t N = 10;
  eqg_real xx[NMAX * 4], h[NMAX * 2];
  gsl_rng *rs = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rs, 99);   /* the same scalars and attributes every call */
  for (size_t i = 0; i < N; i++) {
    for (size_t k = 0; k < D; k++) xx[i * D + k] = x ? x[i * D + k] : gsl_ran_gaussian(r, 1);
    if (!x && D == 4) xx[i * D] = 3 + fabs(xx[i * D]);   /* timelike-ish */
    h[2 * i] = gsl_ran_gaussian(rs, 1);
    h[2 * i + 1] = gsl_ran_gaussian(rs, 1);
  }
  if (x_out) memcpy(x_out, xx, N * D * sizeof *xx);
  eqg_graph_batch *b = eqg_graph_batch_alloc(D, 2, false);
  assert_non_null(b);
  assert_int_equal(eqg_graph_batch_set_nodes(b, NG, counts, xx, NULL, h), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_full(b), EQG_OK);
  if (n_attr) {
    assert_int_equal(eqg_graph_batch_set_edge_attr_width(b, n_attr), EQG_OK);
    for (size_t e = 0; e < b->n_edges * n_attr; e++) b->edge_attr[e] = gsl_ran_gaussian(rs, 1);
  }
  gsl_rng_free(rs);
  return b;
}

static eqg_model_config lconv_config(size_t D, size_t n_gen, eqg_model_task task)
{
  eqg_model_config c = eqg_model_config_default(&eqg_layer_lconv, D, F, 2, task);
  c.n_in = 2;
  c.n_out = 2;
  c.layer.n_vec = C;
  c.layer.n_edge_attr = A_ATTR;
  c.layer.n_generators = n_gen;
  return c;
}

/* Overwrite every layer's generators with copies of the (n, D, D) stack T. */
static void set_generators(eqg_model *m, const eqg_real *T, size_t n, size_t D)
{
  for (size_t k = 0; k < m->cfg.depth; k++) {
    char name[64];
    snprintf(name, sizeof name, "layer%zu.generators", k);
    int id = eqg_params_find(m->params, name);
    assert_true(id >= 0);
    eqg_tensor *g = eqg_params_get(m->params, id);
    assert_int_equal(g->rows, n * D);
    assert_int_equal(g->cols, D);
    memcpy(g->data, T, n * D * D * sizeof *T);
  }
}

static void forward(eqg_model *m, const eqg_graph_batch *b, eqg_real *y, size_t *n)
{
  eqg_tape *t = eqg_tape_alloc(1 << 20, NULL);
  assert_non_null(t);
  t->training = false;
  t->grad_enabled = false;
  eqg_tensor *out = eqg_model_forward(t, m, b);
  if (!out) fail_msg("forward: %s", eqg_error_message());
  *n = eqg_tensor_size(out);
  memcpy(y, out->data, *n * sizeof *y);
  eqg_tape_free(t);
}

/* Worst relative error of the graph output (invariance) and of the node
 * output (equivariance) over `samples` elements of group type g. */
static void symmetry_error(const eqg_layer_config *lc, size_t D, const eqg_real *T, size_t n,
                           const eqg_group_type *gt, eqg_real max_rapidity, eqg_real err[2],
                           gsl_rng *r)
{
  eqg_group_params gp = eqg_group_params_default();
  gp.rapidity = max_rapidity;
  eqg_group *g = eqg_group_alloc(gt, &gp);
  assert_non_null(g);
  err[0] = err[1] = 0;
  for (int task = 0; task < 2; task++) {
    eqg_model_config c = lconv_config(D, n, task ? EQG_TASK_NODE_X : EQG_TASK_GRAPH);
    c.layer.metric = lc->metric;
    eqg_model *m = eqg_model_alloc(&c, r);
    assert_non_null(m);
    if (T) set_generators(m, T, n, D);
    for (int s = 0; s < 5; s++) {
      eqg_real x[NMAX * 4], gx[NMAX * 4], y[NMAX * 4], gy[NMAX * 4], ygx[NMAX * 4];
      eqg_graph_batch *b = batch_new(D, A_ATTR, NULL, x, r);
      eqg_group_elem e;
      eqg_group_sample(g, r, &e);
      if (e.dim != D) {   /* a 3-D rotation on four-vectors: diag(1, R) */
        eqg_real M4[16];
        eqg_lorentz_embed_rotation(M4, e.M);
        e.dim = 4;
        memcpy(e.M, M4, sizeof M4);
      }
      assert_int_equal(eqg_group_act(gx, &e, x, b->n_nodes, EQG_VECTOR_DISPLACEMENT), EQG_OK);
      eqg_graph_batch *bg = batch_new(D, A_ATTR, gx, NULL, r);
      size_t ny, ng;
      forward(m, b, y, &ny);
      forward(m, bg, ygx, &ng);
      assert_int_equal(ny, ng);
      if (task) assert_int_equal(eqg_group_act(gy, &e, y, b->n_nodes, EQG_VECTOR_DISPLACEMENT),
                                 EQG_OK);
      else memcpy(gy, y, ny * sizeof *y);
      eqg_real d2 = 0, s2 = 0;
      for (size_t i = 0; i < ny; i++) {
        d2 += (ygx[i] - gy[i]) * (ygx[i] - gy[i]);
        s2 += gy[i] * gy[i];
      }
      err[task] = fmax(err[task], sqrt(d2 / s2));
      eqg_graph_batch_free(b);
      eqg_graph_batch_free(bg);
    }
    eqg_model_free(m);
  }
  eqg_group_free(g);
}

static void test_lconv_params(void **state)
{
  (void)state;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  eqg_layer_config c = eqg_layer_config_default(3, F);
  c.n_vec = C;
  c.n_edge_attr = A_ATTR;
  for (size_t D = 3; D <= 4; D++)
    for (size_t nl = 0; nl <= 2; nl += 2) {
      c.dim = D;
      c.metric = D == 4 ? EQG_METRIC_MINKOWSKI : EQG_METRIC_EUCLIDEAN;
      c.n_generators = nl;
      eqg_params *p = eqg_params_alloc();
      void *l = eqg_layer_lconv.alloc(p, "layer0", &c, r);
      if (!l) fail_msg("lconv alloc: %s", eqg_error_message());
      const size_t n = nl ? nl : D * (D - 1) / 2;
      const size_t expect = 6 * F * F + F * (C + A_ATTR + 0 + 4) +
                            (F * C + n * D * D + 2 * C * C * (1 + n));
      print_message("  lconv D = %zu n_L = %zu: %zu parameters (formula %zu)\n", D, n,
                    eqg_params_count(p), expect);
      assert_int_equal(eqg_params_count(p), expect);
      int id = eqg_params_find(p, "layer0.generators");
      assert_true(id >= 0);
      assert_int_equal(p->info[id].rows, n * D);
      assert_int_equal(p->info[id].cols, D);
      assert_true(eqg_params_find(p, "layer0.mix.weight") >= 0);
      eqg_layer_lconv.free(l);
      eqg_params_free(p);
    }
  /* without the vector update: no generators at all */
  c.update_x = false;
  eqg_params *p = eqg_params_alloc();
  void *l = eqg_layer_lconv.alloc(p, "layer0", &c, r);
  assert_non_null(l);
  assert_int_equal(eqg_params_find(p, "layer0.generators"), -1);
  eqg_layer_lconv.free(l);
  eqg_params_free(p);
  assert_false(eqg_layer_lconv.claims(&c, &eqg_group_so3));
  gsl_rng_free(r);
}

typedef struct gc_ctx {
  void *layer;
  eqg_params *p;
  const eqg_graph_batch *b;
} gc_ctx;

/* inputs: h, vec, a, then every parameter; output [h' | vec'] */
static eqg_tensor *gc_layer(eqg_tape *t, eqg_tensor *const in[], void *vctx)
{
  gc_ctx *c = vctx;
  eqg_layer_io io = { .h = in[0], .vec = in[1], .a = in[2] };
  if (eqg_layer_lconv.forward(t, c->p, c->layer, c->b, &io)) return NULL;
  return eqg_concat_cols(t, io.h, io.vec);
}

static void test_lconv_gradcheck(void **state)
{
  (void)state;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 21);
  for (int variant = 0; variant < 3; variant++) {
    const size_t D = variant ? 4 : 3;
    eqg_layer_config c = eqg_layer_config_default(D, F);
    c.n_vec = C;
    c.n_edge_attr = A_ATTR;
    if (variant == 2) {   /* a general symmetric metric */
      c.metric = EQG_METRIC_GENERAL;
      for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j <= i; j++)
          c.metric_g[i * 4 + j] = c.metric_g[j * 4 + i] = (i == j ? 1.5 : 0.3) - 0.2 * (double)i;
    }
    eqg_params *p = eqg_params_alloc();
    void *l = eqg_layer_lconv.alloc(p, "layer0", &c, r);
    assert_non_null(l);
    eqg_graph_batch *b = batch_new(D, A_ATTR, NULL, NULL, r);
    const size_t N = b->n_nodes, E = b->n_edges;
    eqg_real hd[NMAX * F], hg[NMAX * F], vd[NMAX * C * 4], vg[NMAX * C * 4];
    eqg_real *ag = calloc(E, sizeof *ag);
    assert_non_null(ag);
    for (size_t k = 0; k < N * F; k++) hd[k] = gsl_ran_gaussian(r, 1);
    for (size_t k = 0; k < N * C * D; k++) vd[k] = gsl_ran_gaussian(r, 1);
    eqg_tensor h = { N, F, hd, hg }, vec = { N, C * D, vd, vg }, a = { E, 1, b->edge_attr, ag };
    eqg_tensor *in[32] = { &h, &vec, &a };
    assert_true(3 + p->n <= 32);
    for (size_t k = 0; k < p->n; k++) in[3 + k] = eqg_params_get(p, (int)k);
    gc_ctx ctx = { l, p, b };
    eqg_gradcheck_result res;
    assert_int_equal(eqg_gradcheck(gc_layer, &ctx, 3 + p->n, in, EQG_GRADCHECK_STEP, 5, &res),
                     EQG_OK);
    print_message("  lconv D = %zu %s: gradcheck max rel. error %.3g over %zu elements "
                  "(%zu parameters)\n", D, variant == 2 ? "general G" : D == 4 ? "Minkowski"
                  : "Euclidean", res.max_err, res.n_checked, eqg_params_count(p));
    assert_int_equal(res.n_checked, N * F + N * C * D + E + eqg_params_count(p));
    assert_true(res.max_err <= 1e-6);
    free(ag);
    eqg_graph_batch_free(b);
    eqg_layer_lconv.free(l);
    eqg_params_free(p);
  }
  gsl_rng_free(r);
}

static void test_lconv_fixed_generators(void **state)
{
  (void)state;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 5);
  eqg_real L3[27], L4[96], err[2];
  eqg_rotation_generators(L3);
  eqg_lorentz_generators(L4);
  eqg_layer_config lc = eqg_layer_config_default(3, F);

  symmetry_error(&lc, 3, L3 + 18, 1, &eqg_group_so2z, 1, err, r);
  print_message("  lconv L = {L_z}, so2z: invariant %.2e, equivariant %.2e\n", err[0], err[1]);
  assert_true(err[0] <= 1e-12 && err[1] <= 1e-12);

  symmetry_error(&lc, 3, NULL, 1, &eqg_group_so2z, 1, err, r);
  print_message("  lconv random L, so2z: invariant %.2e, equivariant %.2e\n", err[0], err[1]);
  assert_true(err[1] >= 1e-3);

  symmetry_error(&lc, 3, L3, 3, &eqg_group_so3, 1, err, r);
  print_message("  lconv L = so(3) basis, so3: invariant %.2e, equivariant %.2e\n", err[0],
                err[1]);
  assert_true(err[1] >= 1e-3);

  lc = eqg_layer_config_default(4, F);
  symmetry_error(&lc, 4, L4 + 5 * 16, 1, &eqg_group_boostz, 1, err, r);
  print_message("  lconv L = {K_z}, boostz (|eta| <= 1): invariant %.2e, equivariant %.2e\n",
                err[0], err[1]);
  assert_true(err[0] <= 1e-10 && err[1] <= 1e-10);
  symmetry_error(&lc, 4, L4 + 5 * 16, 1, &eqg_group_so2z, 1, err, r);
  print_message("  lconv L = {K_z}, so2z: equivariant %.2e (K_z commutes with R_z)\n", err[1]);
  assert_true(err[1] <= 1e-12);
  gsl_rng_free(r);
}

static void test_lconv_bad_config(void **state)
{
  (void)state;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  eqg_params *p = eqg_params_alloc();
  eqg_layer_config c = eqg_layer_config_default(3, F);
  c.n_vec = 0;
  assert_null(eqg_layer_lconv.alloc(p, "a", &c, r));
  print_message("  %s\n", eqg_error_message());
  c.n_vec = 1;
  c.n_generators = 17;
  assert_null(eqg_layer_lconv.alloc(p, "b", &c, r));
  c.n_generators = 1;
  c.metric = EQG_METRIC_MINKOWSKI;
  assert_null(eqg_layer_lconv.alloc(p, "c", &c, r));
  c.metric = EQG_METRIC_GENERAL;
  c.metric_g[4] = NAN;
  assert_null(eqg_layer_lconv.alloc(p, "d", &c, r));
  c = eqg_layer_config_default(5, F);
  c.n_vec = 1;
  assert_null(eqg_layer_lconv.alloc(p, "e", &c, r));
  eqg_params_free(p);
  gsl_rng_free(r);
}

/* lgeb with G = eta given as a general metric equals the Minkowski block. */
static void test_lgeb_general_metric(void **state)
{
  (void)state;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 8);
  eqg_model_config c;
  assert_int_equal(eqg_model_config_preset(&c, "lorentznet"), EQG_OK);
  c.layer.width = 8;
  c.depth = 2;
  c.readout_dropout = 0;
  eqg_model_config cg = c;
  cg.layer.metric = EQG_METRIC_GENERAL;
  const eqg_real eta[16] = { 1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1 };
  memcpy(cg.layer.metric_g, eta, sizeof eta);
  assert_false(eqg_layer_lgeb.claims(&cg.layer, &eqg_group_lorentz));
  assert_true(eqg_layer_lgeb.claims(&c.layer, &eqg_group_lorentz));
  gsl_rng_set(r, 8);
  eqg_model *m = eqg_model_alloc(&c, r);
  gsl_rng_set(r, 8);
  eqg_model *mg = eqg_model_alloc(&cg, r);
  assert_non_null(m);
  assert_non_null(mg);
  eqg_graph_batch *b = batch_new(4, 0, NULL, NULL, r);
  eqg_real y[64], yg[64];
  size_t n1, n2;
  forward(m, b, y, &n1);
  forward(mg, b, yg, &n2);
  assert_int_equal(n1, n2);
  eqg_real d = 0;
  for (size_t i = 0; i < n1; i++) d = fmax(d, fabs(y[i] - yg[i]) / fmax(1, fabs(y[i])));
  print_message("  lgeb general G = eta vs Minkowski: max rel. difference %.2e\n", d);
  assert_true(d <= 1e-13);
  cg.layer.metric_g[1] = 0.5;   /* not symmetric */
  assert_null(eqg_model_alloc(&cg, r));
  print_message("  %s\n", eqg_error_message());
  eqg_graph_batch_free(b);
  eqg_model_free(m);
  eqg_model_free(mg);
  gsl_rng_free(r);
}

int main(void)
{
  eqg_gsl_route_errors();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_lconv_params),
    cmocka_unit_test(test_lconv_gradcheck),
    cmocka_unit_test(test_lconv_fixed_generators),
    cmocka_unit_test(test_lconv_bad_config),
    cmocka_unit_test(test_lgeb_general_metric),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
