/* Inside the formula engine: the program's layout, and what the compiler
 * (expr.c) and the two evaluators (expr_eval.c over columns,
 * expr_interval.c over intervals) share: the scalar semantics, so that
 * constant folding and evaluation give the same answer. Other modules use
 * expr.h. The functions are static inline: the evaluators call them once a
 * value, and their loops vectorize only with the calls inlined.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_LIB_EXPR_IMPL_H
#define TALLY_LIB_EXPR_IMPL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "expr.h"

/* Rows per block: 256 doubles are 2 KiB per stack slot, so a program with a
 * deep stack still fits in L1 while the per-instruction dispatch is spread
 * over enough rows not to matter. */
enum { BLOCK = 256 };

/* Instructions. The order matters: IS_UNARY, IS_BINARY and IS_COMPARISON
 * below classify them by range. */
enum {
    OP_CONST, /* push value */
    OP_LOAD,  /* push column var */
    /* unary */
    OP_NEG,
    OP_NOT,
    OP_ABS,
    OP_SQRT,
    OP_LN,
    OP_EXP,
    OP_IS_MISSING,
    /* binary */
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_POW,
    OP_MIN,
    OP_MAX,
    OP_ROUND,
    OP_COALESCE,
    OP_AND,
    OP_OR,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    /* ternary */
    OP_IF
};

#define IS_UNARY(op) ((op) >= OP_NEG && (op) <= OP_IS_MISSING)
#define IS_BINARY(op) ((op) >= OP_ADD && (op) <= OP_GE)
#define IS_COMPARISON(op) ((op) >= OP_EQ && (op) <= OP_GE)

typedef struct insn {
    int op;
    long var;     /* OP_LOAD */
    double value; /* OP_CONST */
} insn;

struct tally_expr {
    insn *code;
    size_t n;
    long *vars; /* distinct, first use first */
    size_t nvars;
    size_t stack; /* deepest stack the program reaches */
    long lag_stride; /* prev/lag: variable v at lag k is v + k * lag_stride; 0: none allowed */
};

/* ------------------------------------------------------------------------ */
/* Scalar semantics, shared by the evaluator and constant folding so both
 * give the same answer. Any non-finite value counts as missing. */

/* The evaluator's loops should vectorize: these are written without
 * branches (bitwise & and | on comparison results, selects instead of
 * if/return), which GCC and Clang turn into blends. */
static inline int missing(double x) { return !isfinite(x); }
static inline double finite_or_nan(double r) { return isfinite(r) ? r : NAN; }

static inline double s_add(double a, double b) { return finite_or_nan(a + b); }
static inline double s_sub(double a, double b) { return finite_or_nan(a - b); }
static inline double s_mul(double a, double b) { return finite_or_nan(a * b); }
static inline double s_div(double a, double b)
{
    /* b must be checked itself: a / inf would be a finite 0. */
    double q = a / b;
    return ((b != 0) & isfinite(b) & isfinite(q)) ? q : NAN;
}
static inline double s_neg(double a) { return finite_or_nan(-a); }

static inline double s_pow(double a, double b)
{
    /* pow(NaN, 0) and pow(1, NaN) are 1 in C; missing must stay missing. */
    if (missing(a) || missing(b))
        return NAN;
    return finite_or_nan(pow(a, b));
}

static inline double s_min(double a, double b)
{
    return (isfinite(a) & isfinite(b)) ? (b < a ? b : a) : NAN;
}

static inline double s_max(double a, double b)
{
    return (isfinite(a) & isfinite(b)) ? (b > a ? b : a) : NAN;
}

static inline double s_and(double a, double b)
{
    int any_false = (isfinite(a) & (a == 0)) | (isfinite(b) & (b == 0));
    int any_missing = !isfinite(a) | !isfinite(b);
    return any_false ? 0.0 : any_missing ? NAN : 1.0;
}

static inline double s_or(double a, double b)
{
    int any_true = (isfinite(a) & (a != 0)) | (isfinite(b) & (b != 0));
    int any_missing = !isfinite(a) | !isfinite(b);
    return any_true ? 1.0 : any_missing ? NAN : 0.0;
}

