/* test_layers_basic.c: the layer families "gnn", "rf" and "schnet".
 *
 * On a batch of three fully connected graphs of 4, 1 and 5 nodes (32 edges,
 * the single node receives nothing) with random x, v, h and edge attributes:
 *   - registry, parameter names and counts (24,896 gnn, 513 rf, 17,920 schnet);
 *   - a fourth-order central finite-difference check of the whole layer
 *     forward, inputs x, h, v, a and EVERY parameter, relative error <= 1e-6
 *     (eqg_gradcheck, step EQG_GRADCHECK_STEP).  Measured errors are ~1e-8,
 *     whatever the seed of the random contraction (a wrong gradient gives
 *     errors of order 1);
 *   - equivariance under every group the family claims, with x moved as a
 *     position and v as a displacement: ‖f(gx) - g f(x)‖ / ‖g f(x)‖ <= 1e-12
 *     for x, and ‖h(gx) - h(x)‖ / ‖h(x)‖ <= 1e-12;
 *   - the detectable failure of "gnn" when coordinates are fed as features
 *     (output h changes by > 1e-3 relative under a rotation);
 *   - rf on 2 nodes against the equations evaluated by hand;
 *   - coincident points (finite values and gradients), a batch without edges,
 *     schnet on four-vectors (claims nothing), and bad inputs (EQG_ESHAPE /
 *     EQG_EINVAL with messages). */
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
#define GRAD_STEP EQG_GRADCHECK_STEP
#define EQUIV_TOL 1e-12

static const eqg_index COUNTS[] = { 4, 1, 5 };
enum { N_GRAPHS = 3, N_NODES = 10, N_EDGES = 4 * 3 + 0 + 5 * 4 };

/* ---- fixture: a batch and node/edge tensors (heap, with gradients) -------- */

typedef struct fixture {
  size_t dim;
  eqg_graph_batch *b;
  eqg_tensor *x, *v, *h, *a;   /* (N, D), (N, D), (N, F), (E, A) */
} fixture;

static void fixture_init(fixture *f, gsl_rng *r, size_t dim, size_t F, size_t A,
                         size_t n_graphs, const eqg_index *counts)
{
  size_t N = 0;
  for (size_t g = 0; g < n_graphs; g++) N += (size_t)counts[g];
  f->dim = dim;
  f->x = gc_tensor(r, N, dim, -1.5, 1.5, true);
  f->v = gc_tensor(r, N, dim, -1, 1, true);
  f->h = gc_tensor(r, N, F, -1, 1, true);
  f->b = eqg_graph_batch_alloc(dim, 0, true);
  assert_non_null(f->b);
  assert_int_equal(eqg_graph_batch_set_nodes(f->b, n_graphs, counts, f->x->data, f->v->data,
                                             NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_full(f->b), EQG_OK);
  f->a = gc_tensor(r, f->b->n_edges, A, -1, 1, true);
}

static void fixture_default(fixture *f, gsl_rng *r, size_t dim, size_t F, size_t A)
{
  fixture_init(f, r, dim, F, A, N_GRAPHS, COUNTS);
  assert_int_equal(f->b->n_nodes, N_NODES);
  assert_int_equal(f->b->n_edges, N_EDGES);
}

static void fixture_free(fixture *f)
{
  eqg_graph_batch_free(f->b);
  gc_tensor_free(f->x);
  gc_tensor_free(f->v);
  gc_tensor_free(f->h);
  gc_tensor_free(f->a);
}

/* ---- a layer with its parameters ------------------------------------------ */

typedef struct harness {
  const eqg_layer_type *type;
  eqg_layer_config cfg;
  eqg_params *p;
  void *layer;
  const fixture *fx;
} harness;

static void harness_init(harness *H, const char *family, const eqg_layer_config *cfg,
                         const fixture *fx, gsl_rng *r)
{
  H->type = eqg_layer_type_find(family);
  assert_non_null(H->type);
  H->cfg = *cfg;
  H->p = eqg_params_alloc();
  assert_non_null(H->p);
  H->layer = H->type->alloc(H->p, "layer0", cfg, r);
  if (!H->layer) fail_msg("%s alloc: %s", family, eqg_error_message());
  H->fx = fx;
}

static void harness_free(harness *H)
{
  H->type->free(H->layer);
  eqg_params_free(H->p);
}

static eqg_tensor *param(harness *H, const char *name)
{
  int id = eqg_params_find(H->p, name);
  if (id < 0) fail_msg("no parameter %s", name);
  return eqg_params_get(H->p, id);
}

/* Forward on the given inputs; the outputs stay in the tape (reset first). */
static eqg_status run(eqg_tape *t, harness *H, eqg_tensor *x, eqg_tensor *v, eqg_tensor *h,
                      eqg_tensor *a, eqg_layer_io *io)
{
  eqg_tape_reset(t);
  *io = (eqg_layer_io){ .h = h, .x = x, .v = v, .a = H->cfg.n_edge_attr ? a : NULL };
  return H->type->forward(t, H->p, H->layer, H->fx->b, io);
}

/* Gradient check: inputs x, h, v, a, then every parameter of the layer. */
static eqg_tensor *layer_fn(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  harness *H = ctx;
  eqg_layer_io io = { .x = in[0], .h = in[1], .v = in[2],
                      .a = H->cfg.n_edge_attr ? in[3] : NULL };
  if (H->type->forward(t, H->p, H->layer, H->fx->b, &io) != EQG_OK) return NULL;
  return eqg_concat_cols(t, io.h, io.x);          /* (N, F + D) */
}

static eqg_real gradcheck_layer(const char *label, harness *H)
{
  size_t n = 4 + H->p->n;
  eqg_tensor **in = calloc(n, sizeof *in);
  assert_non_null(in);
  in[0] = H->fx->x;
  in[1] = H->fx->h;
  in[2] = H->fx->v;
  in[3] = H->fx->a;
  for (size_t k = 0; k < H->p->n; k++) in[4 + k] = eqg_params_get(H->p, (int)k);
  eqg_gradcheck_result res;
  eqg_status st = eqg_gradcheck(layer_fn, H, n, in, GRAD_STEP, 777, &res);
  if (st != EQG_OK) fail_msg("%s: gradcheck did not run: %s", label, eqg_error_message());
  size_t expect = eqg_tensor_size(H->fx->x) + eqg_tensor_size(H->fx->h) +
                  eqg_tensor_size(H->fx->v) + eqg_tensor_size(H->fx->a) +
                  eqg_params_count(H->p);
  assert_int_equal(res.n_checked, expect);
  print_message("  %-28s gradcheck max rel. error %.3g over %zu elements\n", label,
                res.max_err, res.n_checked);
  if (!(res.max_err <= GRAD_TOL))
    fail_msg("%s: relative error %.3g > %g at input %zu element %zu (analytic %.12g, "
             "numeric %.12g)", label, res.max_err, GRAD_TOL, res.worst_input, res.worst_elem,
             res.analytic, res.numeric);
  free(in);
  return res.max_err;
}

static gsl_rng *rng_new(unsigned long seed)
{
  return gc_rng(seed);
}

static eqg_tape *tape_new(gsl_rng *r)
{
  eqg_tape *t = eqg_tape_alloc(1 << 20, r);
  assert_non_null(t);
  return t;
}

/* ‖a - b‖ / ‖b‖ over n numbers. */
static eqg_real rel_err(const eqg_real *a, const eqg_real *b, size_t n)
{
  eqg_real d = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    d += (a[i] - b[i]) * (a[i] - b[i]);
    s += b[i] * b[i];
  }
  return s > 0 ? sqrt(d / s) : sqrt(d);
}

