/* test_graph.c: graph batches, edge builders, padded datasets, readouts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include <gsl/gsl_rng.h>

#include "eqgnn.h"

static const double pi = 3.14159265358979323846;

#define assert_msg_has(word) \
  assert_non_null(strstr(eqg_error_message(), (word)))

/* ---- fully connected, sizes {3, 1, 0, 4} ---------------------------------- */

static void test_full_edges_by_hand(void **state)
{
  (void)state;
  const eqg_index counts[4] = { 3, 1, 0, 4 };
  eqg_real x[8 * 3];
  for (int k = 0; k < 8 * 3; k++) x[k] = k;
  eqg_graph_batch *b = eqg_graph_batch_alloc(3, 0, false);
  assert_non_null(b);
  assert_int_equal(eqg_graph_batch_set_nodes(b, 4, counts, x, NULL, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_full(b), EQG_OK);

  assert_int_equal(b->n_graphs, 4);
  assert_int_equal(b->n_nodes, 8);
  const eqg_index offsets[5] = { 0, 3, 4, 4, 8 };
  const eqg_index node_graph[8] = { 0, 0, 0, 1, 3, 3, 3, 3 };
  assert_memory_equal(b->offsets, offsets, sizeof offsets);
  assert_memory_equal(eqg_graph_batch_node_graph(b), node_graph, sizeof node_graph);
  assert_memory_equal(b->x, x, sizeof x);

  /* 3*2 + 0 + 0 + 4*3 edges, `for i: for j != i: (src = j, dst = i)` */
  const eqg_index src[18] = { 1, 2, 0, 2, 0, 1,
                              5, 6, 7, 4, 6, 7, 4, 5, 7, 4, 5, 6 };
  const eqg_index dst[18] = { 0, 0, 1, 1, 2, 2,
                              4, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 7 };
  assert_int_equal(b->n_edges, 18);
  assert_memory_equal(b->src, src, sizeof src);
  assert_memory_equal(b->dst, dst, sizeof dst);
  const eqg_index deg[8] = { 2, 2, 2, 0, 3, 3, 3, 3 };
  assert_memory_equal(b->in_degree, deg, sizeof deg);
  for (size_t e = 0; e < b->n_edges; e++) assert_int_not_equal(b->src[e], b->dst[e]);
  assert_false(b->self_loops);
  assert_int_equal(eqg_graph_batch_validate(b), EQG_OK);
  eqg_graph_batch_free(b);
  eqg_graph_batch_free(NULL);
}

/* ---- kNN against a brute-force sort --------------------------------------- */

typedef struct { double d; eqg_index j; } cand;

static int cand_cmp(const void *pa, const void *pb)
{
  const cand *a = pa, *b = pb;
  if (a->d != b->d) return a->d < b->d ? -1 : 1;
  return (a->j > b->j) - (a->j < b->j);
}

/* Reference distances, written independently of the library. */
static double ref_euclid(const eqg_real *x, eqg_index i, eqg_index j)
{
  double s = 0;
  for (int c = 0; c < 3; c++) s += pow(x[3 * i + c] - x[3 * j + c], 2);
  return s;
}

static double ref_eta(const eqg_real *p) /* atanh(pz / |p|) */
{
  return atanh(p[3] / sqrt(p[1] * p[1] + p[2] * p[2] + p[3] * p[3]));
}

static bool wrap_phi = true;   /* false: the (wrong) non-periodic reference */

static double ref_eta_phi(const eqg_real *x, eqg_index i, eqg_index j)
{
  const eqg_real *a = x + 4 * i, *c = x + 4 * j;
  double deta = ref_eta(a) - ref_eta(c);
  double dphi = atan2(a[2], a[1]) - atan2(c[2], c[1]);
  if (wrap_phi) dphi = remainder(dphi, 2 * pi);
  return deta * deta + dphi * dphi;
}

/* Number of receivers whose edge list differs from the brute-force one (order
 * included: nearest first, ties by lower index). */
static int knn_mismatches(const eqg_graph_batch *b, int k,
                          double (*dist)(const eqg_real *, eqg_index, eqg_index))
{
  int bad = 0;
  size_t e = 0;
  cand *c = malloc(b->n_nodes * sizeof *c);
  assert_non_null(c);
  for (size_t g = 0; g < b->n_graphs; g++) {
    eqg_index lo = b->offsets[g], hi = b->offsets[g + 1];
    int m = hi - lo, kk = m - 1 < k ? m - 1 : k;
    if (kk <= 0) continue;
    for (eqg_index i = lo; i < hi; i++) {
      int n = 0;
      for (eqg_index j = lo; j < hi; j++)
        if (j != i) c[n++] = (cand){ dist(b->x, i, j), j };
      qsort(c, (size_t)n, sizeof *c, cand_cmp);
      bool same = true;
      for (int r = 0; r < kk; r++, e++)
        same &= b->dst[e] == i && b->src[e] == c[r].j;
      bad += !same;
    }
  }
  assert_int_equal(e, b->n_edges);
  free(c);
  return bad;
}

static void test_knn_euclidean_bruteforce(void **state)
{
  (void)state;
  const eqg_index counts[7] = { 7, 1, 0, 12, 30, 2, 6 };
  size_t n = 58;
  eqg_real *x = malloc(n * 3 * sizeof *x);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, 7);
  for (size_t k = 0; k < n * 3; k++) x[k] = gsl_rng_uniform(rng) * 2 - 1;
  /* exact ties: graph 6 (rows 52..57) holds copies of one point and of a
   * point mirrored around row 52, so distances repeat exactly */
  for (int c = 0; c < 3; c++) {
    x[53 * 3 + c] = x[52 * 3 + c];
    x[54 * 3 + c] = x[52 * 3 + c];
    x[56 * 3 + c] = 2 * x[52 * 3 + c] - x[55 * 3 + c];
  }
  eqg_graph_batch *b = eqg_graph_batch_alloc(3, 0, false);
  assert_int_equal(eqg_graph_batch_set_nodes(b, 7, counts, x, NULL, NULL), EQG_OK);
  const int ks[4] = { 1, 3, 5, 40 };
  for (int t = 0; t < 4; t++) {
    int k = ks[t];
    assert_int_equal(eqg_graph_batch_connect_knn(b, k, EQG_KNN_EUCLIDEAN), EQG_OK);
    size_t want = 0;   /* sum M min(k, M-1) */
    for (int g = 0; g < 7; g++) {
      int m = counts[g], kk = m - 1 < k ? m - 1 : k;
      want += (size_t)(m * (kk > 0 ? kk : 0));
    }
    assert_int_equal(b->n_edges, want);
    assert_int_equal(knn_mismatches(b, k, ref_euclid), 0);
    assert_int_equal(eqg_graph_batch_validate(b), EQG_OK);
  }
  /* k >= M-1 gives the full graph's edge set: in_degree M-1 everywhere */
  for (size_t i = 0; i < n; i++)
    assert_int_equal(b->in_degree[i], counts[b->node_graph[i]] - 1);
  /* tie order: rows 53, 54 equal row 52, so 52's two nearest are 53 then 54 */
  assert_int_equal(eqg_graph_batch_connect_knn(b, 2, EQG_KNN_EUCLIDEAN), EQG_OK);
  size_t e52 = 0;
  while (b->dst[e52] != 52) e52++;
  assert_int_equal(b->src[e52], 53);
  assert_int_equal(b->src[e52 + 1], 54);
  gsl_rng_free(rng);
  free(x);
  eqg_graph_batch_free(b);
}

