/* Consistency checks: a view, one period's values as the checks read
 * them. For every indicator and region: the rollup's computed value, the
 * region's own figure, the interval of values that figure stands for once
 * the rounding of published numbers is taken into account, and where it
 * comes from (its own report, or the regions below, all of them or some).
 * See the view type in check.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "check.h"

#include "carry.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "error.h"
#include "expr.h"
#include "hierarchy.h"
#include "period.h"
#include "rollup.h"
#include "util.h"

int tally_check__cov_combine(const tally_check__view *v, const tally_expr *e, size_t node, int own,
                             uint64_t *sig)
{
    int any = 0, full = 1, same = 1;
    uint64_t s0 = 0;
    size_t nv = tally_expr__var_count(e);
    for (size_t j = 0; j < nv; j++) {
        size_t i = (size_t)tally_expr__var(e, j);
        int c = v->cov[i][node];
        if (c == TALLY_CHECK__COV_MIXED)
            return c;
        if (c == TALLY_CHECK__COV_NONE)
            continue; /* a missing operand: the value says whether that matters */
        if (c == TALLY_CHECK__COV_OWN) {
            own = 1;
            continue;
        }
        if (!any) {
            s0 = v->sig[i][node];
            any = 1;
        } else if (v->sig[i][node] != s0) {
            same = 0;
        }
        full &= c == TALLY_CHECK__COV_FULL;
    }
    *sig = s0;
    if (!any)
        return own ? TALLY_CHECK__COV_OWN : TALLY_CHECK__COV_NONE;
    if (full)
        return own ? TALLY_CHECK__COV_OWN : TALLY_CHECK__COV_FULL;
    return same && !own ? TALLY_CHECK__COV_PART : TALLY_CHECK__COV_MIXED;
}

void tally_check__view_free(tally_check__view *v, size_t m)
{
    if (!v->ready)
        return;
    for (size_t i = 0; i < m; i++) {
        if (v->out)
            free(v->out[i]);
        if (v->rep)
            free(v->rep[i]);
        if (v->cmp)
            free(v->cmp[i]);
        if (v->val)
            free(v->val[i]);
        if (v->hi && v->hi[i]) {
            free(v->lo[i]);
            free(v->hi[i]);
        }
        if (v->wcmp)
            free(v->wcmp[i]);
        if (v->cnt)
            free(v->cnt[i]);
        if (v->pcs)
            free(v->pcs[i]);
        if (v->sub)
            free(v->sub[i]);
        if (v->cov)
            free(v->cov[i]);
        if (v->sig)
            free(v->sig[i]);
    }
    free(v->out);
    free(v->rep);
    free(v->cmp);
    free(v->val);
    free(v->lo);
    free(v->hi);
    free(v->wcmp);
    free(v->cnt);
    free(v->pcs);
    free(v->sub);
    free(v->cov);
    free(v->sig);
    memset(v, 0, sizeof *v);
}

/* How many reports each node's own value combines over [first, last]: the
 * number of filings at the finest granularity it filed there (a flow's
 * year from twelve months is twelve rounded numbers). */
static int own_filings(const tally_check__run *R, size_t ind, int32_t first, int32_t last,
                       unsigned *k)
{
    size_t n = R->S.n;
    unsigned *c = calloc((n ? n : 1) * 3, sizeof *c);
    if (!c)
        return TALLY_ENOMEM;
    /* The indicator's columns that start in the span (the set's index). */
    for (size_t j = tally_rollup__first_column(&R->S, ind, first); j < R->S.istart[ind + 1];
         j++) {
        const tally_column *col = R->S.icol[j];
        if (tally_period__first_month(col->period) > last)
            break;
        if (tally_period__last_month(col->period) > last)
            continue;
        int g = 2 - tally_period__kind(col->period); /* months 0, quarters 1, years 2 */
        for (size_t node = 0; node < n; node++)
            c[(size_t)g * n + node] += (unsigned)tally_column__has(col, tally_check__node(R, node));
    }
    for (size_t node = 0; node < n; node++)
        k[node] = c[node] ? c[node] : c[n + node] ? c[n + node] : c[2 * n + node];
    free(c);
    return 0;
}