static eqg_tensor *copy_of(const eqg_tensor *t)
{
  eqg_tensor *c = calloc(1, sizeof *c);
  assert_non_null(c);
  *c = (eqg_tensor){ .rows = t->rows, .cols = t->cols };
  c->data = malloc((eqg_tensor_size(t) ? eqg_tensor_size(t) : 1) * sizeof *c->data);
  assert_non_null(c->data);
  memcpy(c->data, t->data, eqg_tensor_size(t) * sizeof *c->data);
  return c;
}

static eqg_layer_config cfg_gnn(size_t F, size_t A)
{
  eqg_layer_config c = eqg_layer_config_default(3, F);
  c.n_edge_attr = A;
  return c;
}

static eqg_layer_config cfg_rf(size_t F, size_t A)
{
  eqg_layer_config c = eqg_layer_config_default(3, F);
  c.n_edge_attr = A;
  c.velocity = true;
  return c;
}

static eqg_layer_config cfg_schnet(size_t dim, size_t F, size_t K)
{
  eqg_layer_config c = eqg_layer_config_default(dim, F);
  c.n_rbf = K;
  return c;
}

/* RF's phi ends in Xavier(gain 0.001) weights: a field of ~1e-3.  Scale them
 * by 1000 so that the tests see a sizable update with tanh in its nonlinear
 * range. */
static void rf_amplify(harness *H)
{
  eqg_tensor *w = param(H, "layer0.phi.1.weight");
  for (size_t i = 0; i < eqg_tensor_size(w); i++) w->data[i] *= 1000;
}

/* ======================================================================== */

static void test_registry(void **state)
{
  (void)state;
  assert_ptr_equal(eqg_layer_type_find("gnn"), &eqg_layer_gnn);
  assert_ptr_equal(eqg_layer_type_find("rf"), &eqg_layer_rf);
  assert_ptr_equal(eqg_layer_type_find("schnet"), &eqg_layer_schnet);
  assert_false(eqg_layer_gnn.geometric);
  assert_true(eqg_layer_rf.geometric);
  assert_true(eqg_layer_schnet.geometric);
  assert_int_equal(eqg_layer_gnn.coords_out, EQG_COORDS_NONE);
  assert_int_equal(eqg_layer_rf.coords_out, EQG_COORDS_X);
  assert_int_equal(eqg_layer_schnet.coords_out, EQG_COORDS_NONE);

  /* Claims: gnn nothing; rf and schnet exactly the Euclidean groups in 3-D. */
  eqg_layer_config c3 = eqg_layer_config_default(3, 8), c4 = eqg_layer_config_default(4, 8);
  size_t n_rf = 0;
  for (const eqg_group_type *const *g = eqg_group_types; *g; g++) {
    bool euclid = strcmp((*g)->name, "so3") == 0 || strcmp((*g)->name, "o3") == 0 ||
                  strcmp((*g)->name, "so2z") == 0 || strcmp((*g)->name, "translation") == 0;
    assert_false(eqg_layer_gnn.claims(&c3, *g));
    assert_false(eqg_layer_gnn.claims(&c4, *g));
    assert_int_equal(eqg_layer_rf.claims(&c3, *g), euclid);
    assert_int_equal(eqg_layer_schnet.claims(&c3, *g), euclid);
    assert_false(eqg_layer_rf.claims(&c4, *g));
    assert_false(eqg_layer_schnet.claims(&c4, *g));
    n_rf += eqg_layer_rf.claims(&c3, *g);
  }
  assert_int_equal(n_rf, 4);
}

