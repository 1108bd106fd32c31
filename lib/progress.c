/* Completion as of a month: each region's year-to-date actual against its
 * effective target, with status, gap, monthly pace and rank among
 * siblings; the result's accessors and its CSV / JSON writer.
 *
 * SPDX-License-Identifier: MIT
 */
#include "progress.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hierarchy.h"
#include "output.h"
#include "rollup.h"
#include "targets.h"
#include "write.h"

TALLY_EXTERN(const char *) tally_target_status_name(int status)
{
    switch (status) {
    case TALLY_TARGET_NO_TARGET: return "no_target";
    case TALLY_TARGET_NO_DATA: return "no_data";
    case TALLY_TARGET_DONE: return "done";
    case TALLY_TARGET_AHEAD: return "ahead";
    case TALLY_TARGET_BEHIND: return "behind";
    case TALLY_TARGET_MET: return "met";
    case TALLY_TARGET_NOT_MET: return "not_met";
    case TALLY_TARGET_INCOMPLETE: return "incomplete";
    default: return "";
    }
}

TALLY_EXTERN(void) tally_progress_free(tally_progress *r)
{
    if (!r)
        return;
    free(r->inds);
    free(r->actual);
    free(r->target);
    free(r->completion);
    free(r->gap);
    free(r->pace);
    free(r->status);
    free(r->incomplete);
    free(r->rank);
    free(r);
}

static int check_schedule(const double *s)
{
    for (int m = 0; m < 12; m++) {
        if (!(s[m] >= 0 && s[m] <= 100))
            return tally_error__set(TALLY_EINVAL,
                                    "schedule share for month %d is not 0 to 100", m + 1);
        if (m && s[m] < s[m - 1])
            return tally_error__set(TALLY_EINVAL,
                                    "schedule share for month %d is below month %d's; shares "
                                    "are cumulative and never decrease",
                                    m + 1, m);
    }
    if (s[11] != 100)
        return tally_error__set(TALLY_EINVAL, "schedule share for month 12 must be 100");
    return 0;
}

typedef struct rank_item {
    size_t parent, row;
    double completion;
} rank_item;

