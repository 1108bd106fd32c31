/* Tests for the formula engine (lib/expr.c). Every expected value is worked
 * out by hand in the comment next to it, or computed row by row in plain C
 * in the test itself.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expr.h"
#include "tally/error.h"

/* Variables known to the resolver; the index is the position. */
static const char *const names[] = { "a", "b", "c", "m", "z", "p", "q", "n", "t", "inf" };
enum { VA, VB, VC, VM, VZ, VP, VQ, VN, VT, VINF, NV };

static long resolve(void *ctx, const char *name, size_t len)
{
    (void)ctx;
    for (size_t k = 0; k < NV; k++)
        if (strlen(names[k]) == len && memcmp(names[k], name, len) == 0)
            return (long)k;
    return -1;
}

/* One row of values, reset by reset_values() before each test that uses it:
 * a = 10, b = 3, c = 2, m missing, z = 0, inf = +infinity. */
static double V[NV];

static void reset_values(void)
{
    V[VA] = 10;
    V[VB] = 3;
    V[VC] = 2;
    V[VM] = NAN;
    V[VZ] = 0;
    V[VP] = 1;
    V[VQ] = 1;
    V[VN] = 2;
    V[VT] = 1;
    V[VINF] = INFINITY;
}

static tally_expr *compile_ok(const char *src)
{
    tally_expr *e = NULL;
    size_t off = 99;
    int rc = tally_expr__compile(&e, src, strlen(src), resolve, NULL, &off);
    if (rc)
        fail_msg("'%s' did not compile: %d %s (offset %zu)", src, rc,
                 tally_error_last()->message, off);
    return e;
}

/* Evaluates src over the single row V. */
static double ev(const char *src)
{
    tally_expr *e = compile_ok(src);
    const double *cols[NV];
    for (size_t k = 0; k < NV; k++)
        cols[k] = &V[k];
    double out = -12345;
    assert_int_equal(tally_expr__eval(e, cols, 1, &out), 0);
    tally_expr__free(e);
    return out;
}

#define EXPECT(src, want)                                                                    \
    do {                                                                                     \
        double got_ = ev(src);                                                               \
        if (!(got_ == (want)))                                                               \
            fail_msg("%s: got %.17g, want %.17g", src, got_, (double)(want));                \
    } while (0)

#define EXPECT_NEAR(src, want, tol)                                                          \
    do {                                                                                     \
        double got_ = ev(src);                                                               \
        if (!(fabs(got_ - (want)) <= (tol)))                                                 \
            fail_msg("%s: got %.17g, want %.17g", src, got_, (double)(want));                \
    } while (0)

#define EXPECT_MISSING(src)                                                                  \
    do {                                                                                     \
        double got_ = ev(src);                                                               \
        if (!isnan(got_))                                                                    \
            fail_msg("%s: got %.17g, want missing", src, got_);                              \
    } while (0)

static void expect_error(const char *src, size_t len, int code, size_t offset,
                         const char *message)
{
    tally_expr *e = (tally_expr *)&e; /* must be reset to NULL */
    size_t off = 99999;
    int rc = tally_expr__compile(&e, src, len, resolve, NULL, &off);
    if (rc != code || off != offset)
        fail_msg("'%.60s': got code %d offset %zu (%s), want code %d offset %zu", src, rc, off,
                 tally_error_last()->message, code, offset);
    assert_null(e);
    assert_int_equal(tally_error_last()->code, code);
    if (message && !strstr(tally_error_last()->message, message))
        fail_msg("'%.60s': message '%s' lacks '%s'", src, tally_error_last()->message,
                 message);
}

#define ERR(src, code, offset, message) expect_error(src, strlen(src), code, offset, message)

static void test_expr__numbers(void **state)
{
    (void)state;
    reset_values();
    EXPECT("100", 100);
    EXPECT("0.5", 0.5);
    EXPECT("1e3", 1000);
    EXPECT(".5", 0.5);
    EXPECT("1.5e-2", 0.015);
    EXPECT("2E+2", 200);
    EXPECT("  7\t", 7);
    EXPECT("a\n+\r\nb", 13);
}

static void test_expr__precedence(void **state)
{
    (void)state;
    reset_values(); /* a = 10, b = 3, c = 2 */
    EXPECT("a - b - c", 5);        /* (10 - 3) - 2 = 5, not 10 - (3 - 2) = 9 */
    EXPECT("a / b * c", 20.0 / 3); /* (10 / 3) * 2, not 10 / 6 */
    EXPECT("a / c / c", 2.5);      /* (10 / 2) / 2 = 2.5, not 10 / 1 */
    EXPECT("a + b * c", 16);       /* 10 + 6 */
    EXPECT("(a + b) * c", 26);     /* 13 * 2 */
    EXPECT("a - b * c + a", 14);   /* 10 - 6 + 10 */
    EXPECT("-a + b", -7);          /* (-10) + 3, not -(13) */
    EXPECT("-a * b", -30);         /* unary minus binds tighter than '*' */
    EXPECT("a * -b", -30);         /* so it may follow '*' */
    EXPECT("a - -b", 13);          /* 10 - (-3) */
    EXPECT("- - a", 10);
    EXPECT("-pow(a, 2)", -100);    /* -(10^2): minus applies to the call */
    EXPECT("pow(-a, 2)", 100);     /* (-10)^2 */
    EXPECT("-c * -c * -c", -8);    /* (-2)(-2)(-2) */
    /* Comparison binds looser than arithmetic: 10 > 3 + 2 is 10 > 5. */
    EXPECT("a > b + c", 1);
    /* not binds looser than comparison: not (10 == 1) = 1, whereas
     * (not 10) == 1 would be 0 == 1 = 0. */
    EXPECT("not a == 1", 1);
    /* and binds tighter than or: 1 or (0 and 0) = 1, whereas
     * (1 or 0) and 0 would be 0. */
    EXPECT("a > 1 or b > 5 and c > 5", 1);
    EXPECT("(a > 1 or b > 5) and c > 5", 0);
    EXPECT("not z and z", 0);      /* (not 0) and 0 = 1 and 0 = 0 */
    EXPECT("not (z and z)", 1);
}