static inline double s_coalesce(double a, double b) { return isfinite(a) ? a : finite_or_nan(b); }
static inline double s_not(double a) { return isfinite(a) ? (double)(a == 0) : NAN; }
static inline double s_is_missing(double a) { return (double)!isfinite(a); }
static inline double s_abs(double a) { return finite_or_nan(fabs(a)); }
static inline double s_sqrt(double a) { return (missing(a) || a < 0) ? NAN : sqrt(a); }
static inline double s_ln(double a) { return (missing(a) || a <= 0) ? NAN : log(a); }
static inline double s_exp(double a) { return missing(a) ? NAN : finite_or_nan(exp(a)); }

#define BOTH(a, b) (isfinite(a) & isfinite(b))
static inline double s_eq(double a, double b) { return BOTH(a, b) ? (double)(a == b) : NAN; }
static inline double s_ne(double a, double b) { return BOTH(a, b) ? (double)(a != b) : NAN; }
static inline double s_lt(double a, double b) { return BOTH(a, b) ? (double)(a < b) : NAN; }
static inline double s_le(double a, double b) { return BOTH(a, b) ? (double)(a <= b) : NAN; }
static inline double s_gt(double a, double b) { return BOTH(a, b) ? (double)(a > b) : NAN; }
static inline double s_ge(double a, double b) { return BOTH(a, b) ? (double)(a >= b) : NAN; }
#undef BOTH

static const double pow10_table[16] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
};

/* Rounds half away from zero at `digits` decimals. The tie is judged on the
 * decimal the user sees, not on the binary double: 2.675 is stored as
 * 2.67499999999999982236431605997495353221893310546875, yet a report that
 * prints 2.68 for it is right. So x * 10^n within 4 ulps of .5 counts as a
 * tie (one ulp from the scaling, the rest from x's own representation). */
static inline double s_round(double x, double digits)
{
    if (missing(x) || missing(digits))
        return NAN;
    /* n: digits rounded half away from zero, clamped to -15..15. */
    double d = digits < -15 ? -15 : digits > 15 ? 15 : digits;
    int n = (int)(d < 0 ? d - 0.5 : d + 0.5);
    double p = pow10_table[n < 0 ? -n : n];
    double y = n >= 0 ? x * p : x / p;
    /* From 2^52 on every double is an integer: nothing to round. */
    if (!(fabs(y) < 0x1p52))
        return x;
    double t = (double)(int64_t)y; /* trunc, exact below 2^52 */
    double f = fabs(y - t);        /* exact: y and t share their high bits */
    /* ulp(y): the power of two of y's exponent times 2^-52 (0 for
     * subnormals, which are never near a half). */
    double ay = fabs(y), top;
    uint64_t bits;
    memcpy(&bits, &ay, sizeof bits);
    bits &= 0x7ff0000000000000u;
    memcpy(&top, &bits, sizeof top);
    double ulp = top * 0x1p-52;
    /* Near 2^52 four ulps would swallow genuine quarters: cap the slack. */
    double tol = 4 * ulp < 0x1p-6 ? 4 * ulp : 0x1p-6;
    /* Written as selects: whether a row rounds up is data, not a pattern
     * a branch predictor can learn. */
    double away = f >= 0.5 - tol ? 1.0 : 0.0;
    t += copysign(away, y);
    double r = n >= 0 ? t / p : t * p;
    return finite_or_nan(r) + 0.0; /* + 0.0 turns -0 into 0 */
}

static inline double s_if(double c, double a, double b)
{
    return isfinite(c) ? finite_or_nan(c != 0 ? a : b) : NAN;
}

static inline double s_binary(int op, double a, double b)
{
    switch (op) {
    case OP_ADD: return s_add(a, b);
    case OP_SUB: return s_sub(a, b);
    case OP_MUL: return s_mul(a, b);
    case OP_DIV: return s_div(a, b);
    case OP_POW: return s_pow(a, b);
    case OP_MIN: return s_min(a, b);
    case OP_MAX: return s_max(a, b);
    case OP_ROUND: return s_round(a, b);
    case OP_COALESCE: return s_coalesce(a, b);
    case OP_AND: return s_and(a, b);
    case OP_OR: return s_or(a, b);
    case OP_EQ: return s_eq(a, b);
    case OP_NE: return s_ne(a, b);
    case OP_LT: return s_lt(a, b);
    case OP_LE: return s_le(a, b);
    case OP_GT: return s_gt(a, b);
    case OP_GE: return s_ge(a, b);
    default: return NAN;
    }
}

/* Fills r[0, m) with v (constant blocks, and missing for an absent
 * column). */
static inline void fill(double *r, size_t m, double v)
{
    for (size_t i = 0; i < m; i++)
        r[i] = v;
}

#endif
