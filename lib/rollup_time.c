/* The time rule: a region's own value for a span of months from the
 * reports it filed inside it, at whatever granularities.
 *
 * Flow: the span is cut into whole years, whole quarters and months. A
 * quarter comes from its three months when all three were filed, else from
 * its quarter report, else from the months that were (a partial figure). A
 * year comes from its four quarters when each is complete that way (all 12
 * months, or months and quarter reports), else from its year report, else
 * from what its quarters give. So a finer complete set wins, a coarser
 * report is never dropped for an incomplete finer set, and nothing is
 * counted twice.
 *
 * Stock and cumulative: the report that ends latest inside the span; of
 * reports ending in the same month (December, Q4, the year) the finest.
 * With `stale_after: N`, a value whose report ended more than N months
 * before the end of the span is not carried into it.
 *
 * Two complete sources that disagree (months and their quarter, quarters
 * and their year, reports ending in the same month) and stale values are
 * told to a callback, for `tally check`.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rollup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "definitions.h"
#include "error.h"
#include "hierarchy.h"
#include "period.h"
#include "util.h"

/* The reports of one indicator inside a span, by absolute month: the month
 * report of each month, the quarter report of the quarter starting there,
 * the year report of the year starting there. */
typedef struct span_cols {
    int32_t first, last;
    const tally_column **month, **quarter, **year;
} span_cols;

static int has(const tally_column *c, size_t node)
{
    return c && tally_column__has(c, node);
}

/* Two figures that should be the same number, allowing for binary
 * floating point in a sum. */
static int differ(double a, double b)
{
    double m = fmax(fabs(a), fabs(b));
    return fabs(a - b) > 1e-9 * (m > 1 ? m : 1);
}

typedef struct acc {
    double s, c;
    int any;
} acc;

static void add(acc *a, double v)
{
    tally_util__neumaier(&a->s, &a->c, v);
    a->any = 1;
}

typedef struct tctx {
    const span_cols *sc;
    size_t node, ind;
    tally_rollup__note_fn note;
    void *note_ctx;
} tctx;

static void conflict(const tctx *t, int32_t coarse_period, double coarse, double fine)
{
    if (!t->note)
        return;
    tally_rollup__note n = { TALLY_ROLLUP__NOTE_CONFLICT, t->node, t->ind, coarse_period,
                             coarse, fine, 0 };
    t->note(t->note_ctx, &n);
}

/* Whether quarter q (starting at absolute month m) is complete at the node,
 * and its value then. */
static int quarter_complete(const tctx *t, int32_t m, double *value)
{
    const span_cols *sc = t->sc;
    size_t k = (size_t)(m - sc->first);
    if (has(sc->month[k], t->node) && has(sc->month[k + 1], t->node) &&
        has(sc->month[k + 2], t->node)) {
        acc a = { 0, 0, 0 };
        for (int j = 0; j < 3; j++)
            add(&a, tally_column__get(sc->month[k + (size_t)j], t->node));
        *value = a.s + a.c;
        return 1;
    }
    if (has(sc->quarter[k], t->node)) {
        *value = tally_column__get(sc->quarter[k], t->node);
        return 1;
    }
    return 0;
}

/* Adds quarter (starting at m) to the sum: its months when all three are
 * there (then a quarter report that differs is a conflict), else its
 * report, else the months there are. */
static void quarter_flow(const tctx *t, int32_t m, acc *a)
{
    const span_cols *sc = t->sc;
    size_t k = (size_t)(m - sc->first);
    int all = has(sc->month[k], t->node) && has(sc->month[k + 1], t->node) &&
              has(sc->month[k + 2], t->node);
    if (!all && has(sc->quarter[k], t->node)) {
        add(a, tally_column__get(sc->quarter[k], t->node));
        return;
    }
    acc q = { 0, 0, 0 };
    for (size_t j = 0; j < 3; j++) {
        if (has(sc->month[k + j], t->node)) {
            double v = tally_column__get(sc->month[k + j], t->node);
            add(a, v);
            add(&q, v);
        }
    }
    if (all && has(sc->quarter[k], t->node)) {
        double r = tally_column__get(sc->quarter[k], t->node);
        if (differ(r, q.s + q.c))
            conflict(t, sc->quarter[k]->period, r, q.s + q.c);
    }
}