static void test_expr__functions(void **state)
{
    (void)state;
    reset_values(); /* a = 10, b = 3, c = 2 */
    EXPECT("abs(-3.5)", 3.5);
    EXPECT("abs(b - a)", 7);       /* |3 - 10| */
    EXPECT("min(a, b)", 3);
    EXPECT("min(a, b, c)", 2);
    EXPECT("max(a, b)", 10);
    EXPECT("max(b, c, a, 4)", 10);
    EXPECT("min(-1, c)", -1);
    EXPECT("pow(2, 10)", 1024);
    EXPECT("pow(c, -1)", 0.5);
    EXPECT("pow(-2, 3)", -8);      /* integer exponent over a negative base */
    EXPECT("pow(16, 0.5)", 4);
    EXPECT("sqrt(16)", 4);
    EXPECT("sqrt(0)", 0);
    EXPECT("ln(1)", 0);
    EXPECT_NEAR("ln(exp(2))", 2, 1e-15);
    EXPECT_NEAR("ln(a)", 2.302585092994046, 1e-15); /* ln 10 */
    EXPECT("exp(0)", 1);
    EXPECT_NEAR("exp(1)", 2.718281828459045, 1e-15);
    EXPECT("if(a > b, a, b)", 10);
    EXPECT("if(a < b, a, b)", 3);
    EXPECT("if(z, 1, 2)", 2);      /* 0 is false */
    EXPECT("if(-1, 1, 2)", 1);     /* any non-zero is true */
    EXPECT_MISSING("if(m, 1, 2)"); /* missing condition */
    EXPECT("if(t, a, m)", 10);     /* the branch not taken may be missing */
    EXPECT_MISSING("if(t, m, a)");
    EXPECT("is_missing(m)", 1);
    EXPECT("is_missing(a)", 0);
    EXPECT("is_missing(a / z)", 1);
    EXPECT("is_missing(inf)", 1);  /* non-finite input counts as missing */
    EXPECT("coalesce(m, 5)", 5);
    EXPECT("coalesce(a, 5)", 10);
    EXPECT_MISSING("coalesce(m, m)");
    EXPECT("coalesce(m, a / z, 7)", 7);
    EXPECT("coalesce(m, b, 7)", 3);
    /* Domain errors and overflow give missing. */
    EXPECT_MISSING("sqrt(-1)");
    EXPECT_MISSING("ln(0)");
    EXPECT_MISSING("ln(-1)");
    EXPECT_MISSING("pow(-8, 1 / 3)");
    EXPECT_MISSING("pow(0, -1)");  /* 1/0 */
    EXPECT_MISSING("exp(1000)");   /* e^1000 overflows a double */
    EXPECT_MISSING("1e308 * 10");
    EXPECT_MISSING("a * 1e308 * 1e308 / 1e308"); /* inf mid-way stays missing */
}

static void test_expr__comparisons(void **state)
{
    (void)state;
    reset_values(); /* a = 10, b = 3 */
    EXPECT("a == a", 1);
    EXPECT("a == b", 0);
    EXPECT("a != b", 1);
    EXPECT("a != a", 0);
    EXPECT("b < a", 1);
    EXPECT("a < b", 0);
    EXPECT("a < a", 0);
    EXPECT("a <= a", 1);
    EXPECT("a <= b", 0);
    EXPECT("a > b", 1);
    EXPECT("b > a", 0);
    EXPECT("a >= a", 1);
    EXPECT("b >= a", 0);
    /* Exact: 0.1 + 0.2 is 0.30000000000000004, not 0.3. */
    EXPECT("0.1 + 0.2 == 0.3", 0);
    EXPECT("0.5 + 0.25 == 0.75", 1);
    EXPECT_MISSING("m == m");
    EXPECT_MISSING("a == m");
    EXPECT_MISSING("m != a");
    EXPECT_MISSING("m < a");
    EXPECT_MISSING("a <= m");
    EXPECT_MISSING("m > a");
    EXPECT_MISSING("a >= m");
    EXPECT_MISSING("inf > a");
}

/* Three-valued logic: T = 1, F = 0, M = missing. */
static void test_expr__logic(void **state)
{
    (void)state;
    reset_values();
    const double T = 1, F = 0, M = NAN;
    static const struct {
        double p, q, and_, or_;
    } table[] = {
        /* p  q   p and q  p or q */
        { 1, 1, 1, 1 },       /* T T: T T */
        { 1, 0, 0, 1 },       /* T F: F T */
        { 0, 1, 0, 1 },       /* F T: F T */
        { 0, 0, 0, 0 },       /* F F: F F */
        { 1, NAN, NAN, 1 },   /* T M: M T (true or anything = true) */
        { NAN, 1, NAN, 1 },   /* M T: M T */
        { 0, NAN, 0, NAN },   /* F M: F M (false and anything = false) */
        { NAN, 0, 0, NAN },   /* M F: F M */
        { NAN, NAN, NAN, NAN }, /* M M: M M */
        { 5, -2, 1, 1 },      /* any non-zero is true */
    };
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        V[VP] = table[k].p;
        V[VQ] = table[k].q;
        double r_and = ev("p and q"), r_or = ev("p or q");
        if (!(r_and == table[k].and_ || (isnan(r_and) && isnan(table[k].and_))))
            fail_msg("row %zu: p and q = %g", k, r_and);
        if (!(r_or == table[k].or_ || (isnan(r_or) && isnan(table[k].or_))))
            fail_msg("row %zu: p or q = %g", k, r_or);
    }
    V[VP] = T;
    EXPECT("not p", F);
    V[VP] = F;
    EXPECT("not p", T);
    V[VP] = M;
    EXPECT_MISSING("not p");
    EXPECT("not is_missing(p)", 0);
    /* M and F = F even with the missing side on the left of a chain. */
    EXPECT("m > 1 and a < 1 and m < 1", 0);
    EXPECT("m > 1 or a > 1", 1);
}

static void test_expr__missing(void **state)
{
    (void)state;
    reset_values(); /* a = 10, z = 0, m missing */
    EXPECT_MISSING("a / z");
    EXPECT_MISSING("z / z");
    EXPECT_MISSING("a / (b - 3)"); /* 3 - 3 = 0 */
    EXPECT_MISSING("1 / 0");       /* folded at compile time, same answer */
    EXPECT_MISSING("a / 0 * 0");   /* missing stays missing, even times 0 */
    EXPECT("0 / a", 0);
    EXPECT_MISSING("a + m");
    EXPECT_MISSING("m - a");
    EXPECT_MISSING("m * 0");
    EXPECT_MISSING("-m");
    EXPECT_MISSING("abs(m)");
    EXPECT_MISSING("sqrt(m)");
    EXPECT_MISSING("ln(m)");
    EXPECT_MISSING("exp(m)");
    EXPECT_MISSING("pow(m, 0)");   /* C's pow(NaN, 0) is 1: not here */
    EXPECT_MISSING("pow(1, m)");   /* nor pow(1, NaN) */
    EXPECT_MISSING("min(a, m)");
    EXPECT_MISSING("max(m, a)");
    EXPECT_MISSING("round(m, 2)");
    EXPECT_MISSING("round(a, m)");
    EXPECT_MISSING("m");
    EXPECT_MISSING("inf");         /* non-finite in: missing out */
    EXPECT_MISSING("1 / inf");     /* not 0 */
    EXPECT_MISSING("exp(-inf)");   /* not 0 */
}