/* By parent, then completion highest first, then pre-order. */
static int by_parent_completion(const void *a, const void *b)
{
    const rank_item *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    if (x->completion != y->completion)
        return x->completion > y->completion ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Status, completion, gap and pace of one row. */
static void judge(tally_progress *r, size_t row, int ceiling, const double *schedule)
{
    double a = r->actual[row], t = r->target[row];
    int m = r->month;
    double left = m == 12 ? 1.0 : (double)(12 - m);
    r->completion[row] = r->gap[row] = r->pace[row] = NAN;
    if (isnan(t)) {
        r->status[row] = TALLY_TARGET_NO_TARGET;
        return;
    }
    /* A formula matched over fewer regions than reported: shown, never
     * judged (as thresholds are not judged on it). */
    if (r->incomplete[row]) {
        r->status[row] = TALLY_TARGET_INCOMPLETE;
        return;
    }
    if (isnan(a)) {
        r->status[row] = TALLY_TARGET_NO_DATA;
        return;
    }
    if (ceiling) {
        if (a <= t) {
            r->status[row] = TALLY_TARGET_MET;
            r->gap[row] = r->pace[row] = 0;
        } else {
            r->status[row] = TALLY_TARGET_NOT_MET;
            r->gap[row] = a - t;
            r->pace[row] = r->gap[row] / left;
        }
        return;
    }
    /* actual * 100 / target: one rounding where actual * 100 is exact (any
     * count), so the printed percentage is the one a person computes. */
    if (t > 0)
        r->completion[row] = a * 100.0 / t;
    if (a >= t) {
        r->status[row] = TALLY_TARGET_DONE;
        r->gap[row] = r->pace[row] = 0;
        return;
    }
    /* ahead: completion >= time progress, compared without the rounding of
     * either percentage. */
    int ahead = t > 0 && (schedule ? a * 100.0 >= t * schedule[m - 1] : a * 12.0 >= t * m);
    r->status[row] = ahead ? TALLY_TARGET_AHEAD : TALLY_TARGET_BEHIND;
    r->gap[row] = t - a;
    r->pace[row] = r->gap[row] / left;
}

TALLY_EXTERN(int) tally_progress_run(tally_progress **out, const tally_dataset *ds,
                                     const tally_targets *t, const tally_progress_options *opts)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "tally_progress_run: NULL argument");
    *out = NULL;
    if (!ds || !t || !opts)
        return tally_error__set(TALLY_EINVAL, "tally_progress_run: NULL argument");
    if (tally_dataset_hierarchy(ds) != t->h || tally_dataset_definitions(ds) != t->d)
        return tally_error__set(TALLY_EINVAL,
                                "the dataset and the targets are over different hierarchies or "
                                "definitions");
    if (opts->month < 1 || opts->month > 12)
        return tally_error__set(TALLY_EINVAL, "as-of month %d; expected 1 to 12", opts->month);
    if (opts->year < 1000 || opts->year > 9999)
        return tally_error__set(TALLY_EINVAL, "year %d; expected 1000 to 9999", opts->year);
    if (opts->schedule && check_schedule(opts->schedule))
        return TALLY_EINVAL;

    size_t n = t->nodes, nind = t->nind;
    tally_progress *r = calloc(1, sizeof *r);
    if (!r)
        return tally_error__set(TALLY_ENOMEM, "out of memory computing completion");
    r->h = t->h;
    r->d = t->d;
    r->year = opts->year;
    r->month = opts->month;
    r->nodes = n;
    r->time_progress = opts->schedule ? opts->schedule[opts->month - 1]
                                      : opts->month * 100.0 / 12.0;
    r->inds = malloc((nind ? nind : 1) * sizeof *r->inds);
    if (!r->inds)
        goto nomem;
    for (size_t i = 0; i < nind; i++)
        if (tally_targets_has(t, i, opts->year))
            r->inds[r->nk++] = i;
    size_t rows = n * r->nk, alloc = rows ? rows : 1;
    r->actual = malloc(alloc * sizeof(double));
    r->target = malloc(alloc * sizeof(double));
    r->completion = malloc(alloc * sizeof(double));
    r->gap = malloc(alloc * sizeof(double));
    r->pace = malloc(alloc * sizeof(double));
    r->status = malloc(alloc);
    r->incomplete = calloc(alloc, 1);
    r->rank = calloc(alloc, sizeof(size_t));
    if (!r->actual || !r->target || !r->completion || !r->gap || !r->pace || !r->status ||
        !r->incomplete || !r->rank)
        goto nomem;
    if (!r->nk) {
        *out = r;
        return 0;
    }

    /* Year to date: January to the as-of month, as one span, over the
     * regions with data and their ancestors (every other region has no
     * value: tally_rollup__nodes); ytd[i][j] and cov[i] are node j of S. */
    tally_rollup__nodes S;
    memset(&S, 0, sizeof S);
    double **ytd = calloc(nind ? nind : 1, sizeof *ytd);
    tally_rollup__cov *cov = calloc(nind ? nind : 1, sizeof *cov);
    double *eff = malloc((n ? n : 1) * sizeof *eff);
    rank_item *items = malloc((n ? n : 1) * sizeof *items);
    int rc = tally_rollup__nodes_of(&S, ds);
    if (!rc && (!ytd || !cov || !eff || !items))
        rc = TALLY_ENOMEM;
    for (size_t i = 0; !rc && i < nind; i++)
        if (!(ytd[i] = malloc((S.n ? S.n : 1) * sizeof(double))))
            rc = TALLY_ENOMEM;
    if (rc == TALLY_ENOMEM)
        tally_error__set(rc, "out of memory computing completion");
    int32_t first = (int32_t)opts->year * 12;
    if (!rc)
        rc = tally_rollup__span_in(ds, &S, first, first + opts->month - 1, opts->prefer, ytd,
                                   NULL, NULL, cov);
    const uint32_t *parent = tally_hierarchy__parents(t->h);
    for (size_t k = 0; !rc && k < r->nk; k++) {
        size_t ind = r->inds[k];
        int e = tally_targets__effective(t, ind, opts->year, eff, NULL, NULL);
        if (e < 0) {
            rc = e;
            break;
        }
        /* A sum or formula past DBL_MAX, as tally_rollup reports it: at
         * the lowest region (the first in reverse pre-order). */
        for (size_t j = S.n; j-- > 0 && !rc;) {
            size_t node = tally_rollup__node(&S, j);
            if (isinf(ytd[ind][j]))
                rc = tally_error__set(TALLY_ERANGE,
                                      "%s (%s) of %s %s, %04d-01 to %04d-%02d, is past the "
                                      "largest number a double holds (about 1.8e308); expected "
                                      "values whose aggregate is finite",
                                      tally_definitions_id(t->d, ind),
                                      tally_definitions_name(t->d, ind),
                                      tally_hierarchy_code(t->h, node),
                                      tally_hierarchy_name(t->h, node), opts->year, opts->year,
                                      opts->month);
        }
        if (rc)
            break;
        int ceiling = tally_definitions_direction(t->d, ind) == TALLY_DIRECTION_LOWER_IS_BETTER;
        size_t nitems = 0;
        const tally_rollup__cov *c = &cov[ind];
        for (size_t node = 0; node < n; node++) {
            size_t row = node * r->nk + k, j = tally_rollup__index(&S, node);
            r->actual[row] = j == TALLY_NONE ? NAN : ytd[ind][j];
            r->incomplete[row] = j != TALLY_NONE && c->regions && c->complete[j] < c->regions[j];
            r->target[row] = eff[node];
            judge(r, row, ceiling, opts->schedule);
            if (!isnan(r->completion[row])) {
                rank_item it = { tally_hierarchy__up(parent, node), row, r->completion[row] };
                items[nitems++] = it;
            }
        }
        /* Competition ranking among siblings: 1, 2, 2, 4. */
        qsort(items, nitems, sizeof *items, by_parent_completion);
        for (size_t j = 0, start = 0; j < nitems; j++) {
            if (j && items[j - 1].parent != items[j].parent)
                start = j;
            if (j > start && items[j - 1].completion == items[j].completion)
                r->rank[items[j].row] = r->rank[items[j - 1].row];
            else
                r->rank[items[j].row] = j - start + 1;
        }
    }
    for (size_t i = 0; ytd && i < nind; i++)
        free(ytd[i]);
    free(ytd);
    for (size_t i = 0; cov && i < nind; i++)
        tally_rollup__cov_free(&cov[i]);
    free(cov);
    free(eff);
    free(items);
    tally_rollup__nodes_free(&S);
    if (rc) {
        tally_progress_free(r);
        return rc;
    }
    *out = r;
    return 0;
