/* Exit thresholds: each node's rolled-up value of the thresholded
 * indicators against its level's threshold from the definitions (with
 * overrides by region code prefix), and their writer. They work on a
 * rollup result, not on households.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/thresholds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "definitions.h"
#include "error.h"
#include "hierarchy.h"
#include "output.h"
#include "rollup.h"
#include "util.h"
#include "write.h"

struct tally_thresholds {
    const tally_hierarchy *h;
    const tally_definitions *d;
    size_t nodes, nind, nper;
    size_t *indicators;
    char **periods;
    /* The result's node set (tally_rollup__nodes: the regions with data
     * and their ancestors; every other node's value is missing), copied:
     * sn nodes, j < na being anc[j], else lo + j - na; all: j is node j. */
    size_t sn, lo, hi, na;
    size_t *anc;
    int all;
    double *values;       /* [(k * nper + p) * sn + j] */
    uint64_t *incomplete; /* bit [(k * nper + p) * sn + j]: the value
                           * rests on incomplete coverage */
    size_t nlevels;
    const tally_threshold **by_level; /* [k * nlevels + level]: the entry, or NULL */
};

/* The set's index of node, or TALLY_NONE when it is not in the set. */
static size_t set_index(const tally_thresholds *t, size_t node)
{
    if (t->all)
        return node;
    if (node - t->lo < t->hi - t->lo)
        return t->na + (node - t->lo);
    for (size_t j = 0; j < t->na; j++)
        if (t->anc[j] == node)
            return j;
    return TALLY_NONE;
}

TALLY_EXTERN(void) tally_thresholds_free(tally_thresholds *t)
{
    if (!t)
        return;
    for (size_t p = 0; t->periods && p < t->nper; p++)
        free(t->periods[p]);
    free(t->periods);
    free(t->indicators);
    free(t->values);
    free(t->anc);
    free(t->by_level);
    free(t->incomplete);
    free(t);
}

/* The limit for one node: its level's entry, or the override whose prefix
 * is the longest prefix of the node's code. */
static double node_limit(const tally_threshold *e, const char *code)
{
    double limit = e->limit;
    size_t best = 0;
    for (size_t o = 0; o < e->override_count; o++) {
        const tally_threshold_override *ov = &e->overrides[o];
        for (size_t q = 0; q < ov->prefix_count; q++) {
            size_t len = strlen(ov->prefixes[q]);
            if (len > best && strncmp(code, ov->prefixes[q], len) == 0) {
                best = len;
                limit = ov->limit;
            }
        }
    }
    return limit;
}

