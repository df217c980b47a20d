/* eqg_lie_sources.c: the oracle and pairs sources of lie_discover (maths in
 * eqg_lie_sources.h): C_s = sum_i grad_i phi x_i^T per sample for the oracles,
 * D = (G^ - G^^-1) / (2 eps) from least-squares fits of g x for the pairs. */
#include "eqg_lie_sources.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>

enum { MAXQ = EQG_PROBE_MAX_D * EQG_PROBE_MAX_D };

eqg_status eqg_lie_oracle_analytic(eqg_real *M, const char *oracle, size_t d, size_t points,
                                   gsl_rng *r)
{
  const size_t np = points;
  eqg_real *X = malloc(np * d * sizeof *X), *C = malloc(np * d * d * sizeof *C);
  eqg_status st = X && C ? EQG_OK : eqg_error_set(EQG_ENOMEM, "out of memory");
  if (!st) {
    for (size_t k = 0; k < np * d; k++) X[k] = gsl_ran_gaussian(r, 1);
    if (!(st = eqg_discover_oracle_samples(C, oracle, X, np, d)))
      st = eqg_discover_moments(M, C, np, d);
  }
  free(X);
  free(C);
  return st;
}

eqg_graph_batch *eqg_lie_random_jets(size_t n_jets, size_t nodes, gsl_rng *r)
{
  eqg_graph_batch *b = eqg_graph_batch_alloc(4, 2, false);
  eqg_index *cnt = malloc(n_jets * sizeof *cnt);
  eqg_real *x = malloc(n_jets * nodes * 4 * sizeof *x), *h = malloc(n_jets * nodes * 2 * sizeof *h);
  if (!b || !cnt || !x || !h) goto fail;
  for (size_t g = 0; g < n_jets; g++) {
    cnt[g] = (eqg_index)nodes;
    eqg_real axis[3] = { gsl_ran_gaussian(r, 1), gsl_ran_gaussian(r, 1), gsl_ran_gaussian(r, 1) };
    for (size_t i = 0; i < nodes; i++) {
      eqg_real *p = x + (g * nodes + i) * 4, m = 0.1 + 4.9 * gsl_rng_uniform(r), p2 = m * m;
      for (size_t k = 1; k < 4; k++) {
        p[k] = 20 * axis[k - 1] + gsl_ran_gaussian(r, 5);
        p2 += p[k] * p[k];
      }
      p[0] = sqrt(p2);
      h[(g * nodes + i) * 2] = log1p(m);
      h[(g * nodes + i) * 2 + 1] = 0;
    }
  }
  if (eqg_graph_batch_set_nodes(b, n_jets, cnt, x, NULL, h) || eqg_graph_batch_connect_full(b))
    goto fail;
  free(cnt), free(x), free(h);
  return b;
fail:
  eqg_error_prefix(EQG_ENOMEM, "random jets: ");
  free(cnt), free(x), free(h);
  eqg_graph_batch_free(b);
  return NULL;
}

eqg_model *eqg_lie_model_load(const char *preset, const char *checkpoint, gsl_rng *r)
{
  eqg_model_config c;
  if (eqg_model_config_preset(&c, preset)) return NULL;
  eqg_model *m = eqg_model_alloc(&c, r);
  if (!m) return NULL;
  if (checkpoint && eqg_checkpoint_load(checkpoint, m->params, NULL, NULL)) {
    eqg_model_free(m);
    return NULL;
  }
  return m;
}

/* C_g = sum_{i in g} grad_i phi x_i^T for the `points` jets. */
eqg_status eqg_lie_oracle_checkpoint(eqg_real *M, const char *preset, const char *checkpoint,
                                     size_t points, size_t nodes, gsl_rng *r)
{
  eqg_model *m = eqg_lie_model_load(preset, checkpoint, r);
  if (!m) return eqg_error_prefix(EQG_EINVAL, "oracle checkpoint: ");
  if (m->cfg.layer.dim != 4 || m->cfg.task != EQG_TASK_GRAPH || m->cfg.n_in != 2) {
    eqg_model_free(m);
    return eqg_error_set(EQG_EINVAL, "oracle checkpoint: preset %s is not a graph model on "
                         "four-vectors with 2 node scalars", preset);
  }
  eqg_graph_batch *b = eqg_lie_random_jets(points, nodes, r);
  eqg_tape *t = eqg_tape_alloc(1 << 22, r);
  eqg_real *C = calloc(points * 16, sizeof *C);
  eqg_status st = b && t && C ? EQG_OK : eqg_error_set(EQG_ENOMEM, "oracle checkpoint: memory");
  if (!st) {
    t->training = false;
    eqg_layer_io io;
    if (!(st = eqg_model_inputs(t, m, b, &io))) {
      io.x = eqg_tape_input(t, b->n_nodes, 4, b->x, true);
      eqg_tensor *y = eqg_model_forward_io(t, m, b, io);      /* (G, n_out) */
      if (!y) st = eqg_error_prefix(eqg_tape_status(t), "oracle checkpoint forward: ");
      else {
        eqg_real *seed = calloc(eqg_tensor_size(y), sizeof *seed);
        if (!seed) st = eqg_error_set(EQG_ENOMEM, "oracle checkpoint: memory");
        for (size_t g = 0; seed && g < y->rows; g++) {
          if (y->cols >= 2) seed[g * y->cols] = -1, seed[g * y->cols + 1] = 1;
          else seed[g * y->cols] = 1;
        }
        if (!st) st = eqg_tape_backward_seed(t, y, seed);
        free(seed);
        for (size_t i = 0; !st && i < b->n_nodes; i++) {
          const size_t g = (size_t)b->node_graph[i];
          for (size_t a = 0; a < 4; a++)
            for (size_t c = 0; c < 4; c++)
              C[g * 16 + a * 4 + c] += io.x->grad[i * 4 + a] * b->x[i * 4 + c];
        }
      }
    }
  }
  if (!st) st = eqg_discover_moments(M, C, points, 4);
  free(C);
  eqg_tape_free(t);
  eqg_graph_batch_free(b);
  eqg_model_free(m);
  return st;
}