/* Massless four-momentum with the given pT, eta, phi. */
static void momentum(eqg_real *p, double pt, double eta, double phi)
{
  p[0] = pt * cosh(eta);
  p[1] = pt * cos(phi);
  p[2] = pt * sin(phi);
  p[3] = pt * sinh(eta);
}

static void test_knn_eta_phi_periodic(void **state)
{
  (void)state;
  /* by hand: phi = 3.1, -3.1, 2.0 at eta = 0.  Across the seam 0 and 1 are
   * 0.083 apart; 2 is 1.1 from 0 and 1.183 from 1. */
  eqg_real p[3 * 4];
  momentum(p + 0, 10, 0, 3.1);
  momentum(p + 4, 20, 0, -3.1);
  momentum(p + 8, 30, 0, 2.0);
  eqg_graph_batch *b = eqg_graph_batch_alloc(4, 0, false);
  const eqg_index three = 3;
  assert_int_equal(eqg_graph_batch_set_nodes(b, 1, &three, p, NULL, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_knn(b, 1, EQG_KNN_ETA_PHI), EQG_OK);
  const eqg_index src1[3] = { 1, 0, 0 }, dst1[3] = { 0, 1, 2 };
  assert_int_equal(b->n_edges, 3);
  assert_memory_equal(b->src, src1, sizeof src1);
  assert_memory_equal(b->dst, dst1, sizeof dst1);

  /* random jets straddling phi = +-pi: phi within 0.02 of the seam on either
   * side, eta spread 1, so about half of each node's neighbours lie across it */
  const eqg_index counts[5] = { 25, 0, 3, 40, 1 };
  size_t n = 69;
  eqg_real *x = malloc(n * 4 * sizeof *x);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, 11);
  for (size_t i = 0; i < n; i++) {
    double side = gsl_rng_uniform(rng) < 0.5 ? pi : -pi;
    double phi = side - (side > 0 ? 1 : -1) * 0.02 * gsl_rng_uniform(rng);
    momentum(x + 4 * i, 1 + 99 * gsl_rng_uniform(rng), gsl_rng_uniform(rng) - 0.5, phi);
  }
  assert_int_equal(eqg_graph_batch_set_nodes(b, 5, counts, x, NULL, NULL), EQG_OK);
  for (int k = 1; k <= 8; k += 3) {
    assert_int_equal(eqg_graph_batch_connect_knn(b, k, EQG_KNN_ETA_PHI), EQG_OK);
    wrap_phi = true;
    assert_int_equal(knn_mismatches(b, k, ref_eta_phi), 0);
    wrap_phi = false;   /* the test is sensitive to periodicity */
    assert_true(knn_mismatches(b, k, ref_eta_phi) > 20);
    wrap_phi = true;
    assert_int_equal(eqg_graph_batch_validate(b), EQG_OK);
  }

  /* pT = 0 (beam) nodes sit at infinite distance: chosen last, by index */
  eqg_real q[5 * 4];
  memcpy(q, eqg_beam_nodes_x, 8 * sizeof *q);
  memcpy(q + 8, p, sizeof p);
  const eqg_index five = 5;
  assert_int_equal(eqg_graph_batch_set_nodes(b, 1, &five, q, NULL, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_knn(b, 2, EQG_KNN_ETA_PHI), EQG_OK);
  const eqg_index src2[10] = { 1, 2, 0, 2, 3, 4, 2, 4, 2, 3 };
  assert_memory_equal(b->src, src2, sizeof src2);
  gsl_rng_free(rng);
  free(x);
  eqg_graph_batch_free(b);
}

/* ---- padded datasets ------------------------------------------------------ */

enum { PG = 4, PP = 4, PD = 4, PF = 2 };
static const eqg_index pcounts[PG] = { 2, 0, 3, 1 };

/* Padded (4, 4, 4) momenta and (4, 4, 2) scalars: real rows hold small
 * integers identifying graph, row and column; padding rows hold garbage. */
static void make_padded(eqg_real *x, eqg_real *h)
{
  for (int g = 0; g < PG; g++)
    for (int r = 0; r < PP; r++) {
      bool real = r < pcounts[g];
      for (int c = 0; c < PD; c++)
        x[(g * PP + r) * PD + c] = real ? 100 * g + 10 * r + c : (c == 1 ? NAN : 1e300);
      for (int c = 0; c < PF; c++)
        h[(g * PP + r) * PF + c] = real ? 1 + g + 2 * r + 4 * c : -1e300;
    }
}

static void test_padding_never_leaks(void **state)
{
  (void)state;
  eqg_real x[PG * PP * PD], h[PG * PP * PF];
  make_padded(x, h);
  const eqg_padded_graphs p = { .n_graphs = PG, .max_nodes = PP, .dim = PD,
                                .n_scalars = PF, .x = x, .h = h, .counts = pcounts };
  eqg_graph_batch *b = eqg_graph_batch_alloc(PD, PF, false);
  const eqg_index ids[5] = { 2, 1, 0, 3, 2 };
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, ids, 5, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_full(b), EQG_OK);
  assert_int_equal(eqg_graph_batch_validate(b), EQG_OK);
  assert_int_equal(b->n_nodes, 3 + 0 + 2 + 1 + 3);
  const eqg_index counts[5] = { 3, 0, 2, 1, 3 };
  assert_memory_equal(b->counts, counts, sizeof counts);

  /* hand-computed readouts of column c of h: graph g, rows r < count:
   * h = 1 + g + 2 r + 4 c */
  double want_sum[5][PF], want_mean[5][PF];
  for (int r = 0; r < 5; r++)
    for (int c = 0; c < PF; c++) {
      int g = ids[r], m = pcounts[g];
      double s = 0;
      for (int k = 0; k < m; k++) s += 1 + g + 2 * k + 4 * c;
      want_sum[r][c] = s;
      want_mean[r][c] = m ? s / m : 0;
    }

  eqg_tape *t = eqg_tape_alloc(1 << 16, NULL);
  eqg_tensor *H = eqg_tape_input(t, b->n_nodes, PF, b->h, true);
  eqg_tensor *X = eqg_tape_input(t, b->n_nodes, PD, b->x, false);
  eqg_tensor *sum_raw = eqg_scatter_add_rows(t, H, eqg_graph_batch_node_graph(b), b->n_graphs);
  eqg_tensor *mean_raw = eqg_segment_mean(t, H, eqg_graph_batch_node_graph(b), b->n_graphs);
  eqg_tensor *sum = eqg_graph_sum_nodes(t, b, H);
  eqg_tensor *mean = eqg_graph_mean_nodes(t, b, H);
  /* messages x_j summed into each receiver: sum of the other nodes of its graph */
  eqg_tensor *msg = eqg_graph_sum_to_dst(t, b, eqg_graph_gather_src(t, b, X));
  eqg_tensor *msg_mean = eqg_graph_mean_to_dst(t, b, eqg_graph_gather_src(t, b, X));
  assert_int_equal(eqg_tape_status(t), EQG_OK);
  assert_int_equal(sum->rows, 5);
  for (int r = 0; r < 5; r++)
    for (int c = 0; c < PF; c++) {
      assert_true(*eqg_tensor_at(sum, r, c) == want_sum[r][c]);
      assert_true(*eqg_tensor_at(sum_raw, r, c) == want_sum[r][c]);
      assert_true(fabs(*eqg_tensor_at(mean, r, c) - want_mean[r][c]) <= 1e-15 * want_mean[r][c]);
      assert_true(*eqg_tensor_at(mean_raw, r, c) == *eqg_tensor_at(mean, r, c));
    }
  assert_true(*eqg_tensor_at(mean, 1, 0) == 0);   /* empty graph: 0, not NaN */
  for (size_t i = 0; i < b->n_nodes; i++) {
    int g = b->node_graph[i], id = ids[g], m = pcounts[id];
    for (int c = 0; c < PD; c++) {
      double s = 0;
      for (int k = 0; k < m; k++) s += 100 * id + 10 * k + c;
      double own = b->x[i * PD + c];
      assert_true(*eqg_tensor_at(msg, i, c) == s - own);
      double mm = m > 1 ? (s - own) / (m - 1) : 0;
      assert_true(fabs(*eqg_tensor_at(msg_mean, i, c) - mm) <= 1e-13 * fabs(mm));
    }
  }
  /* gradients of the total mean readout reach only real nodes: 1/M each */
  eqg_tensor *loss = eqg_sum(t, mean, EQG_AXIS_ALL);
  assert_int_equal(eqg_tape_backward(t, loss), EQG_OK);
  for (size_t i = 0; i < b->n_nodes; i++) {
    double m = b->counts[b->node_graph[i]];
    for (int c = 0; c < PF; c++) assert_true(fabs(H->grad[i * PF + c] - 1 / m) < 1e-15);
  }
  eqg_tape_free(t);
  eqg_graph_batch_free(b);
}