static double **new_columns(size_t m, size_t n)
{
    double **cols = calloc(m ? m : 1, sizeof *cols);
    if (!cols)
        return NULL;
    for (size_t i = 0; i < m; i++) {
        if (!(cols[i] = malloc((n ? n : 1) * sizeof **cols))) {
            for (size_t j = 0; j < i; j++)
                free(cols[j]);
            free(cols);
            return NULL;
        }
    }
    return cols;
}

/* The reported (not formula) part of a view for indicator i: figures,
 * counts of regions, rounding widths. */
static int view_reported(const tally_check__run *R, tally_check__view *v, size_t i, double *wown,
                         unsigned *filings, double *accw, double *accmx, uint8_t *full)
{
    size_t n = R->S.n;
    const double *rep = v->rep[i], *out = v->out[i];
    double *val = v->val[i];
    size_t *cnt = v->cnt[i], *pcs = v->pcs[i];
    /* Pieces carried from old codes (sum indicators only): the rollup
     * counts each beside the regions below its region, and when nothing
     * below has a value the piece is the region's value, but never its
     * report: its region's figure is partial, and not over the same
     * regions as a figure without the piece. */
    const uint64_t *piece = tally_carry__additive_at(R->ds, i, v->key);
    const tally_column *pcol = piece ? tally_dataset__find_column(R->ds, i, v->key) : NULL;
    int agg = tally_definitions_aggregate(R->d, i);
    double h = R->half[i];
    int ot = tally_definitions_over_time(R->d, i);

    if (h > 0) {
        if (ot == TALLY_OVER_TIME_FLOW) {
            int rc = own_filings(R, i, tally_period__first_month(v->key),
                                 tally_period__last_month(v->key), filings);
            if (rc)
                return rc;
        }
        for (size_t node = 0; node < n; node++)
            wown[node] = isnan(rep[node]) ? 0
                         : ot == TALLY_OVER_TIME_FLOW ? h * (filings[node] ? filings[node] : 1)
                                                       : h;
    }
    /* The regions that count below each node, and the half-widths of what
     * they add up to: the same reverse pass and precedence as the rollup. */
    uint64_t *sig = v->sig[i];
    uint8_t *cov = v->cov[i];
    for (size_t node = 0; node < n; node++) {
        cnt[node] = 0;
        pcs[node] = 0;
        accw[node] = 0;
        accmx[node] = 0;
        sig[node] = 0;
        full[node] = 1;
    }
    for (size_t node = n; node-- > 0;) {
        size_t hn = tally_check__node(R, node);
        int pc = pcol && tally_bit__get(piece, hn) && tally_column__has(pcol, hn);
        if (pc) {
            /* Alone, the rollup leaves it as the region's value (rep);
             * beside values below, it is in the computed value. */
            pcs[node]++;
            sig[node] += tally_util__hash_u64(((uint64_t)hn + 1) << 1 | 1);
            if (h > 0 && isnan(rep[node])) {
                accw[node] += h;
                accmx[node] = h > accmx[node] ? h : accmx[node];
            }
        }
        int below = cnt[node] > 0 || (pc && isnan(rep[node]));
        /* Complete: every child contributes, and completely. */
        int complete = below && full[node] && !pc;
        cov[node] = pc && !isnan(rep[node]) ? TALLY_CHECK__COV_PART
                    : !isnan(rep[node])     ? TALLY_CHECK__COV_OWN
                    : !below                ? TALLY_CHECK__COV_NONE
                    : complete              ? TALLY_CHECK__COV_FULL
                                            : TALLY_CHECK__COV_PART;
        if (h > 0) {
            double w = NAN;
            if (below) {
                switch (agg) {
                case TALLY_AGGREGATE_SUM: w = accw[node]; break;
                case TALLY_AGGREGATE_MEAN: w = accw[node] / (double)cnt[node]; break;
                case TALLY_AGGREGATE_MIN:
                case TALLY_AGGREGATE_MAX: w = accmx[node]; break;
                default: w = 0; break;
                }
            }
            v->wcmp[i][node] = w;
        }
        int has_own = !isnan(rep[node]);
        int use_own = R->prefer == TALLY_PREFER_REPORTED ? has_own : (has_own && !below);
        size_t p = tally_hierarchy__up(R->S.parent, node);
        if (p == TALLY_NONE)
            continue;
        if (!use_own && !(below && complete))
            full[p] = 0;
        if (use_own && pc) { /* the piece alone */
            full[p] = 0;
            sig[p] += sig[node];
            pcs[p] += 1;
            if (h > 0) {
                accw[p] += h;
                accmx[p] = h > accmx[p] ? h : accmx[p];
            }
        } else if (use_own) {
            sig[p] += tally_util__hash_u64((uint64_t)hn + 1);
            cnt[p] += 1;
            if (h > 0) {
                accw[p] += wown[node];
                if (wown[node] > accmx[p])
                    accmx[p] = wown[node];
            }
        } else if (below) {
            sig[p] += sig[node];
            cnt[p] += cnt[node];
            pcs[p] += pcs[node];
            if (h > 0) {
                accw[p] += accw[node];
                if (accmx[node] > accmx[p])
                    accmx[p] = accmx[node];
            }
        }
    }
    for (size_t node = 0; node < n; node++)
        val[node] = !isnan(rep[node]) ? rep[node] : out[node];
    if (h > 0) {
        double *lo = v->lo[i], *hi = v->hi[i];
        for (size_t node = 0; node < n; node++) {
            double w = !isnan(rep[node]) ? wown[node] : v->wcmp[i][node];
            if (isnan(val[node]) || isnan(w)) {
                lo[node] = hi[node] = NAN;
            } else {
                lo[node] = val[node] - w;
                hi[node] = val[node] + w;
            }
        }
    }
    return 0;
}