static void test_expr__round(void **state)
{
    (void)state;
    reset_values();
    /* 2.675 is stored as 2.67499999999999982...; at 2 decimals the decimal
     * 267.5 is a tie, away from zero: 2.68. */
    EXPECT("round(2.675, 2)", 2.68);
    /* 1.005 * 100 = 100.49999999999999 in doubles: a tie within 4 ulps,
     * so 1.01 (a naive floor(x * 100 + 0.5) / 100 gives 1.00). */
    EXPECT("round(1.005, 2)", 1.01);
    EXPECT("round(-1.005, 2)", -1.01);
    EXPECT("round(0.285, 2)", 0.29);   /* 28.499999999999996 -> 29 */
    /* 1.0049999 * 100 = 100.49999: far from the tie, down. */
    EXPECT("round(1.0049999, 2)", 1);
    EXPECT("round(-2.5, 0)", -3);      /* half away from zero */
    EXPECT("round(2.5, 0)", 3);
    EXPECT("round(0.5, 0)", 1);
    EXPECT("round(2.4999, 0)", 2);
    EXPECT("round(-2.4999, 0)", -2);
    EXPECT("round(3.14159, 3)", 3.142);
    EXPECT("round(1234.5, -2)", 1200); /* 12.345 -> 12 -> 1200 */
    EXPECT("round(1250, -2)", 1300);   /* 12.5 is a tie -> 13 -> 1300 */
    EXPECT("round(-1250, -2)", -1300);
    EXPECT("round(a / b, 2)", 3.33);   /* 3.333... */
    EXPECT("round(0.1, 20)", 0.1);     /* n clamped to 15 */
    EXPECT("round(123456, -20)", 0);   /* n clamped to -15: 1.23456e-10 -> 0 */
    EXPECT("round(2.675, c)", 2.68);   /* n from a variable (c = 2) */
    EXPECT("round(1e300, 2)", 1e300);  /* already an integer at that scale */
    /* -0.4 rounds to 0, printed "0", not "-0". */
    double r = ev("round(-0.4, 0)");
    assert_true(r == 0);
    assert_false(signbit(r));
}

static void test_expr__compound_growth(void **state)
{
    (void)state;
    reset_values();
    /* (pow(b / a, 1 / n) - 1) * 100:
     * a = 100, b = 121, n = 2: 1.21^(1/2) = 1.1 -> 10 % a year.
     * a = 1000, b = 1331, n = 3: 1.331^(1/3) = 1.1 -> 10 %.
     * a = 50, b = 200, n = 2: 4^(1/2) = 2 -> 100 %.
     * a = 200, b = 50, n = 2: 0.25^(1/2) = 0.5 -> -50 %. */
    static const double cases[][4] = {
        { 100, 121, 2, 10 }, { 1000, 1331, 3, 10 }, { 50, 200, 2, 100 }, { 200, 50, 2, -50 },
    };
    for (size_t k = 0; k < 4; k++) {
        V[VA] = cases[k][0];
        V[VB] = cases[k][1];
        V[VN] = cases[k][2];
        EXPECT_NEAR("(pow(b / a, 1 / n) - 1) * 100", cases[k][3], 1e-9);
    }
    V[VA] = 0; /* b / 0: missing, not infinity */
    EXPECT_MISSING("(pow(b / a, 1 / n) - 1) * 100");
}

/* Pseudo-random but fixed values; some missing, some zero. */
static double sample(uint32_t *s, int missing_every)
{
    *s = *s * 1664525u + 1013904223u;
    uint32_t r = *s >> 8;
    if (missing_every && r % (uint32_t)missing_every == 0)
        return NAN;
    return (double)(r % 13) - 3; /* -3 .. 9 */
}

static int same(double x, double y) { return x == y || (isnan(x) && isnan(y)); }

static void test_expr__columns_match_row_by_row(void **state)
{
    (void)state;
    enum { N = 1000 }; /* three full blocks of 256 and a partial one */
    double *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b), *c = malloc(N * sizeof *c);
    double *out = malloc(N * sizeof *out);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(out);
    uint32_t s = 12345;
    for (size_t i = 0; i < N; i++) {
        a[i] = sample(&s, 17);
        b[i] = sample(&s, 11);
        c[i] = sample(&s, 0); /* c - 3 is 0 for one value in 13 */
    }
    const double *cols[NV] = { 0 };
    cols[VA] = a;
    cols[VB] = b;
    cols[VC] = c;

    tally_expr *e = compile_ok("(a * 2 + b) / (c - 3)");
    assert_int_equal(tally_expr__eval(e, cols, N, out), 0);
    size_t zero_div = 0;
    for (size_t i = 0; i < N; i++) {
        double num = a[i] * 2 + b[i], den = c[i] - 3;
        double want = den == 0 ? NAN : num / den; /* NaN in gives NaN out */
        zero_div += den == 0;
        if (!same(out[i], want))
            fail_msg("row %zu: got %g want %g", i, out[i], want);
    }
    assert_true(zero_div > 10); /* the case is exercised */
    tally_expr__free(e);

    e = compile_ok("if(a > b and not is_missing(c), a - c, coalesce(b, -1))");
    assert_int_equal(tally_expr__eval(e, cols, N, out), 0);
    for (size_t i = 0; i < N; i++) {
        double cmp = (isnan(a[i]) || isnan(b[i])) ? NAN : (a[i] > b[i]);
        double present = isnan(c[i]) ? 0 : 1;
        double cond;
        if ((!isnan(cmp) && cmp == 0) || present == 0)
            cond = 0; /* false and anything */
        else if (isnan(cmp))
            cond = NAN;
        else
            cond = 1;
        double want;
        if (isnan(cond))
            want = NAN;
        else if (cond != 0)
            want = a[i] - c[i];
        else
            want = isnan(b[i]) ? -1 : b[i];
        if (!same(out[i], want))
            fail_msg("row %zu: got %g want %g", i, out[i], want);
    }
    tally_expr__free(e);

    /* The output may be one of the inputs: a = a * 2 + 1, in place. */
    double *copy = malloc(N * sizeof *copy);
    assert_non_null(copy);
    memcpy(copy, a, N * sizeof *a);
    e = compile_ok("a * 2 + 1");
    assert_int_equal(tally_expr__eval(e, cols, N, a), 0);
    for (size_t i = 0; i < N; i++)
        if (!same(a[i], copy[i] * 2 + 1))
            fail_msg("row %zu: got %g want %g", i, a[i], copy[i] * 2 + 1);
    tally_expr__free(e);

    /* n = 0 touches nothing; a NULL column reads as missing. */
    e = compile_ok("c + m");
    out[0] = 42;
    assert_int_equal(tally_expr__eval(e, cols, 0, out), 0);
    assert_true(out[0] == 42);
    assert_int_equal(tally_expr__eval(e, cols, 3, out), 0);
    assert_true(isnan(out[0]) && isnan(out[1]) && isnan(out[2]));
    tally_expr__free(e);

    free(copy);
    free(a);
    free(b);
    free(c);
    free(out);
}

