/* Poverty and inequality measures from household records: FGT, Watts,
 * the Gini coefficient, the median income and the households under a
 * monitoring line at every node, and their writer.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/poverty.h"

#include <gsl/gsl_sort_double.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "definitions.h"
#include "error.h"
#include "hierarchy.h"
#include "output.h"
#include "households.h"
#include "util.h"
#include "write.h"

/* ==== Measures from households ==== */

struct tally_poverty {
    const tally_hierarchy *h;
    size_t nodes;
    int year;
    double line, monitoring;
    size_t used, skipped;
    int whole_persons;
    double *cols[TALLY_POVERTY_MEASURE_COUNT];
};

static const char *const measure_names[TALLY_POVERTY_MEASURE_COUNT] = {
    "households", "persons", "p0", "p1", "p2", "watts", "gini", "median_income",
    "below_monitoring_line",
};

TALLY_EXTERN(const char *) tally_poverty_measure_name(int measure)
{
    return measure >= 0 && measure < TALLY_POVERTY_MEASURE_COUNT ? measure_names[measure] : NULL;
}

TALLY_EXTERN(void) tally_poverty_free(tally_poverty *p)
{
    if (!p)
        return;
    for (int k = 0; k < TALLY_POVERTY_MEASURE_COUNT; k++)
        free(p->cols[k]);
    free(p);
}

TALLY_EXTERN(const tally_hierarchy *) tally_poverty_hierarchy(const tally_poverty *p)
{
    return p ? p->h : NULL;
}

TALLY_EXTERN(int) tally_poverty_year(const tally_poverty *p) { return p ? p->year : 0; }
TALLY_EXTERN(double) tally_poverty_line(const tally_poverty *p) { return p ? p->line : NAN; }
TALLY_EXTERN(double) tally_poverty_monitoring_line(const tally_poverty *p)
{
    return p ? p->monitoring : NAN;
}
TALLY_EXTERN(size_t) tally_poverty_households_used(const tally_poverty *p)
{
    return p ? p->used : 0;
}
TALLY_EXTERN(size_t) tally_poverty_households_skipped(const tally_poverty *p)
{
    return p ? p->skipped : 0;
}
TALLY_EXTERN(int) tally_poverty_whole_persons(const tally_poverty *p)
{
    return p ? p->whole_persons : 0;
}

TALLY_EXTERN(int) tally_poverty_value(const tally_poverty *p, size_t node, int measure,
                                      double *value, int *present)
{
    *value = NAN;
    *present = 0;
    if (!p || node >= p->nodes || measure < 0 || measure >= TALLY_POVERTY_MEASURE_COUNT)
        return tally_error__set(TALLY_EINVAL, "tally_poverty_value: node %zu or measure %d out of range",
                                node, measure);
    *value = p->cols[measure][node];
    *present = !isnan(*value);
    return 0;
}

TALLY_EXTERN(const double *) tally_poverty_column(const tally_poverty *p, int measure)
{
    return p && measure >= 0 && measure < TALLY_POVERTY_MEASURE_COUNT ? p->cols[measure] : NULL;
}

/* Per-node sums of the decomposable measures, with compensation. */
enum { S_PERSONS, S_P0, S_P1, S_P2, S_WATTS, S_COUNT };
typedef struct fgt_acc {
    double s[S_COUNT], c[S_COUNT];
    size_t households, below;
} fgt_acc;

/* Merges the sorted runs [lo, mid) and [mid, hi) of (y, w) through the
 * scratch arrays; stable, so the order of ties is kept. */
static void merge2(double *y, double *w, size_t lo, size_t mid, size_t hi, double *ty, double *tw)
{
    size_t a = lo, b = mid, o = lo;
    while (a < mid && b < hi) {
        if (y[b] < y[a]) {
            ty[o] = y[b];
            tw[o++] = w[b++];
        } else {
            ty[o] = y[a];
            tw[o++] = w[a++];
        }
    }
    while (a < mid) {
        ty[o] = y[a];
        tw[o++] = w[a++];
    }
    while (b < hi) {
        ty[o] = y[b];
        tw[o++] = w[b++];
    }
    memcpy(y + lo, ty + lo, (hi - lo) * sizeof *y);
    memcpy(w + lo, tw + lo, (hi - lo) * sizeof *w);
}

/* Merges k sorted adjacent runs with bounds b[0] < b[1] < ... < b[k] into
 * one, pairwise in rounds: O(n log k). b is used as scratch. */
