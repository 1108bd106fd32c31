/* Consistency checks over the tree of regions: `hierarchy` (a region's
 * reported value against the value computed from the regions below it,
 * within a tolerance and the rounding of the figures) and `required`
 * completeness (every region at a level reported).
 *
 * SPDX-License-Identifier: MIT
 */
#include "check.h"

#include "carry.h"

#include <math.h>
#include <stddef.h>

#include "dataset.h"
#include "hierarchy.h"

static const char *agg_phrase(int agg)
{
    switch (agg) {
    case TALLY_AGGREGATE_MEAN: return "average";
    case TALLY_AGGREGATE_MIN: return "lowest";
    case TALLY_AGGREGATE_MAX: return "highest";
    case TALLY_AGGREGATE_COUNT: return "count";
    default: return "sum";
    }
}

/* A region filed indicator i for the view's period itself: its value is
 * not a piece carried there from an old code (carry.c), which is neither
 * its report nor its total. */
static int filed(const tally_column *col, const uint64_t *piece, size_t node)
{
    return tally_column__has(col, node) && !(piece && tally_bit__get(piece, node));
}

/* The regions below `node` that have no figure for indicator i at all, so
 * are not in its computed value: walks down through regions whose value is
 * itself computed from below (they did not file for this period, or hold
 * only a piece carried from an old code); a region that filed is compared
 * on its own and answers for its own children.
 * Counts them; with `emit`, adds a finding for each (children: complete). */
static int missing_below(tally_check__run *R, const tally_check__prepared *P,
                         const tally_check__view *v, const tally_column *col, size_t i, size_t k,
                         size_t node, double reported, int emit, size_t *count)
{
    const char *name = tally_definitions_name(R->d, i);
    int dec = tally_definitions_decimals(R->d, i);
    const uint64_t *piece = tally_carry__additive_at(R->ds, i, v->key);
    *count = 0;
    /* node is the set's (see tally_check__run); the walk goes over the
     * hierarchy's nodes hj below it, of which those outside the set have
     * no figure (j: hj's index in the set, or TALLY_NONE). */
    size_t hn = tally_check__node(R, node);
    for (size_t hj = hn + 1; hj < R->end[hn];) {
        size_t j = tally_rollup__index(&R->S, hj);
        if (j == TALLY_NONE || isnan(v->val[i][j])) {
            ++*count;
            if (emit) {
                tally_check__sb b = { 0 };
                tally_check__prefix(&b, R, hj, v->key);
                tally_check__sb_printf(&b, "%s not reported here or below, so %s's reported ", name,
                                       tally_hierarchy_name(R->h, hn));
                tally_check__sb_num(&b, reported, dec);
                tally_check__sb_str(&b, " cannot be checked against all of its regions");
                int rc =
                    tally_check__add_finding(R, P->ord, TALLY_FINDING_HIERARCHY, P->def->severity,
                                             hj, i, k, v->key, NAN, NAN, dec, &b);
                if (rc)
                    return rc;
            }
            hj = R->end[hj];
        } else if (!filed(col, piece, hj) &&
                   (!isnan(v->cmp[i][j]) || tally_column__has(col, hj))) {
            hj++;
        } else {
            hj = R->end[hj];
        }
    }
    return 0;
}

/* hierarchy: the value a region filed for this period against the value
 * computed from below, where something below has one. */