static void test_expr__variables(void **state)
{
    (void)state;
    /* Distinct, in order of first use: b, a, c. */
    tally_expr *e = compile_ok("b + a * b - c + a");
    assert_int_equal(tally_expr__var_count(e), 3);
    assert_int_equal(tally_expr__var(e, 0), VB);
    assert_int_equal(tally_expr__var(e, 1), VA);
    assert_int_equal(tally_expr__var(e, 2), VC);
    assert_int_equal(tally_expr__var(e, 3), -1);
    tally_expr__free(e);

    e = compile_ok("1 / 12 * 100");
    assert_int_equal(tally_expr__var_count(e), 0);
    tally_expr__free(e);

    /* Names inside calls count, function names do not. */
    e = compile_ok("round(coalesce(q, p), n)");
    assert_int_equal(tally_expr__var_count(e), 3);
    assert_int_equal(tally_expr__var(e, 0), VQ);
    assert_int_equal(tally_expr__var(e, 1), VP);
    assert_int_equal(tally_expr__var(e, 2), VN);
    tally_expr__free(e);

    /* The constant is folded: 1 / 12 * 100 = 8.333... */
    reset_values();
    EXPECT("1 / 12 * 100", 1.0 / 12 * 100);
}

static void test_expr__is_boolean(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        int boolean;
    } cases[] = {
        { "a < b", 1 },
        { "(a == b)", 1 },
        { "a + b >= c", 1 },
        { "a and b", 1 },
        { "a or b", 1 },
        { "not a", 1 },
        { "is_missing(a)", 1 },
        { "1 < 2", 1 },
        { "a + b", 0 },
        { "a", 0 },
        { "3", 0 },
        { "if(a < b, 1, 0)", 0 },
        { "coalesce(a < b, 0)", 0 },
        { "-(a < b)", 0 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tally_expr *e = compile_ok(cases[k].src);
        if (tally_expr__is_boolean(e) != cases[k].boolean)
            fail_msg("%s: is_boolean should be %d", cases[k].src, cases[k].boolean);
        tally_expr__free(e);
    }
}

static void test_expr__syntax_errors(void **state)
{
    (void)state;
    ERR("a +", TALLY_EPARSE, 3,
        "unexpected end of formula; expected a number, an indicator id, a function call, "
        "'(', '-' or 'not'");
    ERR("a + * b", TALLY_EPARSE, 4,
        "unexpected '*'; expected a number, an indicator id, a function call, '(', '-' or "
        "'not'");
    ERR("a +\n* b", TALLY_EPARSE, 4, "unexpected '*'");
    ERR("(a", TALLY_EPARSE, 2, "unexpected end of formula; expected an operator or ')'");
    ERR("(a b)", TALLY_EPARSE, 3, "unexpected 'b'; expected an operator or ')'");
    ERR("a b", TALLY_EPARSE, 2, "unexpected 'b'; expected an operator or the end of the formula");
    ERR("a)", TALLY_EPARSE, 1, "unexpected ')'");
    ERR(")", TALLY_EPARSE, 0, "unexpected ')'");
    ERR("", TALLY_EPARSE, 0, "unexpected end of formula");
    ERR("   ", TALLY_EPARSE, 3, "unexpected end of formula");
    ERR("a < b < c", TALLY_EPARSE, 6, "comparisons do not chain");
    ERR("a = b", TALLY_EPARSE, 2, "unexpected '='; expected an operator or the end of the "
                                  "formula (equality is written '==')");
    ERR("a ^ 2", TALLY_EPARSE, 2, "pow(x, y)");
    ERR("a && b", TALLY_EPARSE, 2, "unexpected '&&'");
    ERR("a ! b", TALLY_EPARSE, 2, "unexpected '!'");
    ERR("min(a b)", TALLY_EPARSE, 6, "unexpected 'b'; expected an operator, ',' or ')'");
    ERR("min(a,)", TALLY_EPARSE, 6, "unexpected ')'");
    ERR("abs(a", TALLY_EPARSE, 5, "unexpected end of formula; expected an operator, ',' or ')'");
    ERR("2e", TALLY_EPARSE, 1, "unexpected 'e'");
    ERR("1.2.3", TALLY_EPARSE, 3, "unexpected '.3'");
    ERR(".", TALLY_EPARSE, 0, "unexpected '.'");
    ERR("1e999", TALLY_EPARSE, 0, "number '1e999' is out of range");
    ERR("and", TALLY_EPARSE, 0, "unexpected 'and'");
    ERR("a and", TALLY_EPARSE, 5, "unexpected end of formula");
    ERR("not", TALLY_EPARSE, 3, "unexpected end of formula");
    /* A full-width parenthesis (3 bytes in UTF-8) is shown whole. */
    ERR("a + \xEF\xBC\x88" "b\xEF\xBC\x89", TALLY_EPARSE, 4, "unexpected '\xEF\xBC\x88'");
    /* A NUL byte inside the given length is just a bad character. */
    expect_error("a +\0b", 5, TALLY_EPARSE, 3, "unexpected");

    /* Unknown names. */
    ERR("foo(a)", TALLY_ENOTFOUND, 0,
        "unknown function 'foo'; expected one of abs, min, max, round, pow, sqrt, ln, exp, if, "
        "is_missing, coalesce");
    ERR("a + zzz", TALLY_ENOTFOUND, 4,
        "unknown indicator 'zzz'; expected an indicator id defined in the file");
    ERR("a + a(1)", TALLY_ENOTFOUND, 4, "unknown function 'a'"); /* a call, though a is known */
    ERR("abs", TALLY_ENOTFOUND, 0, "unknown indicator 'abs'");  /* a name without '(' */
    ERR("a1 + b", TALLY_ENOTFOUND, 0, "unknown indicator 'a1'");

    /* Wrong number of arguments: reported at the function's name. */
    ERR("round(a)", TALLY_EPARSE, 0, "round takes 2 arguments, not 1; expected round(x, n)");
    ERR("a + abs(a, b)", TALLY_EPARSE, 4, "abs takes 1 argument, not 2; expected abs(x)");
    ERR("abs()", TALLY_EPARSE, 0, "abs takes 1 argument, not 0");
    ERR("min(a)", TALLY_EPARSE, 0, "min takes 2 or more arguments, not 1");
    ERR("coalesce(a)", TALLY_EPARSE, 0, "coalesce takes 2 or more arguments, not 1");
    ERR("if(a, b)", TALLY_EPARSE, 0, "if takes 3 arguments, not 2; expected if(condition, then, else)");
    ERR("pow(a, b, c)", TALLY_EPARSE, 0, "pow takes 2 arguments, not 3");

    /* Whitespace between a function's name and '(' is allowed. */
    reset_values();
    EXPECT("abs (b - a)", 7);

    /* No resolver: every name is unknown; a NULL error_offset is fine. */
    tally_expr *e = NULL;
    assert_int_equal(tally_expr__compile(&e, "a", 1, NULL, NULL, NULL), TALLY_ENOTFOUND);
    assert_null(e);
}