static void test_param_counts(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(1);
  fixture fx;
  fixture_default(&fx, r, 3, 64, 1);

  harness H;
  eqg_layer_config c = cfg_gnn(64, 1);
  harness_init(&H, "gnn", &c, &fx, r);
  assert_int_equal(eqg_params_count(H.p), 24896);
  const char *gnn_names[] = { "layer0.phi_e.0.weight", "layer0.phi_e.0.bias",
                              "layer0.phi_e.1.weight", "layer0.phi_e.1.bias",
                              "layer0.phi_h.0.weight", "layer0.phi_h.0.bias",
                              "layer0.phi_h.1.weight", "layer0.phi_h.1.bias" };
  assert_int_equal(H.p->n, 8);
  for (size_t k = 0; k < 8; k++) assert_true(eqg_params_find(H.p, gnn_names[k]) >= 0);
  assert_int_equal(param(&H, "layer0.phi_e.0.weight")->rows, 2 * 64 + 1);
  harness_free(&H);

  c = cfg_rf(64, 2);
  harness_init(&H, "rf", &c, &fx, r);
  assert_int_equal(eqg_params_count(H.p), 513);   /* 256 + 64 + 128 + 65 */
  assert_int_equal(H.p->n, 7);
  assert_int_equal(param(&H, "layer0.phi.0.weight")->rows, 3);
  assert_int_equal(eqg_params_find(H.p, "layer0.phi.1.bias"), -1);
  /* phi.1: Xavier uniform, gain 0.001: |w| <= 0.001 sqrt(6 / 65) */
  eqg_tensor *w = param(&H, "layer0.phi.1.weight");
  eqg_real wmax = 0;
  for (size_t i = 0; i < 64; i++) wmax = fmax(wmax, fabs(w->data[i]));
  assert_true(wmax > 0 && wmax <= 0.001 * sqrt(6.0 / 65));
  assert_true(eqg_params_find(H.p, "layer0.phi_v.1.bias") >= 0);
  harness_free(&H);
  c.velocity = false;
  harness_init(&H, "rf", &c, &fx, r);
  assert_int_equal(eqg_params_count(H.p), 320);
  harness_free(&H);

  c = cfg_schnet(3, 64, 20);
  harness_init(&H, "schnet", &c, &fx, r);
  assert_int_equal(eqg_params_count(H.p), 4 * 64 * 64 + 20 * 64 + 4 * 64);   /* 17,920 */
  assert_int_equal(eqg_params_count(H.p), 17920);
  const char *sn_names[] = { "layer0.filter.0.weight", "layer0.filter.1.bias",
                             "layer0.in.0.weight", "layer0.out.0.weight",
                             "layer0.out.1.bias" };
  for (size_t k = 0; k < 5; k++) assert_true(eqg_params_find(H.p, sn_names[k]) >= 0);
  assert_int_equal(eqg_params_find(H.p, "layer0.in.0.bias"), -1);
  harness_free(&H);

  fixture_free(&fx);
  gsl_rng_free(r);
}

/* ---- gradient checks -------------------------------------------------------- */

static void test_gradcheck_gnn(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(2);
  fixture fx;
  fixture_default(&fx, r, 3, 6, 2);
  harness H;
  eqg_layer_config c = cfg_gnn(6, 2);
  harness_init(&H, "gnn", &c, &fx, r);
  gradcheck_layer("gnn (residual)", &H);
  harness_free(&H);
  c.residual = false;
  c.act = EQG_ACT_TANH;
  harness_init(&H, "gnn", &c, &fx, r);
  gradcheck_layer("gnn (plain, tanh)", &H);
  harness_free(&H);
  fixture_free(&fx);
  gsl_rng_free(r);
}

static void test_gradcheck_rf(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(3);
  fixture fx;
  fixture_default(&fx, r, 3, 5, 2);
  harness H;
  eqg_layer_config c = cfg_rf(7, 2);
  harness_init(&H, "rf", &c, &fx, r);
  rf_amplify(&H);
  gradcheck_layer("rf (mean, velocity)", &H);
  harness_free(&H);
  c.velocity = false;
  c.coord_agg = EQG_AGG_SUM;
  c.coord_scale = 0.5;
  c.n_edge_attr = 0;
  harness_init(&H, "rf", &c, &fx, r);
  rf_amplify(&H);
  gradcheck_layer("rf (sum, no velocity, A=0)", &H);
  harness_free(&H);
  fixture_free(&fx);
  gsl_rng_free(r);
}

