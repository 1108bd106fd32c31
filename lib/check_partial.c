/* Consistency checks: a flow's year or quarter that a region's own reports
 * cover only in part.
 *
 *   partial  a region that filed reports of a flow inside a year (or a
 *            quarter) asked for with --period, but neither a complete set
 *            of them (its 12 months, its four quarters, each from its
 *            three months or its own report) nor a report of the period
 *            itself: its figure for the period is the sum of what it
 *            filed, as the time rule (rollup_time.c) gives it. Told once,
 *            at the region that filed, with the months and quarters the
 *            sum rests on. Not for the periods check picks by itself
 *            (every period filed), where one month missing would name
 *            every such village each time.
 * Months are always whole; stocks and cumulatives take the latest report
 * (with stale_after for age), so neither has a partial figure. A warning;
 * in the summary only when it finds something.
 *
 * SPDX-License-Identifier: MIT
 */
#include "check.h"

#include <math.h>
#include <string.h>

#include "dataset.h"
#include "period.h"
#include "rollup.h"

static int has(const tally_column *c, size_t node)
{
    return c && tally_column__has(c, node);
}

/* ", " before every item but the first. */
static void sep(tally_check__sb *b, int *first)
{
    if (!*first)
        tally_check__sb_str(b, ", ");
    *first = 0;
}

/* Months of a year are written "01–05", a run of them as one range. */
static void months(tally_check__sb *b, const int *used, int count, int *first)
{
    for (int m = 0; m < count;) {
        if (!used[m]) {
            m++;
            continue;
        }
        int end = m;
        while (end + 1 < count && used[end + 1])
            end++;
        sep(b, first);
        if (end == m)
            tally_check__sb_printf(b, "%02d", m + 1);
        else
            tally_check__sb_printf(b, "%02d\xe2\x80\x93%02d", m + 1, end + 1);
        m = end + 1;
    }
}

int tally_check__partial(tally_check__run *R, tally_check__state *st, int32_t key, double *buf)
{
    int kind = tally_period__kind(key);
    if (!R->explicit_periods || (kind != TALLY_PERIOD_YEAR && kind != TALLY_PERIOD_QUARTER))
        return 0;
    int32_t first = tally_period__first_month(key), last = tally_period__last_month(key);
    int span = (int)(last - first + 1); /* 12 or 3 */
    /* Absolute month of January, for the month numbers in messages. */
    int32_t jan = first - first % 12;
    char per[TALLY_PERIOD_TEXT_MAX];
    tally_period__format(key, per);
    for (size_t i = 0; i < R->m; i++) {
        if (tally_definitions_aggregate(R->d, i) == TALLY_AGGREGATE_FORMULA ||
            tally_definitions_over_time(R->d, i) != TALLY_OVER_TIME_FLOW)
            continue;
        /* The reports inside the period: months, quarters, the period's own. */
        const tally_column *month[12] = { 0 }, *quarter[4] = { 0 }, *whole = NULL;
        int found = 0;
        size_t ncols = tally_dataset__column_count(R->ds);
        for (size_t k = 0; k < ncols; k++) {
            const tally_column *c = tally_dataset__column(R->ds, k);
            int32_t f = tally_period__first_month(c->period);
            if (c->indicator != i || f < first || tally_period__last_month(c->period) > last)
                continue;
            found = 1;
            if (c->period == key)
                whole = c;
            else if (tally_period__kind(c->period) == TALLY_PERIOD_MONTH)
                month[f - first] = c;
            else if (tally_period__kind(c->period) == TALLY_PERIOD_QUARTER)
                quarter[(f - first) / 3] = c;
        }
        if (!found)
            continue;
        int own_ready = 0;
        for (size_t node = 0; node < R->n; node++) {
            if (has(whole, node))
                continue;
            /* What the time rule sums: per quarter, its three months when
             * all are there, else its report, else the months there are. */
            int used_month[12] = { 0 }, used_quarter[4] = { 0 }, any = 0, complete = 1;
            for (int q = 0; q < span / 3; q++) {
                int all = 1;
                for (int j = 0; j < 3; j++)
                    all &= has(month[3 * q + j], node);
                if (!all && has(quarter[q], node)) {
                    used_quarter[q] = 1;
                    any = 1;
                    continue;
                }
                complete &= all;
                for (int j = 0; j < 3; j++)
                    if (has(month[3 * q + j], node))
                        used_month[3 * q + j] = any = 1;
            }
            if (!any || complete)
                continue;
            if (!own_ready) {
                int rc = tally_rollup__own(R->ds, i, TALLY_OVER_TIME_FLOW, first, last, buf);
                if (rc)
                    return rc;
                own_ready = 1;
            }
            if (st->ord_partial < 0) {
                tally_findings *F = R->f;
                st->ord_partial = (int)F->check_count++;
                tally_check_summary *s = &F->checks[st->ord_partial];
                memset(s, 0, sizeof *s);
                s->check = "partial";
                s->kind = TALLY_FINDING_PARTIAL;
                s->severity = TALLY_FINDING_WARNING;
            }
            tally_check_summary *s = &R->f->checks[st->ord_partial];
            s->items++;
            s->warnings++;
            tally_check__sb b = { 0 };
            tally_check__prefix(&b, R, node, key);
            tally_check__sb_printf(&b, "%s from ", tally_definitions_name(R->d, i));
            int lead = 1;
            for (int q = 0; q < span / 3; q++)
                if (used_quarter[q]) {
                    sep(&b, &lead);
                    tally_check__sb_printf(&b, "Q%d", (int)((first - jan) / 3) + q + 1);
                }
            /* Month numbers within the year. */
            int in_year[12] = { 0 };
            for (int m = 0; m < span; m++)
                in_year[(first - jan) + m] = used_month[m];
            int nmonths = 0;
            for (int m = 0; m < span; m++)
                nmonths += used_month[m];
            if (nmonths) {
                sep(&b, &lead);
                tally_check__sb_str(&b, nmonths == 1 ? "month " : "months ");
                int inner = 1;
                months(&b, in_year, 12, &inner);
            }
            tally_check__sb_printf(&b,
                                   " only (no report of %s or of its other months); the %s's "
                                   "figure is a partial sum",
                                   per, kind == TALLY_PERIOD_YEAR ? "year" : "quarter");
            int rc = tally_check__add_finding(R, (size_t)st->ord_partial, TALLY_FINDING_PARTIAL,
                                              TALLY_FINDING_WARNING, node, i, 0, key, NAN,
                                              buf[node], tally_definitions_decimals(R->d, i), &b);
            if (rc)
                return rc;
        }
    }
    return 0;
}