nomem:
    tally_progress_free(r);
    return tally_error__set(TALLY_ENOMEM, "out of memory computing completion");
}

TALLY_EXTERN(const tally_hierarchy *) tally_progress_hierarchy(const tally_progress *r)
{
    return r ? r->h : NULL;
}

TALLY_EXTERN(const tally_definitions *) tally_progress_definitions(const tally_progress *r)
{
    return r ? r->d : NULL;
}

TALLY_EXTERN(int) tally_progress_year(const tally_progress *r) { return r ? r->year : 0; }
TALLY_EXTERN(int) tally_progress_month(const tally_progress *r) { return r ? r->month : 0; }

TALLY_EXTERN(size_t) tally_progress_indicator_count(const tally_progress *r)
{
    return r ? r->nk : 0;
}

TALLY_EXTERN(size_t) tally_progress_indicator(const tally_progress *r, size_t k)
{
    return r && k < r->nk ? r->inds[k] : TALLY_NONE;
}

TALLY_EXTERN(size_t) tally_progress_count(const tally_progress *r)
{
    return r ? r->nodes * r->nk : 0;
}

TALLY_EXTERN(int) tally_progress_find(const tally_progress *r, size_t node,
                                      size_t indicator, size_t *row)
{
    if (row)
        *row = TALLY_NONE;
    if (!r || !row)
        return tally_error__set(TALLY_EINVAL, "tally_progress_find: NULL argument");
    for (size_t k = 0; k < r->nk && node < r->nodes; k++)
        if (r->inds[k] == indicator) {
            *row = node * r->nk + k;
            return 0;
        }
    return tally_error__set(TALLY_ENOTFOUND,
                            "no completion row for node %zu, indicator %zu (an indicator without "
                            "targets that year, or a node out of range)",
                            node, indicator);
}