static void test_gradcheck_schnet(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(4);
  fixture fx;
  fixture_default(&fx, r, 3, 6, 2);
  harness H;
  eqg_layer_config c = cfg_schnet(3, 6, 8);
  c.rbf_cutoff = 4;
  c.rbf_gamma = 2;
  harness_init(&H, "schnet", &c, &fx, r);
  gradcheck_layer("schnet", &H);
  harness_free(&H);
  c.n_edge_attr = 2;
  c.residual = false;
  c.rbf_gamma = 5;
  harness_init(&H, "schnet", &c, &fx, r);
  gradcheck_layer("schnet (A=2, gamma 5)", &H);
  harness_free(&H);
  fixture_free(&fx);
  gsl_rng_free(r);
}

/* ---- equivariance ------------------------------------------------------------ */

/* For every group the family claims: 4 sampled elements, x as positions and
 * v as displacements; x equivariant, h invariant.  Returns the worst errors. */
static void check_equivariance(const char *family, harness *H, gsl_rng *r)
{
  const fixture *fx = H->fx;
  const size_t N = fx->b->n_nodes, D = fx->dim, F = fx->h->cols;
  eqg_tape *t = tape_new(r);
  t->grad_enabled = false;
  eqg_layer_io io;
  assert_int_equal(run(t, H, fx->x, fx->v, fx->h, fx->a, &io), EQG_OK);
  eqg_tensor *x_out = copy_of(io.x), *h_out = copy_of(io.h);
  eqg_tensor *gx = copy_of(fx->x), *gv = copy_of(fx->v);
  eqg_real *g_xout = malloc(N * D * sizeof *g_xout);
  const size_t W = F > D ? F : D;
  eqg_real *upd = malloc(N * W * sizeof *upd), *upd_ref = malloc(N * W * sizeof *upd_ref);
  assert_true(g_xout && upd && upd_ref);

  /* The layer must do something, and depend on x (else the test could not
   * fail): a non-rigid jitter of x by ~0.1 changes the update visibly. */
  eqg_real dx = rel_err(x_out->data, fx->x->data, N * D);
  eqg_real dh = rel_err(h_out->data, fx->h->data, N * F);
  assert_true(dx > 1e-2 || dh > 1e-2);
  for (size_t i = 0; i < N * D; i++)
    gx->data[i] = fx->x->data[i] + 0.2 * (gsl_rng_uniform(r) - 0.5);
  assert_int_equal(run(t, H, gx, fx->v, fx->h, fx->a, &io), EQG_OK);
  eqg_real jitter;   /* ‖update(x + jitter) - update(x)‖ / ‖update(x)‖ */
  if (dx > 0) {
    for (size_t i = 0; i < N * D; i++) {
      upd[i] = io.x->data[i] - gx->data[i];
      upd_ref[i] = x_out->data[i] - fx->x->data[i];
    }
    jitter = rel_err(upd, upd_ref, N * D);
  } else {
    for (size_t i = 0; i < N * F; i++) {
      upd[i] = io.h->data[i] - fx->h->data[i];
      upd_ref[i] = h_out->data[i] - fx->h->data[i];
    }
    jitter = rel_err(upd, upd_ref, N * F);
  }
  print_message("  %-8s control: a non-rigid jitter changes the update by %.3g (relative)\n",
                family, jitter);
  assert_true(jitter > 1e-3);

  size_t n_groups = 0;
  for (const eqg_group_type *const *gt = eqg_group_types; *gt; gt++) {
    if (!H->type->claims(&H->cfg, *gt)) continue;
    n_groups++;
    eqg_group *g = eqg_group_alloc(*gt, NULL);
    assert_non_null(g);
    eqg_real worst_x = 0, worst_h = 0, worst_dx = 0, worst_dh = 0;
    for (int s = 0; s < 4; s++) {
      eqg_group_elem e;
      eqg_group_sample(g, r, &e);
      assert_int_equal(eqg_group_act(gx->data, &e, fx->x->data, N, EQG_VECTOR_POSITION), EQG_OK);
      assert_int_equal(eqg_group_act(gv->data, &e, fx->v->data, N, EQG_VECTOR_DISPLACEMENT),
                       EQG_OK);
      assert_int_equal(eqg_group_act(g_xout, &e, x_out->data, N, EQG_VECTOR_POSITION), EQG_OK);
      assert_int_equal(run(t, H, gx, gv, fx->h, fx->a, &io), EQG_OK);
      worst_x = fmax(worst_x, rel_err(io.x->data, g_xout, N * D));
      worst_h = fmax(worst_h, rel_err(io.h->data, h_out->data, N * F));
      /* the same for the updates alone: x' - gx against g x' - g x = M (x' - x) */
      for (size_t i = 0; i < N * D; i++) {
        upd[i] = io.x->data[i] - gx->data[i];
        upd_ref[i] = g_xout[i] - gx->data[i];
      }
      if (dx > 0) worst_dx = fmax(worst_dx, rel_err(upd, upd_ref, N * D));
      for (size_t i = 0; i < N * F; i++) {
        upd[i] = io.h->data[i] - fx->h->data[i];
        upd_ref[i] = h_out->data[i] - fx->h->data[i];
      }
      if (dh > 0) worst_dh = fmax(worst_dh, rel_err(upd, upd_ref, N * F));
    }
    print_message("  %-8s %-12s x: %.3g  h: %.3g  (updates alone: x %.3g  h %.3g)\n", family,
                  (*gt)->name, worst_x, worst_h, worst_dx, worst_dh);
    if (!(worst_x <= EQUIV_TOL && worst_h <= EQUIV_TOL && worst_dx <= EQUIV_TOL &&
          worst_dh <= EQUIV_TOL))
      fail_msg("%s under %s: x error %.3g, h error %.3g, update errors %.3g, %.3g > %g",
               family, (*gt)->name, worst_x, worst_h, worst_dx, worst_dh, EQUIV_TOL);
    eqg_group_free(g);
  }
  assert_int_equal(n_groups, 4);   /* so3, o3, translation, so2z */

  free(g_xout);
  free(upd);
  free(upd_ref);
  free(x_out->data); free(x_out);
  free(h_out->data); free(h_out);
  free(gx->data); free(gx);
  free(gv->data); free(gv);
  eqg_tape_free(t);
}