static void test_beam_nodes_prepended(void **state)
{
  (void)state;
  eqg_real x[PG * PP * PD], h[PG * PP * PF];
  make_padded(x, h);
  const eqg_padded_graphs p = { .n_graphs = PG, .max_nodes = PP, .dim = PD,
                                .n_scalars = PF, .x = x, .h = h, .counts = pcounts };
  const eqg_real beam_h[2 * PF] = { 0, 1, 0, 1 };   /* LorentzNet: [m, 0] vs [0, 1] */
  const eqg_fixed_nodes beams = { .count = 2, .x = eqg_beam_nodes_x, .h = beam_h };
  eqg_graph_batch *b = eqg_graph_batch_alloc(PD, PF, false);
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, NULL, PG, &beams), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_full(b), EQG_OK);
  assert_int_equal(eqg_graph_batch_validate(b), EQG_OK);
  assert_int_equal(b->n_nodes, 6 + 2 * 4);
  const double s2 = sqrt(2.0);
  for (int g = 0; g < PG; g++) {
    assert_int_equal(b->counts[g], pcounts[g] + 2);
    const eqg_real *xb = b->x + (size_t)b->offsets[g] * PD, *hb = b->h + (size_t)b->offsets[g] * PF;
    const eqg_real want[8] = { s2, 0, 0, 1, s2, 0, 0, -1 };
    assert_memory_equal(xb, want, sizeof want);
    assert_memory_equal(hb, beam_h, sizeof beam_h);
    /* then the real rows, unchanged */
    for (int r = 0; r < pcounts[g]; r++)
      assert_memory_equal(xb + (2 + r) * PD, x + (g * PP + r) * PD, PD * sizeof *x);
  }
  /* the empty graph 1 is just its two beams, joined both ways */
  assert_int_equal(b->in_degree[b->offsets[1]], 1);
  eqg_graph_batch_free(b);
}