#define ROW_OK(r, row) ((r) && (row) < (r)->nodes * (r)->nk)

TALLY_EXTERN(size_t) tally_progress_node(const tally_progress *r, size_t row)
{
    return ROW_OK(r, row) ? row / r->nk : TALLY_NONE;
}

TALLY_EXTERN(size_t) tally_progress_row_indicator(const tally_progress *r, size_t row)
{
    return ROW_OK(r, row) ? r->inds[row % r->nk] : TALLY_NONE;
}

TALLY_EXTERN(double) tally_progress_actual(const tally_progress *r, size_t row)
{
    return ROW_OK(r, row) ? r->actual[row] : NAN;
}

TALLY_EXTERN(double) tally_progress_target(const tally_progress *r, size_t row)
{
    return ROW_OK(r, row) ? r->target[row] : NAN;
}

TALLY_EXTERN(double) tally_progress_completion(const tally_progress *r, size_t row)
{
    return ROW_OK(r, row) ? r->completion[row] : NAN;
}

TALLY_EXTERN(double) tally_progress_time_progress(const tally_progress *r, size_t row)
{
    return ROW_OK(r, row) ? r->time_progress : NAN;
}

TALLY_EXTERN(int) tally_progress_status(const tally_progress *r, size_t row)
{
    return ROW_OK(r, row) ? r->status[row] : -1;
}

TALLY_EXTERN(double) tally_progress_gap(const tally_progress *r, size_t row)
{
    return ROW_OK(r, row) ? r->gap[row] : NAN;
}

TALLY_EXTERN(double) tally_progress_monthly_pace(const tally_progress *r, size_t row)
{
    return ROW_OK(r, row) ? r->pace[row] : NAN;
}

TALLY_EXTERN(int) tally_progress_complete(const tally_progress *r, size_t row)
{
    return ROW_OK(r, row) ? !r->incomplete[row] : -1;
}

TALLY_EXTERN(size_t) tally_progress_rank(const tally_progress *r, size_t row)
{
    return ROW_OK(r, row) ? r->rank[row] : 0;
}

