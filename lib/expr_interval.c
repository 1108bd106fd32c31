/* Formulas and rules: evaluation of a compiled program (expr.c) over
 * intervals, for the checks: the range a formula's value can take when each
 * input is known only as an interval (tally_expr__eval_interval, expr.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "expr.h"

#include <math.h>
#include <stdlib.h>

#include "expr_impl.h"
#include "tally/error.h"

/* ------------------------------------------------------------------------ */
/* Evaluation over intervals.
 *
 * A value is one of three things, kept apart so that is_missing, coalesce
 * and if stay sound (their result must hold for every point the operands
 * stand for):
 *   [lo, hi]  finite ends: every point gives a number in [lo, hi];
 *   missing   (NaN, NaN): every point gives missing;
 *   unknown   (-inf, +inf): points may give anything, missing included
 *             (a divisor interval around 0, an overflowing end, ...).
 * Both missing and unknown come out as NaN. Booleans are [0, 0], [1, 1],
 * or [0, 1] when the operands do not decide. */

typedef struct iv {
    double lo, hi;
} iv;

static inline iv iv_missing(void) { return (iv){ NAN, NAN }; }
static inline iv iv_unknown(void) { return (iv){ -INFINITY, INFINITY }; }
static inline int is_missing_iv(iv x) { return isnan(x.lo); }
static inline int is_unknown_iv(iv x) { return isinf(x.lo); }
static inline int is_range_iv(iv x) { return isfinite(x.lo); }

/* A computed range. An end that overflows means some points do (unknown);
 * a low end at +inf or a high end at -inf means all of them (missing). */
static inline iv iv_make(double lo, double hi)
{
    if (isfinite(lo) && isfinite(hi))
        return (iv){ lo, hi };
    return (lo == INFINITY || hi == -INFINITY) ? iv_missing() : iv_unknown();
}

static inline iv iv_bool(int can_be_false, int can_be_true)
{
    return (iv){ can_be_false ? 0.0 : 1.0, can_be_true ? 1.0 : 0.0 };
}

/* For ranges: whether some point is 0 (false), some point is not. */
static inline int may_be_false(iv x) { return x.lo <= 0 && x.hi >= 0; }
static inline int may_be_true(iv x) { return !(x.lo == 0 && x.hi == 0); }

/* Missing wins over unknown: a strict operation on a missing operand is
 * missing at every point. Returns 1 when *r is decided. */
static inline int strict1(iv a, iv *r)
{
    if (is_range_iv(a))
        return 0;
    *r = a;
    return 1;
}

static inline int strict2(iv a, iv b, iv *r)
{
    if (is_range_iv(a) && is_range_iv(b))
        return 0;
    *r = is_missing_iv(a) || is_missing_iv(b) ? iv_missing() : iv_unknown();
    return 1;
}

static inline double min2(double a, double b) { return b < a ? b : a; }
static inline double max2(double a, double b) { return b > a ? b : a; }
static inline double min4(double a, double b, double c, double d)
{
    return min2(min2(a, b), min2(c, d));
}
static inline double max4(double a, double b, double c, double d)
{
    return max2(max2(a, b), max2(c, d));
}

static iv i_unary(int op, iv a)
{
    iv r;
    if (op == OP_IS_MISSING)
        return is_missing_iv(a) ? iv_bool(0, 1) : is_unknown_iv(a) ? iv_bool(1, 1) : iv_bool(1, 0);
    if (strict1(a, &r))
        return r;
    switch (op) {
    case OP_NEG: return iv_make(-a.hi, -a.lo);
    case OP_NOT: return iv_bool(may_be_true(a), may_be_false(a));
    case OP_ABS:
        if (a.lo >= 0)
            return a;
        if (a.hi <= 0)
            return iv_make(-a.hi, -a.lo);
        return iv_make(0, max2(-a.lo, a.hi));
    case OP_SQRT:
        /* Points below 0 give missing, the others a number. */
        if (a.hi < 0)
            return iv_missing();
        return a.lo < 0 ? iv_unknown() : iv_make(sqrt(a.lo), sqrt(a.hi));
    case OP_LN:
        if (a.hi <= 0)
            return iv_missing();
        return a.lo <= 0 ? iv_unknown() : iv_make(log(a.lo), log(a.hi));
    case OP_EXP: return iv_make(exp(a.lo), exp(a.hi));
    default: return iv_unknown();
    }
}