/* Sets bit i of `sub` where node i or a node below it has its bit set. */
static void close_upwards(const tally_check__run *R, uint64_t *sub)
{
    for (size_t node = R->S.n; node-- > 1;)
        if (tally_bit__get(sub, node) && R->S.parent[node] != TALLY_HIERARCHY__ROOT)
            tally_bit__set(sub, R->S.parent[node]);
}

int tally_check__view_compute(const tally_check__run *R, tally_check__view *v, int32_t key)
{
    size_t n = R->S.n, m = R->m, nn = n ? n : 1;
    size_t words = tally_bit__words(n) ? tally_bit__words(n) : 1;
    memset(v, 0, sizeof *v);
    v->key = key;
    int rc = 0;
    double *wown = NULL, *accw = NULL, *accmx = NULL, *tmp = NULL;
    unsigned *filings = NULL;
    uint8_t *full = NULL;
    v->out = new_columns(m, n);
    v->rep = new_columns(m, n);
    v->cmp = new_columns(m, n);
    v->val = new_columns(m, n);
    v->lo = calloc(m ? m : 1, sizeof *v->lo);
    v->hi = calloc(m ? m : 1, sizeof *v->hi);
    v->wcmp = calloc(m ? m : 1, sizeof *v->wcmp);
    v->cnt = calloc(m ? m : 1, sizeof *v->cnt);
    v->pcs = calloc(m ? m : 1, sizeof *v->pcs);
    v->sub = calloc(m ? m : 1, sizeof *v->sub);
    v->cov = calloc(m ? m : 1, sizeof *v->cov);
    v->sig = calloc(m ? m : 1, sizeof *v->sig);
    wown = malloc(nn * sizeof *wown);
    accw = malloc(nn * sizeof *accw);
    accmx = malloc(nn * sizeof *accmx);
    tmp = malloc(nn * sizeof *tmp);
    filings = calloc(nn, sizeof *filings);
    full = malloc(nn);
    if (!v->out || !v->rep || !v->cmp || !v->val || !v->lo || !v->hi || !v->wcmp || !v->cnt || !v->pcs ||
        !v->sub || !v->cov || !v->sig || !wown || !accw || !accmx || !tmp || !filings || !full)
        goto nomem;
    for (size_t i = 0; i < m; i++) {
        int formula = tally_definitions_aggregate(R->d, i) == TALLY_AGGREGATE_FORMULA;
        if (!(v->sub[i] = calloc(words, sizeof **v->sub)) || !(v->cov[i] = malloc(nn)) ||
            !(v->sig[i] = malloc(nn * sizeof **v->sig)))
            goto nomem;
        if (R->half[i] > 0 || formula) {
            v->lo[i] = malloc(nn * sizeof(double));
            v->hi[i] = malloc(nn * sizeof(double));
            if (!v->lo[i] || !v->hi[i]) {
                free(v->lo[i]);
                free(v->hi[i]);
                v->lo[i] = v->hi[i] = NULL;
                goto nomem;
            }
        } else {
            v->lo[i] = v->val[i];
        }
        if (!formula) {
            if (!(v->cnt[i] = malloc(nn * sizeof(size_t))) ||
                !(v->pcs[i] = malloc(nn * sizeof(size_t))))
                goto nomem;
            if (R->half[i] > 0 && !(v->wcmp[i] = malloc(nn * sizeof(double))))
                goto nomem;
        }
    }
    rc = tally_rollup__span_in(R->ds, &R->S, tally_period__first_month(key),
                               tally_period__last_month(key), R->prefer, v->out, v->rep, v->cmp,
                               NULL);
    if (rc)
        goto fail;
    for (size_t i = 0; i < m; i++) {
        const tally_column *col = tally_dataset__find_column(R->ds, i, key);
        memset(v->sub[i], 0, tally_bit__words(n) * sizeof(uint64_t));
        if (col && col->hi > col->lo && R->S.all)
            memcpy(v->sub[i] + tally_column__word_lo(col), tally_column__bits_base(col, col->valid),
                   (tally_column__word_hi(col) - tally_column__word_lo(col)) * sizeof(uint64_t));
        else if (col)
            for (size_t j = 0; j < n; j++)
                if (tally_column__has(col, tally_check__node(R, j)))
                    tally_bit__set(v->sub[i], j);
        close_upwards(R, v->sub[i]);
        if (tally_definitions_aggregate(R->d, i) == TALLY_AGGREGATE_FORMULA)
            continue;
        rc = view_reported(R, v, i, wown, filings, accw, accmx, full);
        if (rc)
            goto nomem;
    }
    /* Formulas in dependency order, over the figures. */
    const size_t *order;
    size_t nf = tally_definitions__formula_order(R->d, &order);
    for (size_t k = 0; k < nf; k++) {
        size_t f = order[k];
        const tally_expr *e = tally_definitions__program(R->d, f);
        if (tally_expr__eval(e, (const double *const *)v->val, n, tmp) ||
            tally_expr__eval_interval(e, (const double *const *)v->lo,
                                      (const double *const *)v->hi, n, v->lo[f], v->hi[f]))
            goto nomem;
        double h = R->half[f];
        for (size_t node = 0; node < n; node++) {
            double r = v->rep[f][node];
            if (!isnan(r)) {
                v->val[f][node] = r;
                v->lo[f][node] = r - h;
                v->hi[f][node] = r + h;
                v->cov[f][node] = TALLY_CHECK__COV_OWN;
                v->sig[f][node] = 0;
            } else {
                v->val[f][node] = tmp[node];
                v->cov[f][node] =
                    (uint8_t)tally_check__cov_combine(v, e, node, 0, &v->sig[f][node]);
            }
        }
        for (size_t j = 0; j < tally_expr__var_count(e); j++) {
            size_t op = (size_t)tally_expr__var(e, j);
            for (size_t w = 0; w < tally_bit__words(n); w++)
                v->sub[f][w] |= v->sub[op][w];
        }
    }
    /* The checks read figures (val), computed values (cmp) and intervals;
     * the rollup's own columns are not needed any more. */
    for (size_t i = 0; i < m; i++) {
        free(v->out[i]);
        free(v->rep[i]);
    }
    free(v->out);
    free(v->rep);
    v->out = v->rep = NULL;
    v->ready = 1;
    free(wown);
    free(accw);
    free(accmx);
    free(tmp);
    free(filings);
    free(full);
    return 0;
nomem:
    rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
fail:
    free(wown);
    free(accw);
    free(accmx);
    free(tmp);
    free(filings);
    free(full);
    v->ready = 1; /* so view_free frees what was allocated */
    tally_check__view_free(v, m);
    return rc;
}