static void year_flow(const tctx *t, int32_t m, acc *a)
{
    const span_cols *sc = t->sc;
    size_t k = (size_t)(m - sc->first);
    int all = 1;
    acc finer = { 0, 0, 0 };
    for (int32_t q = 0; q < 4; q++) {
        double v;
        if (quarter_complete(t, m + 3 * q, &v))
            add(&finer, v);
        else
            all = 0;
    }
    if (!all && has(sc->year[k], t->node)) {
        add(a, tally_column__get(sc->year[k], t->node));
        return;
    }
    for (int32_t q = 0; q < 4; q++)
        quarter_flow(t, m + 3 * q, a);
    if (all && has(sc->year[k], t->node)) {
        double r = tally_column__get(sc->year[k], t->node);
        if (differ(r, finer.s + finer.c))
            conflict(t, sc->year[k]->period, r, finer.s + finer.c);
    }
}

static int own_flow(const tctx *t, double *value)
{
    const span_cols *sc = t->sc;
    acc a = { 0, 0, 0 };
    for (int32_t m = sc->first; m <= sc->last;) {
        if (m % 12 == 0 && m + 11 <= sc->last) {
            year_flow(t, m, &a);
            m += 12;
        } else if (m % 3 == 0 && m + 2 <= sc->last) {
            quarter_flow(t, m, &a);
            m += 3;
        } else {
            const tally_column *c = sc->month[m - sc->first];
            if (has(c, t->node))
                add(&a, tally_column__get(c, t->node));
            m++;
        }
    }
    *value = a.s + a.c;
    return a.any;
}

/* A level: the report ending latest, the finest of those ending together. */
static int own_level(const tctx *t, int stale_after, double *value)
{
    const span_cols *sc = t->sc;
    const tally_column *best = NULL;
    int32_t best_end = 0;
    for (int32_t m = sc->last; m >= sc->first && !best; m--) {
        /* Reports ending at m: the month, the quarter, the year. */
        size_t k = (size_t)(m - sc->first);
        const tally_column *ending[3] = { sc->month[k], NULL, NULL };
        if (m % 3 == 2 && m - 2 >= sc->first)
            ending[1] = sc->quarter[k - 2];
        if (m % 12 == 11 && m - 11 >= sc->first)
            ending[2] = sc->year[k - 11];
        for (int g = 0; g < 3; g++) {
            if (!has(ending[g], t->node))
                continue;
            double v = tally_column__get(ending[g], t->node);
            if (!best) {
                best = ending[g];
                best_end = m;
                *value = v;
            } else if (differ(v, *value)) {
                conflict(t, ending[g]->period, v, *value);
            }
        }
    }
    if (!best)
        return 0;
    if (stale_after >= 0 && sc->last - best_end > stale_after) {
        if (t->note) {
            tally_rollup__note n = { TALLY_ROLLUP__NOTE_STALE, t->node, t->ind, best->period,
                                     *value, NAN, sc->last - best_end };
            t->note(t->note_ctx, &n);
        }
        *value = NAN;
        return 0;
    }
    return 1;
}

/* `derive: increment` of a cumulative (year-to-date) indicator `src` over
 * [first, last]: its value there less its value in the month before, or
 * the value itself when the span starts in January (the year-to-date
 * restarts); missing when either is. Conflicts and stale values are the
 * source's, noted when the source is rolled up. */
static int own_increment(const tally_dataset *ds, const tally_rollup__nodes *s, size_t src,
                         int32_t first, int32_t last, double *own)
{
    int rc = tally_rollup__own_in(ds, s, src, TALLY_OVER_TIME_CUMULATIVE, first, last, own, NULL,
                                  NULL);
    if (rc || first % 12 == 0)
        return rc;
    size_t n = s->n;
    double *before = malloc((n ? n : 1) * sizeof *before);
    if (!before)
        return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
    rc = tally_rollup__own_in(ds, s, src, TALLY_OVER_TIME_CUMULATIVE, first - 1, first - 1,
                              before, NULL, NULL);
    for (size_t i = 0; !rc && i < n; i++)
        own[i] = isnan(own[i]) || isnan(before[i]) ? NAN : own[i] - before[i];
    free(before);
    return rc;
}

