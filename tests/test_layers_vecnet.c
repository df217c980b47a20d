/* test_layers_vecnet.c: the semi-equivariant "vecnet" layer family.
 *
 * On a batch of three fully connected graphs (4, 1 and 5 nodes) of massive
 * four-momenta (or 3-vectors), with vec = C copies of x plus small noise in
 * channels c > 0:
 *   - finite-difference check of the whole forward (h, vec, a, s and every
 *     parameter as inputs; output [h', vec']) for f = 0, 0.5, 1;
 *   - f = 1: h invariant and vec equivariant for every group the layer
 *     claims (Lorentz samples up to gamma = 10: 1e-9; rotations: 1e-12);
 *   - f = 0 and 0.5: a boost of rapidity 1 and a rotation break both by more
 *     than 1e-3, and the layer claims nothing;
 *   - parameter count: the documented formula, and monotone in f (f = 0 is
 *     the largest);
 *   - bad configurations and inputs are rejected with messages; vec = NULL
 *     means C copies of x; update_x = false leaves vec alone; a batch without
 *     edges runs forward and backward. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include <gsl/gsl_rng.h>

#include "eqgnn.h"

static const unsigned long SEED = 20240917UL;
enum { N_GRAPHS = 3, N_SAMPLES = 24 };
static const eqg_index COUNTS[N_GRAPHS] = { 4, 1, 5 };

/* ---- fixture ------------------------------------------------------------------ */

static gsl_rng *rng_new(unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  assert_non_null(r);
  gsl_rng_set(r, seed);
  return r;
}

static eqg_real unif(gsl_rng *r, eqg_real lo, eqg_real hi)
{
  return lo + (hi - lo) * gsl_rng_uniform(r);
}

/* One batch with its inputs: h0 (N, F), vec0 (N, C D), a (E, A), s (N, S). */
typedef struct fixture {
  eqg_layer_config cfg;
  eqg_graph_batch *b;
  size_t N, E, F, C, D, A, S;
  eqg_real *h0, *vec0, *a, *s;
} fixture;

