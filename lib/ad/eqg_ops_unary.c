/* eqg_ops_unary.c: elementwise functions y = f(x), x and y of the same shape.
 *
 * Attributes: leaky_relu r[0] = slope (for x <= 0); clamp r[0] = lo, r[1] = hi.
 *
 * All thirteen kinds share one forward and one backward driver.  Each driver
 * switches on the node's kind ONCE and then runs a tight loop over the
 * contiguous elements whose body is the kind's formula (UNARY_MAP /
 * UNARY_GRAD below), so there is no per-element function-pointer call or
 * switch.  Backward computes dx[i] += dy[i] f'(x[i]), using the saved output
 * y where that avoids recomputing a transcendental (sigmoid, tanh, exp, sqrt).
 *
 * Conventions at kinks (measure-zero points): relu'(0) = 0, leaky_relu'(0) =
 * slope, abs'(0) = 0, clamp' = 1 on the closed interval [lo, hi].  Outside a
 * function's domain the result is what libm gives (log of x <= 0 and sqrt of
 * x < 0 are -inf / NaN; sqrt'(0) is +inf): callers keep inputs in range. */
#include "ad/eqg_ops.h"

#include <math.h>

/* 1 / (1 + e^-x) without overflow: with e = e^-|x| <= 1,
 * x >= 0: 1 / (1 + e);  x < 0: e / (1 + e). */
static inline eqg_real sigmoid_stable(eqg_real x)
{
  const eqg_real e = exp(-fabs(x));
  return (x >= 0 ? 1 : e) / (1 + e);
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
  switch (n->kind) {
  case EQG_OP_RELU:             UNARY_MAP(x > 0 ? x : 0);
  case EQG_OP_LEAKY_RELU:       UNARY_MAP(x > 0 ? x : a * x);
  case EQG_OP_SILU:             UNARY_MAP(x * sigmoid_stable(x));
  case EQG_OP_SIGMOID:          UNARY_MAP(sigmoid_stable(x));
  case EQG_OP_TANH:             UNARY_MAP(tanh(x));
  case EQG_OP_SOFTPLUS:         UNARY_MAP(softplus_stable(x));
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
  switch (n->kind) {
  case EQG_OP_RELU:       UNARY_GRAD(x > 0 ? 1 : 0);
  case EQG_OP_LEAKY_RELU: UNARY_GRAD(x > 0 ? 1 : a);
  /* silu' = s + x s (1 - s) = s (1 + x (1 - s)), s = sigmoid(x) */
  case EQG_OP_SILU: {
    for (size_t i = 0; i < size; i++) {
      const eqg_real x = X[i], s = sigmoid_stable(x);
      GX[i] += GY[i] * s * (1 + x * (1 - s));
    }
    break;
  }
  case EQG_OP_SIGMOID:    UNARY_GRAD(y * (1 - y));
  case EQG_OP_TANH:       UNARY_GRAD(1 - y * y);
  /* both softplus variants differ by a constant: f' = sigmoid(x) */
  case EQG_OP_SOFTPLUS:
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