static void test_expr__limits(void **state)
{
    (void)state;
    reset_values(); /* a = 10 */
    char *buf = malloc(TALLY_EXPR_MAX_LENGTH + 64);
    assert_non_null(buf);

    /* "a" and 2047 times "+a", then a space: exactly 4096 bytes, 2048 a's. */
    size_t k = 0;
    buf[k++] = 'a';
    for (int i = 0; i < 2047; i++) {
        buf[k++] = '+';
        buf[k++] = 'a';
    }
    buf[k++] = ' ';
    buf[k] = '\0';
    assert_int_equal(k, TALLY_EXPR_MAX_LENGTH);
    EXPECT(buf, 20480); /* 2048 * 10 */
    /* One byte more is over the limit, reported at offset 4096. */
    buf[k++] = 'a';
    buf[k] = '\0';
    expect_error(buf, k, TALLY_ELIMIT, TALLY_EXPR_MAX_LENGTH, "at most 4096 bytes");

    /* 64 nested parentheses are fine; the 65th '(' (offset 64) is not. */
    k = 0;
    for (int i = 0; i < 64; i++)
        buf[k++] = '(';
    buf[k++] = 'a';
    for (int i = 0; i < 64; i++)
        buf[k++] = ')';
    buf[k] = '\0';
    EXPECT(buf, 10);
    k = 0;
    for (int i = 0; i < 65; i++)
        buf[k++] = '(';
    buf[k++] = 'a';
    for (int i = 0; i < 65; i++)
        buf[k++] = ')';
    buf[k] = '\0';
    ERR(buf, TALLY_ELIMIT, 64, "deeper than 64 levels");

    /* Unary minus counts too: 64 are fine (an even count: +10), 65 not. */
    k = 0;
    for (int i = 0; i < 64; i++)
        buf[k++] = '-';
    buf[k++] = 'a';
    buf[k] = '\0';
    EXPECT(buf, 10);
    k = 0;
    for (int i = 0; i < 65; i++)
        buf[k++] = '-';
    buf[k++] = 'a';
    buf[k] = '\0';
    ERR(buf, TALLY_ELIMIT, 64, "deeper than 64 levels");

    /* So do calls and 'not': "abs(" 65 times puts the 65th at 4 * 64. */
    k = 0;
    for (int i = 0; i < 65; i++) {
        memcpy(buf + k, "abs(", 4);
        k += 4;
    }
    buf[k++] = 'a';
    for (int i = 0; i < 65; i++)
        buf[k++] = ')';
    buf[k] = '\0';
    ERR(buf, TALLY_ELIMIT, 256, "deeper than 64 levels");
    k = 0;
    for (int i = 0; i < 65; i++) {
        memcpy(buf + k, "not ", 4);
        k += 4;
    }
    buf[k++] = 'a';
    buf[k] = '\0';
    ERR(buf, TALLY_ELIMIT, 256, "deeper than 64 levels");

    /* Mixed: 32 times "-(" is 64 levels; 32 negations of 10 give 10. */
    k = 0;
    for (int i = 0; i < 32; i++) {
        buf[k++] = '-';
        buf[k++] = '(';
    }
    buf[k++] = 'a';
    for (int i = 0; i < 32; i++)
        buf[k++] = ')';
    buf[k] = '\0';
    EXPECT(buf, 10);

    /* Many arguments are not nesting: min(a, a, ..., 1001 times) = 10. */
    k = 0;
    memcpy(buf, "min(a", 5);
    k = 5;
    for (int i = 0; i < 1000; i++) {
        buf[k++] = ',';
        buf[k++] = 'a';
    }
    buf[k++] = ')';
    buf[k] = '\0';
    EXPECT(buf, 10);
    free(buf);
}

/* Interval variables: [IL[v], IH[v]]. */
static double IL[NV], IH[NV];

static void ival(int v, double lo, double hi)
{
    IL[v] = lo;
    IH[v] = hi;
}

static void iev(const char *src, double *lo, double *hi)
{
    tally_expr *e = compile_ok(src);
    const double *l[NV], *h[NV];
    for (size_t k = 0; k < NV; k++) {
        l[k] = &IL[k];
        h[k] = &IH[k];
    }
    assert_int_equal(tally_expr__eval_interval(e, l, h, 1, lo, hi), 0);
    tally_expr__free(e);
}

#define EXPECT_IV(src, wlo, whi)                                                             \
    do {                                                                                     \
        double lo_, hi_, wl_ = (wlo), wh_ = (whi);                                           \
        iev(src, &lo_, &hi_);                                                                \
        if (!(fabs(lo_ - wl_) <= 1e-12 * fmax(1, fabs(wl_)) &&                               \
              fabs(hi_ - wh_) <= 1e-12 * fmax(1, fabs(wh_))))                                \
            fail_msg("%s: got [%.17g, %.17g], want [%.17g, %.17g]", src, lo_, hi_, wl_, wh_); \
    } while (0)

#define EXPECT_IV_MISSING(src)                                                               \
    do {                                                                                     \
        double lo_, hi_;                                                                     \
        iev(src, &lo_, &hi_);                                                                \
        if (!isnan(lo_) || !isnan(hi_))                                                      \
            fail_msg("%s: got [%.17g, %.17g], want missing", src, lo_, hi_);                \
    } while (0)

