/* Consistency checks: the run and the findings object.
 *
 * One pass per period: the period is rolled up (values computed from
 * below), each region's own figures and their rounding intervals are put
 * beside them (a "view", check_view.c), and every check that reads a period
 * runs over the view. Findings are collected as they come and sorted into
 * the documented order at the end, so each check can walk the data in
 * whatever order is cheapest.
 *
 * The checks themselves: check_hierarchy.c (hierarchy, completeness),
 * check_rules.c (rules, recomputed formulas, bounds), check_outliers.c
 * (outliers, jumps, monotonic), check_targets.c; writing the findings:
 * check_write.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "check.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "error.h"
#include "expr.h"
#include "hierarchy.h"
#include "period.h"
#include "util.h"
#include "tally/number.h"

/* ------------------------------------------------------------------ */
/* Messages                                                           */
/* ------------------------------------------------------------------ */

void tally_check__sb_put(tally_check__sb *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    void *p = b->p;
    if (tally_util__grow(&p, &b->cap, b->len + n + 1, 1)) {
        b->failed = 1;
        return;
    }
    b->p = p;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void tally_check__sb_str(tally_check__sb *b, const char *s)
{
    tally_check__sb_put(b, s, strlen(s));
}

void tally_check__sb_printf(tally_check__sb *b, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    tally_check__sb_put(b, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void tally_check__sb_num(tally_check__sb *b, double v, int decimals)
{
    char buf[400];
    if (decimals < 0)
        decimals = 0;
    if (decimals > 15)
        decimals = 15;
    int n = isnan(v) ? -1 : tally_number_format(buf, sizeof buf, v, decimals);
    if (n < 0) {
        tally_check__sb_str(b, isnan(v) ? "missing" : "(out of range)");
        return;
    }
    tally_check__sb_put(b, buf, (size_t)n);
}

/* 1 when `v` prints as zero with `decimals` (so a difference would read 0). */
static int prints_as_zero(double v, int decimals)
{
    char buf[400];
    int n = tally_number_format(buf, sizeof buf, v, decimals);
    if (n < 0)
        return 0;
    for (int k = 0; k < n; k++)
        if (buf[k] >= '1' && buf[k] <= '9')
            return 0;
    return 1;
}

int tally_check__finding_decimals(int decimals, double difference)
{
    if (decimals < 0)
        decimals = 0;
    while (decimals < 15 && !isnan(difference) && difference != 0 &&
           prints_as_zero(difference, decimals))
        decimals++;
    return decimals;
}

int tally_check__exact_decimals(double x, int decimals, int most)
{
    if (decimals < 0)
        decimals = 0;
    if (most > 15)
        most = 15;
    for (int d = decimals; d < most; d++) {
        double scaled = x * pow(10.0, d);
        if (fabs(scaled - nearbyint(scaled)) <= 1e-6 * fmax(1.0, fabs(scaled)))
            return d;
    }
    return most > decimals ? most : decimals;
}

/* ------------------------------------------------------------------ */
/* Findings                                                           */
/* ------------------------------------------------------------------ */

int tally_check__add_finding(tally_check__run *R, size_t check, int kind, int severity, size_t node,
                             size_t ind, size_t order, int32_t period, double expected,
                             double actual, int decimals, tally_check__sb *msg)
{
    tally_findings *F = R->f;
    if (msg->failed) {
        free(msg->p);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a finding");
    }
    void *p = F->items;
    if (tally_util__grow(&p, &F->cap, F->count + 1, sizeof *F->items)) {
        free(msg->p);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a finding");
    }
    F->items = p;
    tally_check__finding *x = &F->items[F->count];
    x->check = check;
    x->kind = kind;
    x->severity = severity;
    x->node = node;
    x->indicator = ind;
    x->order = order;
    x->seq = F->count;
    x->period = period;
    tally_period__format(period, x->period_text);
    x->expected = expected;
    x->actual = actual;
    x->difference = actual - expected;
    x->decimals = decimals;
    x->message = msg->p;
    F->count++;
    if (severity == TALLY_FINDING_ERROR)
        F->errors++;
    msg->p = NULL;
    return 0;
}

void tally_check__prefix(tally_check__sb *b, const tally_check__run *R, size_t node, int32_t period)
{
    char per[TALLY_PERIOD_TEXT_MAX];
    tally_period__format(period, per);
    tally_check__sb_str(b, tally_hierarchy_name(R->h, node));
    tally_check__sb_printf(b, " %s: ", per);
}

double tally_check__slack(double a, double b, double c, double e)
{
    double m = 0;
    double xs[4] = { a, b, c, e };
    for (int k = 0; k < 4; k++)
        if (isfinite(xs[k]) && fabs(xs[k]) > m)
            m = fabs(xs[k]);
    return 64 * DBL_EPSILON * m;
}

/* ------------------------------------------------------------------ */
/* The run                                                            */
/* ------------------------------------------------------------------ */

static int by_time(const void *a, const void *b)
{
    return tally_period__compare(*(const int32_t *)a, *(const int32_t *)b);
}

static int finding_order(const void *a, const void *b)
{
    const tally_check__finding *x = a, *y = b;
    if (x->check != y->check)
        return x->check < y->check ? -1 : 1;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    int c = tally_period__compare(x->period, y->period);
    if (c)
        return c;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

TALLY_EXTERN(void) tally_findings_free(tally_findings *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++)
        free(f->items[i].message);
    free(f->items);
    free(f->checks);
    free(f);
}

static int have_period(const tally_check__run *R, int32_t key)
{
    /* Whether some column has the period: R->periods holds every period
     * filed when none were asked for; else the set's index, indicator by
     * indicator. */
    if (!R->explicit_periods) {
        for (size_t j = 0; j < R->nper; j++)
            if (R->periods[j] == key)
                return 1;
        return 0;
    }
    int32_t first = tally_period__first_month(key);
    for (size_t i = 0; i < R->m; i++)
        for (size_t j = tally_rollup__first_column(&R->S, i, first);
             j < R->S.istart[i + 1] && tally_period__first_month(R->S.icol[j]->period) == first;
             j++)
            if (R->S.icol[j]->period == key)
                return 1;
    return 0;
}

static int add_summary(tally_findings *F, const char *id, int kind, int severity)
{
    tally_check_summary *s = &F->checks[F->check_count++];
    memset(s, 0, sizeof *s);
    s->check = id;
    s->kind = kind;
    s->severity = severity;
    return (int)(F->check_count - 1);
}

int tally_check__run_defs(tally_findings **out, const tally_dataset *ds,
                          const tally_check_options *opts, const tally_check_def *defs,
                          size_t ndefs)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "tally_check_run: NULL output");
    *out = NULL;
    tally_check_options defaults = TALLY_CHECK_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!ds)
        return tally_error__set(TALLY_EINVAL, "tally_check_run: NULL dataset");
    if (opts->version < 1 || opts->version > TALLY_CHECK_OPTIONS_VERSION)
        return tally_error__set(TALLY_EINVAL, "tally_check_run: options version %u; expected %d",
                                opts->version, TALLY_CHECK_OPTIONS_VERSION);
    if (opts->prefer != TALLY_PREFER_COMPUTED && opts->prefer != TALLY_PREFER_REPORTED)
        return tally_error__set(TALLY_EINVAL, "tally_check_run: unknown prefer %d; expected "
                                              "TALLY_PREFER_COMPUTED or TALLY_PREFER_REPORTED",
                                opts->prefer);

    tally_check__run R;
    memset(&R, 0, sizeof R);
    R.ds = ds;
    R.h = tally_dataset_hierarchy(ds);
    R.d = tally_dataset_definitions(ds);
    R.n = tally_hierarchy_size(R.h);
    R.m = tally_definitions_indicator_count(R.d);
    R.parent = tally_hierarchy__parents(R.h);
    R.prefer = opts->prefer;
    size_t n = R.n, m = R.m, nn = n ? n : 1;
    int rc = 0;
    tally_check__prepared *prep = calloc(ndefs ? ndefs : 1, sizeof *prep);
    tally_check__view cur, prev, extra;
    memset(&cur, 0, sizeof cur);
    memset(&prev, 0, sizeof prev);
    memset(&extra, 0, sizeof extra);
    double *b1 = malloc((nn + 1) * sizeof *b1), *b2 = malloc((nn + 1) * sizeof *b2),
           *b3 = malloc((nn + 1) * sizeof *b3);
    size_t *s1 = malloc((nn + 1) * sizeof *s1), *s2 = malloc((nn + 1) * sizeof *s2);
    R.f = calloc(1, sizeof *R.f);
    R.end = malloc(nn * sizeof *R.end);
    R.half = malloc((m ? m : 1) * sizeof *R.half);
    if (!prep || !b1 || !b2 || !b3 || !s1 || !s2 || !R.f || !R.end || !R.half) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    R.f->h = R.h;
    R.f->d = R.d;
    R.f->checks = calloc(ndefs + 8, sizeof *R.f->checks);
    if (!R.f->checks) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        R.end[i] = tally_hierarchy_subtree_end(R.h, i);
    rc = tally_rollup__nodes_of(&R.S, ds);
    if (rc)
        goto done;
    if (!(R.send = malloc((R.S.n ? R.S.n : 1) * sizeof *R.send))) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    /* A subtree within the set is contiguous (the set is in pre-order):
     * its end is the largest end below it. */
    for (size_t j = 0; j < R.S.n; j++)
        R.send[j] = j + 1;
    for (size_t j = R.S.n; j-- > 0;)
        if (R.S.parent[j] != TALLY_HIERARCHY__ROOT && R.send[j] > R.send[R.S.parent[j]])
            R.send[R.S.parent[j]] = R.send[j];
    for (size_t i = 0; i < m; i++)
        R.half[i] = tally_definitions_exact(R.d, i) == 1
                        ? 0
                        : 0.5 * pow(10.0, -tally_definitions_decimals(R.d, i));

    /* Periods: as asked, or every period filed, in time order. */
    size_t ncols = tally_dataset__column_count(ds);
    size_t cap = opts->periods && opts->period_count ? opts->period_count : ncols;
    R.periods = malloc((cap ? cap : 1) * sizeof *R.periods);
    if (!R.periods) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    if (opts->periods && opts->period_count) {
        R.explicit_periods = 1;
        for (size_t k = 0; k < opts->period_count; k++) {
            const char *p = opts->periods[k];
            int32_t key;
            if (!p || tally_period__parse_ask(p, strlen(p), &key)) {
                rc = tally_error__set(TALLY_EPARSE,
                                      "bad period '%s'; expected " TALLY_PERIOD__FORMS,
                                      p ? p : "(null)");
                goto done;
            }
            int dup = 0;
            for (size_t j = 0; j < R.nper && !dup; j++)
                dup = R.periods[j] == key;
            if (!dup)
                R.periods[R.nper++] = key;
        }
    } else {
        for (size_t k = 0; k < ncols; k++)
            R.periods[k] = tally_dataset__column(ds, k)->period;
        R.nper = tally_rollup__unique_periods(R.periods, ncols);
    }
    qsort(R.periods, R.nper, sizeof *R.periods, by_time);

    /* The checks, prepared. */
    int need_prev = 0;
    for (size_t k = 0; k < ndefs; k++) {
        const tally_check_def *c = &defs[k];
        tally_check__prepared *P = &prep[k];
        P->def = c;
        P->level = -1;
        P->ord = (size_t)add_summary(R.f, c->id, c->kind, c->severity);
        for (size_t j = 0; j < c->indicator_count; j++)
            if (c->indicators[j] >= m) {
                rc = tally_error__set(TALLY_EINVAL, "check '%s': indicator index %zu out of range",
                                      c->id, c->indicators[j]);
                goto done;
            }
        switch (c->kind) {
        case TALLY_CHECK_RULE:
            if (!c->rule || !c->rule_text) {
                rc = tally_error__set(TALLY_EINVAL, "check '%s': a rule check without a rule",
                                      c->id);
                goto done;
            }
            rc = tally_expr__split_comparison(c->rule, &P->left, &P->op, &P->right);
            if (rc == TALLY_ENOMEM) {
                rc = tally_error__set(rc, "out of memory checking");
                goto done;
            }
            rc = 0;
            if (P->left && !tally_check__split_text(c->rule_text, strlen(c->rule_text), &P->op_at,
                                                    &P->op_len)) {
                /* Cannot happen for a compiled comparison; keep the rule
                 * evaluable as a whole. */
                tally_expr__free(P->left);
                tally_expr__free(P->right);
                P->left = P->right = NULL;
            }
            tally_error_clear();
            break;
        case TALLY_CHECK_COMPLETENESS:
            P->level = c->level ? tally_hierarchy_level_find(R.h, c->level) : -1;
            if (P->level < 0) {
                rc = tally_error__set(TALLY_EINVAL,
                                      "check '%s' (line %lu, column %lu): level '%s' is not a "
                                      "level of the hierarchy",
                                      c->id, c->line, c->column, c->level ? c->level : "(none)");
                goto done;
            }
            break;
        case TALLY_CHECK_OUTLIERS:
            need_prev |= !isnan(c->jump_max_ratio);
            break;
        default: break;
        }
    }
    int has_bounds = 0, has_formula = 0, has_cumulative = 0;
    for (size_t i = 0; i < m; i++) {
        has_bounds |= !isnan(tally_definitions_min(R.d, i)) ||
                      !isnan(tally_definitions_max(R.d, i));
        int agg = tally_definitions_aggregate(R.d, i);
        has_formula |= agg == TALLY_AGGREGATE_FORMULA;
        has_cumulative |= agg != TALLY_AGGREGATE_FORMULA &&
                          tally_definitions_over_time(R.d, i) == TALLY_OVER_TIME_CUMULATIVE;
    }
    int ord_bounds = has_bounds ? add_summary(R.f, "bounds", TALLY_FINDING_BOUNDS,
                                              TALLY_FINDING_ERROR)
                                : -1;
    int ord_recomputed = has_formula ? add_summary(R.f, "recomputed", TALLY_FINDING_RECOMPUTED,
                                                   TALLY_FINDING_ERROR)
                                     : -1;
    int ord_monotonic = has_cumulative ? add_summary(R.f, "monotonic", TALLY_FINDING_MONOTONIC,
                                                     TALLY_FINDING_ERROR)
                                       : -1;
    int ord_targets = opts->targets ? add_summary(R.f, "targets", TALLY_FINDING_TARGETS,
                                                  TALLY_FINDING_ERROR)
                                    : -1;

    tally_check__state st = { -1, -1, -1, has_formula, -1 };
    for (size_t p = 0; p < R.nper && !rc; p++) {
        int32_t key = R.periods[p];
        rc = tally_check__view_compute(&R, &cur, key);
        if (rc)
            break;
        const tally_check__view *pv = NULL;
        if (need_prev) {
            int32_t before = tally_period__previous(key);
            if (prev.ready && prev.key == before) {
                pv = &prev;
            } else if (have_period(&R, before)) {
                rc = tally_check__view_compute(&R, &extra, before);
                if (rc)
                    break;
                pv = &extra;
            }
        }
        for (size_t k = 0; k < ndefs && !rc; k++) {
            const tally_check__prepared *P = &prep[k];
            switch (P->def->kind) {
            case TALLY_CHECK_HIERARCHY: rc = tally_check__hierarchy(&R, P, &cur); break;
            case TALLY_CHECK_RULE: rc = tally_check__rule(&R, P, &cur); break;
            case TALLY_CHECK_COMPLETENESS:
                rc = tally_check__completeness(&R, P, &cur, s1, s2);
                break;
            case TALLY_CHECK_OUTLIERS:
                rc = tally_check__outliers(&R, P, &cur, pv, b1, b2, s1);
                break;
            default: break;
            }
        }
        if (!rc && ord_bounds >= 0)
            rc = tally_check__bounds(&R, (size_t)ord_bounds, key);
        if (!rc && ord_recomputed >= 0)
            rc = tally_check__recomputed(&R, (size_t)ord_recomputed, &cur, b1, b2, b3);
        if (!rc)
            rc = tally_check__coverage(&R, &st, key, b1);
        if (!rc)
            rc = tally_check__partial(&R, &st, key, b1);
        tally_check__view_free(&extra, m);
        tally_check__view_free(&prev, m);
        if (need_prev) {
            prev = cur;
            memset(&cur, 0, sizeof cur);
        } else {
            tally_check__view_free(&cur, m);
        }
    }
    if (!rc && ord_monotonic >= 0)
        rc = tally_check__monotonic(&R, (size_t)ord_monotonic);
    if (!rc && ord_targets >= 0)
        rc = tally_check__targets(&R, (size_t)ord_targets, opts->targets);
    if (!rc && R.f->count > 1)
        qsort(R.f->items, R.f->count, sizeof *R.f->items, finding_order);

done:
    tally_check__view_free(&cur, m);
    tally_check__view_free(&prev, m);
    tally_check__view_free(&extra, m);
    for (size_t k = 0; prep && k < ndefs; k++) {
        tally_expr__free(prep[k].left);
        tally_expr__free(prep[k].right);
    }
    free(prep);
    free(b1);
    free(b2);
    free(b3);
    free(s1);
    free(s2);
    free(R.end);
    free(R.send);
    tally_rollup__nodes_free(&R.S);
    free(R.half);
    free(R.periods);
    if (rc) {
        tally_findings_free(R.f);
        return rc;
    }
    *out = R.f;
    return 0;
}