int tally_check__hierarchy(tally_check__run *R, const tally_check__prepared *P,
                           const tally_check__view *v)
{
    const tally_check_def *c = P->def;
    tally_check_summary *s = &R->f->checks[P->ord];
    for (size_t k = 0; k < c->indicator_count; k++) {
        size_t i = c->indicators[k];
        if (i >= R->m || tally_definitions_aggregate(R->d, i) == TALLY_AGGREGATE_FORMULA)
            continue;
        const tally_column *col = tally_dataset__find_column(R->ds, i, v->key);
        if (!col)
            continue;
        int agg = tally_definitions_aggregate(R->d, i);
        int dec = tally_definitions_decimals(R->d, i);
        const char *name = tally_definitions_name(R->d, i);
        double h = R->half[i];
        /* A region holding a piece carried from an old code has no report
         * of its own for the period (the carry refuses one beside it): its
         * children's sum and the piece make its value, compared at the
         * first region above that reported. */
        const uint64_t *piece = tally_carry__additive_at(R->ds, i, v->key);
        for (size_t node = 0; node < R->S.n; node++) {
            size_t hn = tally_check__node(R, node);
            if (!filed(col, piece, hn))
                continue;
            double r = tally_column__get(col, hn), e = v->cmp[i][node];
            if (isnan(e))
                continue;
            s->items++;
            double tol = fmax(c->tol_absolute, c->tol_relative * fabs(e));
            double diff = r - e, sl = tally_check__slack(r, e, tol, 0);
            double wc = v->wcmp[i] && !isnan(v->wcmp[i][node]) ? v->wcmp[i][node] : 0;
            int severity = c->severity;
            size_t absent;
            int rc = missing_below(R, P, v, col, i, k, node, r, 0, &absent);
            if (rc)
                return rc;
            if (fabs(diff) <= tol + sl) {
                s->passes++;
            } else {
                int rounding = h > 0 && fabs(diff) <= tol + h + wc + sl;
                if (rounding) {
                    s->warnings++;
                    severity = TALLY_FINDING_WARNING;
                } else {
                    s->fails++;
                }
                int d = tally_check__finding_decimals(dec, diff);
                size_t nb = v->cnt[i][node], np = v->pcs[i][node];
                tally_check__sb b = { 0 };
                tally_check__prefix(&b, R, hn, v->key);
                tally_check__sb_printf(&b, "%s reported ", name);
                tally_check__sb_num(&b, r, d);
                if (agg == TALLY_AGGREGATE_COUNT) {
                    tally_check__sb_str(&b, " but ");
                    tally_check__sb_num(&b, e, d);
                    tally_check__sb_str(&b, " regions below it reported");
                } else if (np) {
                    tally_check__sb_printf(&b, " but the sum of the %zu region%s below it that "
                                           "reported and of %zu value%s carried there from old "
                                           "codes is ", nb, nb == 1 ? "" : "s", np,
                                           np == 1 ? "" : "s");
                    tally_check__sb_num(&b, e, d);
                } else if (nb == 1) {
                    tally_check__sb_str(&b, " but the one region below it that reported has ");
                    tally_check__sb_num(&b, e, d);
                } else {
                    tally_check__sb_printf(
                        &b, " but the %s of the %zu regions below it that reported is ",
                        agg_phrase(agg), nb);
                    tally_check__sb_num(&b, e, d);
                }
                tally_check__sb_str(&b, " (difference ");
                tally_check__sb_num(&b, diff, d);
                if (tol > 0) {
                    tally_check__sb_str(&b, ", tolerance ");
                    tally_check__sb_num(&b, tol, tally_check__exact_decimals(tol, d, d + 3));
                }
                tally_check__sb_str(&b, ")");
                if (rounding) {
                    tally_check__sb_str(&b, ", within what the rounding of the figures allows (");
                    tally_check__sb_num(&b, h + wc, tally_check__exact_decimals(h + wc, d, d + 2));
                    tally_check__sb_str(&b, ")");
                }
                /* A comparison over the regions that reported says so when
                 * some did not: the difference may be theirs. */
                if (absent)
                    tally_check__sb_printf(&b, "; %zu region%s below %s no value", absent,
                                           absent == 1 ? "" : "s", absent == 1 ? "has" : "have");
                rc = tally_check__add_finding(R, P->ord, TALLY_FINDING_HIERARCHY, severity, hn, i,
                                              k, v->key, e, r, d, &b);
                if (rc)
                    return rc;
            }
            s->items += absent;
            if (c->children_complete) {
                s->fails += absent;
                rc = missing_below(R, P, v, col, i, k, node, r, 1, &absent);
                if (rc)
                    return rc;
            } else {
                s->missing += absent;
            }
        }
    }
    return 0;
}

/* completeness: every region at the level, for each period at which some
 * region at that level filed the indicator. */
int tally_check__completeness(tally_check__run *R, const tally_check__prepared *P,
                              const tally_check__view *v, size_t *expect, size_t *got)
{
    const tally_check_def *c = P->def;
    tally_check_summary *s = &R->f->checks[P->ord];
    size_t n = R->n;
    const char *level_name = tally_hierarchy_level_name(R->h, P->level);
    for (size_t k = 0; k < c->indicator_count; k++) {
        size_t i = c->indicators[k];
        const tally_column *col = i < R->m ? tally_dataset__find_column(R->ds, i, v->key) : NULL;
        if (!col)
            continue;
        /* A piece carried from an old code is not the region's report. */
        const uint64_t *piece = tally_carry__additive_at(R->ds, i, v->key);
        int any = 0;
        for (size_t node = 0; node < n && !any; node++)
            any = tally_hierarchy_level(R->h, node) == P->level && filed(col, piece, node);
        if (!any)
            continue;
        /* Reporting rate per parent; roots count under "the hierarchy". */
        for (size_t node = 0; node <= n; node++)
            expect[node] = got[node] = 0;
        for (size_t node = 0; node < n; node++) {
            if (tally_hierarchy_level(R->h, node) != P->level)
                continue;
            size_t p = R->parent[node] == TALLY_HIERARCHY__ROOT ? n : R->parent[node];
            expect[p]++;
            got[p] += (size_t)filed(col, piece, node);
        }
        const char *name = tally_definitions_name(R->d, i);
        for (size_t node = 0; node < n; node++) {
            if (tally_hierarchy_level(R->h, node) != P->level)
                continue;
            s->items++;
            if (filed(col, piece, node)) {
                s->passes++;
                continue;
            }
            s->fails++;
            size_t p = R->parent[node] == TALLY_HIERARCHY__ROOT ? n : R->parent[node];
            tally_check__sb b = { 0 };
            tally_check__prefix(&b, R, node, v->key);
            tally_check__sb_printf(
                &b, "%s not reported (%s); %zu of %zu regions at level %s ", name,
                tally_column__has(col, node) ? "only a value carried from an old code"
                : tally_column__seen(col, node) ? "the value was left empty"
                                                  : "no record",
                got[p],
                expect[p], level_name);
            if (p < n)
                tally_check__sb_printf(&b, "under %s ", tally_hierarchy_name(R->h, p));
            tally_check__sb_str(&b, "reported it (");
            tally_check__sb_num(&b, (double)got[p] / (double)expect[p] * 100.0, 2);
            tally_check__sb_str(&b, " %)");
            int rc = tally_check__add_finding(R, P->ord, TALLY_FINDING_COMPLETENESS, c->severity,
                                              node, i, k, v->key, NAN, NAN,
                                              tally_definitions_decimals(R->d, i), &b);
            if (rc)
                return rc;
        }
    }
    return 0;
}
