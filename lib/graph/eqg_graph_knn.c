/* eqg_graph_knn.c: k-nearest-neighbour edges, Euclidean or (eta, phi).
 *
 * Per node i of a graph of M nodes: one row of M squared distances, then one
 * pass keeping the kk = min(k, M-1) nearest other nodes in a sorted list.
 * Cost O(M^2) per graph plus O(kk) per accepted candidate (about
 * kk (1 + log(M / kk)) of them for points in random order). */
#include "graph/eqg_graph_edges.h"
#include "graph/eqg_graph_internal.h"

#include <math.h>
#include <stdlib.h>

static const eqg_real pi = 3.14159265358979323846;

/* d[j - lo] = |x_i - x_j|^2 for the nodes j = lo .. hi-1 of i's graph. */
static void row_euclidean(const eqg_real *x, size_t dim, eqg_index i, eqg_index lo,
                          eqg_index hi, eqg_real *d)
{
  const eqg_real *xi = x + (size_t)i * dim;
  for (eqg_index j = lo; j < hi; j++) {
    const eqg_real *xj = x + (size_t)j * dim;
    eqg_real s = 0;
    for (size_t c = 0; c < dim; c++) s += (xi[c] - xj[c]) * (xi[c] - xj[c]);
    d[j - lo] = s;
  }
}

/* d[j - lo] = d_eta^2 + d_phi^2, d_phi wrapped to (-pi, pi]; eta = +inf
 * (pT = 0) gives an infinite distance. */
static void row_eta_phi(const eqg_real *eta, const eqg_real *phi, eqg_index i,
                        eqg_index lo, eqg_index hi, eqg_real *d)
{
  const eqg_real ei = eta[i], fi = phi[i];
  if (isinf(ei)) {
    for (eqg_index j = lo; j < hi; j++) d[j - lo] = INFINITY;
    return;
  }
  for (eqg_index j = lo; j < hi; j++) {
    eqg_real de = ei - eta[j], df = fi - phi[j];          /* df in [-2 pi, 2 pi] */
    df = df > pi ? df - 2 * pi : (df <= -pi ? df + 2 * pi : df);   /* (-pi, pi] */
    d[j - lo] = de * de + df * df;
  }
}

/* eta = asinh(pz / pT) (+inf when pT = 0) and phi = atan2(py, px) per node. */
static void eta_phi(const eqg_graph_batch *b, eqg_real *eta, eqg_real *phi)
{
  for (size_t n = 0; n < b->n_nodes; n++) {
    const eqg_real *p = b->x + 4 * n;
    eqg_real pt = hypot(p[1], p[2]);
    eta[n] = pt > 0 ? asinh(p[3] / pt) : INFINITY;
    phi[n] = atan2(p[2], p[1]);
  }
}

/* The kk smallest of d[0 .. m-1] other than d[self], as node indices lo + j
 * in best_j[], nearest first, ties to the lower index.  One pass in index
 * order keeps the best list sorted: a candidate enters only if strictly
 * closer than the current kk-th, behind every entry at most as far (so equal
 * distances keep index order). */
static void select_nearest(const eqg_real *d, size_t m, size_t self, eqg_index lo,
                           size_t kk, eqg_real *best_d, eqg_index *best_j)
{
  size_t n_best = 0;
  for (size_t j = 0; j < m; j++) {
    if (j == self) continue;
    eqg_real dj = d[j];
    if (n_best == kk && !(dj < best_d[kk - 1])) continue;
    size_t pos = n_best < kk ? n_best++ : kk - 1;
    for (; pos > 0 && best_d[pos - 1] > dj; pos--) {
      best_d[pos] = best_d[pos - 1];
      best_j[pos] = best_j[pos - 1];
    }
    best_d[pos] = dj;
    best_j[pos] = lo + (eqg_index)j;
  }
  EQG_ASSERT(n_best == kk);
}

/* Neighbours per node in a graph of m nodes: min(k, m - 1), 0 if m = 0. */
static size_t knn_per_node(size_t m, int k)
{
  return m > (size_t)k ? (size_t)k : (m ? m - 1 : 0);
}

eqg_status eqg_graph_batch_connect_knn(eqg_graph_batch *b, int k, eqg_knn_distance dist)
{
  if (k <= 0)
    return eqg_graph_fail(b, eqg_error_set(EQG_EINVAL,
                          "graph batch: kNN needs k >= 1 neighbours, got k = %d", k));
  if (dist != EQG_KNN_EUCLIDEAN && dist != EQG_KNN_ETA_PHI)
    return eqg_graph_fail(b, eqg_error_set(EQG_EINVAL,
                          "graph batch: unknown kNN distance %d", (int)dist));
  if (dist == EQG_KNN_ETA_PHI && b->dim != 4)
    return eqg_graph_fail(b, eqg_error_set(EQG_EINVAL,
                          "graph batch: eta-phi kNN needs four-momenta (D = 4), got D = %zu",
                          b->dim));
  eqg_status s;
  /* x may have been written directly after eqg_graph_batch_set_counts */
  s = eqg_graph_check_finite(b->x, b->n_nodes, b->dim, "x");
  if (s != EQG_OK) return eqg_graph_fail(b, s);
  size_t n_edges = 0, k_max = 0, m_max = 0;
  for (size_t g = 0; g < b->n_graphs; g++) {
    size_t m = (size_t)b->counts[g], kk = knn_per_node(m, k);
    n_edges += m * kk;
    if (kk > k_max) k_max = kk;
    if (m > m_max) m_max = m;
  }
  if ((s = eqg_graph_batch_reserve(b, 0, 0, n_edges)) != EQG_OK) return s;
  /* scratch: eta, phi (N each, eta-phi only), a row of distances (m_max),
   * the kk best (k_max) */
  const bool eta_phi_mode = dist == EQG_KNN_ETA_PHI;
  size_t n_ep = eta_phi_mode ? b->n_nodes : 0;
  eqg_real *work = malloc((2 * n_ep + m_max + k_max + 1) * sizeof *work);
  eqg_index *best_j = malloc((k_max + 1) * sizeof *best_j);
  if (!work || !best_j) {
    free(work);
    free(best_j);
    return eqg_graph_fail(b, eqg_error_set(EQG_ENOMEM, "graph batch: kNN scratch"));
  }
  eqg_real *eta = work, *phi = work + n_ep, *row = work + 2 * n_ep, *best_d = row + m_max;
  if (eta_phi_mode) eta_phi(b, eta, phi);
  size_t e = 0;
  for (size_t g = 0; g < b->n_graphs; g++) {
    eqg_index lo = b->offsets[g], hi = b->offsets[g + 1];
    size_t m = (size_t)(hi - lo), kk = knn_per_node(m, k);
    if (kk == 0) continue;
    for (eqg_index i = lo; i < hi; i++) {
      if (eta_phi_mode) row_eta_phi(eta, phi, i, lo, hi, row);
      else row_euclidean(b->x, b->dim, i, lo, hi, row);
      select_nearest(row, m, (size_t)(i - lo), lo, kk, best_d, best_j);
      for (size_t r = 0; r < kk; r++, e++) {
        b->src[e] = best_j[r];
        b->dst[e] = i;
      }
    }
  }
  free(work);
  free(best_j);
  EQG_ASSERT(e == n_edges);
  b->n_edges = n_edges;
  eqg_graph_finish_edges(b, false);
  return EQG_OK;
}