TALLY_EXTERN(int) tally_check_run(tally_findings **out, const tally_dataset *ds,
                                  const tally_check_options *opts)
{
    const tally_check_def *defs = NULL;
    size_t n = ds ? tally_definitions__checks(tally_dataset_definitions(ds), &defs) : 0;
    return tally_check__run_defs(out, ds, opts, defs, n);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                          */
/* ------------------------------------------------------------------ */

#define FINDING(f, i) ((f) && (i) < (f)->count ? &(f)->items[i] : NULL)

TALLY_EXTERN(size_t) tally_findings_count(const tally_findings *f) { return f ? f->count : 0; }

TALLY_EXTERN(size_t) tally_findings_error_count(const tally_findings *f)
{
    return f ? f->errors : 0;
}

TALLY_EXTERN(const char *) tally_findings_check(const tally_findings *f, size_t i)
{
    const tally_check__finding *x = FINDING(f, i);
    return x ? f->checks[x->check].check : NULL;
}

TALLY_EXTERN(int) tally_findings_kind(const tally_findings *f, size_t i)
{
    const tally_check__finding *x = FINDING(f, i);
    return x ? x->kind : -1;
}

TALLY_EXTERN(int) tally_findings_severity(const tally_findings *f, size_t i)
{
    const tally_check__finding *x = FINDING(f, i);
    return x ? x->severity : -1;
}

TALLY_EXTERN(size_t) tally_findings_node(const tally_findings *f, size_t i)
{
    const tally_check__finding *x = FINDING(f, i);
    return x ? x->node : TALLY_NONE;
}

TALLY_EXTERN(size_t) tally_findings_indicator(const tally_findings *f, size_t i)
{
    const tally_check__finding *x = FINDING(f, i);
    return x ? x->indicator : TALLY_NONE;
}

TALLY_EXTERN(const char *) tally_findings_period(const tally_findings *f, size_t i)
{
    const tally_check__finding *x = FINDING(f, i);
    return x ? x->period_text : NULL;
}

TALLY_EXTERN(double) tally_findings_expected(const tally_findings *f, size_t i)
{
    const tally_check__finding *x = FINDING(f, i);
    return x ? x->expected : NAN;
}

TALLY_EXTERN(double) tally_findings_actual(const tally_findings *f, size_t i)
{
    const tally_check__finding *x = FINDING(f, i);
    return x ? x->actual : NAN;
}

TALLY_EXTERN(double) tally_findings_difference(const tally_findings *f, size_t i)
{
    const tally_check__finding *x = FINDING(f, i);
    return x ? x->difference : NAN;
}

TALLY_EXTERN(int) tally_findings_decimals(const tally_findings *f, size_t i)
{
    const tally_check__finding *x = FINDING(f, i);
    return x ? x->decimals : -1;
}

TALLY_EXTERN(const char *) tally_findings_message(const tally_findings *f, size_t i)
{
    const tally_check__finding *x = FINDING(f, i);
    return x ? x->message : NULL;
}

TALLY_EXTERN(size_t) tally_findings_check_count(const tally_findings *f)
{
    return f ? f->check_count : 0;
}

TALLY_EXTERN(int) tally_findings_summary(const tally_findings *f, size_t k,
                                         tally_check_summary *out)
{
    if (!f || !out || k >= f->check_count)
        return tally_error__set(TALLY_EINVAL, "tally_findings_summary: check %zu out of range", k);
    *out = f->checks[k];
    return 0;
}