static void test_equivariance_rf(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(5);
  fixture fx;
  fixture_default(&fx, r, 3, 16, 2);
  harness H;
  eqg_layer_config c = cfg_rf(16, 2);
  harness_init(&H, "rf", &c, &fx, r);
  rf_amplify(&H);
  check_equivariance("rf", &H, r);
  harness_free(&H);
  fixture_free(&fx);
  gsl_rng_free(r);
}

static void test_equivariance_schnet(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(6);
  fixture fx;
  fixture_default(&fx, r, 3, 16, 0);
  harness H;
  eqg_layer_config c = cfg_schnet(3, 16, 12);
  c.rbf_cutoff = 4;
  harness_init(&H, "schnet", &c, &fx, r);
  check_equivariance("schnet", &H, r);
  harness_free(&H);
  fixture_free(&fx);
  gsl_rng_free(r);
}

/* gnn with h = [h, x]: a rotation of x changes the output h visibly. */
static void test_gnn_coordinates_as_features(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(7);
  enum { FH = 5, F = FH + 3 };
  fixture fx;
  fixture_default(&fx, r, 3, F, 1);
  const size_t N = fx.b->n_nodes;
  for (size_t i = 0; i < N; i++)            /* last three columns of h = x_i */
    for (size_t k = 0; k < 3; k++) fx.h->data[i * F + FH + k] = fx.x->data[i * 3 + k];
  harness H;
  eqg_layer_config c = cfg_gnn(F, 1);
  harness_init(&H, "gnn", &c, &fx, r);

  eqg_tape *t = tape_new(r);
  t->grad_enabled = false;
  eqg_layer_io io;
  assert_int_equal(run(t, &H, fx.x, fx.v, fx.h, fx.a, &io), EQG_OK);
  eqg_tensor *h_out = copy_of(io.h), *gh = copy_of(fx.h);

  eqg_group *g = eqg_group_alloc(&eqg_group_so3, NULL);
  assert_non_null(g);
  eqg_real worst = INFINITY;
  for (int s = 0; s < 4; s++) {
    eqg_group_elem e;
    eqg_group_sample(g, r, &e);
    eqg_real gx[3];
    for (size_t i = 0; i < N; i++) {
      assert_int_equal(eqg_group_act(gx, &e, fx.x->data + 3 * i, 1, EQG_VECTOR_POSITION),
                       EQG_OK);
      memcpy(gh->data + i * F + FH, gx, sizeof gx);
    }
    assert_int_equal(run(t, &H, fx.x, fx.v, gh, fx.a, &io), EQG_OK);
    worst = fmin(worst, rel_err(io.h->data, h_out->data, N * F));
  }
  print_message("  gnn with coordinates as features: min rel. change of h under so3 %.3g\n",
                worst);
  assert_true(worst > 1e-3);

  eqg_group_free(g);
  eqg_tape_free(t);
  free(h_out->data); free(h_out);
  free(gh->data); free(gh);
  harness_free(&H);
  fixture_free(&fx);
  gsl_rng_free(r);
}

/* ---- rf by hand ------------------------------------------------------------- */

static eqg_real silu(eqg_real z) { return z / (1 + exp(-z)); }