static void test_expr__interval(void **state)
{
    (void)state;
    for (int v = 0; v < NV; v++)
        ival(v, NAN, NAN);

    ival(VA, 1, 2);
    ival(VB, 4, 5);
    EXPECT_IV("a / b", 0.2, 0.5); /* [1/5, 2/4] */
    {
        /* Exactly: each end is one correctly rounded quotient. */
        double lo, hi;
        iev("a / b", &lo, &hi);
        assert_true(lo == 0.2 && hi == 0.5);
    }
    EXPECT_IV("a + b", 5, 7);     /* [1+4, 2+5] */
    EXPECT_IV("a - b", -4, -2);   /* [1-5, 2-4] */
    EXPECT_IV("b - a", 2, 4);     /* [4-2, 5-1] */
    EXPECT_IV("a * 100", 100, 200);
    EXPECT_IV("-a", -2, -1);
    EXPECT_IV("a - a", -1, 1);    /* no dependency tracking: [1-2, 2-1] */
    EXPECT_IV("3", 3, 3);

    /* Mixed signs: [-1,2] * [3,4]: products -3, -4, 6, 8 -> [-4, 8]. */
    ival(VA, -1, 2);
    ival(VB, 3, 4);
    EXPECT_IV("a * b", -4, 8);
    /* [-2,-1] * [-3,4]: products 6, -8, 3, -4 -> [-8, 6]. */
    ival(VA, -2, -1);
    ival(VB, -3, 4);
    EXPECT_IV("a * b", -8, 6);

    /* Division by an interval containing 0 (inside or at an end). */
    ival(VA, 1, 2);
    ival(VB, -1, 1);
    EXPECT_IV_MISSING("a / b");
    ival(VB, 0, 1);
    EXPECT_IV_MISSING("a / b");
    /* [1,2] / [-2,-1]: 1/-2, 1/-1, 2/-2, 2/-1 = -0.5, -1, -1, -2 -> [-2, -0.5]. */
    ival(VB, -2, -1);
    EXPECT_IV("a / b", -2, -0.5);

    /* Powers. */
    ival(VA, -2, 3);
    EXPECT_IV("pow(a, 2)", 0, 9);   /* x^2 over [-2,3]: min 0 at x = 0, max 9 */
    ival(VA, -3, -2);
    EXPECT_IV("pow(a, 2)", 4, 9);
    ival(VA, -2, -1);
    EXPECT_IV("pow(a, 3)", -8, -1);
    ival(VA, -1, 1);
    EXPECT_IV_MISSING("pow(a, -1)"); /* 1/x unbounded at 0 */
    ival(VA, 2, 4);
    EXPECT_IV("pow(a, -1)", 0.25, 0.5);
    ival(VA, 4, 9);
    EXPECT_IV("pow(a, 0.5)", 2, 3);
    ival(VA, -4, 9);
    EXPECT_IV_MISSING("pow(a, 0.5)"); /* non-integer exponent, negative base */
    /* [2,4]^[1,2]: corners 2, 4, 4, 16 -> [2, 16]. */
    ival(VA, 2, 4);
    ival(VB, 1, 2);
    EXPECT_IV("pow(a, b)", 2, 16);
    /* [0.25,0.5]^[1,2]: corners 0.25, 0.0625, 0.5, 0.25 -> [0.0625, 0.5]. */
    ival(VA, 0.25, 0.5);
    EXPECT_IV("pow(a, b)", 0.0625, 0.5);

    /* Monotone functions map their ends. */
    ival(VA, 4, 9);
    EXPECT_IV("sqrt(a)", 2, 3);
    ival(VA, -1, 4);
    EXPECT_IV_MISSING("sqrt(a)"); /* points below 0 give missing */
    ival(VA, -4, -1);
    EXPECT_IV_MISSING("sqrt(a)");
    ival(VA, -3, 2);
    EXPECT_IV("abs(a)", 0, 3);
    ival(VA, -3, -2);
    EXPECT_IV("abs(a)", 2, 3);
    ival(VA, 1, 1);
    EXPECT_IV("ln(a)", 0, 0);
    ival(VA, 0, 1);
    EXPECT_IV_MISSING("ln(a)");
    ival(VA, 0, 0);
    EXPECT_IV("exp(a)", 1, 1);
    ival(VA, 1, 5);
    ival(VB, 2, 3);
    EXPECT_IV("min(a, b)", 1, 3); /* [min(1,2), min(5,3)] */
    EXPECT_IV("max(a, b)", 2, 5); /* [max(1,2), max(5,3)] */
    /* round at 2 decimals: 2.675 -> 2.68 and 2.685 -> 2.69. */
    ival(VA, 2.675, 2.685);
    EXPECT_IV("round(a, 2)", 2.68, 2.69);
    ival(VC, 1, 2);
    EXPECT_IV_MISSING("round(a, c)"); /* n must be a point */

    /* A boolean result gives missing: the caller compares the sides. */
    ival(VA, 1, 2);
    ival(VB, 4, 5);
    EXPECT_IV_MISSING("a < b");
    EXPECT_IV_MISSING("a == a");
    EXPECT_IV_MISSING("a and b");
    EXPECT_IV_MISSING("not a");
    EXPECT_IV_MISSING("is_missing(m)");

    /* Inside a formula, comparisons decide when the intervals do:
     * [1,2] < [4,5] always holds, so the first branch. */
    EXPECT_IV("if(a < b, a, b)", 1, 2);
    EXPECT_IV("if(a >= b, a, b)", 4, 5);  /* never holds */
    EXPECT_IV("if(a == b, a, b)", 4, 5);  /* disjoint: never equal */
    EXPECT_IV("if(a != b, a, b)", 1, 2);
    EXPECT_IV("if(a < b and b <= 5, 1, 2)", 1, 1);
    EXPECT_IV("if(not a > b, 1, 2)", 1, 1);
    /* [1,5] < [4,6] may go either way: both branches, hull [1, 6]. */
    ival(VC, 1, 5);
    ival(VN, 4, 6);
    EXPECT_IV("if(c < n, c, n)", 1, 6);
    /* Three-valued: missing or true = true; missing and true = missing. */
    EXPECT_IV("if(m > 1 or a < b, 1, 2)", 1, 1);
    EXPECT_IV_MISSING("if(m > 1 and a < b, 1, 2)");
    EXPECT_IV("if(m > 1 and a > b, 1, 2)", 2, 2); /* missing and false = false */

    /* Missing. */
    EXPECT_IV_MISSING("a + m");
    EXPECT_IV("if(is_missing(m), a, b)", 1, 2);
    EXPECT_IV("if(is_missing(a), a, b)", 4, 5);
    EXPECT_IV("coalesce(m, a)", 1, 2);
    EXPECT_IV("coalesce(b, a)", 4, 5);
    EXPECT_IV("coalesce(a / m, b)", 4, 5); /* missing at every point */
    /* [1,2] / [-1,1] is missing only at 0: no interval holds every point,
     * and coalesce must not pretend every point is missing. */
    ival(VZ, -1, 1);
    EXPECT_IV_MISSING("coalesce(a / z, 0)");
    /* is_missing of it may be 0 or 1: both branches, [1, 2]. */
    EXPECT_IV("if(is_missing(a / z), 1, 2)", 1, 2);
    ival(VZ, 0, 0);
    EXPECT_IV("coalesce(a / z, 7)", 7, 7); /* [0,0]: missing everywhere */
    /* The same for sqrt of an interval reaching below 0. */
    ival(VC, -1, 4);
    EXPECT_IV_MISSING("coalesce(sqrt(c), 0)");

    /* if: a known condition picks its branch, an unsure one takes both. */
    ival(VT, 1, 1);
    EXPECT_IV("if(t, a, b)", 1, 2);
    ival(VT, 0, 0);
    EXPECT_IV("if(t, a, b)", 4, 5);
    ival(VT, 0, 1);
    EXPECT_IV("if(t, a, b)", 1, 5);
    EXPECT_IV_MISSING("if(t, a, m)"); /* a at some points, missing at others */
    EXPECT_IV_MISSING("if(m, a, b)");

    /* An incidence whose counts were rounded to whole persons:
     * poor in [149.5, 150.5], population in [999.5, 1000.5];
     * low  = 149.5 / 1000.5 * 100 = 14.942528735632186...
     * high = 150.5 /  999.5 * 100 = 15.057528764382191... */
    ival(VP, 149.5, 150.5);
    ival(VQ, 999.5, 1000.5);
    EXPECT_IV("p / q * 100", 14.942528735632186, 15.057528764382191);

    /* Points give the point value, and NULL hi columns mean exact. */
    ival(VA, 3, 3);
    ival(VB, 4, 4);
    EXPECT_IV("a / b", 0.75, 0.75);
    {
        tally_expr *e = compile_ok("a * 2 + b");
        double la = 1.5, lb = 1;
        const double *l[NV] = { 0 }, *h[NV] = { 0 };
        l[VA] = &la;
        l[VB] = &lb;
        double lo, hi;
        assert_int_equal(tally_expr__eval_interval(e, l, h, 1, &lo, &hi), 0);
        assert_true(lo == 4 && hi == 4); /* 1.5 * 2 + 1 */
        l[VB] = NULL;                    /* a NULL lo column: missing */
        assert_int_equal(tally_expr__eval_interval(e, l, h, 1, &lo, &hi), 0);
        assert_true(isnan(lo) && isnan(hi));
        tally_expr__free(e);
    }
}