TALLY_EXTERN(int) tally_progress_write(const tally_progress *r, const char *path,
                                       const tally_write_options *opts)
{
    if (!r)
        return tally_error__set(TALLY_EINVAL, "tally_progress_write: NULL result");
    tally_write__scope scope;
    tally_write__table o;
    int orc = tally_write__table_begin(&scope, &o, r->h, r->d, opts, path,
                                       "the result", "progress");
    if (orc)
        return orc;
    int json = !o.csv, names = scope.opts.names;
    FILE *f = o.f;
    char as_of[16];
    snprintf(as_of, sizeof as_of, "%04d-%02d", r->year, r->month);
    if (json)
        fputc('[', f);
    else
        fprintf(f, "region_code,region_name,level,indicator,%syear,as_of,actual,target,completion,"
                "time_progress,status,gap,monthly_pace,rank\n",
                names ? "indicator_name,unit," : "");
    int first = 1;
    for (size_t node = scope.first; node < scope.last; node++) {
        int level = tally_hierarchy_level(r->h, node);
        if (!tally_write__scope_node(&scope, node, level))
            continue;
        char code_buf[TALLY_HIERARCHY__CODE_BUF];
        const char *code = tally_hierarchy__code_text(r->h, node, code_buf);
        const char *name = tally_hierarchy_name(r->h, node);
        const char *lname = tally_hierarchy_level_name(r->h, level);
        for (size_t k = 0; k < r->nk; k++) {
            size_t row = node * r->nk + k, ind = r->inds[k];
            /* A row with neither an actual nor a target says nothing. */
            if (!tally_write__scope_indicator(&scope, ind) ||
                !tally_write__scope_keep(&scope, !isnan(r->actual[row]) || !isnan(r->target[row])))
                continue;
            int dec = tally_definitions_decimals(r->d, ind);
            const char *id = tally_definitions_id(r->d, ind);
            const char *status = tally_target_status_name(r->status[row]);
            if (json) {
                fputs(first ? "\n{\"region_code\":" : ",\n{\"region_code\":", f);
                tally_write__json(f, code);
                fputs(",\"region_name\":", f);
                tally_write__json(f, name);
                fputs(",\"level\":", f);
                tally_write__json(f, lname);
                fputs(",\"indicator\":", f);
                tally_write__json(f, id);
                if (names) {
                    fputs(",\"indicator_name\":", f);
                    tally_write__json(f, tally_definitions_name(r->d, ind));
                    fputs(",\"unit\":", f);
                    tally_write__json(f, tally_definitions_unit(r->d, ind));
                }
                fprintf(f, ",\"year\":%d,\"as_of\":\"%s\",\"actual\":", r->year, as_of);
                tally_write__number(f, r->actual[row], dec, 1);
                fputs(",\"target\":", f);
                tally_write__number(f, r->target[row], dec, 1);
                fputs(",\"completion\":", f);
                tally_write__number(f, r->completion[row], 2, 1);
                fputs(",\"time_progress\":", f);
                tally_write__number(f, r->time_progress, 2, 1);
                fprintf(f, ",\"status\":\"%s\",\"gap\":", status);
                tally_write__number(f, r->gap[row], dec, 1);
                fputs(",\"monthly_pace\":", f);
                tally_write__number(f, r->pace[row], dec, 1);
                if (r->rank[row])
                    fprintf(f, ",\"rank\":%zu}", r->rank[row]);
                else
                    fputs(",\"rank\":null}", f);
            } else {
                tally_write__csv(f, code);
                fputc(',', f);
                tally_write__csv(f, name);
                fputc(',', f);
                tally_write__csv(f, lname);
                fputc(',', f);
                tally_write__csv(f, id);
                if (names) {
                    fputc(',', f);
                    tally_write__csv(f, tally_definitions_name(r->d, ind));
                    fputc(',', f);
                    tally_write__csv(f, tally_definitions_unit(r->d, ind));
                }
                fprintf(f, ",%d,%s,", r->year, as_of);
                tally_write__number(f, r->actual[row], dec, 0);
                fputc(',', f);
                tally_write__number(f, r->target[row], dec, 0);
                fputc(',', f);
                tally_write__number(f, r->completion[row], 2, 0);
                fputc(',', f);
                tally_write__number(f, r->time_progress, 2, 0);
                fprintf(f, ",%s,", status);
                tally_write__number(f, r->gap[row], dec, 0);
                fputc(',', f);
                tally_write__number(f, r->pace[row], dec, 0);
                fputc(',', f);
                if (r->rank[row])
                    fprintf(f, "%zu", r->rank[row]);
                fputc('\n', f);
            }
            first = 0;
        }
    }
    if (json)
        fputs(first ? "]\n" : "\n]\n", f);
    tally_write__scope_free(&scope);
    return tally_write__table_close(&o);
}