/* Two nodes x_0 = 0, x_1 = (3, 4, 0) (|r| = 5), a_01 = a_10 = -1, F = 2. */
static void test_rf_by_hand(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(8);
  const eqg_index one[] = { 2 };
  const eqg_real X[] = { 0, 0, 0, 3, 4, 0 }, V[] = { 1, 0, 0, 0, 0, 2 };
  fixture fx;
  fixture_init(&fx, r, 3, 2, 1, 1, one);
  memcpy(fx.x->data, X, sizeof X);
  memcpy(fx.v->data, V, sizeof V);
  assert_int_equal(fx.b->n_edges, 2);
  fx.a->data[0] = fx.a->data[1] = -1;

  harness H;
  eqg_layer_config c = cfg_rf(2, 1);
  harness_init(&H, "rf", &c, &fx, r);
  const eqg_real W0[] = { 0.1, -0.2, 0.3, 0.5 }, B0[] = { 0.05, -0.1 }, W1[] = { 0.7, -0.4 };
  const eqg_real V0[] = { 0.6, -0.3 }, VB0[] = { 0.2, 0.1 }, V1[] = { -0.5, 0.8 }, VB1[] = { 0.05 };
  memcpy(param(&H, "layer0.phi.0.weight")->data, W0, sizeof W0);
  memcpy(param(&H, "layer0.phi.0.bias")->data, B0, sizeof B0);
  memcpy(param(&H, "layer0.phi.1.weight")->data, W1, sizeof W1);
  memcpy(param(&H, "layer0.phi_v.0.weight")->data, V0, sizeof V0);
  memcpy(param(&H, "layer0.phi_v.0.bias")->data, VB0, sizeof VB0);
  memcpy(param(&H, "layer0.phi_v.1.weight")->data, V1, sizeof V1);
  memcpy(param(&H, "layer0.phi_v.1.bias")->data, VB1, sizeof VB1);

  /* By hand: both edges see d = 5, a = -1, hence the same phi:
   *   z = [5 (0.1) - 0.3 + 0.05, 5 (-0.2) - 0.5 - 0.1] = [0.25, -1.6]
   *   phi = tanh(0.7 silu(0.25) - 0.4 silu(-1.6)) = 0.2030283825139045...
   * x_1 receives r_10 = (3, 4, 0) phi, x_0 receives -(3, 4, 0) phi (mean over one
   * edge); then x_i += v_i phi_v(|v_i|), phi_v(s) = silu(0.6 s + 0.2) (-0.5) +
   * silu(-0.3 s + 0.1) (0.8) + 0.05. */
  const eqg_real phi = tanh(0.7 * silu(0.25) - 0.4 * silu(-1.6));
  assert_true(fabs(phi - 0.2030283825139045) < 1e-15);
  eqg_real pv[2];
  for (int i = 0; i < 2; i++) {
    eqg_real s = i == 0 ? 1 : 2;   /* |v_0| = 1, |v_1| = 2 */
    pv[i] = -0.5 * silu(0.6 * s + 0.2) + 0.8 * silu(-0.3 * s + 0.1) + 0.05;
  }
  eqg_real expect[6];
  for (int k = 0; k < 3; k++) {
    eqg_real r10 = X[3 + k] - X[k];
    expect[k] = X[k] - r10 * phi + V[k] * pv[0];
    expect[3 + k] = X[3 + k] + r10 * phi + V[3 + k] * pv[1];
  }

  eqg_tape *t = tape_new(r);
  eqg_layer_io io;
  assert_int_equal(run(t, &H, fx.x, fx.v, fx.h, fx.a, &io), EQG_OK);
  assert_ptr_equal(io.h, fx.h);   /* rf leaves h alone */
  for (int k = 0; k < 6; k++)
    if (!(fabs(io.x->data[k] - expect[k]) <= 1e-14 * fmax(1, fabs(expect[k]))))
      fail_msg("x[%d] = %.17g, expected %.17g", k, io.x->data[k], expect[k]);

  /* Sum aggregation with coord_scale 2 and no velocity: x_1 = x_1 + 2 r phi. */
  harness_free(&H);
  c.velocity = false;
  c.coord_agg = EQG_AGG_SUM;
  c.coord_scale = 2;
  harness_init(&H, "rf", &c, &fx, r);
  memcpy(param(&H, "layer0.phi.0.weight")->data, W0, sizeof W0);
  memcpy(param(&H, "layer0.phi.0.bias")->data, B0, sizeof B0);
  memcpy(param(&H, "layer0.phi.1.weight")->data, W1, sizeof W1);
  assert_int_equal(run(t, &H, fx.x, NULL, fx.h, fx.a, &io), EQG_OK);
  for (int k = 0; k < 3; k++) {
    eqg_real r10 = X[3 + k] - X[k];
    assert_true(fabs(io.x->data[k] - (X[k] - 2 * r10 * phi)) <= 1e-14);
    assert_true(fabs(io.x->data[3 + k] - (X[3 + k] + 2 * r10 * phi)) <= 1e-14);
  }

  eqg_tape_free(t);
  harness_free(&H);
  fixture_free(&fx);
  gsl_rng_free(r);
}

/* ---- degenerate inputs ---------------------------------------------------- */

static bool all_finite(const eqg_real *a, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite(a[i])) return false;
  return true;
}

/* Two nodes of a graph at the same position (plus distinct ones): values and
 * gradients stay finite for rf and schnet. */
static void test_coincident_points(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(9);
  const char *families[] = { "rf", "schnet" };
  for (int f = 0; f < 2; f++) {
    fixture fx;
    fixture_default(&fx, r, 3, 4, 1);
    memcpy(fx.x->data + 3, fx.x->data, 3 * sizeof(eqg_real));   /* x_1 = x_0 */
    eqg_layer_config c = f == 0 ? cfg_rf(4, 1) : cfg_schnet(3, 4, 6);
    c.n_edge_attr = 1;
    harness H;
    harness_init(&H, families[f], &c, &fx, r);
    eqg_tape *t = tape_new(r);
    eqg_layer_io io;
    assert_int_equal(run(t, &H, fx.x, fx.v, fx.h, fx.a, &io), EQG_OK);
    eqg_tensor *loss = eqg_sum(t, eqg_concat_cols(t, io.h, io.x), EQG_AXIS_ALL);
    memset(fx.x->grad, 0, eqg_tensor_size(fx.x) * sizeof(eqg_real));
    eqg_params_zero_grad(H.p);
    assert_int_equal(eqg_tape_backward(t, loss), EQG_OK);
    assert_true(all_finite(io.x->data, eqg_tensor_size(io.x)));
    assert_true(all_finite(io.h->data, eqg_tensor_size(io.h)));
    assert_true(all_finite(fx.x->grad, eqg_tensor_size(fx.x)));
    assert_true(all_finite(H.p->grad, H.p->size));
    eqg_tape_free(t);
    harness_free(&H);
    fixture_free(&fx);
  }
  gsl_rng_free(r);
}