static void test_subset_and_permutation(void **state)
{
  (void)state;
  gsl_rng *r1 = gsl_rng_alloc(gsl_rng_mt19937), *r2 = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r1, 5);
  gsl_rng_set(r2, 5);
  eqg_index a[50], c[50];
  assert_int_equal(eqg_graph_permutation(a, 50, r1), EQG_OK);
  assert_int_equal(eqg_graph_permutation(c, 50, r2), EQG_OK);
  assert_memory_equal(a, c, sizeof a);
  int seen[50] = { 0 }, moved = 0;
  for (int i = 0; i < 50; i++) {
    seen[a[i]]++;
    moved += a[i] != i;
  }
  for (int i = 0; i < 50; i++) assert_int_equal(seen[i], 1);
  assert_true(moved > 0);
  assert_int_equal(eqg_graph_permutation(c, 50, NULL), EQG_OK);
  for (int i = 0; i < 50; i++) assert_int_equal(c[i], i);

  eqg_real x[PG * PP * PD], h[PG * PP * PF];
  make_padded(x, h);
  const eqg_padded_graphs p = { .n_graphs = PG, .max_nodes = PP, .dim = PD,
                                .n_scalars = PF, .x = x, .h = h, .counts = pcounts };
  eqg_graph_batch *b = eqg_graph_batch_alloc(PD, PF, false);
  const eqg_index ids[3] = { 3, 0, 3 };
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, ids, 3, NULL), EQG_OK);
  const eqg_index counts[3] = { 1, 2, 1 };
  assert_memory_equal(b->counts, counts, sizeof counts);
  for (int g = 0; g < 3; g++)
    for (int r = 0; r < counts[g]; r++) {
      size_t row = (size_t)(b->offsets[g] + r);
      assert_memory_equal(b->x + row * PD, x + (ids[g] * PP + r) * PD, PD * sizeof *x);
      assert_memory_equal(b->h + row * PF, h + (ids[g] * PP + r) * PF, PF * sizeof *h);
    }
  gsl_rng_free(r1);
  gsl_rng_free(r2);
  eqg_graph_batch_free(b);
}