static fixture fixture_make(size_t D, size_t F, size_t C, size_t A, size_t S, eqg_real f,
                            unsigned long seed)
{
  fixture fx = { .F = F, .C = C, .D = D, .A = A, .S = S };
  gsl_rng *r = rng_new(seed);
  fx.cfg = eqg_layer_config_default(D, F);
  fx.cfg.n_vec = C;
  fx.cfg.n_edge_attr = A;
  fx.cfg.n_scalars = S;
  fx.cfg.equivariant_fraction = f;

  size_t N = 0;
  for (size_t g = 0; g < N_GRAPHS; g++) N += (size_t)COUNTS[g];
  eqg_real *x = malloc(N * D * sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < N; i++) {
    eqg_real *xi = x + i * D;
    if (D == 4) {             /* massive: E = sqrt(m^2 + |p|^2) > |p| */
      eqg_real m = unif(r, 0.3, 1.0), p2 = 0;
      for (size_t k = 1; k < 4; k++) {
        xi[k] = unif(r, -1.5, 1.5);
        p2 += xi[k] * xi[k];
      }
      xi[0] = sqrt(m * m + p2);
    } else {
      for (size_t k = 0; k < D; k++) xi[k] = unif(r, -1, 1);
    }
  }
  fx.b = eqg_graph_batch_alloc(D, 0, false);
  assert_non_null(fx.b);
  assert_int_equal(eqg_graph_batch_set_nodes(fx.b, N_GRAPHS, COUNTS, x, NULL, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_full(fx.b), EQG_OK);
  fx.N = fx.b->n_nodes;
  fx.E = fx.b->n_edges;
  assert_int_equal(fx.N, 10);
  assert_int_equal(fx.E, 4 * 3 + 5 * 4);

  fx.h0 = malloc(N * F * sizeof *fx.h0);
  fx.vec0 = malloc(N * C * D * sizeof *fx.vec0);
  fx.a = malloc((fx.E * A + 1) * sizeof *fx.a);
  fx.s = malloc((N * S + 1) * sizeof *fx.s);
  assert_true(fx.h0 && fx.vec0 && fx.a && fx.s);
  for (size_t i = 0; i < N * F; i++) fx.h0[i] = unif(r, -1, 1);
  for (size_t i = 0; i < N; i++)
    for (size_t c = 0; c < C; c++)
      for (size_t k = 0; k < D; k++)
        fx.vec0[(i * C + c) * D + k] = x[i * D + k] + (c > 0 ? unif(r, -0.1, 0.1) : 0);
  eqg_real q[16];
  for (size_t i = 0; i < N; i++) q[i] = gsl_rng_uniform(r) < 0.5 ? -1 : 1;
  for (size_t e = 0; e < fx.E; e++)   /* a_ij = q_i q_j, then extra random columns */
    for (size_t k = 0; k < A; k++)
      fx.a[e * A + k] = k == 0 ? q[fx.b->dst[e]] * q[fx.b->src[e]] : unif(r, -1, 1);
  for (size_t i = 0; i < N * S; i++) fx.s[i] = unif(r, 0, 1);
  free(x);
  gsl_rng_free(r);
  return fx;
}

static void fixture_free(fixture *fx)
{
  eqg_graph_batch_free(fx->b);
  free(fx->h0);
  free(fx->vec0);
  free(fx->a);
  free(fx->s);
}

/* A layer with its parameter block. */
typedef struct built {
  eqg_params *p;
  void *layer;
} built;

static built build(const eqg_layer_config *cfg, unsigned long seed)
{
  gsl_rng *r = rng_new(seed);
  built bl = { eqg_params_alloc(), NULL };
  assert_non_null(bl.p);
  bl.layer = eqg_layer_vecnet.alloc(bl.p, "layer0", cfg, r);
  if (!bl.layer) fail_msg("vecnet alloc failed: %s", eqg_error_message());
  gsl_rng_free(r);
  return bl;
}

static void built_free(built *bl)
{
  eqg_layer_vecnet.free(bl->layer);
  eqg_params_free(bl->p);
}

/* Redraw the weights of the vec-update linears phi_x and phi_u U(-a, a) so
 * that the vector updates are O(1) (their init gain 0.001 would make a vec
 * test nearly vacuous). */
static void scale_up_vec_update(eqg_params *p, eqg_real a, unsigned long seed)
{
  gsl_rng *r = rng_new(seed);
  const char *const names[] = { "layer0.phi_x.weight", "layer0.phi_u.weight" };
  for (size_t k = 0; k < 2; k++) {
    int id = eqg_params_find(p, names[k]);
    if (id >= 0) eqg_init_uniform(eqg_params_get(p, id), a, r);
  }
  gsl_rng_free(r);
}

/* io from the fixture with vec = vec_in (or NULL) and x = its channel 0. */
static eqg_layer_io make_io(eqg_tape *t, const fixture *fx, const eqg_real *vec_in)
{
  const eqg_real *src = vec_in ? vec_in : fx->vec0;
  eqg_real *x = malloc(fx->N * fx->D * sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < fx->N; i++)
    memcpy(x + i * fx->D, src + i * fx->C * fx->D, fx->D * sizeof *x);
  eqg_layer_io io = {
    .h = eqg_tape_input(t, fx->N, fx->F, fx->h0, false),
    .x = eqg_tape_input(t, fx->N, fx->D, x, false),
    .vec = vec_in ? eqg_tape_input(t, fx->N, fx->C * fx->D, vec_in, false) : NULL,
    .a = fx->A ? eqg_tape_input(t, fx->E, fx->A, fx->a, false) : NULL,
    .s = fx->S ? eqg_tape_input(t, fx->N, fx->S, fx->s, false) : NULL,
  };
  free(x);
  return io;
}

/* h_out (N, F), vec_out (N, C D) = layer(h0, vec_in). */
static void run(eqg_tape *t, const fixture *fx, built *bl, const eqg_real *vec_in,
                eqg_real *h_out, eqg_real *vec_out)
{
  eqg_tape_reset(t);
  eqg_layer_io io = make_io(t, fx, vec_in);
  eqg_status st = eqg_layer_vecnet.forward(t, bl->p, bl->layer, fx->b, &io);
  if (st != EQG_OK) fail_msg("vecnet forward: %s", eqg_error_message());
  assert_int_equal(io.h->rows, fx->N);
  assert_int_equal(io.h->cols, fx->F);
  assert_int_equal(io.vec->rows, fx->N);
  assert_int_equal(io.vec->cols, fx->C * fx->D);
  memcpy(h_out, io.h->data, fx->N * fx->F * sizeof *h_out);
  memcpy(vec_out, io.vec->data, fx->N * fx->C * fx->D * sizeof *vec_out);
}

static eqg_real norm2(const eqg_real *a, size_t n)
{
  eqg_real s = 0;
  for (size_t i = 0; i < n; i++) s += a[i] * a[i];
  return sqrt(s);
}

static eqg_real rel_diff(const eqg_real *a, const eqg_real *ref, size_t n)
{
  eqg_real s = 0;
  for (size_t i = 0; i < n; i++) s += (a[i] - ref[i]) * (a[i] - ref[i]);
  return sqrt(s) / norm2(ref, n);
}

/* A group element acting on D-vectors: dimension-3 rotations embedded as
 * diag(1, R) when D = 4. */
static eqg_group_elem lift(const eqg_group_elem *e, size_t D)
{
  if (e->dim == D) return *e;
  assert_true(e->dim == 3 && D == 4);
  eqg_group_elem e4;
  eqg_group_elem_identity(&e4, 4);
  eqg_real R[9];
  for (size_t i = 0; i < 9; i++) R[i] = e->M[i];
  eqg_lorentz_embed_rotation(e4.M, R);
  return e4;
}

typedef struct equiv_err {
  eqg_real h, vec;
} equiv_err;

/* err.h = |h(g V) - h(V)| / |h(V)|, err.vec = |vec(g V) - g vec(V)| / |g vec(V)|
 * (Euclidean norms over all entries). */
static equiv_err equivariance_error(eqg_tape *t, const fixture *fx, built *bl,
                                    const eqg_group_elem *e_in)
{
  eqg_group_elem e = lift(e_in, fx->D);
  const size_t NF = fx->N * fx->F, NV = fx->N * fx->C * fx->D;
  eqg_real *h1 = malloc(NF * sizeof *h1), *h2 = malloc(NF * sizeof *h2);
  eqg_real *v1 = malloc(NV * sizeof *v1), *v2 = malloc(NV * sizeof *v2);
  eqg_real *gv = malloc(NV * sizeof *gv);
  assert_true(h1 && h2 && v1 && v2 && gv);
  run(t, fx, bl, fx->vec0, h1, v1);
  /* vec (N, C D) row-major is (N C, D): every channel transforms alike. */
  assert_int_equal(eqg_group_act(gv, &e, fx->vec0, fx->N * fx->C, EQG_VECTOR_DISPLACEMENT),
                   EQG_OK);
  run(t, fx, bl, gv, h2, v2);
  assert_int_equal(eqg_group_act(gv, &e, v1, fx->N * fx->C, EQG_VECTOR_DISPLACEMENT), EQG_OK);
  equiv_err err = { rel_diff(h2, h1, NF), rel_diff(v2, gv, NV) };
  free(h1);
  free(h2);
  free(v1);
  free(v2);
  free(gv);
  return err;
}

/* ---- gradient check -------------------------------------------------------------- */

typedef struct gc_ctx {
  const fixture *fx;
  built *bl;
} gc_ctx;

/* inputs: h, vec, a, s, then the parameters; output [h' | vec'] (N, F + C D). */
static eqg_tensor *gc_forward(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  gc_ctx *c = ctx;
  eqg_layer_io io = { .h = in[0], .x = NULL, .vec = in[1], .a = in[2], .s = in[3] };
  if (eqg_layer_vecnet.forward(t, c->bl->p, c->bl->layer, c->fx->b, &io) != EQG_OK) return NULL;
  return eqg_concat_cols(t, io.h, io.vec);
}

static eqg_tensor *heap_tensor(size_t rows, size_t cols, const eqg_real *data)
{
  eqg_tensor *x = calloc(1, sizeof *x);
  assert_non_null(x);
  x->rows = rows;
  x->cols = cols;
  x->data = malloc(rows * cols * sizeof *x->data);
  x->grad = calloc(rows * cols, sizeof *x->grad);
  assert_true(x->data && x->grad);
  memcpy(x->data, data, rows * cols * sizeof *x->data);
  return x;
}

static void heap_tensor_free(eqg_tensor *x)
{
  free(x->data);
  free(x->grad);
  free(x);
}

static void gradcheck_case(size_t D, eqg_real f, eqg_coord_agg agg, eqg_real coord_scale,
                           const char *label)
{
  fixture fx = fixture_make(D, 5, 3, 2, 1, f, SEED + 1);
  fx.cfg.coord_agg = agg;
  fx.cfg.coord_scale = coord_scale;
  built bl = build(&fx.cfg, SEED + 2);
  /* Every parameter O(1) (the vec-update linears start at gain 0.001). */
  gsl_rng *r = rng_new(SEED + 3);
  for (size_t i = 0; i < bl.p->size; i++) bl.p->data[i] = unif(r, -0.5, 0.5);
  gsl_rng_free(r);

  enum { MAX_IN = 32 };
  eqg_tensor *inputs[MAX_IN];
  size_t n_in = 0, n_elem = 0;
  inputs[n_in++] = heap_tensor(fx.N, fx.F, fx.h0);
  inputs[n_in++] = heap_tensor(fx.N, fx.C * fx.D, fx.vec0);
  inputs[n_in++] = heap_tensor(fx.E, fx.A, fx.a);
  inputs[n_in++] = heap_tensor(fx.N, fx.S, fx.s);
  for (size_t k = 0; k < n_in; k++) n_elem += eqg_tensor_size(inputs[k]);
  for (size_t k = 0; k < bl.p->n; k++) {
    assert_true(n_in < MAX_IN);
    if (bl.p->info[k].trainable) inputs[n_in++] = eqg_params_get(bl.p, (int)k);
  }
  n_elem += bl.p->size;

  gc_ctx ctx = { &fx, &bl };
  eqg_gradcheck_result res;
  eqg_status st = eqg_gradcheck(gc_forward, &ctx, n_in, inputs, EQG_GRADCHECK_STEP, SEED, &res);
  if (st != EQG_OK) fail_msg("%s: gradcheck did not run: %s", label, eqg_error_message());
  assert_int_equal(res.n_checked, n_elem);
  print_message("  gradcheck %-36s max rel. error %.2e over %zu elements\n", label,
                res.max_err, res.n_checked);
  if (!(res.max_err <= 1e-6))
    fail_msg("%s: rel. error %.3g at input %zu element %zu (analytic %.12g, numeric %.12g)",
             label, res.max_err, res.worst_input, res.worst_elem, res.analytic, res.numeric);
  for (size_t k = 0; k < 4; k++) heap_tensor_free(inputs[k]);
  built_free(&bl);
  fixture_free(&fx);
}

static void test_gradcheck(void **state)
{
  (void)state;
  gradcheck_case(4, 1.0, EQG_AGG_MEAN, 1, "D=4 Minkowski f=1");
  gradcheck_case(4, 0.5, EQG_AGG_MEAN, 1, "D=4 Minkowski f=0.5 (C_e=2, C_u=1)");
  gradcheck_case(4, 0.0, EQG_AGG_MEAN, 1, "D=4 Minkowski f=0");
  gradcheck_case(3, 0.5, EQG_AGG_SUM, 0.3, "D=3 Euclidean f=0.5, sum, scale 0.3");
}

/* ---- equivariance of the fully equivariant configuration ------------------------- */

static bool is_lorentz_type(const eqg_group_type *g) { return g->dim == 4; }

/* For every registered group: claims match the expectation, and every claim
 * holds to 1e-9 (Lorentz types, rapidity up to acosh 10) or 1e-12 (rotations). */
static void check_claims_hold(size_t D, const char *const expected[], size_t n_expected)
{
  fixture fx = fixture_make(D, 8, 3, 1, 1, 1.0, SEED + 10 + D);
  built bl = build(&fx.cfg, SEED + 20 + D);
  scale_up_vec_update(bl.p, 0.3, SEED + 30);
  eqg_tape *t = eqg_tape_alloc(1 << 20, NULL);
  assert_non_null(t);
  gsl_rng *r = rng_new(SEED + 40 + D);

  /* The vec update must be far from negligible, or the vec check is vacuous. */
  const size_t NF = fx.N * fx.F, NV = fx.N * fx.C * fx.D;
  eqg_real *h1 = malloc(NF * sizeof *h1), *v1 = malloc(NV * sizeof *v1);
  assert_true(h1 && v1);
  run(t, &fx, &bl, fx.vec0, h1, v1);
  eqg_real moved = rel_diff(v1, fx.vec0, NV);
  assert_true(moved > 1e-2);
  free(h1);
  free(v1);

  size_t n_claimed = 0;
  for (const eqg_group_type *const *g = eqg_group_types; *g; g++) {
    bool claimed = eqg_layer_vecnet.claims(&fx.cfg, *g);
    bool want = false;
    for (size_t k = 0; k < n_expected; k++) want |= strcmp((*g)->name, expected[k]) == 0;
    if (claimed != want)
      fail_msg("D=%zu: claims(%s) = %d, expected %d", D, (*g)->name, claimed, want);
    if (!claimed) continue;
    n_claimed++;
    eqg_group_params gp = eqg_group_params_default();
    gp.rapidity = acosh(10.0);   /* boosts up to gamma = 10 */
    eqg_group *grp = eqg_group_alloc(*g, &gp);
    assert_non_null(grp);
    const eqg_real tol = is_lorentz_type(*g) ? 1e-9 : 1e-12;
    equiv_err worst = { 0, 0 };
    eqg_real gamma_max = 1;
    for (size_t s = 0; s < N_SAMPLES; s++) {
      eqg_group_elem e;
      eqg_group_sample(grp, r, &e);
      if (e.dim == 4) gamma_max = fmax(gamma_max, e.M[0]);
      equiv_err err = equivariance_error(t, &fx, &bl, &e);
      worst.h = fmax(worst.h, err.h);
      worst.vec = fmax(worst.vec, err.vec);
    }
    if (is_lorentz_type(*g)) {
      /* and exactly gamma = 10 along a random axis */
      eqg_group_elem e;
      eqg_group_elem_identity(&e, 4);
      const eqg_real n[3] = { unif(r, -1, 1), unif(r, -1, 1), 0.5 };
      assert_int_equal(eqg_boost_matrix(e.M, n, acosh(10.0)), EQG_OK);
      gamma_max = fmax(gamma_max, e.M[0]);
      equiv_err err = equivariance_error(t, &fx, &bl, &e);
      worst.h = fmax(worst.h, err.h);
      worst.vec = fmax(worst.vec, err.vec);
      assert_true(fabs(gamma_max - 10) < 1e-9);
    }
    print_message("  D=%zu f=1 %-8s max rel. error h %.2e, vec %.2e (tol %.0e)\n", D,
                  (*g)->name, worst.h, worst.vec, tol);
    if (!(worst.h <= tol && worst.vec <= tol))
      fail_msg("D=%zu %s: h %.3g, vec %.3g > %.0e", D, (*g)->name, worst.h, worst.vec, tol);
    eqg_group_free(grp);
  }
  assert_int_equal(n_claimed, n_expected);
  gsl_rng_free(r);
  eqg_tape_free(t);
  built_free(&bl);
  fixture_free(&fx);
}

static void test_equivariant_lorentz(void **state)
{
  (void)state;
  static const char *const want[] = { "so3", "o3", "so2z", "boostz", "boost", "lorentz" };
  check_claims_hold(4, want, sizeof want / sizeof *want);
}

static void test_equivariant_euclidean(void **state)
{
  (void)state;
  static const char *const want[] = { "so3", "o3", "so2z" };
  check_claims_hold(3, want, sizeof want / sizeof *want);
}

/* ---- unconstrained channels break the symmetry ----------------------------------- */

static void check_breaks(eqg_real f, size_t C)
{
  fixture fx = fixture_make(4, 8, C, 1, 1, f, SEED + 50);
  built bl = build(&fx.cfg, SEED + 51);
  scale_up_vec_update(bl.p, 0.3, SEED + 52);
  for (const eqg_group_type *const *g = eqg_group_types; *g; g++)
    if (eqg_layer_vecnet.claims(&fx.cfg, *g))
      fail_msg("f=%g C=%zu claims %s", f, C, (*g)->name);
  eqg_tape *t = eqg_tape_alloc(1 << 20, NULL);
  assert_non_null(t);

  eqg_group_elem boost, rot;
  eqg_group_elem_identity(&boost, 4);
  const eqg_real n[3] = { 1, 0, 0 }, axis[3] = { 1, 2, 2 };
  assert_int_equal(eqg_boost_matrix(boost.M, n, 1.0), EQG_OK);
  eqg_group_elem_identity(&rot, 3);
  assert_int_equal(eqg_rotation_matrix_axis_angle(rot.M, axis, 0.9), EQG_OK);

  equiv_err eb = equivariance_error(t, &fx, &bl, &boost);
  equiv_err er = equivariance_error(t, &fx, &bl, &rot);
  print_message("  f=%.2g C=%zu boost(eta=1): h %.2e vec %.2e; rotation: h %.2e vec %.2e\n",
                f, C, eb.h, eb.vec, er.h, er.vec);
  assert_true(eb.h > 1e-3 && eb.vec > 1e-3);
  assert_true(er.h > 1e-3 && er.vec > 1e-3);
  eqg_tape_free(t);
  built_free(&bl);
  fixture_free(&fx);
}

static void test_unconstrained_breaks(void **state)
{
  (void)state;
  check_breaks(0.0, 2);    /* C_e = 0, C_u = 2 */
  check_breaks(0.5, 2);    /* C_e = 1, C_u = 1 */
}

/* ---- parameter count --------------------------------------------------------------- */

/* The formula documented in eqg_layer_vecnet.c, written out per block. */
static size_t expected_params(size_t D, size_t F, size_t Ce, size_t Cu, size_t A, size_t S,
                              bool update)
{
  size_t K = 2 * F + 2 * Ce + 2 * Cu * D + A;
  size_t phi_e = K * F + F + F * F + F;
  size_t phi_h = (2 * F + S) * F + F + F * F + F;
  size_t phi_x = update && Ce > 0 ? F * Ce : 0;
  size_t phi_u = update && Cu > 0 ? (F + 1) * Cu * D : 0;
  size_t total = phi_e + phi_h + phi_x + phi_u;
  /* closed form */
  size_t closed = 6 * F * F + F * (2 * Ce + 2 * Cu * D + A + S + 4) +
                  (update ? F * Ce + (F + 1) * Cu * D : 0);
  assert_int_equal(total, closed);
  return total;
}

static size_t count_params(size_t D, size_t F, size_t C, eqg_real f, size_t A, size_t S,
                           bool update)
{
  eqg_layer_config cfg = eqg_layer_config_default(D, F);
  cfg.n_vec = C;
  cfg.equivariant_fraction = f;
  cfg.n_edge_attr = A;
  cfg.n_scalars = S;
  cfg.update_x = update;
  built bl = build(&cfg, SEED + 60);
  size_t n = eqg_params_count(bl.p);
  built_free(&bl);
  return n;
}

static void test_param_count(void **state)
{
  (void)state;
  /* f = 0.5, C = 3: C_e = round(1.5) = 2 (halves up), C_u = 1 */
  assert_int_equal(count_params(4, 6, 3, 0.5, 1, 2, true), expected_params(4, 6, 2, 1, 1, 2, true));
  /* f = 0.25, C = 4: C_e = 1, C_u = 3, no vec update, no a, no s */
  assert_int_equal(count_params(3, 4, 4, 0.25, 0, 0, false),
                   expected_params(3, 4, 1, 3, 0, 0, false));
  assert_int_equal(count_params(4, 16, 4, 1.0, 0, 0, true), expected_params(4, 16, 4, 0, 0, 0, true));
  assert_int_equal(count_params(4, 16, 4, 0.0, 0, 0, true), expected_params(4, 16, 0, 4, 0, 0, true));

  /* Knob: the count falls strictly as f rises, f = 0 is the largest. */
  const eqg_real fs[] = { 0.0, 0.25, 0.5, 0.75, 1.0 };
  size_t prev = 0;
  for (size_t k = 0; k < sizeof fs / sizeof *fs; k++) {
    size_t n = count_params(4, 16, 4, fs[k], 1, 0, true);
    print_message("  D=4 F=16 C=4 f=%.2f: %zu parameters\n", fs[k], n);
    if (k > 0) assert_true(n < prev);
    prev = n;
  }
}

/* ---- configuration and input errors ------------------------------------------------ */

static void expect_rejected(const eqg_layer_config *cfg, const char *needle)
{
  gsl_rng *r = rng_new(SEED);
  eqg_params *p = eqg_params_alloc();
  eqg_error_clear();
  void *l = eqg_layer_vecnet.alloc(p, "layer0", cfg, r);
  assert_null(l);
  if (!strstr(eqg_error_message(), needle))
    fail_msg("message \"%s\" does not mention \"%s\"", eqg_error_message(), needle);
  assert_int_equal(p->n, 0);   /* rejected before registering anything */
  eqg_params_free(p);
  gsl_rng_free(r);
}

static void test_bad_config(void **state)
{
  (void)state;
  eqg_layer_config c = eqg_layer_config_default(4, 8);
  c.n_vec = 0;
  expect_rejected(&c, "n_vec");
  c.n_vec = 2;
  c.equivariant_fraction = -0.1;
  expect_rejected(&c, "equivariant_fraction");
  c.equivariant_fraction = 1.5;
  expect_rejected(&c, "equivariant_fraction");
  c.equivariant_fraction = NAN;
  expect_rejected(&c, "equivariant_fraction");
  c.equivariant_fraction = 1;
  c.dim = 5;
  expect_rejected(&c, "dim");
  c = eqg_layer_config_default(3, 8);
  c.n_vec = 2;
  c.metric = EQG_METRIC_MINKOWSKI;
  expect_rejected(&c, "Minkowski");
  c.metric = EQG_METRIC_GENERAL;
  expect_rejected(&c, "metric");
  c.metric = EQG_METRIC_EUCLIDEAN;
  c.width = 0;
  expect_rejected(&c, "width");
  /* claims nothing for a rejected configuration */
  c = eqg_layer_config_default(4, 8);
  c.n_vec = 0;
  assert_false(eqg_layer_vecnet.claims(&c, &eqg_group_lorentz));
  /* and the registry knows the family */
  assert_ptr_equal(eqg_layer_type_find("vecnet"), &eqg_layer_vecnet);
}

static void test_bad_input(void **state)
{
  (void)state;
  fixture fx = fixture_make(4, 6, 2, 1, 0, 1.0, SEED + 70);
  built bl = build(&fx.cfg, SEED + 71);
  eqg_tape *t = eqg_tape_alloc(1 << 20, NULL);
  assert_non_null(t);
  /* vec with the wrong number of columns */
  eqg_layer_io io = make_io(t, &fx, fx.vec0);
  io.vec = eqg_tape_input(t, fx.N, fx.D, fx.vec0, false);
  assert_int_equal(eqg_layer_vecnet.forward(t, bl.p, bl.layer, fx.b, &io), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "vec"));
  /* missing edge attributes */
  eqg_tape_reset(t);
  io = make_io(t, &fx, fx.vec0);
  io.a = NULL;
  assert_int_equal(eqg_layer_vecnet.forward(t, bl.p, bl.layer, fx.b, &io), EQG_ESHAPE);
  assert_non_null(strstr(eqg_error_message(), "io->a"));
  eqg_tape_free(t);
  built_free(&bl);
  fixture_free(&fx);
}