/* Graphs of one node only: no edges at all; the layers still run. */
static void test_no_edges(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(10);
  const eqg_index singles[] = { 1, 1, 1 };
  const char *families[] = { "gnn", "rf", "schnet" };
  for (int f = 0; f < 3; f++) {
    fixture fx;
    fixture_init(&fx, r, 3, 4, 1, 3, singles);
    assert_int_equal(fx.b->n_edges, 0);
    eqg_layer_config c = f == 0 ? cfg_gnn(4, 1) : f == 1 ? cfg_rf(4, 1) : cfg_schnet(3, 4, 5);
    c.n_edge_attr = 1;
    harness H;
    harness_init(&H, families[f], &c, &fx, r);
    eqg_tape *t = tape_new(r);
    eqg_layer_io io;
    eqg_status st = run(t, &H, fx.x, fx.v, fx.h, fx.a, &io);
    if (st != EQG_OK) fail_msg("%s without edges: %s", families[f], eqg_error_message());
    assert_true(all_finite(io.x->data, eqg_tensor_size(io.x)));
    assert_true(all_finite(io.h->data, eqg_tensor_size(io.h)));
    eqg_tape_free(t);
    harness_free(&H);
    fixture_free(&fx);
  }
  gsl_rng_free(r);
}

/* SchNet on four-vectors: Euclidean distances over all components, runs,
 * passes the gradient check, claims nothing; rf refuses dim 4. */
static void test_dim4(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(11);
  fixture fx;
  fixture_default(&fx, r, 4, 8, 0);
  const size_t N = fx.b->n_nodes, F = 8;
  harness H;
  eqg_layer_config c = cfg_schnet(4, F, 10);
  harness_init(&H, "schnet", &c, &fx, r);
  for (const eqg_group_type *const *g = eqg_group_types; *g; g++)
    assert_false(H.type->claims(&c, *g));

  eqg_tape *t = tape_new(r);
  t->grad_enabled = false;
  eqg_layer_io io;
  assert_int_equal(run(t, &H, fx.x, fx.v, fx.h, fx.a, &io), EQG_OK);
  eqg_tensor *h_out = copy_of(io.h), *gx = copy_of(fx.x);
  assert_ptr_equal(io.x, fx.x);
  assert_true(rel_err(h_out->data, fx.h->data, N * F) > 1e-2);

  /* A Euclidean rotation by 0.7 rad in the (E, px) plane keeps every
   * distance, hence h (the documented behaviour: all four components). */
  eqg_group_elem e;
  eqg_group_elem_identity(&e, 4);
  e.M[0] = e.M[5] = cos(0.7);
  e.M[1] = -sin(0.7);
  e.M[4] = sin(0.7);
  assert_int_equal(eqg_group_act(gx->data, &e, fx.x->data, N, EQG_VECTOR_POSITION), EQG_OK);
  assert_int_equal(run(t, &H, gx, fx.v, fx.h, fx.a, &io), EQG_OK);
  eqg_real err_rot = rel_err(io.h->data, h_out->data, N * F);
  /* A boost does not: hence no claim for the Lorentz groups. */
  eqg_group_params gp = eqg_group_params_default();
  gp.rapidity_mode = EQG_RAPIDITY_FIXED;
  gp.rapidity = 1;
  eqg_group *boost = eqg_group_alloc(&eqg_group_boostz, &gp);
  assert_non_null(boost);
  eqg_group_sample(boost, r, &e);
  assert_int_equal(eqg_group_act(gx->data, &e, fx.x->data, N, EQG_VECTOR_DISPLACEMENT), EQG_OK);
  assert_int_equal(run(t, &H, gx, fx.v, fx.h, fx.a, &io), EQG_OK);
  /* relative to the size of the update h' - h */
  eqg_real *upd = malloc(2 * N * F * sizeof *upd);
  assert_non_null(upd);
  for (size_t i = 0; i < N * F; i++) {
    upd[i] = io.h->data[i] - fx.h->data[i];
    upd[N * F + i] = h_out->data[i] - fx.h->data[i];
  }
  eqg_real err_boost = rel_err(upd, upd + N * F, N * F);
  free(upd);
  print_message("  schnet dim 4: h change under an (E, px) rotation %.3g, under a boost %.3g "
                "(of the update)\n",
                err_rot, err_boost);
  assert_true(err_rot <= EQUIV_TOL);
  assert_true(err_boost > 1e-3);
  eqg_group_free(boost);
  eqg_tape_free(t);
  free(h_out->data); free(h_out);
  free(gx->data); free(gx);
  harness_free(&H);

  eqg_params *p = eqg_params_alloc();
  eqg_layer_config cr = eqg_layer_config_default(4, 8);
  eqg_error_clear();
  assert_null(eqg_layer_rf.alloc(p, "rf", &cr, r));
  assert_non_null(strstr(eqg_error_message(), "dim"));
  eqg_params_free(p);
  fixture_free(&fx);
  gsl_rng_free(r);
}

