/* Consistency checks of values against their neighbours and their own
 * past: `outliers` (a modified z-score among the regions under the same
 * parent, and jumps from the previous period) and `monotonic` (a
 * cumulative, year-to-date value that decreases within a year).
 *
 * SPDX-License-Identifier: MIT
 */
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "dataset.h"
#include "error.h"
#include "period.h"

/* The modified z-score's constant: 0.6745 is the 0.75 quantile of the
 * standard normal, so M is in standard deviations for normal data
 * (Iglewicz and Hoaglin). */
#define MODIFIED_Z 0.6745

/* outliers among siblings, and jumps from the previous period. */
int tally_check__outliers(tally_check__run *R, const tally_check__prepared *P,
                          const tally_check__view *v, const tally_check__view *prev, double *xs,
                          double *tmp, size_t *ids)
{
    const tally_check_def *c = P->def;
    tally_check_summary *s = &R->f->checks[P->ord];
    size_t n = R->S.n; /* the views' nodes: the set's (see tally_check__run) */
    double thr = isnan(c->threshold) ? 3.5 : c->threshold;
    for (size_t k = 0; k < c->indicator_count; k++) {
        size_t i = c->indicators[k];
        if (i >= R->m)
            continue;
        const char *name = tally_definitions_name(R->d, i);
        int dec = tally_definitions_decimals(R->d, i);
        for (size_t p = 0; p < n; p++) {
            size_t cnt = 0, partial = 0;
            for (size_t ch = p + 1; ch < R->send[p]; ch = R->send[ch]) {
                if (!tally_bit__get(v->sub[i], ch) || isnan(v->val[i][ch]))
                    continue;
                /* A sum with regions missing is low for that reason. */
                if (v->cov[i][ch] != TALLY_CHECK__COV_OWN &&
                    v->cov[i][ch] != TALLY_CHECK__COV_FULL) {
                    partial++;
                    continue;
                }
                xs[cnt] = v->val[i][ch];
                ids[cnt++] = ch;
            }
            s->items += cnt + partial;
            s->missing += partial;
            if (!cnt)
                continue;
            if (cnt < 3) {
                /* Two values are each other's mirror around their median:
                 * nothing stands out. */
                s->missing += cnt;
                continue;
            }
            memcpy(tmp, xs, cnt * sizeof *tmp);
            gsl_sort(tmp, 1, cnt);
            double med = gsl_stats_median_from_sorted_data(tmp, 1, cnt);
            for (size_t j = 0; j < cnt; j++)
                tmp[j] = fabs(xs[j] - med);
            gsl_sort(tmp, 1, cnt);
            double mad = gsl_stats_median_from_sorted_data(tmp, 1, cnt);
            for (size_t j = 0; j < cnt; j++) {
                double z = mad > 0 ? MODIFIED_Z * (xs[j] - med) / mad : 0;
                if (!(fabs(z) > thr)) {
                    s->passes++;
                    continue;
                }
                s->fails++;
                int d = tally_check__finding_decimals(dec, xs[j] - med);
                int dm = tally_check__exact_decimals(med, dec, dec + 3);
                if (dm > d)
                    d = dm;
                tally_check__sb b = { 0 };
                tally_check__prefix(&b, R, tally_check__node(R, ids[j]), v->key);
                tally_check__sb_printf(&b, "%s ", name);
                tally_check__sb_num(&b, xs[j], tally_check__finding_decimals(dec, xs[j] - med));
                tally_check__sb_printf(&b, " stands out among the %zu regions under %s (median ",
                                       cnt, tally_hierarchy_name(R->h, tally_check__node(R, p)));
                tally_check__sb_num(&b, med, d);
                tally_check__sb_str(&b, ", median absolute deviation ");
                tally_check__sb_num(&b, mad, tally_check__exact_decimals(mad, d, d + 3));
                tally_check__sb_str(&b, ", modified z-score ");
                tally_check__sb_num(&b, z, 2);
                tally_check__sb_str(&b, " beyond ");
                tally_check__sb_num(&b, thr, tally_check__exact_decimals(thr, 0, 3));
                tally_check__sb_str(&b, ")");
                int rc = tally_check__add_finding(R, P->ord, TALLY_FINDING_OUTLIER, c->severity,
                                                  tally_check__node(R, ids[j]), i, k, v->key,
                                                  med, xs[j], d, &b);
                if (rc)
                    return rc;
            }
        }
        if (isnan(c->jump_max_ratio) || !prev)
            continue;
        char prev_text[TALLY_PERIOD_TEXT_MAX];
        tally_period__format(prev->key, prev_text);
        for (size_t node = 0; node < n; node++) {
            if (!tally_bit__get(v->sub[i], node) || !tally_bit__get(prev->sub[i], node))
                continue;
            double x = v->val[i][node], y = prev->val[i][node];
            s->items++;
            /* Both figures whole, or over the same regions. */
            int cx = v->cov[i][node], cy = prev->cov[i][node];
            int whole_x = cx == TALLY_CHECK__COV_OWN || cx == TALLY_CHECK__COV_FULL;
            int whole_y = cy == TALLY_CHECK__COV_OWN || cy == TALLY_CHECK__COV_FULL;
            int comparable = (whole_x && whole_y) ||
                             (cx == TALLY_CHECK__COV_PART && cy == TALLY_CHECK__COV_PART &&
                              v->sig[i][node] == prev->sig[i][node]);
            /* A ratio needs two positive numbers; from or to zero is not a
             * ratio (monthly flows are zero in many months). */
            if (!comparable || isnan(x) || isnan(y) || x <= 0 || y <= 0) {
                s->missing++;
                continue;
            }
            double ratio = x > y ? x / y : y / x;
            if (!(ratio > c->jump_max_ratio + tally_check__slack(ratio, c->jump_max_ratio, 0, 0))) {
                s->passes++;
                continue;
            }
            s->fails++;
            int d = tally_check__finding_decimals(dec, x - y);
            tally_check__sb b = { 0 };
            tally_check__prefix(&b, R, tally_check__node(R, node), v->key);
            tally_check__sb_printf(&b, "%s went from ", name);
            tally_check__sb_num(&b, y, d);
            tally_check__sb_printf(&b, " in %s to ", prev_text);
            tally_check__sb_num(&b, x, d);
            tally_check__sb_printf(&b, ", %s by a factor of ", x > y ? "up" : "down");
            tally_check__sb_num(&b, ratio,
                                tally_check__finding_decimals(2, ratio - c->jump_max_ratio));
            tally_check__sb_str(&b, ", more than ");
            tally_check__sb_num(&b, c->jump_max_ratio,
                                tally_check__exact_decimals(c->jump_max_ratio, 0, 3));
            int rc = tally_check__add_finding(R, P->ord, TALLY_FINDING_JUMP, c->severity,
                                              tally_check__node(R, node), i, k, v->key, y, x, d,
                                              &b);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* Is period `key` inside one of the periods asked for (all, when none)? */
static int period_wanted(const tally_check__run *R, int32_t key)
{
    if (!R->explicit_periods)
        return 1;
    for (size_t p = 0; p < R->nper; p++)
        if (tally_period__first_month(R->periods[p]) <= tally_period__first_month(key) &&
            tally_period__last_month(key) <= tally_period__last_month(R->periods[p]))
            return 1;
    return 0;
}

static int by_period(const void *a, const void *b)
{
    const tally_column *x = *(const tally_column *const *)a, *y = *(const tally_column *const *)b;
    return tally_period__compare(x->period, y->period);
}

/* monotonic: a cumulative (year-to-date) value filed for a month (or a
 * quarter) below the one filed for the previous month (quarter) filed in
 * the same year. Rounding is monotone, so a decrease is never rounding. */
int tally_check__monotonic(tally_check__run *R, size_t ord)
{
    tally_check_summary *s = &R->f->checks[ord];
    size_t ncols = tally_dataset__column_count(R->ds);
    const tally_column **cols = malloc((ncols ? ncols : 1) * sizeof *cols);
    if (!cols)
        return tally_error__set(TALLY_ENOMEM, "out of memory checking");
    int rc = 0;
    for (size_t i = 0; i < R->m && !rc; i++) {
        if (tally_definitions_aggregate(R->d, i) == TALLY_AGGREGATE_FORMULA ||
            tally_definitions_over_time(R->d, i) != TALLY_OVER_TIME_CUMULATIVE)
            continue;
        int dec = tally_definitions_decimals(R->d, i);
        const char *name = tally_definitions_name(R->d, i);
        for (int kind = TALLY_PERIOD_QUARTER; kind <= TALLY_PERIOD_MONTH && !rc; kind++) {
            size_t nc = 0;
            for (size_t j = 0; j < ncols; j++) {
                const tally_column *c = tally_dataset__column(R->ds, j);
                if (c->indicator == i && tally_period__kind(c->period) == kind)
                    cols[nc++] = c;
            }
            qsort(cols, nc, sizeof *cols, by_period);
            for (size_t node = 0; node < R->n && !rc; node++) {
                const tally_column *last = NULL;
                for (size_t j = 0; j < nc && !rc; j++) {
                    const tally_column *c = cols[j];
                    if (!tally_column__has(c, node))
                        continue;
                    if (last && tally_period__year(last->period) == tally_period__year(c->period) &&
                        period_wanted(R, c->period)) {
                        double x = tally_column__get(c, node), y = tally_column__get(last, node);
                        s->items++;
                        if (x >= y - tally_check__slack(x, y, 0, 0)) {
                            s->passes++;
                        } else {
                            s->fails++;
                            char prev_text[TALLY_PERIOD_TEXT_MAX];
                            tally_period__format(last->period, prev_text);
                            int d = tally_check__finding_decimals(dec, x - y);
                            tally_check__sb b = { 0 };
                            tally_check__prefix(&b, R, node, c->period);
                            tally_check__sb_printf(&b, "%s, a year-to-date figure, fell from ",
                                                   name);
                            tally_check__sb_num(&b, y, d);
                            tally_check__sb_printf(&b, " in %s to ", prev_text);
                            tally_check__sb_num(&b, x, d);
                            tally_check__sb_str(&b, "; it cannot decrease within a year");
                            rc = tally_check__add_finding(R, ord, TALLY_FINDING_MONOTONIC,
                                                          TALLY_FINDING_ERROR, node, i, i,
                                                          c->period, y, x, d, &b);
                        }
                    }
                    last = c;
                }
            }
        }
    }
    free(cols);
    return rc;
}