static void merge_runs(double *y, double *w, size_t *b, size_t k, double *ty, double *tw)
{
    while (k > 1) {
        size_t out = 0, j = 0;
        for (; j + 1 < k; j += 2) {
            merge2(y, w, b[j], b[j + 1], b[j + 2], ty, tw);
            b[out++] = b[j];
        }
        if (j < k)
            b[out++] = b[j];
        b[out] = b[k];
        k = out;
    }
}

/* Gini and the weighted median of one node's households, sorted by income.
 * Sets both to NaN when they are undefined. */
static void gini_median(const double *y, const double *w, size_t n, double *gini, double *median)
{
    double ws = 0, wc = 0;          /* cumulative weight W_i */
    double ts = 0, tc = 0;          /* sum w_i y_i W_i */
    double us = 0, uc = 0;          /* sum w_i^2 y_i */
    double ss = 0, sc = 0;          /* sum w_i y_i */
    for (size_t i = 0; i < n; i++) {
        tally_util__neumaier(&ws, &wc, w[i]);
        double wi = ws + wc;
        tally_util__neumaier(&ts, &tc, w[i] * y[i] * wi);
        tally_util__neumaier(&us, &uc, w[i] * w[i] * y[i]);
        tally_util__neumaier(&ss, &sc, w[i] * y[i]);
    }
    double W = ws + wc, S = ss + sc;
    if (n == 0 || !(S > 0)) {
        *gini = NAN;
    } else {
        double g = (2 * (ts + tc) - (us + uc)) / (W * S) - 1;
        /* Equal incomes give exactly 0 in exact arithmetic; rounding may
         * leave -1e-16, which is not an inequality. */
        *gini = g < 0 ? 0 : g;
    }
    *median = NAN;
    ws = wc = 0;
    for (size_t i = 0; i < n; i++) {
        tally_util__neumaier(&ws, &wc, w[i]);
        double twice = 2 * (ws + wc);
        if (twice >= W) {
            *median = twice == W && i + 1 < n ? (y[i] + y[i + 1]) / 2 : y[i];
            break;
        }
    }
}