static iv i_pow(iv a, iv b)
{
    if (a.lo == a.hi && b.lo == b.hi) {
        double v = s_pow(a.lo, b.lo);
        return isfinite(v) ? (iv){ v, v } : iv_missing();
    }
    if (b.lo == b.hi && b.lo == nearbyint(b.lo) && fabs(b.lo) < 0x1p53) {
        /* An integer exponent: x^k is monotone on each side of 0. */
        double k = b.lo;
        if (k == 0)
            return iv_make(1, 1);
        double pa = pow(a.lo, k), pb = pow(a.hi, k);
        if (a.lo <= 0 && a.hi >= 0) {
            if (k < 0) /* 1/0 at x = 0 */
                return a.lo == 0 && a.hi == 0 ? iv_missing() : iv_unknown();
            if (fmod(k, 2) == 0)
                return iv_make(0, max2(pa, pb));
            return iv_make(pa, pb);
        }
        return iv_make(min2(pa, pb), max2(pa, pb));
    }
    if (a.hi < 0)
        return b.lo == b.hi ? iv_missing() : iv_unknown(); /* b may hold integers */
    if (a.lo < 0 || (a.lo == 0 && b.lo < 0))
        return iv_unknown();
    /* x^y on x >= 0 is monotone in x for each y and in y for each x, so
     * the extremes over the box are at its corners. */
    double c1 = pow(a.lo, b.lo), c2 = pow(a.lo, b.hi), c3 = pow(a.hi, b.lo), c4 = pow(a.hi, b.hi);
    return iv_make(min4(c1, c2, c3, c4), max4(c1, c2, c3, c4));
}

static iv i_compare(int op, iv a, iv b)
{
    int t, f; /* decided true, decided false */
    switch (op) {
    case OP_LT: t = a.hi < b.lo; f = a.lo >= b.hi; break;
    case OP_LE: t = a.hi <= b.lo; f = a.lo > b.hi; break;
    case OP_GT: t = a.lo > b.hi; f = a.hi <= b.lo; break;
    case OP_GE: t = a.lo >= b.hi; f = a.hi < b.lo; break;
    case OP_EQ:
        t = a.lo == a.hi && b.lo == b.hi && a.lo == b.lo;
        f = a.hi < b.lo || b.hi < a.lo;
        break;
    default: /* OP_NE */
        f = a.lo == a.hi && b.lo == b.hi && a.lo == b.lo;
        t = a.hi < b.lo || b.hi < a.lo;
        break;
    }
    return iv_bool(!t, !f);
}

/* Three-valued and/or: a decided false (and) or true (or) operand decides
 * even against missing; otherwise missing with an operand that cannot
 * decide gives missing, with one that might gives unknown. */
static iv i_logic(int op, iv a, iv b)
{
    int is_and = op == OP_AND;
    /* "deciding" = false for and, true for or. */
    int a_decides = is_range_iv(a) && (is_and ? !may_be_true(a) : !may_be_false(a));
    int b_decides = is_range_iv(b) && (is_and ? !may_be_true(b) : !may_be_false(b));
    if (a_decides || b_decides)
        return is_and ? iv_bool(1, 0) : iv_bool(0, 1);
    if (is_missing_iv(a) || is_missing_iv(b)) {
        iv other = is_missing_iv(a) ? b : a;
        if (is_missing_iv(other))
            return iv_missing();
        int other_may_decide = is_and ? may_be_false(other) : may_be_true(other);
        return is_range_iv(other) && !other_may_decide ? iv_missing() : iv_unknown();
    }
    if (is_unknown_iv(a) || is_unknown_iv(b))
        return iv_unknown();
    if (is_and)
        return iv_bool(may_be_false(a) || may_be_false(b), may_be_true(a) && may_be_true(b));
    return iv_bool(may_be_false(a) && may_be_false(b), may_be_true(a) || may_be_true(b));
}

static iv i_binary(int op, iv a, iv b)
{
    iv r;
    if (op == OP_COALESCE)
        return is_missing_iv(a) ? b : a; /* unknown stays unknown */
    if (op == OP_AND || op == OP_OR)
        return i_logic(op, a, b);
    if (strict2(a, b, &r))
        return r;
    switch (op) {
    case OP_ADD: return iv_make(a.lo + b.lo, a.hi + b.hi);
    case OP_SUB: return iv_make(a.lo - b.hi, a.hi - b.lo);
    case OP_MUL: {
        double p1 = a.lo * b.lo, p2 = a.lo * b.hi, p3 = a.hi * b.lo, p4 = a.hi * b.hi;
        return iv_make(min4(p1, p2, p3, p4), max4(p1, p2, p3, p4));
    }
    case OP_DIV: {
        if (b.lo <= 0 && b.hi >= 0)
            return b.lo == 0 && b.hi == 0 ? iv_missing() : iv_unknown();
        /* The four quotients rather than a * [1/hi, 1/lo]: one rounding
         * instead of two, so [1,2]/[4,5] is exactly [0.2, 0.5]. */
        double q1 = a.lo / b.lo, q2 = a.lo / b.hi, q3 = a.hi / b.lo, q4 = a.hi / b.hi;
        return iv_make(min4(q1, q2, q3, q4), max4(q1, q2, q3, q4));
    }
    case OP_POW: return i_pow(a, b);
    case OP_MIN: return iv_make(min2(a.lo, b.lo), min2(a.hi, b.hi));
    case OP_MAX: return iv_make(max2(a.lo, b.lo), max2(a.hi, b.hi));
    case OP_ROUND:
        /* Monotone in x for a fixed n; n spanning several values is not. */
        if (b.lo != b.hi)
            return iv_unknown();
        return iv_make(s_round(a.lo, b.lo), s_round(a.hi, b.lo));
    default: return i_compare(op, a, b);
    }
}

