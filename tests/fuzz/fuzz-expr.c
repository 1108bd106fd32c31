/* Fuzz target: formula expressions (tally_expr__compile, tally_expr__eval,
 * tally_expr__eval_interval, tally_expr__split_comparison), through the
 * internal static library.
 *
 * The input is the formula. The variables are a, b, c, d, x, y (indices 0
 * to 5, where x and y are left NULL: all missing); any other name is
 * unknown. Each compiled program is evaluated over 300 rows (more than one
 * block of 256) of values that mix ordinary numbers, zeros, negatives,
 * huge and tiny magnitudes, NaN and infinities. Invariants:
 *   - evaluating in place (out = a column) gives what a separate output
 *     gives, bit for bit;
 *   - no infinity ever comes out (a non-finite result is missing);
 *   - over point intervals (lo = hi) the interval evaluation of a
 *     non-boolean program gives the point value, or missing where the
 *     point value is missing;
 *   - over wide intervals, every sampled point's value lies inside the
 *     interval result, and a sampled point that gives missing makes the
 *     interval result missing ("no interval holds every point");
 *   - a comparison split into its two sides gives, compared again, the
 *     value of the whole where both sides are present.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "expr.h"
#include "fuzz.h"

enum { ROWS = 300, VARS = 6 };

static long resolve(void *ctx, const char *s, size_t len)
{
    (void)ctx;
    static const char names[] = "abcdxy";
    if (len != 1)
        return -1;
    const char *p = memchr(names, s[0], VARS);
    return p ? (long)(p - names) : -1;
}

/* Bitwise equality, with every NaN equal to every NaN. */
static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* Within rounding: the interval ends are computed in round-to-nearest and
 * not widened (expr.h), so allow a relative slack. */
static int close_to(double a, double b)
{
    double scale = fmax(1.0, fmax(fabs(a), fabs(b)));
    return fabs(a - b) <= 1e-9 * scale;
}

static const double samples[] = {
    1, 2, 0, -1, 3.5, 0.5, 100, -7, 1e-300, 1e300, 12345.678, -0.25, 4, 9, 2.675, 1e6,
};

static double point_value(size_t row, size_t var)
{
    size_t k = row * 7 + var * 3;
    if (row % 17 == 5 + var)
        return NAN;
    if (row % 29 == 11 && var == 1)
        return INFINITY;
    if (row % 31 == 3 && var == 2)
        return -INFINITY;
    return samples[k % (sizeof samples / sizeof samples[0])];
}

static void check_intervals(const tally_expr *e, double *const cols[VARS], double *out)
{
    static double lo[VARS][ROWS], hi[VARS][ROWS], olo[ROWS], ohi[ROWS];
    static double pts[3][VARS][ROWS], pout[3][ROWS];
    const double *lp[VARS], *hp[VARS];
    int boolean = tally_expr__is_boolean(e);

    /* Points: lo = hi. */
    for (size_t v = 0; v < VARS; v++) {
        lp[v] = cols[v];
        hp[v] = cols[v];
    }
    FUZZ_CHECK(tally_expr__eval_interval(e, lp, hp, ROWS, olo, ohi) == 0);
    for (size_t i = 0; i < ROWS; i++) {
        FUZZ_CHECK(!isinf(olo[i]) && !isinf(ohi[i]));
        FUZZ_CHECK(isnan(olo[i]) == isnan(ohi[i]));
        FUZZ_CHECK(isnan(olo[i]) || olo[i] <= ohi[i]);
        if (boolean)
            continue;
        if (isnan(out[i]))
            FUZZ_CHECK(isnan(olo[i]));
        else if (!isnan(olo[i]))
            FUZZ_CHECK(close_to(olo[i], out[i]) && close_to(ohi[i], out[i]));
    }

    /* Wide intervals around the points (x and y stay NULL: missing), and
     * three points inside each: both ends and the middle. */
    for (size_t v = 0; v < 4; v++) {
        for (size_t i = 0; i < ROWS; i++) {
            double c = cols[v] ? cols[v][i] : NAN;
            double w = (double)((i + v) % 4) * 0.5 * fmax(1.0, fabs(c) * 1e-3);
            lo[v][i] = c - w;
            hi[v][i] = c + w;
            pts[0][v][i] = lo[v][i];
            pts[1][v][i] = hi[v][i];
            pts[2][v][i] = c;
        }
        lp[v] = lo[v];
        hp[v] = hi[v];
    }
    lp[4] = lp[5] = hp[4] = hp[5] = NULL;
    FUZZ_CHECK(tally_expr__eval_interval(e, lp, hp, ROWS, olo, ohi) == 0);
    for (int s = 0; s < 3; s++) {
        const double *pc[VARS] = { pts[s][0], pts[s][1], pts[s][2], pts[s][3], NULL, NULL };
        FUZZ_CHECK(tally_expr__eval(e, pc, ROWS, pout[s]) == 0);
    }
    for (size_t i = 0; i < ROWS; i++) {
        FUZZ_CHECK(isnan(olo[i]) == isnan(ohi[i]));
        if (boolean || isnan(olo[i]))
            continue;
        FUZZ_CHECK(olo[i] <= ohi[i]);
        for (int s = 0; s < 3; s++) {
            /* An infinite or overflowing end is missing, so the points are
             * finite here; a point that gives missing needs the whole
             * interval missing. */
            FUZZ_CHECK(!isnan(pout[s][i]));
            FUZZ_CHECK(pout[s][i] >= olo[i] || close_to(pout[s][i], olo[i]));
            FUZZ_CHECK(pout[s][i] <= ohi[i] || close_to(pout[s][i], ohi[i]));
        }
    }
}