/* ---- reuse, custom edges, edge attributes, velocities --------------------- */

static void test_reuse_edges_and_attributes(void **state)
{
  (void)state;
  eqg_graph_batch *b = eqg_graph_batch_alloc(3, 1, true);
  enum { G = 100, M = 5 };
  eqg_index counts[G];
  eqg_real x[G * M * 3], v[G * M * 3], q[G * M];
  for (int g = 0; g < G; g++) counts[g] = M;
  for (int k = 0; k < G * M * 3; k++) {
    x[k] = sin(k);
    v[k] = cos(k);
  }
  for (int k = 0; k < G * M; k++) q[k] = k % 2 ? 1 : -1;
  assert_int_equal(eqg_graph_batch_set_nodes(b, G, counts, x, v, q), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_full(b), EQG_OK);
  assert_int_equal(b->n_edges, G * M * (M - 1));
  assert_memory_equal(b->v, v, sizeof v);
  /* charges product a_ij = q_i q_j (N-body EGNN) */
  assert_int_equal(eqg_graph_batch_set_edge_attr_width(b, 1), EQG_OK);
  for (size_t e = 0; e < b->n_edges; e++) {
    assert_true(b->edge_attr[e] == 0);
    b->edge_attr[e] = b->h[b->src[e]] * b->h[b->dst[e]];
  }
  assert_int_equal(eqg_graph_batch_validate(b), EQG_OK);
  b->edge_attr[3] = INFINITY;
  assert_int_equal(eqg_graph_batch_validate(b), EQG_ENONFINITE);
  assert_msg_has("edge_attr");

  /* a smaller rebuild reuses the arrays */
  const void *x0 = b->x, *src0 = b->src;
  size_t cap = b->cap_edges;
  assert_int_equal(eqg_graph_batch_set_nodes(b, 10, counts, x, v, q), EQG_OK);
  assert_int_equal(b->n_edge_attr, 0);
  assert_int_equal(eqg_graph_batch_connect_knn(b, 2, EQG_KNN_EUCLIDEAN), EQG_OK);
  assert_ptr_equal(b->x, x0);
  assert_ptr_equal(b->src, src0);
  assert_int_equal(b->cap_edges, cap);
  assert_int_equal(eqg_graph_batch_validate(b), EQG_OK);

  /* caller-made edges: a chain 0 -> 1 -> 2 plus a self loop, in graph 0 */
  const eqg_index s[3] = { 0, 1, 2 }, d[3] = { 1, 2, 2 };
  assert_int_equal(eqg_graph_batch_set_edges(b, 3, s, d, true), EQG_OK);
  assert_true(b->self_loops);
  const eqg_index deg[5] = { 0, 1, 2, 0, 0 };
  assert_memory_equal(b->in_degree, deg, sizeof deg);
  assert_int_equal(eqg_graph_batch_validate(b), EQG_OK);
  eqg_graph_batch_free(b);
}

