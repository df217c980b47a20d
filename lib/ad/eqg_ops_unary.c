/* eqg_ops_unary.c: elementwise functions y = f(x), x and y of the same shape.
 *
 * Attributes: leaky_relu r[0] = slope (for x <= 0); clamp r[0] = lo, r[1] = hi.
 * Saved state: with a gradient to propagate (the output has a grad buffer)
 * silu keeps aux = silu'(x) and softplus aux = sigmoid(x) (same shape as x,
 * tape arena), written by the forward, so that the backward needs no exp
 * (without a gradient, evaluation, aux is NULL and nothing is saved).
 *
 * All thirteen kinds share one forward and one backward driver.  Each driver
 * switches on the node's kind ONCE and then runs a tight loop over the
 * contiguous elements whose body is the kind's formula (UNARY_MAP /
 * UNARY_GRAD below), so there is no per-element function-pointer call or
 * switch.  Backward computes dx[i] += dy[i] f'(x[i]), using the saved output
 * y (sigmoid, tanh, exp, sqrt) or the saved state (silu, softplus) where that
 * avoids recomputing a transcendental.
 *
 * silu and sigmoid (the activations of the N-body and most edge MLPs) compute
 * the logistic function with their own exponential, sigmoid_poly() below: a
 * fixed sequence of IEEE double operations (range reduction and a degree-13
 * polynomial, no libm call, no table) that GCC and Clang run several lanes at
 * a time through vector extensions (two with SSE2 or NEON, four with AVX when
 * the processor has it, picked at run time), with a scalar copy of the same
 * operations for the remaining elements.  It is within 1 ulp of libm's exp on
 * e^t (t in [-708, 0]), 2-4 times faster in these loops, and gives the same
 * bits on every IEEE machine, vector width and C library (no FMA: the build
 * contracts no a * b + c, -std=c11 implies -ffp-contract=off, and AVX is
 * enabled without FMA).  The other kinds use libm.
 *
 * Conventions at kinks (measure-zero points): relu'(0) = 0, leaky_relu'(0) =
 * slope, abs'(0) = 0, clamp' = 1 on the closed interval [lo, hi].  Outside a
 * function's domain the result is what libm gives (log of x <= 0 and sqrt of
 * x < 0 are -inf / NaN; sqrt'(0) is +inf): callers keep inputs in range. */
#include "ad/eqg_ops.h"
#include "ad/eqg_ops_fuse.h"

#include <math.h>
#include <string.h>

/* 1 / (1 + e^-x) without overflow: with e = e^-|x| <= 1,
 * x >= 0: 1 / (1 + e);  x < 0: e / (1 + e). */
static inline eqg_real sigmoid_stable(eqg_real x)
{
  const eqg_real e = exp(-fabs(x));
  return (x >= 0 ? 1 : e) / (1 + e);
}

/* ---- sigmoid_poly: the logistic function with a portable exponential ------ *
 * With a = min(|x|, 708) and t = -a:
 *   k = round(t / ln 2)  (adding and subtracting 1.5 * 2^52; the low bits of
 *       the sum hold k, so 2^k is built from them without a float-to-int
 *       conversion),
 *   r = t - k ln2_hi - k ln2_lo,  |r| <= ln 2 / 2 (Cody-Waite: k ln2_hi is exact),
 *   e = 2^k p(r),  p = sum_{j <= 13} r^j / j!  (Estrin's scheme; the truncation
 *       error r^14 / 14! < 5e-18 is below half an ulp),
 * and e = 0 when |x| >= 708 (e^-708 is 3e-308; below, libm gives subnormals,
 * which change no sigmoid in double).  Then, as sigmoid_stable(),
 * sigmoid = (x >= 0 ? 1 : e) / (1 + e), and NaN stays NaN.  The scalar and
 * the vector versions perform the same operations in the same order. */