TALLY_EXTERN(int) tally_poverty_households(tally_poverty **out, const tally_households *hh,
                                           const tally_definitions *d,
                                           const tally_poverty_options *opts)
{
    tally_poverty_options defaults = TALLY_POVERTY_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    *out = NULL;
    if (!hh)
        return tally_error__set(TALLY_EINVAL, "tally_poverty_households: NULL households");
    int year = 0;
    int rc = tally_households__choose_year(hh, opts->year, &year);
    if (rc)
        return rc;
    double line = opts->line;
    if (line == 0) {
        if (!year)
            return tally_error__set(TALLY_ENOTFOUND,
                                    "no poverty line: the households have no year; give the "
                                    "line (--line) or the year (--year) of a line in the definitions");
        if (tally_definitions__poverty_line(d, year, &line))
            return tally_error__set(TALLY_ENOTFOUND,
                                    "no poverty line for %d; give it in the definitions "
                                    "(poverty: lines: {%d: ...}) or with --line",
                                    year, year);
    }
    if (!(line > 0) || !isfinite(line))
        return tally_error__set(TALLY_EINVAL, "poverty line %g; expected a positive number", line);
    double mline = opts->monitoring_line;
    if (mline == 0)
        mline = tally_definitions__monitoring_line(d);
    if (!isnan(mline) && (!(mline > 0) || !isfinite(mline)))
        return tally_error__set(TALLY_EINVAL, "monitoring line %g; expected a positive number",
                                mline);

    const tally_hierarchy *h = hh->h;
    size_t nodes = tally_hierarchy_size(h);
    const uint32_t *parents = tally_hierarchy__parents(h);
    tally_poverty *p = calloc(1, sizeof *p);
    size_t *first = calloc(nodes + 1, sizeof *first);
    fgt_acc *acc = calloc(nodes ? nodes : 1, sizeof *acc);
    size_t n_used = 0;
    for (size_t i = 0; i < hh->count; i++)
        n_used += !hh->items[i].year || hh->items[i].year == year;
    size_t hn = n_used ? n_used : 1;
    double *y = malloc(hn * sizeof *y), *w = malloc(hn * sizeof *w);
    double *ty = malloc(hn * sizeof *ty), *tw = malloc(hn * sizeof *tw);
    size_t *bounds = NULL, bounds_cap = 0;
    int ok = p && first && acc && y && w && ty && tw;
    for (int k = 0; ok && k < TALLY_POVERTY_MEASURE_COUNT; k++)
        ok = (p->cols[k] = malloc((nodes ? nodes : 1) * sizeof *p->cols[k])) != NULL;
    if (!ok) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory measuring poverty");
        goto fail;
    }
    p->h = h;
    p->nodes = nodes;
    p->year = year;
    p->line = line;
    p->monitoring = mline;
    p->used = n_used;
    p->skipped = hh->count - n_used;
    p->whole_persons = 1;

    /* Bucket the households by node (a counting sort), so every subtree's
     * households are one contiguous range: [first[i], first[end(i)]). */
    for (size_t i = 0; i < hh->count; i++) {
        const tally_household *x = &hh->items[i];
        if (!x->year || x->year == year)
            first[x->node + 1]++;
    }
    for (size_t i = 0; i < nodes; i++)
        first[i + 1] += first[i];
    {
        size_t *next = malloc((nodes ? nodes : 1) * sizeof *next);
        if (!next) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory measuring poverty");
            goto fail;
        }
        memcpy(next, first, nodes * sizeof *next);
        for (size_t i = 0; i < hh->count; i++) {
            const tally_household *x = &hh->items[i];
            if (x->year && x->year != year)
                continue;
            double pw = x->weight * x->size;
            size_t at = next[x->node]++;
            y[at] = x->income;
            w[at] = pw;
            if (pw != floor(pw) || pw > 9007199254740992.0)
                p->whole_persons = 0;
            /* The decomposable sums, at the household's own node. */
            fgt_acc *a = &acc[x->node];
            tally_util__neumaier(&a->s[S_PERSONS], &a->c[S_PERSONS], pw);
            if (x->income < line) {
                double gap = (line - x->income) / line;
                tally_util__neumaier(&a->s[S_P0], &a->c[S_P0], pw);
                tally_util__neumaier(&a->s[S_P1], &a->c[S_P1], pw * gap);
                tally_util__neumaier(&a->s[S_P2], &a->c[S_P2], pw * gap * gap);
                if (x->income > 0)
                    tally_util__neumaier(&a->s[S_WATTS], &a->c[S_WATTS], pw * log(line / x->income));
            }
            a->households++;
            a->below += !isnan(mline) && x->income < mline;
        }
        free(next);
    }
    /* Up the hierarchy: children come after their parent in pre-order, so
     * one reverse pass adds every subtree into its root. */
    for (size_t i = nodes; i-- > 0;) {
        size_t par = tally_hierarchy__up(parents, i);
        if (par == TALLY_NONE)
            continue;
        for (int k = 0; k < S_COUNT; k++) {
            tally_util__neumaier(&acc[par].s[k], &acc[par].c[k], acc[i].s[k]);
            acc[par].c[k] += acc[i].c[k];
        }
        acc[par].households += acc[i].households;
        acc[par].below += acc[i].below;
    }

    /* Gini and the median need each subtree's incomes in order. In reverse
     * pre-order every child's range is sorted before its parent is
     * reached; the parent sorts its own households (GSL) and merges them
     * with its children's runs. */
    for (size_t i = nodes; i-- > 0;) {
        size_t end = tally_hierarchy_subtree_end(h, i);
        size_t lo = first[i], hi = first[end];
        double *col_g = &p->cols[TALLY_POVERTY_GINI][i], *col_m = &p->cols[TALLY_POVERTY_MEDIAN_INCOME][i];
        if (lo == hi) {
            *col_g = *col_m = NAN;
            continue;
        }
        size_t own = first[i + 1] - lo;
        if (own > 1)
            gsl_sort2(y + lo, 1, w + lo, 1, own);
        size_t k = 0;
        if (tally_util__grow((void **)&bounds, &bounds_cap, 2, sizeof *bounds)) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory measuring poverty");
            goto fail;
        }
        bounds[0] = lo;
        if (own)
            bounds[++k] = first[i + 1];
        for (size_t ch = i + 1; ch < end; ch = tally_hierarchy_subtree_end(h, ch)) {
            size_t chi = first[tally_hierarchy_subtree_end(h, ch)];
            if (chi == bounds[k])
                continue; /* a child without households */
            if (tally_util__grow((void **)&bounds, &bounds_cap, k + 2, sizeof *bounds)) {
                rc = tally_error__set(TALLY_ENOMEM, "out of memory measuring poverty");
                goto fail;
            }
            bounds[++k] = chi;
        }
        merge_runs(y, w, bounds, k, ty, tw);
        gini_median(y + lo, w + lo, hi - lo, col_g, col_m);
    }

    for (size_t i = 0; i < nodes; i++) {
        const fgt_acc *a = &acc[i];
        double persons = a->s[S_PERSONS] + a->c[S_PERSONS];
        p->cols[TALLY_POVERTY_HOUSEHOLDS][i] = (double)a->households;
        p->cols[TALLY_POVERTY_PERSONS][i] = persons;
        p->cols[TALLY_POVERTY_BELOW_MONITORING][i] = isnan(mline) ? NAN : (double)a->below;
        static const int fgt[] = { TALLY_POVERTY_P0, TALLY_POVERTY_P1, TALLY_POVERTY_P2,
                                   TALLY_POVERTY_WATTS };
        for (int k = 0; k < 4; k++)
            p->cols[fgt[k]][i] = a->households
                                     ? (a->s[S_P0 + k] + a->c[S_P0 + k]) / persons * 100.0
                                     : NAN;
    }
    free(bounds);
    free(first);
    free(acc);
    free(y);
    free(w);
    free(ty);
    free(tw);
    *out = p;
    return 0;