/* ---- bad inputs ------------------------------------------------------------ */

static void test_bad_inputs_rejected(void **state)
{
  (void)state;
  assert_null(eqg_graph_batch_alloc(2, 0, false));
  assert_msg_has("D = 2");
  eqg_graph_batch *b = eqg_graph_batch_alloc(3, 0, false);
  eqg_real x[4 * 3] = { 0 };

  const eqg_index neg[2] = { 2, -1 };
  assert_int_equal(eqg_graph_batch_set_nodes(b, 2, neg, x, NULL, NULL), EQG_EINVAL);
  assert_msg_has("negative");
  assert_int_equal(b->n_graphs, 0);

  const eqg_index two[2] = { 2, 2 };
  x[7] = NAN;
  assert_int_equal(eqg_graph_batch_set_nodes(b, 2, two, x, NULL, NULL), EQG_ENONFINITE);
  assert_msg_has("x[2][1]");
  assert_msg_has("not finite");
  assert_int_equal(b->n_nodes, 0);
  x[7] = 0;
  assert_int_equal(eqg_graph_batch_set_nodes(b, 2, two, x, x, NULL), EQG_EINVAL);
  assert_msg_has("without v");

  assert_int_equal(eqg_graph_batch_set_nodes(b, 2, two, x, NULL, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_knn(b, 0, EQG_KNN_EUCLIDEAN), EQG_EINVAL);
  assert_msg_has("k >= 1");
  assert_int_equal(eqg_graph_batch_set_nodes(b, 2, two, x, NULL, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_knn(b, -3, EQG_KNN_EUCLIDEAN), EQG_EINVAL);
  assert_int_equal(eqg_graph_batch_set_nodes(b, 2, two, x, NULL, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_knn(b, 2, EQG_KNN_ETA_PHI), EQG_EINVAL);
  assert_msg_has("D = 4");
  /* set_counts zeroes x for the caller to fill; kNN re-checks it */
  assert_int_equal(eqg_graph_batch_set_counts(b, 2, two), EQG_OK);
  for (int k = 0; k < 12; k++) assert_true(b->x[k] == 0);
  b->x[4] = INFINITY;
  assert_int_equal(eqg_graph_batch_connect_knn(b, 1, EQG_KNN_EUCLIDEAN), EQG_ENONFINITE);
  assert_msg_has("x[1][1]");

  assert_int_equal(eqg_graph_batch_set_nodes(b, 2, two, x, NULL, NULL), EQG_OK);
  const eqg_index cross[1] = { 1 }, to[1] = { 2 }, far[1] = { 9 };
  assert_int_equal(eqg_graph_batch_set_edges(b, 1, cross, to, false), EQG_EINVAL);
  assert_msg_has("crosses");
  assert_int_equal(eqg_graph_batch_set_nodes(b, 2, two, x, NULL, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_set_edges(b, 1, cross, cross, false), EQG_EINVAL);
  assert_msg_has("self loop");
  assert_int_equal(eqg_graph_batch_set_nodes(b, 2, two, x, NULL, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_set_edges(b, 1, cross, far, false), EQG_ERANGE);
  assert_msg_has("out of range");
  eqg_graph_batch_free(b);

  /* padded datasets */
  eqg_real px[PG * PP * PD], ph[PG * PP * PF];
  make_padded(px, ph);
  eqg_index counts[PG] = { 2, 0, 5, 1 };   /* 5 > max_nodes = 4 */
  eqg_padded_graphs p = { .n_graphs = PG, .max_nodes = PP, .dim = PD, .n_scalars = PF,
                          .x = px, .h = ph, .counts = counts };
  b = eqg_graph_batch_alloc(PD, PF, false);
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, NULL, PG, NULL), EQG_EINVAL);
  assert_msg_has("max_nodes = 4");
  counts[2] = -1;
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, NULL, PG, NULL), EQG_EINVAL);
  assert_msg_has("has -1 nodes");
  counts[2] = 3;
  const eqg_index bad_id[2] = { 0, 4 };
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, bad_id, 2, NULL), EQG_ERANGE);
  assert_msg_has("graph id 4");
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, NULL, PG + 1, NULL), EQG_ERANGE);
  px[(2 * PP + 1) * PD + 3] = NAN;   /* a real row of graph 2 */
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, NULL, PG, NULL), EQG_ENONFINITE);
  assert_msg_has("padded graph 2");
  assert_int_equal(b->n_graphs, 0);
  px[(2 * PP + 1) * PD + 3] = 0;
  p.dim = 3;
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, NULL, PG, NULL), EQG_ESHAPE);
  assert_msg_has("D = 3");
  p.dim = PD;
  p.h = NULL;
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, NULL, PG, NULL), EQG_EINVAL);
  p.h = ph;
  const eqg_real nan_beam[4] = { NAN, 0, 0, 1 };
  const eqg_fixed_nodes bad_fixed = { .count = 1, .x = nan_beam };
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, NULL, PG, &bad_fixed), EQG_ENONFINITE);
  assert_msg_has("fixed x");
  assert_int_equal(eqg_graph_batch_from_padded(b, &p, NULL, PG, NULL), EQG_OK);

  /* graph ops check the row count */
  eqg_tape *t = eqg_tape_alloc(0, NULL);
  eqg_tensor *wrong = eqg_tape_input(t, b->n_nodes + 1, 1, NULL, false);
  assert_null(eqg_graph_mean_nodes(t, b, wrong));
  assert_int_equal(eqg_tape_status(t), EQG_ESHAPE);
  assert_msg_has("rows");
  eqg_tape_free(t);
  eqg_graph_batch_free(b);
}