static void test_expr__interval_columns(void **state)
{
    (void)state;
    /* 600 rows (more than two blocks): a = [i, i + 1], b = 2 (exact), so
     * a * b - 1 = [2i - 1, 2i + 1]. */
    enum { N = 600 };
    double *lo = malloc(N * sizeof *lo), *hi = malloc(N * sizeof *hi);
    double *two = malloc(N * sizeof *two);
    double *ol = malloc(N * sizeof *ol), *oh = malloc(N * sizeof *oh);
    assert_true(lo && hi && two && ol && oh);
    for (size_t i = 0; i < N; i++) {
        lo[i] = (double)i;
        hi[i] = (double)i + 1;
        two[i] = 2;
    }
    const double *l[NV] = { 0 }, *h[NV] = { 0 };
    l[VA] = lo;
    h[VA] = hi;
    l[VB] = two;
    tally_expr *e = compile_ok("a * b - 1");
    assert_int_equal(tally_expr__eval_interval(e, l, h, N, ol, oh), 0);
    for (size_t i = 0; i < N; i++)
        if (ol[i] != 2.0 * i - 1 || oh[i] != 2.0 * i + 1)
            fail_msg("row %zu: [%g, %g]", i, ol[i], oh[i]);
    tally_expr__free(e);
    free(lo);
    free(hi);
    free(two);
    free(ol);
    free(oh);
}

static double eval_row(const tally_expr *e)
{
    const double *cols[NV];
    for (size_t k = 0; k < NV; k++)
        cols[k] = &V[k];
    double out;
    assert_int_equal(tally_expr__eval(e, cols, 1, &out), 0);
    return out;
}