/* ---- defaults and switches ------------------------------------------------------------ */

/* vec = NULL is C copies of x; update_x = false leaves vec as it was. */
static void test_vec_default_and_no_update(void **state)
{
  (void)state;
  fixture fx = fixture_make(4, 6, 3, 1, 0, 0.5, SEED + 80);
  /* noise-free channels: vec0 = [x, x, x] */
  for (size_t i = 0; i < fx.N; i++)
    for (size_t c = 1; c < fx.C; c++)
      memcpy(fx.vec0 + (i * fx.C + c) * fx.D, fx.vec0 + i * fx.C * fx.D, fx.D * sizeof(eqg_real));
  built bl = build(&fx.cfg, SEED + 81);
  eqg_tape *t = eqg_tape_alloc(1 << 20, NULL);
  assert_non_null(t);
  const size_t NF = fx.N * fx.F, NV = fx.N * fx.C * fx.D;
  eqg_real *h1 = malloc(NF * sizeof *h1), *v1 = malloc(NV * sizeof *v1);
  eqg_real *h2 = malloc(NF * sizeof *h2), *v2 = malloc(NV * sizeof *v2);
  assert_true(h1 && v1 && h2 && v2);
  run(t, &fx, &bl, fx.vec0, h1, v1);
  run(t, &fx, &bl, NULL, h2, v2);
  assert_memory_equal(h1, h2, NF * sizeof *h1);
  assert_memory_equal(v1, v2, NV * sizeof *v1);
  /* The one-node graph (node 4) has no edges: its equivariant channels stay. */
  assert_memory_equal(v1 + 4 * fx.C * fx.D, fx.vec0 + 4 * fx.C * fx.D,
                      2 * fx.D * sizeof *v1);   /* C_e = round(1.5) = 2 */
  built_free(&bl);

  fx.cfg.update_x = false;
  bl = build(&fx.cfg, SEED + 81);
  run(t, &fx, &bl, fx.vec0, h2, v2);
  assert_memory_equal(v2, fx.vec0, NV * sizeof *v2);
  assert_true(rel_diff(h2, fx.h0, NF) > 1e-3);   /* h still updated */
  assert_memory_equal(h1, h2, NF * sizeof *h1);  /* same draws, same phi_e/phi_h */
  free(h1);
  free(v1);
  free(h2);
  free(v2);
  eqg_tape_free(t);
  built_free(&bl);
  fixture_free(&fx);
}