static void test_validate_catches_corruption(void **state)
{
  (void)state;
  const eqg_index counts[3] = { 3, 0, 2 };
  eqg_real x[5 * 4];
  for (int k = 0; k < 20; k++) x[k] = k;
  eqg_graph_batch *b = eqg_graph_batch_alloc(4, 0, false);
  assert_int_equal(eqg_graph_batch_set_nodes(b, 3, counts, x, NULL, NULL), EQG_OK);
  assert_int_equal(eqg_graph_batch_connect_full(b), EQG_OK);
  assert_int_equal(eqg_graph_batch_validate(b), EQG_OK);
  /* edges: (1,0) (2,0) (0,1) (2,1) (0,2) (1,2) (4,3) (3,4) */
#define CORRUPT(field, val, status, word)                  \
  do {                                                     \
    __typeof__(field) old_ = (field);                      \
    (field) = (val);                                       \
    assert_int_equal(eqg_graph_batch_validate(b), status); \
    assert_msg_has(word);                                  \
    (field) = old_;                                        \
    assert_int_equal(eqg_graph_batch_validate(b), EQG_OK); \
  } while (0)
  CORRUPT(b->src[2], 9, EQG_ERANGE, "src = 9 out of range");
  CORRUPT(b->dst[5], -1, EQG_ERANGE, "dst = -1");
  CORRUPT(b->src[0], 0, EQG_EINVAL, "self loop");
  CORRUPT(b->src[6], 0, EQG_EINVAL, "crosses");
  CORRUPT(b->counts[1], 1, EQG_EINVAL, "inconsistent");
  CORRUPT(b->counts[0], -3, EQG_EINVAL, "negative");
  CORRUPT(b->node_graph[4], 0, EQG_EINVAL, "node_graph[4]");
  CORRUPT(b->in_degree[3], 2, EQG_EINVAL, "in_degree[3]");
  CORRUPT(b->x[9], NAN, EQG_ENONFINITE, "x[2][1]");
  CORRUPT(b->n_nodes, 4, EQG_EINVAL, "sum to 5");
#undef CORRUPT
  eqg_graph_batch_free(b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_full_edges_by_hand),
    cmocka_unit_test(test_knn_euclidean_bruteforce),
    cmocka_unit_test(test_knn_eta_phi_periodic),
    cmocka_unit_test(test_padding_never_leaks),
    cmocka_unit_test(test_beam_nodes_prepended),
    cmocka_unit_test(test_subset_and_permutation),
    cmocka_unit_test(test_reuse_edges_and_attributes),
    cmocka_unit_test(test_bad_inputs_rejected),
    cmocka_unit_test(test_validate_catches_corruption),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
