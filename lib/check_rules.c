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

/* Appends formula or rule text with each indicator id replaced by the
 * indicator's name (values == NULL) or by its value at `node` with its
 * decimals, and '*' written as '×'. Numbers, function names and operators
 * are copied as written. */
static void describe(tally_check__sb *b, const tally_definitions *d, const char *text, size_t len,
                     double *const *values, size_t node)
{
    size_t k = 0;
    while (k < len) {
        char c = text[k];
        if ((c >= '0' && c <= '9') || c == '.') {
            size_t s = k++;
            while (k < len && (is_ident_char(text[k]) || text[k] == '.' ||
                               ((text[k] == '+' || text[k] == '-') &&
                                (text[k - 1] == 'e' || text[k - 1] == 'E'))))
                k++;
            tally_check__sb_put(b, text + s, k - s);
        } else if (is_ident_start(c)) {
            size_t s = k;
            while (k < len && is_ident_char(text[k]))
                k++;
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
    if (!is_single_ident(t, len) && tally_util__parse_number(t, len, &literal) != 0) {
        describe(b, R->d, t, len, v->val, node);
        tally_check__sb_str(b, " = ");
    }
    tally_check__sb_num(b, x, d);
}

/* rule: at every region and period where the region or one below it filed
 * one of the rule's indicators for exactly that period. */
int tally_check__rule(tally_check__run *R, const tally_check__prepared *P,
                      const tally_check__view *v)
{
    const tally_check_def *c = P->def;
    tally_check_summary *s = &R->f->checks[P->ord];
    size_t n = R->n, nn = n ? n : 1;
    const tally_expr *e = c->rule;
    size_t nv = tally_expr__var_count(e);
    int max_dec = 0;
    for (size_t j = 0; j < nv; j++) {
        int dj = tally_definitions_decimals(R->d, (size_t)tally_expr__var(e, j));
        if (dj > max_dec)
            max_dec = dj;
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
            filed = tally_bit__get(v->sub[tally_expr__var(e, j)], node);
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
            tally_check__prefix(&b, R, node, v->key);
            describe(&b, R->d, text, tlen, NULL, 0);
            tally_check__sb_str(&b, " cannot be evaluated");
            int listed = 0;
            for (size_t j = 0; j < nv; j++) {
                size_t ind = (size_t)tally_expr__var(e, j);
                if (mixed ? v->cov[ind][node] != TALLY_CHECK__COV_PART : !isnan(v->val[ind][node]))
                    continue;
                tally_check__sb_str(&b, listed ? ", " : ": ");
                tally_check__sb_str(&b, tally_definitions_name(R->d, ind));
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
            tally_check__prefix(&b, R, node, v->key);
            describe(&b, R->d, text, tlen, NULL, 0);
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
            tally_check__prefix(&b, R, node, v->key);
            describe(&b, R->d, text, tlen, NULL, 0);
            tally_check__sb_str(&b, " does not hold (");
            describe(&b, R->d, text, tlen, v->val, node);
            tally_check__sb_str(&b, ")");
        }
        s->fails++;
        rc = tally_check__add_finding(R, P->ord, TALLY_FINDING_RULE, c->severity, node, TALLY_NONE,
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
        for (size_t node = 0; node < R->n; node++) {
            if (!tally_bit__get(col->valid, node))
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
    size_t n = R->n;
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
            if (!tally_bit__get(col->valid, node))
                continue;
            s->items++;
            double r = tally_column__get(col, node), x = fv[node], lo = flo[node], hi = fhi[node];
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
            tally_check__prefix(&b, R, node, v->key);
            tally_check__sb_printf(&b, "%s reported ", name);
            tally_check__sb_num(&b, r, dd);
            tally_check__sb_str(&b, " but ");
            describe(&b, R->d, formula, strlen(formula), NULL, 0);
            tally_check__sb_str(&b, " = ");
            describe(&b, R->d, formula, strlen(formula), v->val, node);
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
                                              node, f, f, v->key, x, r, dd, &b);
            if (rc)
                return rc;
        }
    }
    return 0;
}