static void test_bad_inputs(void **state)
{
  (void)state;
  gsl_rng *r = rng_new(12);
  fixture fx;
  fixture_default(&fx, r, 3, 4, 1);   /* edge attributes of width 1 */
  eqg_tape *t = tape_new(r);
  eqg_layer_io io;
  const char *families[] = { "gnn", "rf", "schnet" };
  for (int f = 0; f < 3; f++) {
    eqg_layer_config c = f == 0 ? cfg_gnn(4, 2) : f == 1 ? cfg_rf(4, 2) : cfg_schnet(3, 4, 5);
    c.n_edge_attr = 2;               /* ... but the layer expects 2 */
    harness H;
    harness_init(&H, families[f], &c, &fx, r);
    eqg_error_clear();
    assert_int_equal(run(t, &H, fx.x, fx.v, fx.h, fx.a, &io), EQG_ESHAPE);
    assert_non_null(strstr(eqg_error_message(), "io->a"));
    assert_non_null(strstr(eqg_error_message(), "32 x 1"));
    assert_non_null(strstr(eqg_error_message(), families[f]));
    /* missing attributes */
    eqg_tape_reset(t);
    io = (eqg_layer_io){ .h = fx.h, .x = fx.x, .v = fx.v };
    assert_int_equal(H.type->forward(t, H.p, H.layer, fx.b, &io), EQG_ESHAPE);
    assert_ptr_equal(io.h, fx.h);    /* the state is untouched on failure */
    assert_ptr_equal(io.x, fx.x);
    harness_free(&H);

    /* attributes given to a layer configured without them */
    c.n_edge_attr = 0;
    harness_init(&H, families[f], &c, &fx, r);
    eqg_tape_reset(t);
    io = (eqg_layer_io){ .h = fx.h, .x = fx.x, .v = fx.v, .a = fx.a };
    assert_int_equal(H.type->forward(t, H.p, H.layer, fx.b, &io), EQG_ESHAPE);
    assert_non_null(strstr(eqg_error_message(), "n_edge_attr = 0"));
    harness_free(&H);
  }

  /* wrong h width (gnn, schnet), wrong x dimension (rf) */
  eqg_layer_config c = cfg_gnn(5, 1);
  harness H;
  harness_init(&H, "gnn", &c, &fx, r);
  assert_int_equal(run(t, &H, fx.x, fx.v, fx.h, fx.a, &io), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "io->h"));
  harness_free(&H);
  c = cfg_schnet(3, 5, 4);
  harness_init(&H, "schnet", &c, &fx, r);
  assert_int_equal(run(t, &H, fx.x, fx.v, fx.h, fx.a, &io), EQG_ESHAPE);
  harness_free(&H);

  /* rf with velocity but no v */
  c = cfg_rf(4, 1);
  harness_init(&H, "rf", &c, &fx, r);
  assert_int_equal(run(t, &H, fx.x, NULL, fx.h, fx.a, &io), EQG_EINVAL);
  assert_non_null(strstr(eqg_error_message(), "io->v"));
  assert_int_equal(run(t, &H, fx.h, fx.v, fx.h, fx.a, &io), EQG_ESHAPE);   /* x (N, 4) */
  assert_non_null(strstr(eqg_error_message(), "io->x"));
  harness_free(&H);

  /* bad configurations */
  eqg_params *p = eqg_params_alloc();
  eqg_layer_config z = cfg_gnn(0, 1);
  assert_null(eqg_layer_gnn.alloc(p, "g", &z, r));
  z = cfg_schnet(3, 4, 0);
  assert_null(eqg_layer_schnet.alloc(p, "s", &z, r));
  z = cfg_schnet(3, 4, 4);
  z.rbf_gamma = 0;
  assert_null(eqg_layer_schnet.alloc(p, "s", &z, r));
  z = cfg_rf(4, 1);
  z.coord_agg = (eqg_coord_agg)7;
  assert_null(eqg_layer_rf.alloc(p, "r", &z, r));
  assert_null(eqg_layer_rf.alloc(p, "r", NULL, r));
  eqg_layer_gnn.free(NULL);
  eqg_layer_rf.free(NULL);
  eqg_layer_schnet.free(NULL);
  eqg_params_free(p);

  eqg_tape_free(t);
  fixture_free(&fx);
  gsl_rng_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_registry),
    cmocka_unit_test(test_param_counts),
    cmocka_unit_test(test_gradcheck_gnn),
    cmocka_unit_test(test_gradcheck_rf),
    cmocka_unit_test(test_gradcheck_schnet),
    cmocka_unit_test(test_equivariance_rf),
    cmocka_unit_test(test_equivariance_schnet),
    cmocka_unit_test(test_gnn_coordinates_as_features),
    cmocka_unit_test(test_rf_by_hand),
    cmocka_unit_test(test_coincident_points),
    cmocka_unit_test(test_no_edges),
    cmocka_unit_test(test_dim4),
    cmocka_unit_test(test_bad_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
