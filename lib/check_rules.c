/* Consistency checks of values against what the definitions say they
 * must be: `rule` checks (a comparison or a logical expression at every
 * region and period), `recomputed` (a formula indicator's reported value
 * against the formula over the region's figures) and `bounds` (min: /
 * max:). A value that is not exact stands for the interval of numbers that
 * round to it, and the comparisons are made over those intervals, so the
 * rounding of published figures raises no error.
 *
 * SPDX-License-Identifier: MIT
 */
#include "check.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "error.h"
#include "expr.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Rule and formula text in messages                                  */
/* ------------------------------------------------------------------ */

static int is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

/* The end of the name starting at text[k]: its id, and an option of a
 * category after it (`poor_population[cause=illness]`), as the formula
 * language reads it. */
static size_t name_end(const char *text, size_t len, size_t k)
{
    while (k < len && is_ident_char(text[k]))
        k++;
    if (k < len && text[k] == '[') {
        size_t j = k + 1;
        while (j < len && text[j] != ']' && text[j] != '[' && text[j] != '(' && text[j] != ')')
            j++;
        if (j < len && text[j] == ']')
            k = j + 1;
    }
    return k;
}

/* The period `lag` periods before `key`. */
static int32_t periods_back(int32_t key, long lag)
{
    for (long k = 0; k < lag; k++)
        key = tally_period__previous(key);
    return key;
}

/* "2017's " for an operand read `lag` periods before `key`. */
static void lag_label(tally_check__sb *b, int32_t key, long lag)
{
    if (lag <= 0)
        return;
    char t[TALLY_PERIOD_TEXT_MAX];
    tally_period__format(periods_back(key, lag), t);
    tally_check__sb_printf(b, "%s's ", t);
}

/* At text[k], `prev(id)` or `lag(id, n)`: its indicator, lag and end
 * (just after the ')'). 0 when the text is anything else. */
static int lagged_call(const tally_definitions *d, const char *text, size_t len, size_t k,
                       size_t *ind, long *lag, size_t *end)
{
    size_t s = k;
    while (k < len && is_ident_char(text[k]))
        k++;
    int prev = k - s == 4 && memcmp(text + s, "prev", 4) == 0;
    if (!prev && !(k - s == 3 && memcmp(text + s, "lag", 3) == 0))
        return 0;
    while (k < len && (text[k] == ' ' || text[k] == '\t'))
        k++;
    if (k >= len || text[k++] != '(')
        return 0;
    while (k < len && (text[k] == ' ' || text[k] == '\t'))
        k++;
    size_t a = k;
    k = name_end(text, len, k);
    if (k == a || tally_definitions_find(d, text + a, k - a, ind) != 0)
        return 0;
    *lag = 1;
    while (k < len && (text[k] == ' ' || text[k] == '\t'))
        k++;
    if (!prev) {
        if (k >= len || text[k++] != ',')
            return 0;
        while (k < len && (text[k] == ' ' || text[k] == '\t'))
            k++;
        long n = 0;
        while (k < len && text[k] >= '0' && text[k] <= '9' && n < 1000)
            n = n * 10 + (text[k++] - '0');
        /* "2.0" compiles as 2 */
        if (k < len && text[k] == '.')
            for (k++; k < len && text[k] >= '0' && text[k] <= '9'; k++)
                ;
        *lag = n;
        while (k < len && (text[k] == ' ' || text[k] == '\t'))
            k++;
    }
    if (k >= len || text[k] != ')')
        return 0;
    *end = k + 1;
    return 1;
}

/* Appends formula or rule text with each indicator id replaced by the
 * indicator's name (values == NULL) or by its value at `node` with its
 * decimals, and '*' written as '×'. prev(x) and lag(x, n) become x's name
 * or value preceded by the period they read ("2017's 351", counted back
 * from `key`); their values are values[x + n * m]. Numbers, function names
 * and operators are copied as written. */