fail:
    free(bounds);
    free(first);
    free(acc);
    free(y);
    free(w);
    free(ty);
    free(tw);
    tally_poverty_free(p);
    return rc;
}

/* ==== Writing ==== */

TALLY_EXTERN(int) tally_poverty_write(const tally_poverty *p, const char *path,
                                      const tally_write_options *opts)
{
    if (!p)
        return tally_error__set(TALLY_EINVAL, "tally_poverty_write: NULL result");
    /* The measures are columns, not indicators: no indicator to choose. */
    tally_write_options o2 = tally_write__current(opts);
    o2.indicators = NULL;
    o2.indicator_count = 0;
    tally_write__scope scope;
    tally_write__table o;
    int orc = tally_write__scope_make(&scope, p->h, NULL, &o2);
    if (!orc)
        orc = tally_write__table_open(&o, path, "the result", "poverty", &scope.opts);
    if (orc) {
        tally_write__scope_free(&scope);
        return orc;
    }
    int json = !o.csv;
    FILE *f = o.f;
    /* Column decimals: counts 0, money 2, indices 4. */
    static const int decimals[TALLY_POVERTY_MEASURE_COUNT] = { 0, 0, 4, 4, 4, 4, 4, 2, 0 };
    int persons_dec = p->whole_persons ? 0 : 2;
    if (json)
        fputc('[', f);
    else
        fputs("region_code,region_name,level,year,households,persons,poverty_line,"
              "p0,p1,p2,watts,gini,median_income,below_monitoring_line\n",
              f);
    int first = 1;
    for (size_t node = scope.first; node < scope.last; node++) {
        if (!tally_write__scope_node(&scope, node, tally_hierarchy_level(p->h, node)))
            continue;
        /* A region with no household and no measure says nothing. */
        int has = 0;
        for (int k = 0; k < TALLY_POVERTY_MEASURE_COUNT && !has; k++) {
            int count = k == TALLY_POVERTY_HOUSEHOLDS || k == TALLY_POVERTY_PERSONS ||
                        k == TALLY_POVERTY_BELOW_MONITORING;
            has = !isnan(p->cols[k][node]) && (!count || p->cols[k][node] != 0);
        }
        if (!tally_write__scope_keep(&scope, has))
            continue;
        char code_buf[TALLY_HIERARCHY__CODE_BUF];
        const char *code = tally_hierarchy__code_text(p->h, node, code_buf);
        const char *name = tally_hierarchy_name(p->h, node);
        const char *lname = tally_hierarchy_level_name(p->h, tally_hierarchy_level(p->h, node));
        double year = p->year ? p->year : NAN;
        if (json) {
            fputs(first ? "\n{\"region_code\":" : ",\n{\"region_code\":", f);
            tally_write__json(f, code);
            fputs(",\"region_name\":", f);
            tally_write__json(f, name);
            fputs(",\"level\":", f);
            tally_write__json(f, lname);
            fputs(",\"year\":", f);
            tally_write__number(f, year, 0, 1);
        } else {
            tally_write__csv(f, code);
            fputc(',', f);
            tally_write__csv(f, name);
            fputc(',', f);
            tally_write__csv(f, lname);
            fputc(',', f);
            tally_write__number(f, year, 0, 0);
        }
        for (int k = 0; k < TALLY_POVERTY_MEASURE_COUNT; k++) {
            int dec = k == TALLY_POVERTY_PERSONS ? persons_dec : decimals[k];
            if (json)
                fprintf(f, ",\"%s\":", measure_names[k]);
            else
                fputc(',', f);
            tally_write__number(f, p->cols[k][node], dec, json);
            if (k == TALLY_POVERTY_PERSONS) {
                fputs(json ? ",\"poverty_line\":" : ",", f);
                tally_write__number(f, p->line, 2, json);
            }
        }
        fputs(json ? "}" : "\n", f);
        first = 0;
    }
    if (json)
        fputs(first ? "]\n" : "\n]\n", f);
    tally_write__scope_free(&scope);
    return tally_write__table_close(&o);
}