static iv i_if(iv c, iv a, iv b)
{
    iv r;
    if (strict1(c, &r))
        return r;
    if (!may_be_false(c))
        return a;
    if (!may_be_true(c))
        return b;
    /* Either branch, depending on the point. */
    if (is_missing_iv(a) && is_missing_iv(b))
        return iv_missing();
    if (!is_range_iv(a) || !is_range_iv(b))
        return iv_unknown();
    return iv_make(min2(a.lo, b.lo), max2(a.hi, b.hi));
}

/* Runs the program over rows [base, base + m) and stores the ends in
 * out_lo/out_hi. Level k of the stack lives in mem[2k] (low ends) and
 * mem[2k + 1] (high ends); each row is read before it is written, so an
 * operation writes over its first operand. Not vectorized: this serves the
 * checks, not the rollup. */
static void run_interval_block(const tally_expr *e, const double *const *lo,
                               const double *const *hi, size_t base, size_t m, double *mem,
                               double *out_lo, double *out_hi)
{
    size_t sp = 0;
    for (size_t pc = 0; pc < e->n; pc++) {
        const insn *in = &e->code[pc];
        int op = in->op;
        double *rl = mem + 2 * sp * BLOCK, *rh = rl + BLOCK;
        if (op == OP_CONST) {
            double v = isfinite(in->value) ? in->value : NAN;
            fill(rl, m, v);
            fill(rh, m, v);
            sp++;
            continue;
        }
        if (op == OP_LOAD) {
            /* Copied, to turn non-finite ends into missing (not unknown). */
            const double *cl = lo ? lo[in->var] : NULL;
            const double *ch = hi && hi[in->var] ? hi[in->var] : cl;
            for (size_t i = 0; i < m; i++) {
                double l = cl ? cl[base + i] : NAN, h = cl ? ch[base + i] : NAN;
                if (!isfinite(l) || !isfinite(h))
                    l = h = NAN;
                rl[i] = min2(l, h);
                rh[i] = max2(l, h);
            }
            sp++;
            continue;
        }
        size_t k = IS_UNARY(op) ? sp - 1 : IS_BINARY(op) ? sp - 2 : sp - 3;
        double *al = mem + 2 * k * BLOCK, *ah = al + BLOCK;
        double *bl = al + 2 * BLOCK, *bh = bl + BLOCK;
        double *cl = bl + 2 * BLOCK, *ch = cl + BLOCK;
        for (size_t i = 0; i < m; i++) {
            iv a = { al[i], ah[i] }, r;
            if (IS_UNARY(op))
                r = i_unary(op, a);
            else if (IS_BINARY(op))
                r = i_binary(op, a, (iv){ bl[i], bh[i] });
            else
                r = i_if(a, (iv){ bl[i], bh[i] }, (iv){ cl[i], ch[i] });
            al[i] = r.lo;
            ah[i] = r.hi;
        }
        sp = k + 1;
    }
    /* A boolean result gives missing: the caller compares the sides. */
    int boolean = tally_expr__is_boolean(e);
    for (size_t i = 0; i < m; i++) {
        iv r = sp ? (iv){ mem[i], mem[BLOCK + i] } : iv_missing();
        if (boolean || !is_range_iv(r))
            r = iv_missing();
        out_lo[i] = r.lo;
        out_hi[i] = r.hi;
    }
}

int tally_expr__eval_interval(const tally_expr *e, const double *const *lo,
                              const double *const *hi, size_t n, double *out_lo, double *out_hi)
{
    if (n == 0)
        return 0;
    double *mem = malloc(2 * (e->stack ? e->stack : 1) * BLOCK * sizeof *mem);
    if (!mem)
        return TALLY_ENOMEM;
    for (size_t base = 0; base < n; base += BLOCK) {
        size_t m = n - base < BLOCK ? n - base : BLOCK;
        run_interval_block(e, lo, hi, base, m, mem, out_lo + base, out_hi + base);
    }
    free(mem);
    return 0;
}