int tally_rollup__own_notes(const tally_dataset *ds, size_t ind, int over_time, int32_t first,
                            int32_t last, double *own, tally_rollup__note_fn note,
                            void *note_ctx)
{
    tally_rollup__nodes all;
    tally_rollup__nodes_all(&all, tally_dataset_hierarchy(ds));
    return tally_rollup__own_in(ds, &all, ind, over_time, first, last, own, note, note_ctx);
}

int tally_rollup__own_in(const tally_dataset *ds, const tally_rollup__nodes *s, size_t ind,
                         int over_time, int32_t first, int32_t last, double *own,
                         tally_rollup__note_fn note, void *note_ctx)
{
    size_t src = tally_definitions__derive_of(tally_dataset_definitions(ds), ind);
    if (src != TALLY_NONE)
        return own_increment(ds, s, src, first, last, own);
    for (size_t i = 0; i < s->n; i++)
        own[i] = NAN;
    if (last < first)
        return 0;
    size_t span = (size_t)(last - first + 1);
    const tally_column **buf = calloc(span * 3, sizeof *buf);
    if (!buf)
        return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
    span_cols sc = { first, last, buf, buf + span, buf + 2 * span };
    const tally_column *cols[64];
    size_t ncols = tally_dataset__column_count(ds), found = 0;
    int many = 0;
    /* The indicator's columns from the first that starts in the span, by
     * the set's index when it has one; else every column. */
    size_t kc = 0, kend = ncols;
    if (s->icol) {
        kc = tally_rollup__first_column(s, ind, first);
        kend = s->istart[ind + 1];
    }
    for (; kc < kend; kc++) {
        const tally_column *c = s->icol ? s->icol[kc] : tally_dataset__column(ds, kc);
        int32_t f = tally_period__first_month(c->period);
        if (s->icol && f > last)
            break;
        if (c->indicator != ind || f < first || tally_period__last_month(c->period) > last)
            continue;
        size_t at = (size_t)(f - first);
        switch (tally_period__kind(c->period)) {
        case TALLY_PERIOD_MONTH: sc.month[at] = c; break;
        case TALLY_PERIOD_QUARTER: sc.quarter[at] = c; break;
        default: sc.year[at] = c; break;
        }
        if (found < 64)
            cols[found] = c;
        else
            many = 1;
        found++;
    }
    if (!found) {
        free(buf);
        return 0;
    }
    const tally_definitions *d = tally_dataset_definitions(ds);
    int stale_after = tally_definitions_aggregate(d, ind) == TALLY_AGGREGATE_FORMULA
                          ? -1
                          : tally_definitions__stale_after(d, ind);
    tctx t = { &sc, 0, ind, note, note_ctx };
    /* Every cell is a node of [s->lo, s->hi) (see tally_rollup__nodes_of). */
    size_t words = (s->hi + 63) / 64;
    size_t limit = many ? 0 : found;
    for (size_t w = s->lo / 64; w < words; w++) {
        uint64_t any = 0;
        if (many) {
            for (size_t k = 0; k < span * 3; k++)
                if (buf[k])
                    any |= tally_column__valid_word(buf[k], w);
        } else {
            for (size_t k = 0; k < limit; k++)
                any |= tally_column__valid_word(cols[k], w);
        }
        while (any) {
            size_t node = w * 64 + (size_t)__builtin_ctzll(any);
            any &= any - 1;
            double v;
            t.node = node;
            int ok = over_time == TALLY_OVER_TIME_FLOW ? own_flow(&t, &v)
                                                       : own_level(&t, stale_after, &v);
            if (ok)
                own[s->na + node - s->lo] = v;
        }
    }
    free(buf);
    return 0;
}

int tally_rollup__own(const tally_dataset *ds, size_t ind, int over_time, int32_t first,
                      int32_t last, double *own)
{
    return tally_rollup__own_notes(ds, ind, over_time, first, last, own, NULL, NULL);
}