static void describe(tally_check__sb *b, const tally_definitions *d, const char *text, size_t len,
                     double *const *values, size_t node, int32_t key)
{
    size_t m = tally_definitions_indicator_count(d);
    size_t k = 0;
    while (k < len) {
        char c = text[k];
        size_t lind, lend;
        long lag;
        if ((c >= '0' && c <= '9') || c == '.') {
            size_t s = k++;
            while (k < len && (is_ident_char(text[k]) || text[k] == '.' ||
                               ((text[k] == '+' || text[k] == '-') &&
                                (text[k - 1] == 'e' || text[k - 1] == 'E'))))
                k++;
            tally_check__sb_put(b, text + s, k - s);
        } else if (is_ident_start(c) && lagged_call(d, text, len, k, &lind, &lag, &lend)) {
            lag_label(b, key, lag);
            if (values)
                tally_check__sb_num(b, values[lind + (size_t)lag * m][node],
                                    tally_definitions_decimals(d, lind));
            else
                tally_check__sb_str(b, tally_definitions_name(d, lind));
            k = lend;
        } else if (is_ident_start(c)) {
            size_t s = k;
            k = name_end(text, len, k);
            size_t j = k;
            while (j < len && (text[j] == ' ' || text[j] == '\t'))
                j++;
            size_t ind;
            if ((j < len && text[j] == '(') ||
                tally_definitions_find(d, text + s, k - s, &ind) != 0) {
                tally_check__sb_put(b, text + s, k - s);
            } else if (values) {
                tally_check__sb_num(b, values[ind][node], tally_definitions_decimals(d, ind));
            } else {
                tally_check__sb_str(b, tally_definitions_name(d, ind));
            }
        } else if (c == '*') {
            tally_check__sb_str(b, "×");
            k++;
        } else {
            tally_check__sb_put(b, &c, 1);
            k++;
        }
    }
    /* tally_definitions_find records an error when it misses; a message
     * being built is not an error. */
    tally_error_clear();
}

/* Trims spaces at both ends of [*s, *s + *len). */
static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
                    (*s)[*len - 1] == '\n' || (*s)[*len - 1] == '\r'))
        (*len)--;
}

/* 1 when the text is one identifier (a side that is a single indicator). */
static int is_single_ident(const char *s, size_t len)
{
    if (!len || !is_ident_start(s[0]))
        return 0;
    for (size_t k = 1; k < len; k++)
        if (!is_ident_char(s[k]))
            return 0;
    return 1;
}

