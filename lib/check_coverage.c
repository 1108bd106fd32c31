/* Consistency checks: gaps in what the figures rest on, each named once
 * at its source.
 *
 *   coverage  a region that filed some operands of a formula and not
 *             others (it is left out of the formula at every level above),
 *             and for each formula, one line at the top: how many of the
 *             regions that filed for it the top-level figure uses;
 *   conflict  two complete sources of one figure that disagree (a
 *             quarter's months and its quarter report; a year's quarters
 *             and its year report; levels ending in the same month): told
 *             for the period of the coarser report, with both figures;
 *   stale     a stock or cumulative value older than its stale_after at
 *             the end of the period, which is not carried into it.
 * All three are warnings, and appear in the summary only when they find
 * something.
 *
 * SPDX-License-Identifier: MIT
 */
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "error.h"
#include "expr.h"
#include "hierarchy.h"
#include "period.h"
#include "rollup.h"

/* The summary of a built-in check, added at its first finding. */
static tally_check_summary *summary(tally_check__run *R, int *ord, const char *id, int kind)
{
    if (*ord < 0) {
        tally_findings *F = R->f;
        *ord = (int)F->check_count++;
        tally_check_summary *s = &F->checks[*ord];
        memset(s, 0, sizeof *s);
        s->check = id;
        s->kind = kind;
        s->severity = TALLY_FINDING_WARNING;
    }
    return &R->f->checks[*ord];
}

static void names(tally_check__sb *b, const tally_check__run *R, const size_t *ops, size_t k,
                  const int *has, int want)
{
    int first = 1;
    for (size_t a = 0; a < k; a++) {
        if (has[a] != want)
            continue;
        tally_check__sb_str(b, first ? "" : ", ");
        tally_check__sb_str(b, tally_definitions_name(R->d, ops[a]));
        first = 0;
    }
}

/* The formula gaps of one period. */
static int gaps(tally_check__run *R, tally_check__state *st, const tally_result *r, int32_t key)
{
    const tally_hierarchy *h = R->h;
    for (size_t f = 0; f < R->m; f++) {
        if (tally_definitions_aggregate(R->d, f) != TALLY_AGGREGATE_FORMULA)
            continue;
        const tally_expr *e = tally_definitions__program(R->d, f);
        size_t ops[64], k = 0;
        for (size_t j = 0; j < tally_expr__var_count(e) && k < 64; j++) {
            size_t v = (size_t)tally_expr__var(e, j);
            if (tally_definitions_aggregate(R->d, v) != TALLY_AGGREGATE_FORMULA)
                ops[k++] = v;
        }
        int has[64];
        /* Regions outside the views' set have nothing at or below them. */
        for (size_t j = 0; j < R->S.n; j++) {
            size_t node = tally_check__node(R, j), rg, cp;
            tally_result_coverage(r, node, f, 0, &rg, &cp);
            if (!tally_rollup__unit(r, node, f, 0) || cp == rg)
                continue;
            /* A region that filed some operands and not others. */
            for (size_t a = 0; a < k; a++) {
                double rep, cmp;
                tally_result_sides(r, node, ops[a], 0, &rep, &cmp);
                has[a] = !isnan(rep) || !isnan(cmp);
            }
            tally_check_summary *s = summary(R, &st->ord_coverage, "coverage",
                                             TALLY_FINDING_COVERAGE);
            s->items++;
            s->warnings++;
            tally_check__sb b = { 0 };
            tally_check__prefix(&b, R, node, key);
            tally_check__sb_str(&b, "reported ");
            names(&b, R, ops, k, has, 1);
            tally_check__sb_str(&b, " but not ");
            names(&b, R, ops, k, has, 0);
            tally_check__sb_printf(&b, "; left out of %s above it",
                                   tally_definitions_name(R->d, f));
            int rc = tally_check__add_finding(R, (size_t)st->ord_coverage, TALLY_FINDING_COVERAGE,
                                              TALLY_FINDING_WARNING, node, f, 0, key, NAN, NAN,
                                              0, &b);
            if (rc)
                return rc;
        }
        /* One line per top-level figure that rests on fewer regions. */
        for (size_t root = 0; root < R->n; root = tally_hierarchy_subtree_end(h, root)) {
            size_t rg, cp;
            tally_result_coverage(r, root, f, 0, &rg, &cp);
            if (cp == rg)
                continue;
            /* The lowest node whose figure holds every gap of the root's. */
            size_t low = root;
            for (int down = 1; down;) {
                down = 0;
                size_t end = tally_hierarchy_subtree_end(h, low);
                for (size_t c = low + 1; c < end; c = tally_hierarchy_subtree_end(h, c)) {
                    size_t crg, ccp;
                    tally_result_coverage(r, c, f, 0, &crg, &ccp);
                    if (crg - ccp == rg - cp && !tally_rollup__unit(r, c, f, 0)) {
                        low = c;
                        down = 1;
                        break;
                    }
                }
            }
            tally_check_summary *s = summary(R, &st->ord_coverage, "coverage",
                                             TALLY_FINDING_COVERAGE);
            s->items++;
            s->warnings++;
            tally_check__sb b = { 0 };
            tally_check__prefix(&b, R, root, key);
            tally_check__sb_printf(&b, "%s of %s%s uses %zu of %zu regions that reported",
                                   tally_definitions_name(R->d, f), tally_hierarchy_name(h, low),
                                   low == root ? "" : " and above", cp, rg);
            int rc = tally_check__add_finding(R, (size_t)st->ord_coverage, TALLY_FINDING_COVERAGE,
                                              TALLY_FINDING_WARNING, root, f, 1, key, (double)rg,
                                              (double)cp, 0, &b);
            if (rc)
                return rc;
        }
    }
    return 0;
}