static void check_split(const tally_expr *e, const double *const *cols, const double *whole)
{
    tally_expr *left = (tally_expr *)&left, *right = (tally_expr *)&right;
    int op = -1;
    int rc = tally_expr__split_comparison(e, &left, &op, &right);
    if (rc) {
        FUZZ_CHECK(rc == TALLY_EINVAL);
        FUZZ_CHECK(left == NULL && right == NULL && op == 0);
        return;
    }
    FUZZ_CHECK(op >= TALLY_EXPR_OP_EQ && op <= TALLY_EXPR_OP_GE);
    static double l[ROWS], r[ROWS];
    FUZZ_CHECK(tally_expr__eval(left, cols, ROWS, l) == 0);
    FUZZ_CHECK(tally_expr__eval(right, cols, ROWS, r) == 0);
    for (size_t i = 0; i < ROWS; i++) {
        if (isnan(l[i]) || isnan(r[i])) {
            FUZZ_CHECK(isnan(whole[i]));
            continue;
        }
        int t;
        switch (op) {
        case TALLY_EXPR_OP_EQ: t = l[i] == r[i]; break;
        case TALLY_EXPR_OP_NE: t = l[i] != r[i]; break;
        case TALLY_EXPR_OP_LT: t = l[i] < r[i]; break;
        case TALLY_EXPR_OP_LE: t = l[i] <= r[i]; break;
        case TALLY_EXPR_OP_GT: t = l[i] > r[i]; break;
        default: t = l[i] >= r[i]; break;
        }
        FUZZ_CHECK(whole[i] == (double)t);
    }
    tally_expr__free(left);
    tally_expr__free(right);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static double store[VARS][ROWS], out[ROWS], inplace[ROWS];
    static int filled;
    if (!filled) {
        for (size_t v = 0; v < VARS; v++)
            for (size_t i = 0; i < ROWS; i++)
                store[v][i] = point_value(i, v);
        filled = 1;
    }
    tally_expr *e = (tally_expr *)&e;
    size_t offset = (size_t)-1;
    int rc = tally_expr__compile(&e, (const char *)data, size, resolve, NULL, &offset);
    if (rc) {
        fuzz_check_error(rc);
        FUZZ_CHECK(e == NULL);
        FUZZ_CHECK(offset <= size || (size > TALLY_EXPR_MAX_LENGTH && offset == TALLY_EXPR_MAX_LENGTH));
        return 0;
    }
    FUZZ_CHECK(size <= TALLY_EXPR_MAX_LENGTH);
    size_t nv = tally_expr__var_count(e);
    for (size_t k = 0; k < nv; k++) {
        long v = tally_expr__var(e, k);
        FUZZ_CHECK(v >= 0 && v < VARS);
        for (size_t j = 0; j < k; j++)
            FUZZ_CHECK(tally_expr__var(e, j) != v);
    }
    FUZZ_CHECK(tally_expr__var(e, nv) == -1);

    double *cols[VARS] = { store[0], store[1], store[2], store[3], NULL, NULL };
    FUZZ_CHECK(tally_expr__eval(e, (const double *const *)cols, ROWS, out) == 0);
    for (size_t i = 0; i < ROWS; i++)
        FUZZ_CHECK(!isinf(out[i]));

    /* In place, over a copy of column a. */
    static double copy[VARS][ROWS];
    memcpy(copy, store, sizeof copy);
    double *ccols[VARS] = { copy[0], copy[1], copy[2], copy[3], NULL, NULL };
    FUZZ_CHECK(tally_expr__eval(e, (const double *const *)ccols, ROWS, copy[0]) == 0);
    memcpy(inplace, copy[0], sizeof inplace);
    for (size_t i = 0; i < ROWS; i++)
        FUZZ_CHECK(same(inplace[i], out[i]));

    /* Fewer rows than a block, and none. */
    FUZZ_CHECK(tally_expr__eval(e, (const double *const *)cols, 3, inplace) == 0);
    for (size_t i = 0; i < 3; i++)
        FUZZ_CHECK(same(inplace[i], out[i]));
    FUZZ_CHECK(tally_expr__eval(e, (const double *const *)cols, 0, inplace) == 0);

    check_intervals(e, cols, out);
    check_split(e, (const double *const *)cols, out);
    tally_expr__free(e);
    return 0;
}