/* A batch without edges (single-node graphs): m_i = 0, the equivariant
 * channels stay, and the backward pass runs. */
static void test_no_edges(void **state)
{
  (void)state;
  eqg_graph_batch *b = eqg_graph_batch_alloc(4, 0, false);
  assert_non_null(b);
  const eqg_index counts[2] = { 1, 1 };
  const eqg_real x[8] = { 2, 0.1, 0.2, 0.3, 3, 0.3, 0.2, 0.1 };
  assert_int_equal(eqg_graph_batch_set_nodes(b, 2, counts, x, NULL, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_full(b), EQG_OK);
  assert_int_equal(b->n_edges, 0);
  eqg_layer_config cfg = eqg_layer_config_default(4, 3);
  cfg.n_vec = 2;
  cfg.equivariant_fraction = 0.5;
  built bl = build(&cfg, SEED + 90);
  eqg_tape *t = eqg_tape_alloc(1 << 16, NULL);
  assert_non_null(t);
  eqg_layer_io io = { .h = eqg_tape_input(t, 2, 3, NULL, true),
                      .x = eqg_tape_input(t, 2, 4, x, true) };   /* vec = [x, x] */
  assert_int_equal(eqg_layer_vecnet.forward(t, bl.p, bl.layer, b, &io), EQG_OK);
  for (size_t i = 0; i < 2; i++)
    assert_memory_equal(io.vec->data + i * 8, x + i * 4, 4 * sizeof(eqg_real));
  eqg_tensor *loss = eqg_sum(t, eqg_concat_cols(t, io.h, io.vec), EQG_AXIS_ALL);
  assert_int_equal(eqg_tape_backward(t, loss), EQG_OK);
  eqg_tape_free(t);
  built_free(&bl);
  eqg_graph_batch_free(b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_gradcheck),
    cmocka_unit_test(test_equivariant_lorentz),
    cmocka_unit_test(test_equivariant_euclidean),
    cmocka_unit_test(test_unconstrained_breaks),
    cmocka_unit_test(test_param_count),
    cmocka_unit_test(test_bad_config),
    cmocka_unit_test(test_bad_input),
    cmocka_unit_test(test_vec_default_and_no_update),
    cmocka_unit_test(test_no_edges),
  };
  return cmocka_run_group_tests_name("layers_vecnet", tests, NULL, NULL);
}