typedef struct note_ctx {
    tally_check__run *R;
    tally_check__state *st;
    int32_t key;
    int rc;
} note_ctx;

static void on_note(void *ctx, const tally_rollup__note *n)
{
    note_ctx *c = ctx;
    tally_check__run *R = c->R;
    if (c->rc)
        return;
    char per[TALLY_PERIOD_TEXT_MAX];
    tally_period__format(n->period, per);
    int dec = tally_definitions_decimals(R->d, n->indicator);
    tally_check__sb b = { 0 };
    if (n->kind == TALLY_ROLLUP__NOTE_CONFLICT) {
        /* Once, in the period of the coarser report. */
        if (n->period != c->key)
            return;
        tally_check_summary *s = summary(R, &c->st->ord_conflict, "conflict",
                                         TALLY_FINDING_CONFLICT);
        s->items++;
        s->warnings++;
        int d = tally_check__finding_decimals(dec, n->coarse - n->fine);
        tally_check__prefix(&b, R, n->node, c->key);
        tally_check__sb_printf(&b, "%s reported ", tally_definitions_name(R->d, n->indicator));
        tally_check__sb_num(&b, n->coarse, d);
        tally_check__sb_printf(&b, " for %s but its finer reports give ", per);
        tally_check__sb_num(&b, n->fine, d);
        tally_check__sb_str(&b, "; the finer figure is used");
        c->rc = tally_check__add_finding(R, (size_t)c->st->ord_conflict, TALLY_FINDING_CONFLICT,
                                         TALLY_FINDING_WARNING, n->node, n->indicator, 0, c->key,
                                         n->fine, n->coarse, d, &b);
        return;
    }
    tally_check_summary *s = summary(R, &c->st->ord_stale, "stale", TALLY_FINDING_STALE);
    s->items++;
    s->warnings++;
    tally_check__prefix(&b, R, n->node, c->key);
    tally_check__sb_printf(&b, "%s last reported for %s (", tally_definitions_name(R->d,
                                                                                n->indicator),
                           per);
    tally_check__sb_num(&b, n->coarse, dec);
    tally_check__sb_printf(&b, "), %d months before the end of the period; stale_after is %d, "
                               "so it is not carried into it",
                           (int)n->age, tally_definitions__stale_after(R->d, n->indicator));
    c->rc = tally_check__add_finding(R, (size_t)c->st->ord_stale, TALLY_FINDING_STALE,
                                     TALLY_FINDING_WARNING, n->node, n->indicator, 0, c->key, NAN,
                                     n->coarse, dec, &b);
}

int tally_check__coverage(tally_check__run *R, tally_check__state *st, int32_t key, double *buf)
{
    int32_t first = tally_period__first_month(key), last = tally_period__last_month(key);
    note_ctx c = { R, st, key, 0 };
    for (size_t i = 0; i < R->m && !c.rc; i++) {
        if (tally_definitions_aggregate(R->d, i) == TALLY_AGGREGATE_FORMULA)
            continue;
        int rc = tally_rollup__own_in(R->ds, &R->S, i, tally_definitions_over_time(R->d, i), first,
                                      last, buf, on_note, &c);
        if (rc)
            return rc;
    }
    if (c.rc)
        return c.rc;
    if (!st->has_formula)
        return 0;
    char per[TALLY_PERIOD_TEXT_MAX];
    tally_period__format(key, per);
    const char *periods[1] = { per };
    tally_rollup_options o = TALLY_ROLLUP_OPTIONS_INIT;
    o.prefer = R->prefer;
    o.periods = periods;
    o.period_count = 1;
    tally_result *r = NULL;
    int rc = tally_rollup__threads_in(&r, R->ds, &o, 1, &R->S);
    if (!rc)
        rc = gaps(R, st, r, key);
    tally_result_free(r);
    return rc;
}