TALLY_EXTERN(int) tally_poverty_thresholds(tally_thresholds **out, const tally_result *r,
                                           const tally_thresholds_options *opts)
{
    tally_thresholds_options defaults = TALLY_THRESHOLDS_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    *out = NULL;
    if (!r)
        return tally_error__set(TALLY_EINVAL, "tally_poverty_thresholds: NULL result");
    const tally_hierarchy *h = tally_result_hierarchy(r);
    const tally_definitions *d = tally_result_definitions(r);
    size_t nodes = tally_hierarchy_size(h), nind_all = tally_definitions_indicator_count(d);
    size_t nlevels = tally_hierarchy_level_count(h);
    int rc = 0;
    tally_thresholds *t = calloc(1, sizeof *t);
    const tally_threshold **by_level = calloc(nlevels + 1, sizeof *by_level);
    if (!t || !by_level) {
        free(by_level);
        free(t);
        return tally_error__set(TALLY_ENOMEM, "out of memory judging thresholds");
    }
    t->h = h;
    t->d = d;
    t->nodes = nodes;
    t->indicators = malloc((nind_all ? nind_all : 1) * sizeof *t->indicators);
    if (!t->indicators) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory judging thresholds");
        goto fail;
    }
    if (opts->indicators && opts->indicator_count) {
        /* In definition order, each once. */
        for (size_t i = 0; i < nind_all; i++)
            for (size_t k = 0; k < opts->indicator_count; k++)
                if (opts->indicators[k] == i) {
                    t->indicators[t->nind++] = i;
                    break;
                }
        for (size_t k = 0; k < opts->indicator_count; k++)
            if (opts->indicators[k] >= nind_all) {
                rc = tally_error__set(TALLY_EINVAL, "indicator index %zu out of range (%zu indicators)",
                                      opts->indicators[k], nind_all);
                goto fail;
            }
    } else {
        for (size_t i = 0; i < nind_all; i++) {
            const tally_threshold *th;
            if (tally_definitions__thresholds(d, i, &th))
                t->indicators[t->nind++] = i;
        }
        if (!t->nind) {
            rc = tally_error__set(TALLY_ENOTFOUND,
                                  "no indicator has thresholds; expected `thresholds:` on an "
                                  "indicator in the definitions, like "
                                  "{ level: county, max: 2.0 }");
            goto fail;
        }
    }
    t->nper = tally_result_period_count(r);
    /* The node set of the result's columns (the same for all of them). */
    tally_rollup__nodes all;
    tally_rollup__nodes_all(&all, h);
    const tally_rollup__nodes *S = &all;
    tally_rollup__col col0;
    if (t->nind && t->nper && tally_rollup__column(r, t->indicators[0], 0, &col0) == 0)
        S = col0.S;
    t->sn = S->n;
    t->lo = S->lo;
    t->hi = S->hi;
    t->na = S->na;
    t->all = S->all;
    t->anc = malloc((S->na ? S->na : 1) * sizeof *t->anc);
    if (t->anc && S->na)
        memcpy(t->anc, S->anc, S->na * sizeof *t->anc);
    t->nlevels = nlevels;
    size_t nk = t->nind ? t->nind : 1, np = t->nper ? t->nper : 1, nn = t->sn ? t->sn : 1;
    t->periods = calloc(np, sizeof *t->periods);
    t->values = malloc(nk * np * nn * sizeof *t->values);
    t->by_level = calloc(nk * (nlevels ? nlevels : 1), sizeof *t->by_level);
    t->incomplete = calloc(tally_bit__words(nk * np * nn), sizeof *t->incomplete);
    if (!t->periods || !t->values || !t->anc || !t->by_level || !t->incomplete) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory judging thresholds");
        goto fail;
    }
    for (size_t p = 0; p < t->nper; p++) {
        const char *s = tally_result_period(r, p);
        if (!(t->periods[p] = tally_util__strndup(s, strlen(s)))) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory judging thresholds");
            goto fail;
        }
    }
    for (size_t k = 0; k < t->nind; k++) {
        size_t ind = t->indicators[k];
        for (size_t p = 0; p < t->nper; p++) {
            /* Every column of a result is over the same set (indices in
             * range: the call cannot fail). */
            tally_rollup__col col;
            tally_rollup__column(r, ind, p, &col);
            memcpy(t->values + (k * t->nper + p) * t->sn, col.values, t->sn * sizeof *t->values);
            for (size_t j = 0; j < t->sn; j++) {
                int whole = 1;
                tally_result_complete(r, tally_rollup__node(col.S, j), ind, p, &whole);
                if (!whole)
                    tally_bit__set(t->incomplete, (k * t->nper + p) * t->sn + j);
            }
        }
        const tally_threshold *th;
        size_t nth = tally_definitions__thresholds(d, ind, &th);
        memset(by_level, 0, (nlevels + 1) * sizeof *by_level);
        for (size_t e = 0; e < nth; e++) {
            int level = tally_hierarchy_level_find(h, th[e].level);
            if (level < 0) {
                rc = tally_error__set(
                    TALLY_ENOTFOUND,
                    "definitions line %lu, column %lu: threshold of '%s' for level '%s', which "
                    "is not a level of the hierarchy; expected a level name such as '%s'",
                    th[e].line, th[e].column, tally_definitions_id(d, ind), th[e].level,
                    tally_hierarchy_level_name(h, (int)(nlevels ? nlevels - 1 : 0)));
                goto fail;
            }
            by_level[level] = &th[e];
        }
        /* A node's limit is found when it is asked for (tally_thresholds_status). */
        for (size_t l = 0; l < nlevels; l++)
            t->by_level[k * nlevels + l] = by_level[l];
    }
    free(by_level);
    *out = t;
    return 0;
fail:
    free(by_level);
    tally_thresholds_free(t);
    return rc;
}

TALLY_EXTERN(size_t) tally_thresholds_indicator_count(const tally_thresholds *t)
{
    return t ? t->nind : 0;
}

TALLY_EXTERN(size_t) tally_thresholds_indicator(const tally_thresholds *t, size_t k)
{
    return t && k < t->nind ? t->indicators[k] : TALLY_NONE;
}

TALLY_EXTERN(size_t) tally_thresholds_period_count(const tally_thresholds *t)
{
    return t ? t->nper : 0;
}

TALLY_EXTERN(const char *) tally_thresholds_period(const tally_thresholds *t, size_t p)
{
    return t && p < t->nper ? t->periods[p] : NULL;
}

TALLY_EXTERN(int) tally_thresholds_status(const tally_thresholds *t, size_t node, size_t k,
                                          size_t p, tally_threshold_status *out)
{
    if (!t || !out || node >= t->nodes || k >= t->nind || p >= t->nper)
        return tally_error__set(TALLY_EINVAL, "tally_thresholds_status: index out of range");
    size_t j = set_index(t, node);
    double v = j == TALLY_NONE ? NAN : t->values[(k * t->nper + p) * t->sn + j];
    int level = tally_hierarchy_level(t->h, node);
    const tally_threshold *e =
        level >= 0 && (size_t)level < t->nlevels ? t->by_level[k * t->nlevels + (size_t)level]
                                                 : NULL;
    char code_buf[TALLY_HIERARCHY__CODE_BUF];
    double lim = e ? node_limit(e, tally_hierarchy__code_text(t->h, node, code_buf)) : NAN;
    out->value = v;
    out->threshold = lim;
    out->is_max = e && e->is_max;
    out->inclusive = e && e->inclusive;
    if (isnan(v) || isnan(lim)) {
        out->meets = -1;
        out->margin = NAN;
    } else if (tally_bit__get(t->incomplete, (k * t->nper + p) * t->sn + j)) {
        out->meets = -2;
        out->margin = NAN;
    } else {
        out->margin = out->is_max ? lim - v : v - lim;
        /* Decided on the values themselves, not on their difference. */
        if (out->is_max)
            out->meets = out->inclusive ? v <= lim : v < lim;
        else
            out->meets = out->inclusive ? v >= lim : v > lim;
    }
    return 0;
}