#define SIG_LOG2E 1.4426950408889634
#define SIG_LN2HI 6.93147180369123816490e-01   /* 32 significant bits */
#define SIG_LN2LO 1.90821492927058770002e-10
#define SIG_SHIFT 0x1.8p52
#define SIG_AMAX 708.0
/* 1 / j! rounded by the compiler */
#define SIG_C2 (1.0 / 2)
#define SIG_C3 (1.0 / 6)
#define SIG_C4 (1.0 / 24)
#define SIG_C5 (1.0 / 120)
#define SIG_C6 (1.0 / 720)
#define SIG_C7 (1.0 / 5040)
#define SIG_C8 (1.0 / 40320)
#define SIG_C9 (1.0 / 362880)
#define SIG_C10 (1.0 / 3628800)
#define SIG_C11 (1.0 / 39916800)
#define SIG_C12 (1.0 / 479001600)
#define SIG_C13 (1.0 / 6227020800.0)

static inline uint64_t sig_bits(double d)
{
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

static inline double sig_double(uint64_t u)
{
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static inline double sigmoid_poly(double x)
{
  const double a = fabs(x), ac = a < SIG_AMAX ? a : SIG_AMAX, t = -ac;
  double kd = t * SIG_LOG2E + SIG_SHIFT;
  const uint64_t ki = sig_bits(kd);
  kd = kd - SIG_SHIFT;
  const double r = t - kd * SIG_LN2HI - kd * SIG_LN2LO;
  const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const double q0 = (1.0 + r) + r2 * (SIG_C2 + r * SIG_C3);
  const double q1 = (SIG_C4 + r * SIG_C5) + r2 * (SIG_C6 + r * SIG_C7);
  const double q2 = (SIG_C8 + r * SIG_C9) + r2 * (SIG_C10 + r * SIG_C11);
  const double p = (q0 + r4 * q1) + r8 * (q2 + r4 * (SIG_C12 + r * SIG_C13));
  double e = p * sig_double((ki + 1023) << 52);
  e = a < SIG_AMAX ? e : 0;
  const double y = (x >= 0 ? 1 : e) / (1 + e);
  return x == x ? y : x;
}

/* The same operations on W lanes at a time (GCC/Clang vector extensions):
 * VD, VL, VU are the double, signed-mask and bit-pattern vector types; x is
 * read, s written.  Lane-wise IEEE operations in the same order as
 * sigmoid_poly(), so every lane gives that function's bits. */
#define SIG_SELECT(VD, VL, m, a, b) ((VD)(((m) & (VL)(a)) | (~(m) & (VL)(b))))
#define SIG_STEP(VD, VL, VU, x, s)                                                   \
  do {                                                                               \
    const VD zero_ = (VD){ 0 }, one_ = zero_ + 1, amax_ = zero_ + SIG_AMAX;          \
    const VD a_ = (VD)((VU)(x) & 0x7fffffffffffffffu);                               \
    const VL small_ = a_ < amax_;                                                    \
    const VD t_ = -SIG_SELECT(VD, VL, small_, a_, amax_);                            \
    VD kd_ = t_ * SIG_LOG2E + SIG_SHIFT;                                             \
    const VU ki_ = (VU)kd_;                                                          \
    kd_ = kd_ - SIG_SHIFT;                                                           \
    const VD r_ = t_ - kd_ * SIG_LN2HI - kd_ * SIG_LN2LO;                            \
    const VD r2_ = r_ * r_, r4_ = r2_ * r2_, r8_ = r4_ * r4_;                        \
    const VD q0_ = (1.0 + r_) + r2_ * (SIG_C2 + r_ * SIG_C3);                        \
    const VD q1_ = (SIG_C4 + r_ * SIG_C5) + r2_ * (SIG_C6 + r_ * SIG_C7);             \
    const VD q2_ = (SIG_C8 + r_ * SIG_C9) + r2_ * (SIG_C10 + r_ * SIG_C11);           \
    const VD p_ = (q0_ + r4_ * q1_) + r8_ * (q2_ + r4_ * (SIG_C12 + r_ * SIG_C13));  \
    VD e_ = p_ * (VD)((ki_ + 1023) << 52);                                           \
    e_ = SIG_SELECT(VD, VL, small_, e_, zero_);                                      \
    const VD y_ = SIG_SELECT(VD, VL, (x) >= zero_, one_, e_) / (1 + e_);             \
    (s) = SIG_SELECT(VD, VL, (x) == (x), y_, (x));                                   \
  } while (0)

/* Y[i] = f(X[i]), and D[i] = f'(X[i]) if WITH_D, for f = silu (SILU) or
 * sigmoid, W lanes at a time while i + W <= n; X may be Y (in place). */
#define SIG_LOOP(VD, VL, VU, W, SILU, WITH_D)                                        \
  for (; i + (W) <= n; i += (W)) {                                                   \
    VD x, s, y, d;                                                                   \
    memcpy(&x, X + i, sizeof x);                                                     \
    SIG_STEP(VD, VL, VU, x, s);                                                      \
    if (SILU) {                                                                      \
      y = x * s;                                                                     \
      d = s * (1 + x * (1 - s));                                                     \
    } else {                                                                         \
      y = s;                                                                         \
      d = s * (1 - s);                                                               \
    }                                                                                \
    memcpy(Y + i, &y, sizeof y);                                                     \
    if (WITH_D) memcpy(D + i, &d, sizeof d);                                         \
  }

/* One function per vector width: the four (silu, D) cases as separate loops. */
#define SIG_ROWS_BODY(VD, VL, VU, W)                                                 \
  size_t i = 0;                                                                      \
  if (silu) {                                                                        \
    if (D) SIG_LOOP(VD, VL, VU, W, 1, 1)                                             \
    else SIG_LOOP(VD, VL, VU, W, 1, 0)                                               \
  } else {                                                                           \
    if (D) SIG_LOOP(VD, VL, VU, W, 0, 1)                                             \
    else SIG_LOOP(VD, VL, VU, W, 0, 0)                                               \
  }                                                                                  \
  return i

#if defined(__GNUC__)
#define SIG_HAVE_V2 1
typedef double sig_v2d __attribute__((vector_size(16)));
typedef int64_t sig_v2l __attribute__((vector_size(16)));
typedef uint64_t sig_v2u __attribute__((vector_size(16)));

/* Two lanes (SSE2 on x86-64, NEON on AArch64); returns the elements done. */
static size_t sig_rows_v2(size_t n, const eqg_real *X, eqg_real *Y, eqg_real *D, bool silu)
{
  SIG_ROWS_BODY(sig_v2d, sig_v2l, sig_v2u, 2);
}

#if defined(__x86_64__) || defined(__i386__)
#define SIG_HAVE_V4 1
typedef double sig_v4d __attribute__((vector_size(32)));
typedef int64_t sig_v4l __attribute__((vector_size(32)));
typedef uint64_t sig_v4u __attribute__((vector_size(32)));

/* Four lanes with AVX (no FMA: the bits stay those of the other paths),
 * chosen at run time when the processor has it. */
__attribute__((target("avx")))
static size_t sig_rows_v4(size_t n, const eqg_real *X, eqg_real *Y, eqg_real *D, bool silu)
{
  SIG_ROWS_BODY(sig_v4d, sig_v4l, sig_v4u, 4);
}
#endif
#endif

/* For i < n: Y[i] = f(X[i]) and, if D is not NULL, D[i] = f'(X[i]), for
 * f = silu (silu true) or sigmoid; X may be Y.  The elementwise silu and
 * sigmoid ops and their fused forms (eqg_fuse_act_forward).  (Splitting this
 * loop over OpenMP threads was tried and dropped: next to OpenBLAS's own
 * threads it oversubscribed the cores and doubled the step time.) */
static void sigmoid_rows(size_t n, const eqg_real *X, eqg_real *Y, eqg_real *D, bool silu)
{
  size_t i = 0;
#ifdef SIG_HAVE_V2
  if (sizeof(eqg_real) == sizeof(double)) {
#ifdef SIG_HAVE_V4
    if (__builtin_cpu_supports("avx")) i = sig_rows_v4(n, X, Y, D, silu);
#endif
    if (i == 0) i = sig_rows_v2(n, X, Y, D, silu);
  }
#endif
  for (; i < n; i++) {
    const double x = X[i], s = sigmoid_poly(x);
    Y[i] = (eqg_real)(silu ? x * s : s);
    if (D) D[i] = (eqg_real)(silu ? s * (1 + x * (1 - s)) : s * (1 - s));
  }
}

void eqg_fuse_act_forward(eqg_fuse_act act, eqg_real slope, size_t n, eqg_real *restrict y,
                          eqg_real *restrict d)
{
  switch (act) {
  case EQG_FUSE_NONE:
    if (d)
      for (size_t i = 0; i < n; i++) d[i] = 1;
    break;
  case EQG_FUSE_RELU:
    for (size_t i = 0; i < n; i++) {
      const eqg_real x = y[i];
      if (d) d[i] = x > 0 ? 1 : 0;
      y[i] = x > 0 ? x : 0;
    }
    break;
  case EQG_FUSE_LEAKY_RELU:
    for (size_t i = 0; i < n; i++) {
      const eqg_real x = y[i];
      if (d) d[i] = x > 0 ? 1 : slope;
      y[i] = x > 0 ? x : slope * x;
    }
    break;
  case EQG_FUSE_SILU: sigmoid_rows(n, y, y, d, true); break;
  case EQG_FUSE_SIGMOID: sigmoid_rows(n, y, y, d, false); break;
  case EQG_FUSE_TANH:
    for (size_t i = 0; i < n; i++) {
      const eqg_real v = tanh(y[i]);
      y[i] = v;
      if (d) d[i] = 1 - v * v;
    }
    break;
  default:
    EQG_ASSERT(0 && "eqg_fuse_act_forward: unknown activation");
  }
}

/* ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|) */
static inline eqg_real softplus_stable(eqg_real x)
{
  return fmax(x, 0) + log1p(exp(-fabs(x)));
}

/* ln(0.5 e^x + 0.5) = max(x, 0) + ln(1 + 0.5 (e^-|x| - 1)); expm1 keeps the
 * result accurate near x = 0, where it is x/2 (softplus(x) - ln 2 would lose
 * the low digits to cancellation). */
static inline eqg_real shifted_softplus_stable(eqg_real x)
{
  return fmax(x, 0) + log1p(0.5 * expm1(-fabs(x)));
}

/* y[i] = EXPR, with x = x[i] and the attributes a = r[0], b = r[1] in scope. */
#define UNARY_MAP(EXPR)                        \
  for (size_t i = 0; i < size; i++) {          \
    const eqg_real x = X[i];                   \
    Y[i] = (EXPR);                             \
  }                                            \
  break

/* dx[i] += dy[i] * EXPR, with x = x[i], y = y[i], a, b in scope. */
#define UNARY_GRAD(EXPR)                       \
  for (size_t i = 0; i < size; i++) {          \
    const eqg_real x = X[i], y = Y[i];         \
    (void)x;                                   \
    (void)y;                                   \
    GX[i] += GY[i] * (EXPR);                   \
  }                                            \
  break

static void unary_forward(eqg_node *n)
{
  const eqg_real *restrict X = n->in[0]->data;
  eqg_real *restrict Y = n->out->data;
  const size_t size = eqg_tensor_size(n->out);
  const eqg_real a = n->r[0], b = n->r[1];
  eqg_real *restrict S = n->aux;   /* saved state (silu', sigmoid) or NULL */
  switch (n->kind) {
  case EQG_OP_RELU:             UNARY_MAP(x > 0 ? x : 0);
  case EQG_OP_LEAKY_RELU:       UNARY_MAP(x > 0 ? x : a * x);
  case EQG_OP_SILU:             sigmoid_rows(size, X, Y, S, true); break;
  case EQG_OP_SIGMOID:          sigmoid_rows(size, X, Y, NULL, false); break;
  case EQG_OP_TANH:             UNARY_MAP(tanh(x));
  case EQG_OP_SOFTPLUS:
    if (!S) { UNARY_MAP(softplus_stable(x)); }
    for (size_t i = 0; i < size; i++) {   /* softplus_stable and sigmoid_stable, one exp */
      const eqg_real x = X[i], e = exp(-fabs(x));
      S[i] = (x >= 0 ? 1 : e) / (1 + e);
      Y[i] = fmax(x, 0) + log1p(e);
    }
    break;
  case EQG_OP_SHIFTED_SOFTPLUS: UNARY_MAP(shifted_softplus_stable(x));
  case EQG_OP_EXP:              UNARY_MAP(exp(x));
  case EQG_OP_LOG:              UNARY_MAP(log(x));
  case EQG_OP_SQRT:             UNARY_MAP(sqrt(x));
  case EQG_OP_ABS:              UNARY_MAP(fabs(x));
  case EQG_OP_CLAMP:            UNARY_MAP(x < a ? a : (x > b ? b : x));
  case EQG_OP_PSI:              UNARY_MAP(copysign(log1p(fabs(x)), x));   /* sgn(x) ln(1+|x|) */
  default:
    EQG_ASSERT(0 && "unary_forward: not an elementwise op");
  }
}

static void unary_backward(const eqg_node *n)
{
  if (!n->in[0]->grad) return;
  const eqg_real *restrict X = n->in[0]->data, *restrict Y = n->out->data;
  const eqg_real *restrict GY = n->out->grad;
  eqg_real *restrict GX = n->in[0]->grad;
  const size_t size = eqg_tensor_size(n->out);
  const eqg_real a = n->r[0], b = n->r[1];
  const eqg_real *restrict S = n->aux;   /* silu'(x) (silu), sigmoid(x) (softplus) */
  switch (n->kind) {
  case EQG_OP_RELU:       UNARY_GRAD(x > 0 ? 1 : 0);
  case EQG_OP_LEAKY_RELU: UNARY_GRAD(x > 0 ? 1 : a);
  /* silu' = s + x s (1 - s) = s (1 + x (1 - s)), s = sigmoid(x): saved */
  case EQG_OP_SILU:
    for (size_t i = 0; i < size; i++) GX[i] += GY[i] * S[i];
    break;
  case EQG_OP_SIGMOID:    UNARY_GRAD(y * (1 - y));
  case EQG_OP_TANH:       UNARY_GRAD(1 - y * y);
  /* both softplus variants differ by a constant: f' = sigmoid(x) */
  case EQG_OP_SOFTPLUS:
    for (size_t i = 0; i < size; i++) GX[i] += GY[i] * S[i];
    break;
  case EQG_OP_SHIFTED_SOFTPLUS: UNARY_GRAD(sigmoid_stable(x));
  case EQG_OP_EXP:        UNARY_GRAD(y);
  case EQG_OP_LOG:        UNARY_GRAD(1 / x);
  case EQG_OP_SQRT:       UNARY_GRAD(0.5 / y);
  case EQG_OP_ABS:        UNARY_GRAD(x > 0 ? 1 : (x < 0 ? -1 : 0));
  case EQG_OP_CLAMP:      UNARY_GRAD(x >= a && x <= b ? 1 : 0);
  case EQG_OP_PSI:        UNARY_GRAD(1 / (1 + fabs(x)));
  default:
    EQG_ASSERT(0 && "unary_backward: not an elementwise op");
  }
}

#undef UNARY_MAP
#undef UNARY_GRAD

const eqg_op_type eqg_op_relu = { "relu", unary_forward, unary_backward };
const eqg_op_type eqg_op_leaky_relu = { "leaky_relu", unary_forward, unary_backward };
const eqg_op_type eqg_op_silu = { "silu", unary_forward, unary_backward };
const eqg_op_type eqg_op_sigmoid = { "sigmoid", unary_forward, unary_backward };
const eqg_op_type eqg_op_tanh = { "tanh", unary_forward, unary_backward };
const eqg_op_type eqg_op_softplus = { "softplus", unary_forward, unary_backward };
const eqg_op_type eqg_op_shifted_softplus = { "shifted_softplus", unary_forward,
                                              unary_backward };
const eqg_op_type eqg_op_exp = { "exp", unary_forward, unary_backward };
const eqg_op_type eqg_op_log = { "log", unary_forward, unary_backward };
const eqg_op_type eqg_op_sqrt = { "sqrt", unary_forward, unary_backward };
const eqg_op_type eqg_op_abs = { "abs", unary_forward, unary_backward };
const eqg_op_type eqg_op_clamp = { "clamp", unary_forward, unary_backward };
const eqg_op_type eqg_op_psi = { "psi", unary_forward, unary_backward };

/* Common constructor: y has the shape of x; a, b go to r[0], r[1]. */
static eqg_tensor *unary_push(eqg_tape *t, eqg_op_kind kind, eqg_tensor *x, eqg_real a,
                              eqg_real b)
{
  if (t->status != EQG_OK) return NULL;
  if (!x) return eqg_tape_fail(t, EQG_EINVAL, "%s: NULL input", eqg_op_types[kind]->name);
  eqg_tensor *in[1] = { x };
  eqg_node *n = eqg_tape_push(t, kind, 1, in, x->rows, x->cols);
  if (!n) return NULL;
  n->r[0] = a;
  n->r[1] = b;
  if ((kind == EQG_OP_SILU || kind == EQG_OP_SOFTPLUS) && n->out->grad) {
    const size_t size = eqg_tensor_size(x);
    if (!(n->aux = eqg_arena_push_uninit(t->arena, size * sizeof(eqg_real))))
      return eqg_tape_fail(t, EQG_ENOMEM, "%s: saved state of %zu x %zu: %s",
                           eqg_op_types[kind]->name, x->rows, x->cols, eqg_error_message());
  }
  return eqg_tape_run(t, n);
}

eqg_tensor *eqg_relu(eqg_tape *t, eqg_tensor *x) { return unary_push(t, EQG_OP_RELU, x, 0, 0); }
eqg_tensor *eqg_silu(eqg_tape *t, eqg_tensor *x) { return unary_push(t, EQG_OP_SILU, x, 0, 0); }
eqg_tensor *eqg_tanh(eqg_tape *t, eqg_tensor *x) { return unary_push(t, EQG_OP_TANH, x, 0, 0); }
eqg_tensor *eqg_exp(eqg_tape *t, eqg_tensor *x) { return unary_push(t, EQG_OP_EXP, x, 0, 0); }
eqg_tensor *eqg_log(eqg_tape *t, eqg_tensor *x) { return unary_push(t, EQG_OP_LOG, x, 0, 0); }
eqg_tensor *eqg_sqrt(eqg_tape *t, eqg_tensor *x) { return unary_push(t, EQG_OP_SQRT, x, 0, 0); }
eqg_tensor *eqg_abs(eqg_tape *t, eqg_tensor *x) { return unary_push(t, EQG_OP_ABS, x, 0, 0); }
eqg_tensor *eqg_psi(eqg_tape *t, eqg_tensor *x) { return unary_push(t, EQG_OP_PSI, x, 0, 0); }

eqg_tensor *eqg_sigmoid(eqg_tape *t, eqg_tensor *x)
{
  return unary_push(t, EQG_OP_SIGMOID, x, 0, 0);
}

eqg_tensor *eqg_softplus(eqg_tape *t, eqg_tensor *x)
{
  return unary_push(t, EQG_OP_SOFTPLUS, x, 0, 0);
}

eqg_tensor *eqg_shifted_softplus(eqg_tape *t, eqg_tensor *x)
{
  return unary_push(t, EQG_OP_SHIFTED_SOFTPLUS, x, 0, 0);
}

eqg_tensor *eqg_leaky_relu(eqg_tape *t, eqg_tensor *x, eqg_real slope)
{
  if (t->status != EQG_OK) return NULL;
  if (!isfinite(slope))
    return eqg_tape_fail(t, EQG_EINVAL, "leaky_relu: slope %g is not finite", slope);
  return unary_push(t, EQG_OP_LEAKY_RELU, x, slope, 0);
}

eqg_tensor *eqg_clamp(eqg_tape *t, eqg_tensor *x, eqg_real lo, eqg_real hi)
{
  if (t->status != EQG_OK) return NULL;
  if (!(lo <= hi))   /* also rejects NaN bounds */
    return eqg_tape_fail(t, EQG_EINVAL, "clamp: need lo <= hi, got lo = %g, hi = %g", lo, hi);
  return unary_push(t, EQG_OP_CLAMP, x, lo, hi);
}