static void test_expr__split_comparison(void **state)
{
    (void)state;
    reset_values(); /* a = 10, b = 3, c = 2 */
    static const struct {
        const char *src;
        int op;
        double left, right;
    } cases[] = {
        { "a + b <= c * 2", TALLY_EXPR_OP_LE, 13, 4 },
        { "a == b", TALLY_EXPR_OP_EQ, 10, 3 },
        { "a != b", TALLY_EXPR_OP_NE, 10, 3 },
        { "a < b", TALLY_EXPR_OP_LT, 10, 3 },
        { "(a >= b)", TALLY_EXPR_OP_GE, 10, 3 },
        /* (10 + 1) * 2 = 22; if(3 > 1, 2, 0) = 2. */
        { "(a + 1) * 2 > if(b > 1, c, 0)", TALLY_EXPR_OP_GT, 22, 2 },
        /* min(10, 3, 2) = 2; -(3 * 2) + pow(2, 3) = 2. */
        { "min(a, b, c) == -(b * c) + pow(c, 3)", TALLY_EXPR_OP_EQ, 2, 2 },
        { "1 < 2", TALLY_EXPR_OP_LT, 1, 2 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tally_expr *e = compile_ok(cases[k].src), *l = NULL, *r = NULL;
        int op = -1;
        assert_int_equal(tally_expr__split_comparison(e, &l, &op, &r), 0);
        if (op != cases[k].op)
            fail_msg("%s: op %d, want %d", cases[k].src, op, cases[k].op);
        double lv = eval_row(l), rv = eval_row(r);
        if (lv != cases[k].left || rv != cases[k].right)
            fail_msg("%s: sides %g and %g", cases[k].src, lv, rv);
        assert_false(tally_expr__is_boolean(l));
        tally_expr__free(l);
        tally_expr__free(r);
        tally_expr__free(e);
    }

    /* Each side has its own variable list. */
    tally_expr *e = compile_ok("a + b <= c * 2 + a"), *l, *r;
    int op;
    assert_int_equal(tally_expr__split_comparison(e, &l, &op, &r), 0);
    assert_int_equal(tally_expr__var_count(l), 2);
    assert_int_equal(tally_expr__var(l, 0), VA);
    assert_int_equal(tally_expr__var(l, 1), VB);
    assert_int_equal(tally_expr__var_count(r), 2);
    assert_int_equal(tally_expr__var(r, 0), VC);
    assert_int_equal(tally_expr__var(r, 1), VA);
    /* The sides evaluate over intervals: a = [1, 2], b = [4, 5], c = 3:
     * left [5, 7], right [3 * 2 + 1, 3 * 2 + 2] = [7, 8]. */
    ival(VA, 1, 2);
    ival(VB, 4, 5);
    ival(VC, 3, 3);
    const double *il[NV], *ih[NV];
    for (size_t k = 0; k < NV; k++) {
        il[k] = &IL[k];
        ih[k] = &IH[k];
    }
    double lo, hi;
    assert_int_equal(tally_expr__eval_interval(l, il, ih, 1, &lo, &hi), 0);
    assert_true(lo == 5 && hi == 7);
    assert_int_equal(tally_expr__eval_interval(r, il, ih, 1, &lo, &hi), 0);
    assert_true(lo == 7 && hi == 8);
    tally_expr__free(l);
    tally_expr__free(r);
    tally_expr__free(e);

    /* Not comparisons at the outermost level. */
    static const char *const not_cmp[] = { "a + b", "a < b and b < c", "not a < b",
                                           "is_missing(a)", "if(a < b, 1, 0)", "a" };
    for (size_t k = 0; k < sizeof not_cmp / sizeof not_cmp[0]; k++) {
        e = compile_ok(not_cmp[k]);
        l = r = (tally_expr *)&e;
        op = 7;
        assert_int_equal(tally_expr__split_comparison(e, &l, &op, &r), TALLY_EINVAL);
        assert_null(l);
        assert_null(r);
        assert_int_equal(op, 0);
        tally_expr__free(e);
    }
    tally_expr__free(NULL);
}

/* prev(x) and lag(x, n): x n periods back is variable x + n * stride, in
 * rules only; a formula (tally_expr__compile) refuses them at their name. */
static void test_expr__lagged(void **state)
{
    (void)state;
    tally_expr *e = NULL;
    size_t off = 99;
    const char *src = "a == prev(a) - b + lag(c, 2)";
    assert_int_equal(tally_expr__compile_lagged(&e, src, strlen(src), resolve, NULL, NV, &off), 0);
    assert_int_equal(tally_expr__lag_stride(e), NV);
    assert_int_equal(tally_expr__max_lag(e), 2);
    assert_int_equal(tally_expr__var_count(e), 4);
    assert_int_equal(tally_expr__var(e, 0), VA);
    assert_int_equal(tally_expr__var(e, 1), VA + NV);
    assert_int_equal(tally_expr__var(e, 2), VB);
    assert_int_equal(tally_expr__var(e, 3), VC + 2 * NV);
    /* Three periods of one row: a = 5 now, a = 9 a period back, c = 2 two
     * periods back: 5 == 9 - 6 + 2 holds; with b = 5 it does not. */
    double now[NV] = { 0 }, back1[NV] = { 0 }, back2[NV] = { 0 };
    now[VA] = 5;
    now[VB] = 6;
    back1[VA] = 9;
    back2[VC] = 2;
    const double *cols[3 * NV];
    for (size_t k = 0; k < NV; k++) {
        cols[k] = &now[k];
        cols[NV + k] = &back1[k];
        cols[2 * NV + k] = &back2[k];
    }
    double out = -1;
    assert_int_equal(tally_expr__eval(e, cols, 1, &out), 0);
    assert_true(out == 1);
    now[VB] = 5;
    assert_int_equal(tally_expr__eval(e, cols, 1, &out), 0);
    assert_true(out == 0);
    /* A missing earlier value makes the rule missing. */
    back1[VA] = NAN;
    assert_int_equal(tally_expr__eval(e, cols, 1, &out), 0);
    assert_true(isnan(out));
    /* The sides keep the stride. */
    tally_expr *l, *r;
    int op;
    assert_int_equal(tally_expr__split_comparison(e, &l, &op, &r), 0);
    assert_int_equal(tally_expr__lag_stride(r), NV);
    assert_int_equal(tally_expr__max_lag(r), 2);
    assert_int_equal(tally_expr__max_lag(l), 0);
    tally_expr__free(l);
    tally_expr__free(r);
    tally_expr__free(e);

    /* Refused in formulas, at the name. */
    ERR("a + prev(a)", TALLY_EPARSE, 4, "only a check rule");
    ERR("lag(a, 1)", TALLY_EPARSE, 0, "only a check rule");
    /* Bad arguments in rules. */
    static const struct {
        const char *src;
        size_t offset;
        int code;
        const char *message;
    } bad[] = {
        { "prev(a + b) > 0", 7, TALLY_EPARSE, "')': prev takes one indicator id" },
        { "prev(1) > 0", 5, TALLY_EPARSE, "an indicator id" },
        { "prev(nope) > 0", 5, TALLY_ENOTFOUND, "unknown indicator 'nope'" },
        { "lag(a) > 0", 5, TALLY_EPARSE, "number of periods back" },
        { "lag(a, 0) > 0", 7, TALLY_EPARSE, "a whole number of periods from 1 to 60" },
        { "lag(a, 1.5) > 0", 7, TALLY_EPARSE, "a whole number" },
        { "lag(a, 61) > 0", 7, TALLY_EPARSE, "a whole number" },
        { "lag(a, 2, 3) > 0", 8, TALLY_EPARSE, "lag takes an indicator id and a number" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        e = (tally_expr *)&e;
        off = 999;
        int rc = tally_expr__compile_lagged(&e, bad[k].src, strlen(bad[k].src), resolve, NULL,
                                            NV, &off);
        if (rc != bad[k].code || off != bad[k].offset ||
            !strstr(tally_error_last()->message, bad[k].message))
            fail_msg("'%s': code %d offset %zu '%s'", bad[k].src, rc, off,
                     tally_error_last()->message);
        assert_null(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expr__numbers),
        cmocka_unit_test(test_expr__precedence),
        cmocka_unit_test(test_expr__functions),
        cmocka_unit_test(test_expr__comparisons),
        cmocka_unit_test(test_expr__logic),
        cmocka_unit_test(test_expr__missing),
        cmocka_unit_test(test_expr__round),
        cmocka_unit_test(test_expr__compound_growth),
        cmocka_unit_test(test_expr__columns_match_row_by_row),
        cmocka_unit_test(test_expr__variables),
        cmocka_unit_test(test_expr__is_boolean),
        cmocka_unit_test(test_expr__syntax_errors),
        cmocka_unit_test(test_expr__limits),
        cmocka_unit_test(test_expr__interval),
        cmocka_unit_test(test_expr__interval_columns),
        cmocka_unit_test(test_expr__split_comparison),
        cmocka_unit_test(test_expr__lagged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
