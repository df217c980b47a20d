/* gc_fused.c: gradient checks of the fused affine ops, for every activation
 * they fuse, every bias shape and every subset of inputs with a gradient. */
#include "eqg_gc_util.h"

#include <math.h>
#include <stdio.h>

/* Smallest |pre-activation| of row-major pre (n, m); the kinked activations
 * (relu, leaky_relu) are checked only on inputs that keep it >= KINK_GAP, the
 * gap the gradient check's steps need (eqg_gradcheck.h). */
#define KINK_GAP 0.05

static bool kinked(int act) { return act == EQG_FUSE_RELU || act == EQG_FUSE_LEAKY_RELU; }

/* min_e |pre_e| for pre = (x W + b), x (n, k), W (k, m), b NULL, (1, m) or (n, m) */
static eqg_real affine_min_abs(const eqg_tensor *x, const eqg_tensor *w, const eqg_tensor *b)
{
  eqg_real lo = INFINITY;
  for (size_t i = 0; i < x->rows; i++)
    for (size_t c = 0; c < w->cols; c++) {
      eqg_real s = b ? b->data[(b->rows == 1 ? 0 : i) * b->cols + c] : 0;
      for (size_t j = 0; j < x->cols; j++) s += x->data[i * x->cols + j] * w->data[j * w->cols + c];
      lo = fmin(lo, fabs(s));
    }
  return lo;
}

static const char *const act_names[EQG_FUSE_ACT_COUNT] = {
  "none", "relu", "leaky_relu", "silu", "sigmoid", "tanh"
};

typedef struct {
  eqg_fuse_act act;
  int bias;   /* 0 none, 1 one row, 2 full */
} affine_ctx;

static eqg_tensor *f_affine(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  const affine_ctx *c = ctx;
  return eqg_affine(t, in[0], in[1], c->bias ? in[2] : NULL, c->act, 0.1);
}

void gc_check_affine(void)
{
  gsl_rng *r = gc_rng(11);
  const size_t n = 5, k = 4, m = 3;
  for (int act = 0; act < EQG_FUSE_ACT_COUNT; act++)
    for (int bias = 0; bias < 3; bias++) {
      const int n_in = bias ? 3 : 2;
      /* every subset of inputs with a gradient for silu, all of them otherwise */
      const int first = act == EQG_FUSE_SILU ? 1 : (1 << n_in) - 1;
      for (int mask = first; mask < (1 << n_in); mask++) {
        eqg_tensor *in[3];
        for (int attempt = 0;; attempt++) {
          in[0] = gc_tensor(r, n, k, -1, 1, mask & 1);
          in[1] = gc_tensor(r, k, m, -1, 1, mask & 2);
          in[2] = bias ? gc_tensor(r, bias == 2 ? n : 1, m, -1, 1, mask & 4) : NULL;
          if (!kinked(act) || affine_min_abs(in[0], in[1], in[2]) >= KINK_GAP) break;
          assert_true(attempt < 1000);
          for (int i = 0; i < n_in; i++) gc_tensor_free(in[i]);
        }
        affine_ctx c = { (eqg_fuse_act)act, bias };
        char label[96];
        snprintf(label, sizeof label, "affine act=%s bias=%d grad mask=%d", act_names[act],
                 bias, mask);
        gc_run(label, f_affine, &c, (size_t)n_in, in);
        for (int i = 0; i < n_in; i++) gc_tensor_free(in[i]);
      }
    }
  gsl_rng_free(r);
}

/* 4 nodes, 7 edges with repeated senders and receivers (and one self loop). */
static const eqg_index edge_dst[7] = { 0, 0, 1, 2, 2, 3, 3 };
static const eqg_index edge_src[7] = { 1, 2, 0, 3, 2, 0, 1 };

typedef struct {
  eqg_fuse_act act;
  bool with_z;
} edge_ctx;

static eqg_tensor *f_edge_affine(eqg_tape *t, eqg_tensor *const in[], void *ctx)
{
  const edge_ctx *c = ctx;
  return eqg_edge_affine(t, in[0], edge_dst, in[1], edge_src, 7, c->with_z ? in[2] : NULL,
                         c->with_z ? in[3] : NULL, c->act, 0.1);
}

void gc_check_edge_affine(void)
{
  gsl_rng *r = gc_rng(12);
  const size_t N = 4, E = 7, m = 3, K = 2;
  static const char *const variants[3] = { "with z", "no z", "u = v, with z" };
  for (int act = 0; act < EQG_FUSE_ACT_COUNT; act++)
    for (int variant = 0; variant < 3; variant++) {
      edge_ctx c = { (eqg_fuse_act)act, variant != 1 };
      eqg_tensor *in[4];
      for (int attempt = 0;; attempt++) {
        in[0] = gc_tensor(r, N, m, -1, 1, true);
        in[1] = gc_tensor(r, N, m, -1, 1, true);
        in[2] = gc_tensor(r, E, K, -1, 1, true);
        in[3] = gc_tensor(r, K, m, -1, 1, true);
        eqg_real lo = INFINITY;   /* min |u[dst] + v[src] + z W| */
        const eqg_tensor *v = variant == 2 ? in[0] : in[1];
        for (size_t e = 0; e < E; e++)
          for (size_t q = 0; q < m; q++) {
            eqg_real s = in[0]->data[(size_t)edge_dst[e] * m + q] +
                         v->data[(size_t)edge_src[e] * m + q];
            for (size_t j = 0; variant != 1 && j < K; j++)
              s += in[2]->data[e * K + j] * in[3]->data[j * m + q];
            lo = fmin(lo, fabs(s));
          }
        if (!kinked(act) || lo >= KINK_GAP) break;
        assert_true(attempt < 1000);
        for (int i = 0; i < 4; i++) gc_tensor_free(in[i]);
      }
      /* u = v: the same tensor twice, so both gathers add into one gradient */
      eqg_tensor *args[4] = { in[0], variant == 2 ? in[0] : in[1], in[2], in[3] };
      char label[96];
      snprintf(label, sizeof label, "edge_affine act=%s %s", act_names[act], variants[variant]);
      gc_run(label, f_edge_affine, &c, variant == 1 ? 2 : 4, args);
      for (int i = 0; i < 4; i++) gc_tensor_free(in[i]);
    }
  gsl_rng_free(r);
}