/* ==== Writing ==== */

TALLY_EXTERN(int) tally_thresholds_write(const tally_thresholds *t, const char *path,
                                         const tally_write_options *opts)
{
    if (!t)
        return tally_error__set(TALLY_EINVAL, "tally_thresholds_write: NULL thresholds");
    tally_write__scope scope;
    tally_write__table o;
    int orc = tally_write__table_begin(&scope, &o, t->h, t->d, opts, path,
                                       "the result", "thresholds");
    if (orc)
        return orc;
    int json = !o.csv, names = scope.opts.names;
    FILE *f = o.f;
    if (json)
        fputc('[', f);
    else
        fprintf(f, "region_code,region_name,level,period,indicator,%svalue,threshold,"
                "meets_threshold,margin\n",
                names ? "indicator_name,unit," : "");
    int first = 1;
    for (size_t node = scope.first; node < scope.last; node++) {
        if (!tally_write__scope_node(&scope, node, tally_hierarchy_level(t->h, node)))
            continue;
        char code_buf[TALLY_HIERARCHY__CODE_BUF];
        const char *code = tally_hierarchy__code_text(t->h, node, code_buf);
        const char *name = tally_hierarchy_name(t->h, node);
        const char *lname = tally_hierarchy_level_name(t->h, tally_hierarchy_level(t->h, node));
        for (size_t k = 0; k < t->nind; k++) {
            if (!tally_write__scope_indicator(&scope, t->indicators[k]))
                continue;
            const char *id = tally_definitions_id(t->d, t->indicators[k]);
            const char *iname = tally_definitions_name(t->d, t->indicators[k]);
            const char *unit = tally_definitions_unit(t->d, t->indicators[k]);
            int dec = tally_definitions_decimals(t->d, t->indicators[k]);
            for (size_t p = 0; p < t->nper; p++) {
                tally_threshold_status s;
                tally_thresholds_status(t, node, k, p, &s);
                /* A row without a value has nothing to hold to the threshold. */
                if (!tally_write__scope_keep(&scope, !isnan(s.value)))
                    continue;
                if (json) {
                    fputs(first ? "\n{\"region_code\":" : ",\n{\"region_code\":", f);
                    tally_write__json(f, code);
                    fputs(",\"region_name\":", f);
                    tally_write__json(f, name);
                    fputs(",\"level\":", f);
                    tally_write__json(f, lname);
                    fputs(",\"period\":", f);
                    tally_write__json(f, t->periods[p]);
                    fputs(",\"indicator\":", f);
                    tally_write__json(f, id);
                    if (names) {
                        fputs(",\"indicator_name\":", f);
                        tally_write__json(f, iname);
                        fputs(",\"unit\":", f);
                        tally_write__json(f, unit);
                    }
                    fputs(",\"value\":", f);
                    tally_write__number(f, s.value, dec, 1);
                    fputs(",\"threshold\":", f);
                    tally_write__number(f, s.threshold, dec, 1);
                    fputs(s.meets == -2 ? ",\"meets_threshold\":\"incomplete\""
                          : s.meets < 0 ? ",\"meets_threshold\":null"
                          : s.meets   ? ",\"meets_threshold\":true"
                                      : ",\"meets_threshold\":false",
                          f);
                    fputs(",\"margin\":", f);
                    tally_write__number(f, s.margin, dec, 1);
                    fputc('}', f);
                } else {
                    tally_write__csv(f, code);
                    fputc(',', f);
                    tally_write__csv(f, name);
                    fputc(',', f);
                    tally_write__csv(f, lname);
                    fputc(',', f);
                    tally_write__csv(f, t->periods[p]);
                    fputc(',', f);
                    tally_write__csv(f, id);
                    if (names) {
                        fputc(',', f);
                        tally_write__csv(f, iname);
                        fputc(',', f);
                        tally_write__csv(f, unit);
                    }
                    fputc(',', f);
                    tally_write__number(f, s.value, dec, 0);
                    fputc(',', f);
                    tally_write__number(f, s.threshold, dec, 0);
                    fputs(s.meets == -2 ? ",incomplete" : s.meets < 0 ? "," : s.meets ? ",yes" : ",no", f);
                    fputc(',', f);
                    tally_write__number(f, s.margin, dec, 0);
                    fputc('\n', f);
                }
                first = 0;
            }
        }
    }
    if (json)
        fputs(first ? "]\n" : "\n]\n", f);
    tally_write__scope_free(&scope);
    return tally_write__table_close(&o);
}