int tally_check__split_text(const char *t, size_t len, size_t *op_at, size_t *op_len)
{
    int depth = 0;
    for (size_t k = 0; k < len; k++) {
        char c = t[k];
        if (c == '(')
            depth++;
        else if (c == ')')
            depth--;
        else if (depth == 0 && (c == '=' || c == '!' || c == '<' || c == '>')) {
            *op_at = k;
            *op_len = k + 1 < len && t[k + 1] == '=' ? 2 : 1;
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Rules                                                              */
/* ------------------------------------------------------------------ */

/* Does some point of [llo, lhi] and of [rlo, rhi] satisfy `l op r` within
 * the tolerance? Strict comparisons get no slack: a == b must fail a < b. */
static int intervals_hold(int op, double llo, double lhi, double rlo, double rhi, double tol,
                          double sl)
{
    switch (op) {
    case TALLY_EXPR_OP_EQ: return llo <= rhi + tol + sl && rlo <= lhi + tol + sl;
    case TALLY_EXPR_OP_NE: return fmax(lhi - rlo, rhi - llo) > tol;
    case TALLY_EXPR_OP_LT: return llo < rhi + tol;
    case TALLY_EXPR_OP_LE: return llo <= rhi + tol + sl;
    case TALLY_EXPR_OP_GT: return lhi > rlo - tol;
    case TALLY_EXPR_OP_GE: return lhi >= rlo - tol - sl;
    default: return 1;
    }
}

/* A side of a rule in a message: its value, preceded by the side with the
 * operands' values when it is more than one indicator. */
static void side_desc(tally_check__sb *b, const tally_check__run *R, const char *t, size_t len,
                      const tally_check__view *v, size_t node, double x, int d)
{
    trim(&t, &len);
    double literal;
    size_t lind, lend;
    long lag;
    if (len && is_ident_start(t[0]) && lagged_call(R->d, t, len, 0, &lind, &lag, &lend) &&
        lend == len) {
        tally_error_clear();
        lag_label(b, v->key, lag);
    } else if (!is_single_ident(t, len) && tally_util__parse_number(t, len, &literal) != 0) {
        describe(b, R->d, t, len, v->val, node, v->key);
        tally_check__sb_str(b, " = ");
    }
    tally_check__sb_num(b, x, d);
}

/* rule: at every region and period where the region or one below it filed
 * one of the rule's indicators for exactly that period (of a rule with
 * prev or lag, one read in that period itself). `v` holds the indicators'
 * columns, then those of each earlier period the rule reads (see
 * tally_check__rule). */
static int rule_over(tally_check__run *R, const tally_check__prepared *P,
                     const tally_check__view *v)
{
    const tally_check_def *c = P->def;
    tally_check_summary *s = &R->f->checks[P->ord];
    size_t n = R->S.n, nn = n ? n : 1; /* the views' nodes (see tally_check__run) */
    const tally_expr *e = c->rule;
    size_t nv = tally_expr__var_count(e);
    int max_dec = 0;
    size_t m = R->m;
    int any_now = 0;
    for (size_t j = 0; j < nv; j++) {
        int dj = tally_definitions_decimals(R->d, (size_t)tally_expr__var(e, j) % m);
        if (dj > max_dec)
            max_dec = dj;
        any_now |= (size_t)tally_expr__var(e, j) < m;
    }
    double *L = malloc(nn * sizeof *L), *Rv = malloc(nn * sizeof *Rv);
    double *llo = malloc(nn * sizeof *llo), *lhi = malloc(nn * sizeof *lhi);
    double *rlo = malloc(nn * sizeof *rlo), *rhi = malloc(nn * sizeof *rhi);
    int rc = 0;
    if (!L || !Rv || !llo || !lhi || !rlo || !rhi) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    const double *const *val = (const double *const *)v->val;
    const double *const *lo = (const double *const *)v->lo;
    const double *const *hi = (const double *const *)v->hi;
    if (P->left) {
        if (tally_expr__eval(P->left, val, n, L) || tally_expr__eval(P->right, val, n, Rv) ||
            tally_expr__eval_interval(P->left, lo, hi, n, llo, lhi) ||
            tally_expr__eval_interval(P->right, lo, hi, n, rlo, rhi)) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
            goto done;
        }
    } else if (tally_expr__eval(e, val, n, L)) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    const char *text = c->rule_text;
    size_t tlen = strlen(text);
    for (size_t node = 0; node < n && !rc; node++) {
        int filed = 0;
        for (size_t j = 0; j < nv && !filed; j++)
            filed = (!any_now || (size_t)tally_expr__var(e, j) < m) &&
                    tally_bit__get(v->sub[tally_expr__var(e, j)], node);
        if (!filed)
            continue;
        s->items++;
        int missing = P->left ? isnan(L[node]) || isnan(Rv[node]) : isnan(L[node]);
        /* Figures over different sets of regions (a village that did not
         * report one of them) cannot be set against each other. */
        uint64_t sig;
        int mixed =
            !missing && tally_check__cov_combine(v, e, node, 0, &sig) == TALLY_CHECK__COV_MIXED;
        missing |= mixed;
        if (missing && !c->missing_fail) {
            s->missing++;
            continue;
        }
        tally_check__sb b = { 0 };
        double expected = NAN, actual = NAN;
        int d = max_dec;
        if (missing) {
            tally_check__prefix(&b, R, tally_check__node(R, node), v->key);
            describe(&b, R->d, text, tlen, NULL, 0, v->key);
            tally_check__sb_str(&b, " cannot be evaluated");
            int listed = 0;
            for (size_t j = 0; j < nv; j++) {
                size_t ind = (size_t)tally_expr__var(e, j);
                if (mixed ? v->cov[ind][node] != TALLY_CHECK__COV_PART : !isnan(v->val[ind][node]))
                    continue;
                tally_check__sb_str(&b, listed ? ", " : ": ");
                lag_label(&b, v->key, (long)(ind / m));
                tally_check__sb_str(&b, tally_definitions_name(R->d, ind % m));
                listed++;
            }
            if (mixed)
                tally_check__sb_str(&b, listed == 1 ? " is not reported by every region below it"
                                                    : " are not reported by every region below it");
            else
                tally_check__sb_str(&b, listed ? (listed == 1 ? " is missing" : " are missing")
                                               : " (a division by zero or a value out of a "
                                                 "function's range)");
        } else if (P->left) {
            double tol = fmax(c->tol_absolute, c->tol_relative * fabs(Rv[node]));
            double a = llo[node], bb = lhi[node], x = rlo[node], y = rhi[node];
            /* An interval the arithmetic cannot bound (a divisor that may be
             * zero within rounding) allows anything. */
            double sl = tally_check__slack(a, bb, x, y) + tally_check__slack(tol, 0, 0, 0);
            int holds = isnan(a) || isnan(bb) || isnan(x) || isnan(y) ||
                        intervals_hold(P->op, a, bb, x, y, tol, sl);
            if (holds) {
                s->passes++;
                continue;
            }
            expected = Rv[node];
            actual = L[node];
            if (d < 2 && (tally_check__exact_decimals(expected, d, d + 1) > d ||
                          tally_check__exact_decimals(actual, d, d + 1) > d))
                d = 2;
            d = tally_check__finding_decimals(d, actual - expected);
            tally_check__prefix(&b, R, tally_check__node(R, node), v->key);
            describe(&b, R->d, text, tlen, NULL, 0, v->key);
            tally_check__sb_str(&b, " does not hold: ");
            side_desc(&b, R, text, P->op_at, v, node, actual, d);
            tally_check__sb_str(&b, " vs ");
            side_desc(&b, R, text + P->op_at + P->op_len, tlen - P->op_at - P->op_len, v, node,
                      expected, d);
            tally_check__sb_str(&b, " (imbalance ");
            tally_check__sb_num(&b, actual - expected, d);
            if (tol > 0) {
                tally_check__sb_str(&b, ", tolerance ");
                tally_check__sb_num(&b, tol, tally_check__exact_decimals(tol, d, d + 3));
            }
            tally_check__sb_str(&b, ")");
            if (a != bb || x != y)
                tally_check__sb_str(&b, ", and no rounding of the figures explains it");
        } else {
            if (L[node] != 0) {
                s->passes++;
                continue;
            }
            tally_check__prefix(&b, R, tally_check__node(R, node), v->key);
            describe(&b, R->d, text, tlen, NULL, 0, v->key);
            tally_check__sb_str(&b, " does not hold (");
            describe(&b, R->d, text, tlen, v->val, node, v->key);
            tally_check__sb_str(&b, ")");
        }
        s->fails++;
        rc = tally_check__add_finding(R, P->ord, TALLY_FINDING_RULE, c->severity,
                                      tally_check__node(R, node), TALLY_NONE,
                                      0, v->key, expected, actual, d, &b);
    }
done:
    free(L);
    free(Rv);
    free(llo);
    free(lhi);
    free(rlo);
    free(rhi);
    return rc;
}

/* Whether the dataset holds any figure for a period within `key`'s months. */
static int period_has_data(const tally_check__run *R, int32_t key)
{
    int32_t first = tally_period__first_month(key), last = tally_period__last_month(key);
    size_t ncols = tally_dataset__column_count(R->ds);
    for (size_t j = 0; j < ncols; j++) {
        int32_t p = tally_dataset__column(R->ds, j)->period;
        if (tally_period__first_month(p) >= first && tally_period__last_month(p) <= last)
            return 1;
    }
    return 0;
}

/* A rule that reads earlier periods (prev, lag) sees one view whose
 * columns are the indicators of period `key`, then those of the period
 * before, and so on: column x + k * m is x, k periods back, as the rule was
 * compiled. When an earlier period it reads has no figures at all (the
 * first period of the data), the rule is not evaluated in `key`. */
int tally_check__rule(tally_check__run *R, const tally_check__prepared *P,
                      const tally_check__view *v)
{
    const tally_expr *e = P->def->rule;
    long lags = tally_expr__max_lag(e);
    if (lags <= 0)
        return rule_over(R, P, v);
    size_t m = R->m;
    if ((size_t)tally_expr__lag_stride(e) != m)
        return tally_error__set(TALLY_EINVAL,
                                "check '%s': the rule was compiled over %ld indicators, not %zu",
                                P->def->id, tally_expr__lag_stride(e), m);
    for (long k = 1; k <= lags; k++)
        if (!period_has_data(R, periods_back(v->key, k)))
            return 0;
    size_t total = m * (size_t)(lags + 1);
    tally_check__view *back = calloc((size_t)lags, sizeof *back);
    tally_check__view all;
    memset(&all, 0, sizeof all);
    all.key = v->key;
    all.ready = 1;
    all.val = calloc(total, sizeof *all.val);
    all.lo = calloc(total, sizeof *all.lo);
    all.hi = calloc(total, sizeof *all.hi);
    all.sub = calloc(total, sizeof *all.sub);
    all.cov = calloc(total, sizeof *all.cov);
    all.sig = calloc(total, sizeof *all.sig);
    int rc = 0;
    if (!back || !all.val || !all.lo || !all.hi || !all.sub || !all.cov || !all.sig) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    for (long k = 0; k <= lags && !rc; k++) {
        const tally_check__view *w = v;
        if (k > 0) {
            /* Only the rule's own indicators would be needed; the view is
             * computed whole as the other checks compute it. */
            rc = tally_check__view_compute(R, &back[k - 1], periods_back(v->key, k));
            if (rc)
                break;
            w = &back[k - 1];
        }
        for (size_t i = 0; i < m; i++) {
            size_t at = (size_t)k * m + i;
            all.val[at] = w->val[i];
            all.lo[at] = w->lo[i];
            all.hi[at] = w->hi[i];
            all.sub[at] = w->sub[i];
            all.cov[at] = w->cov[i];
            all.sig[at] = w->sig[i];
        }
    }
    if (!rc)
        rc = rule_over(R, P, &all);
done:
    for (long k = 0; back && k < lags; k++)
        tally_check__view_free(&back[k], m);
    free(back);
    free(all.val);
    free(all.lo);
    free(all.hi);
    free(all.sub);
    free(all.cov);
    free(all.sig);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Bounds and recomputed formulas                                     */
/* ------------------------------------------------------------------ */

/* bounds: every value filed for this period against min: / max:. A value
 * that is not exact stands for half a unit around it: it is out of bounds
 * only when all of that interval is. */
int tally_check__bounds(tally_check__run *R, size_t ord, int32_t key)
{
    tally_check_summary *s = &R->f->checks[ord];
    for (size_t i = 0; i < R->m; i++) {
        double mn = tally_definitions_min(R->d, i), mx = tally_definitions_max(R->d, i);
        if (isnan(mn) && isnan(mx))
            continue;
        const tally_column *col = tally_dataset__find_column(R->ds, i, key);
        if (!col)
            continue;
        double u = R->half[i];
        int dec = tally_definitions_decimals(R->d, i);
        for (size_t node = col->lo; node < col->hi; node++) {
            if (!tally_column__has(col, node))
                continue;
            s->items++;
            double x = tally_column__get(col, node);
            int below = !isnan(mn) && x + u < mn - tally_check__slack(x, mn, 0, 0);
            int above = !isnan(mx) && x - u > mx + tally_check__slack(x, mx, 0, 0);
            if (!below && !above) {
                s->passes++;
                continue;
            }
            s->fails++;
            double limit = below ? mn : mx;
            int d = tally_check__finding_decimals(dec, x - limit);
            tally_check__sb b = { 0 };
            tally_check__prefix(&b, R, node, key);
            tally_check__sb_printf(&b, "%s reported ", tally_definitions_name(R->d, i));
            tally_check__sb_num(&b, x, d);
            tally_check__sb_str(&b, below ? ", below its minimum " : ", above its maximum ");
            tally_check__sb_num(&b, limit, d);
            int rc = tally_check__add_finding(R, ord, TALLY_FINDING_BOUNDS, TALLY_FINDING_ERROR,
                                              node, i, i, key, limit, x, d, &b);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* x cut (not rounded) to `d` decimals, and rounded half away from zero;
 * a scaled value within a few ulps of an integer counts as that integer. */
static void cut_and_round(double x, int d, double *cut, double *rounded)
{
    double p = pow(10.0, d), a = fabs(x) * p;
    double near = nearbyint(a);
    if (fabs(a - near) <= 8 * DBL_EPSILON * fmax(1.0, a))
        a = near;
    double t = floor(a), r = floor(a + 0.5);
    *cut = copysign(t / p, x);
    *rounded = copysign(r / p, x);
}

/* recomputed: every value filed for a formula indicator against the
 * formula over the region's figures, over intervals (see the header). */
int tally_check__recomputed(tally_check__run *R, size_t ord, const tally_check__view *v, double *fv,
                            double *flo, double *fhi)
{
    tally_check_summary *s = &R->f->checks[ord];
    size_t n = R->S.n; /* the views' nodes (see tally_check__run) */
    for (size_t f = 0; f < R->m; f++) {
        if (tally_definitions_aggregate(R->d, f) != TALLY_AGGREGATE_FORMULA)
            continue;
        const tally_column *col = tally_dataset__find_column(R->ds, f, v->key);
        if (!col)
            continue;
        const tally_expr *e = tally_definitions__program(R->d, f);
        if (tally_expr__eval(e, (const double *const *)v->val, n, fv) ||
            tally_expr__eval_interval(e, (const double *const *)v->lo,
                                      (const double *const *)v->hi, n, flo, fhi))
            return tally_error__set(TALLY_ENOMEM, "out of memory checking");
        int d = tally_definitions_decimals(R->d, f);
        double u = 0.5 * pow(10.0, -d);
        const char *name = tally_definitions_name(R->d, f);
        const char *formula = tally_definitions_formula(R->d, f);
        for (size_t node = 0; node < n; node++) {
            size_t hn = tally_check__node(R, node);
            if (!tally_column__has(col, hn))
                continue;
            s->items++;
            double r = tally_column__get(col, hn), x = fv[node], lo = flo[node], hi = fhi[node];
            /* The region's value stands for its whole area: operands
             * computed from an incomplete set of regions cannot judge it. */
            uint64_t sig;
            if (isnan(x) ||
                tally_check__cov_combine(v, e, node, 1, &sig) == TALLY_CHECK__COV_MIXED) {
                s->missing++;
                continue;
            }
            double sl = tally_check__slack(r, x, lo, hi);
            if (fabs(r - x) <= u + sl) {
                s->passes++;
                continue;
            }
            int bounded = !isnan(lo) && !isnan(hi);
            int error = bounded && (r + u < lo - sl || r - u > hi + sl);
            if (error)
                s->fails++;
            else
                s->warnings++;
            int dd = tally_check__finding_decimals(d, r - x);
            int wide = dd + 2 > 15 ? 15 : dd + 2;
            tally_check__sb b = { 0 };
            tally_check__prefix(&b, R, hn, v->key);
            tally_check__sb_printf(&b, "%s reported ", name);
            tally_check__sb_num(&b, r, dd);
            tally_check__sb_str(&b, " but ");
            describe(&b, R->d, formula, strlen(formula), NULL, 0, v->key);
            tally_check__sb_str(&b, " = ");
            describe(&b, R->d, formula, strlen(formula), v->val, node, v->key);
            tally_check__sb_str(&b, " = ");
            tally_check__sb_num(&b, x, dd);
            if (!error) {
                tally_check__sb_str(&b, ", explained only by the rounding of the operands");
                if (bounded) {
                    tally_check__sb_str(&b, " (which allows ");
                    tally_check__sb_num(&b, lo, wide);
                    tally_check__sb_str(&b, " to ");
                    tally_check__sb_num(&b, hi, wide);
                    tally_check__sb_str(&b, ")");
                }
            } else if (lo != hi) {
                tally_check__sb_str(&b, ", beyond what the rounding of the operands allows (");
                tally_check__sb_num(&b, lo, wide);
                tally_check__sb_str(&b, " to ");
                tally_check__sb_num(&b, hi, wide);
                tally_check__sb_str(&b, ")");
            }
            double cut, rounded;
            cut_and_round(x, d, &cut, &rounded);
            if (fabs(r - cut) <= sl + u * 1e-6 && fabs(r - rounded) > sl + u * 1e-6) {
                tally_check__sb_str(&b, "; ");
                tally_check__sb_num(&b, r, d);
                tally_check__sb_str(&b, " is ");
                tally_check__sb_num(&b, x, wide);
                tally_check__sb_str(&b, " truncated instead of rounded (");
                tally_check__sb_num(&b, rounded, d);
                tally_check__sb_str(&b, ")");
            }
            int rc = tally_check__add_finding(R, ord, TALLY_FINDING_RECOMPUTED,
                                              error ? TALLY_FINDING_ERROR : TALLY_FINDING_WARNING,
                                              hn, f, f, v->key, x, r, dd, &b);
            if (rc)
                return rc;
        }
    }
    return 0;
}