const eqg_group_type *eqg_lie_pairs_group(const char *group)
{
  return eqg_group_type_find(strcmp(group, "so2") == 0 ? "so2z" : group);
}

/* inv (d, d) of M by LU; EQG_EINVAL if singular. */
static eqg_status inverse(eqg_real *inv, const eqg_real *M, size_t d)
{
  double a[MAXQ];
  memcpy(a, M, d * d * sizeof *a);
  gsl_matrix_view A = gsl_matrix_view_array(a, d, d), I = gsl_matrix_view_array(inv, d, d);
  gsl_permutation *p = gsl_permutation_alloc(d);
  int sgn;
  eqg_status st = p && !gsl_linalg_LU_decomp(&A.matrix, p, &sgn) &&
                  !gsl_linalg_LU_invert(&A.matrix, p, &I.matrix)
                    ? EQG_OK : eqg_error_set(EQG_EINVAL, "pairs: singular estimate");
  gsl_permutation_free(p);
  return st;
}

eqg_status eqg_lie_pairs(eqg_real *S, const char *group, size_t points, double eps,
                         double noise, gsl_rng *r)
{
  const eqg_group_type *gt = eqg_lie_pairs_group(group);
  if (!gt) return EQG_EINVAL;
  const size_t d = gt->gen_dim, q = d * d, na = gt->n_generators, K = 2 * d, ns = points;
  eqg_real T[6 * MAXQ];
  gt->generators(T);
  eqg_real *D = malloc(ns * q * sizeof *D);
  if (!D) return eqg_error_set(EQG_ENOMEM, "pairs: memory");
  eqg_status st = EQG_OK;
  for (size_t s = 0; s < ns && !st; s++) {
    eqg_real A[MAXQ] = { 0 }, G[MAXQ], X[2 * MAXQ], Y[2 * MAXQ];
    for (size_t a = 0; a < na; a++) {
      eqg_real z = gsl_ran_gaussian(r, 1);
      for (size_t k = 0; k < q; k++) A[k] += eps * z * T[a * q + k];
    }
    if ((st = eqg_matrix_exp(G, A, d))) break;
    /* pairs (x_k, y_k = G x_k + noise); G^T = (X^T X)^-1 X^T Y */
    for (size_t k = 0; k < K; k++)
      for (size_t i = 0; i < d; i++) X[k * d + i] = gsl_ran_gaussian(r, 1);
    for (size_t k = 0; k < K; k++)
      for (size_t i = 0; i < d; i++) {
        eqg_real v = 0;
        for (size_t j = 0; j < d; j++) v += G[i * d + j] * X[k * d + j];
        Y[k * d + i] = v + (noise > 0 ? gsl_ran_gaussian(r, noise) : 0);
      }
    eqg_real XtX[MAXQ], XtY[MAXQ], XtXi[MAXQ], Gh[MAXQ], Ghi[MAXQ];
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++) {
        eqg_real a = 0, b = 0;
        for (size_t k = 0; k < K; k++) a += X[k * d + i] * X[k * d + j], b += X[k * d + i] * Y[k * d + j];
        XtX[i * d + j] = a, XtY[i * d + j] = b;
      }
    if ((st = inverse(XtXi, XtX, d))) break;
    for (size_t i = 0; i < d; i++)        /* Gh = (XtXi XtY)^T */
      for (size_t j = 0; j < d; j++) {
        eqg_real v = 0;
        for (size_t l = 0; l < d; l++) v += XtXi[j * d + l] * XtY[l * d + i];
        Gh[i * d + j] = v;
      }
    if ((st = inverse(Ghi, Gh, d))) break;
    for (size_t k = 0; k < q; k++) D[s * q + k] = (Gh[k] - Ghi[k]) / (2 * eps);
  }
  if (!st && !(st = eqg_discover_moments(S, D, ns, d)))
    for (size_t k = 0; k < q * q; k++) S[k] /= (eqg_real)q;
  free(D);
  return st;
}
