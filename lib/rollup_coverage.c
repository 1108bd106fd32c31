/* Formulas on matched coverage: at every node a formula is evaluated on
 * operand aggregates taken over the same regions.
 *
 * The regions of a formula are the units: each region whose own value
 * counts (by the rollup's precedence rule) for at least one of the
 * formula's reported operands. A unit is complete when it has every
 * operand: its own value, or for an operand it did not report itself,
 * what the regions below it give. A node's operands are then aggregated
 * over the complete units below it only; a unit that is not complete is
 * left out of every operand and makes the node (and each above it)
 * incomplete. Where every unit is complete, the matched aggregates are the
 * plain ones and the formula reads the plain output columns, as it always
 * did.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rollup.h"

#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "definitions.h"
#include "error.h"
#include "expr.h"
#include "hierarchy.h"
#include "period.h"
#include "util.h"

/* An aggregate in the making (as in the rollup's summing loop). */
typedef struct part {
    double sum, comp, mn, mx;
    size_t cnt;
} part;

static const part EMPTY = { 0, 0, INFINITY, -INFINITY, 0 };

static void part_add(part *a, const part *b)
{
    tally_util__neumaier(&a->sum, &a->comp, b->sum);
    a->comp += b->comp;
    a->cnt += b->cnt;
    if (b->mn < a->mn)
        a->mn = b->mn;
    if (b->mx > a->mx)
        a->mx = b->mx;
}

static double part_value(const part *a, int agg)
{
    if (!a->cnt)
        return NAN;
    switch (agg) {
    case TALLY_AGGREGATE_SUM: return a->sum + a->comp;
    case TALLY_AGGREGATE_MEAN: return (a->sum + a->comp) / (double)a->cnt;
    case TALLY_AGGREGATE_MIN: return a->mn;
    case TALLY_AGGREGATE_MAX: return a->mx;
    case TALLY_AGGREGATE_COUNT: return (double)a->cnt;
    default: return NAN;
    }
}

/* The entries waiting for their parent: a header and 2k parts each (the
 * plain aggregate of each operand, then the matched one). */
typedef struct entry {
    size_t parent;
    uint32_t regions, complete;
} entry;

typedef struct stack {
    entry *e;
    part *p;
    size_t top, cap, k;
} stack;

static int stack_push(stack *s, entry e, const part *plain, const part *matched)
{
    if (s->top == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        entry *ne = realloc(s->e, cap * sizeof *ne);
        if (!ne)
            return TALLY_ENOMEM;
        s->e = ne;
        part *np = realloc(s->p, cap * 2 * s->k * sizeof *np);
        if (!np)
            return TALLY_ENOMEM;
        s->p = np;
        s->cap = cap;
    }
    s->e[s->top] = e;
    memcpy(s->p + s->top * 2 * s->k, plain, s->k * sizeof *plain);
    memcpy(s->p + s->top * 2 * s->k + s->k, matched, s->k * sizeof *matched);
    s->top++;
    return 0;
}

void tally_rollup__cov_free(tally_rollup__cov *c)
{
    if (!c)
        return;
    free(c->regions);
    free(c->complete);
    free(c->unit);
    free(c->as_of);
    memset(c, 0, sizeof *c);
}

/* tally_expr__eval, marking with +INFINITY each node whose result an
 * overflow made missing (1e308 * 10): the evaluator gives missing for
 * every non-finite result, so the overflow is seen in the floating-point
 * status (thread-local, and restored as it was), first for the whole
 * column, then node by node over the missing results. The rollup reports
 * the infinity as an error; a division by zero stays missing. */
static int eval_checked(const tally_expr *e, const double *const *cols, size_t ncols, size_t n,
                        double *out)
{
    fexcept_t saved;
    fegetexceptflag(&saved, FE_OVERFLOW);
    feclearexcept(FE_OVERFLOW);
    int rc = tally_expr__eval(e, cols, n, out);
    if (!rc && fetestexcept(FE_OVERFLOW)) {
        const double **at = malloc((ncols ? ncols : 1) * sizeof *at);
        if (!at)
            rc = TALLY_ENOMEM;
        for (size_t i = 0; !rc && i < n; i++) {
            if (!isnan(out[i]))
                continue;
            for (size_t v = 0; v < ncols; v++)
                at[v] = cols[v] ? cols[v] + i : NULL;
            double r;
            feclearexcept(FE_OVERFLOW);
            rc = tally_expr__eval(e, at, 1, &r);
            if (!rc && isnan(r) && fetestexcept(FE_OVERFLOW))
                out[i] = INFINITY;
        }
        free(at);
    }
    fesetexceptflag(&saved, FE_OVERFLOW);
    return rc;
}

int tally_rollup__formula(const tally_rollup__nodes *h, const tally_definitions *d, size_t f,
                          int prefer, double **out, const double *const *own,
                          tally_rollup__cov *cov)
{
    size_t n = h->n;
    const uint32_t *parent = h->parent;
    const tally_expr *e = tally_definitions__program(d, f);
    size_t nv = tally_expr__var_count(e), k = 0;
    size_t ops[64];
    for (size_t j = 0; j < nv; j++) {
        size_t v = (size_t)tally_expr__var(e, j);
        if (tally_definitions_aggregate(d, v) != TALLY_AGGREGATE_FORMULA && own[v] && k < 64)
            ops[k++] = v;
    }
    int rc = 0;
    uint32_t *regions = NULL, *complete = NULL;
    uint64_t *unit = NULL;
    double **matched = NULL;
    size_t nn = n ? n : 1;
    stack s = { NULL, NULL, 0, 0, k ? k : 1 };
    part *work = malloc(4 * (k ? k : 1) * sizeof *work);
    regions = malloc(nn * sizeof *regions);
    complete = malloc(nn * sizeof *complete);
    unit = calloc(tally_bit__words(nn), sizeof *unit);
    if (!work || !regions || !complete || !unit) {
        rc = TALLY_ENOMEM;
        goto done;
    }
    part *plain = work, *match = work + k, *pv = work + 2 * k, *mv = work + 3 * k;
    int partial = 0;
    for (size_t i = n; k && i-- > 0;) {
        size_t first = s.top;
        while (first > 0 && s.e[first - 1].parent == i)
            first--;
        uint32_t rg = 0, cp = 0;
        for (size_t a = 0; a < k; a++)
            plain[a] = match[a] = EMPTY;
        for (size_t t = first; t < s.top; t++) {
            rg += s.e[t].regions;
            cp += s.e[t].complete;
            const part *q = s.p + t * 2 * k;
            for (size_t a = 0; a < k; a++) {
                part_add(&plain[a], &q[a]);
                part_add(&match[a], &q[k + a]);
            }
        }
        s.top = first;
        int is_unit = 0, whole = 1;
        for (size_t a = 0; a < k; a++) {
            double ov = own[ops[a]][i];
            int has_own = !isnan(ov), below = plain[a].cnt > 0;
            int counts = prefer == TALLY_PREFER_REPORTED ? has_own : (has_own && !below);
            if (counts) {
                is_unit = 1;
                pv[a] = (part){ ov, 0, ov, ov, 1 };
            } else {
                pv[a] = below ? plain[a] : EMPTY;
            }
            whole &= pv[a].cnt > 0;
        }
        if (is_unit) {
            tally_bit__set(unit, i);
            rg = 1;
            cp = (uint32_t)whole;
            for (size_t a = 0; a < k; a++)
                mv[a] = whole ? pv[a] : EMPTY;
        } else {
            for (size_t a = 0; a < k; a++)
                mv[a] = match[a];
        }
        regions[i] = rg;
        complete[i] = cp;
        if (cp < rg && !is_unit) {
            if (!matched) {
                partial = 1;
                matched = calloc(k, sizeof *matched);
                for (size_t a = 0; matched && a < k; a++)
                    if (!(matched[a] = malloc(nn * sizeof **matched)))
                        rc = TALLY_ENOMEM;
                if (!matched || rc) {
                    rc = TALLY_ENOMEM;
                    goto done;
                }
            }
            for (size_t a = 0; a < k; a++)
                matched[a][i] = part_value(&mv[a], tally_definitions_aggregate(d, ops[a]));
        }
        size_t p = tally_hierarchy__up(parent, i);
        if (p != TALLY_NONE && rg) {
            if (stack_push(&s, (entry){ p, rg, cp }, pv, mv)) {
                rc = TALLY_ENOMEM;
                goto done;
            }
        }
    }
    size_t nind = tally_definitions_indicator_count(d);
    if (!partial) {
        rc = eval_checked(e, (const double *const *)out, nind, n, out[f]);
    } else {
        /* The complete nodes read the plain columns. */
        for (size_t i = 0; i < n; i++)
            if (!(complete[i] < regions[i] && !tally_bit__get(unit, i)))
                for (size_t a = 0; a < k; a++)
                    matched[a][i] = out[ops[a]][i];
        const double **cols = malloc((nind ? nind : 1) * sizeof *cols);
        if (!cols) {
            rc = TALLY_ENOMEM;
            goto done;
        }
        for (size_t v = 0; v < nind; v++)
            cols[v] = out[v];
        for (size_t a = 0; a < k; a++)
            cols[ops[a]] = matched[a];
        rc = eval_checked(e, cols, nind, n, out[f]);
        free(cols);
    }
    if (!rc && cov) {
        if (!k) {
            memset(regions, 0, nn * sizeof *regions);
            memset(complete, 0, nn * sizeof *complete);
        }
        tally_rollup__cov_free(cov);
        cov->regions = regions;
        cov->complete = complete;
        cov->unit = unit;
        regions = complete = NULL;
        unit = NULL;
    }
done:
    if (matched)
        for (size_t a = 0; a < k; a++)
            free(matched[a]);
    free(matched);
    free(s.e);
    free(s.p);
    free(work);
    free(regions);
    free(complete);
    free(unit);
    return rc;
}

/* How old a carried level is. A region's own value of a stock or
 * cumulative indicator is the report that ends latest inside the span
 * (rollup_time.c, own_level), carried unless it ended more than
 * stale_after months before the span's end; its month is that report's
 * last month. A node's value rests on the regions that count in it (by
 * the precedence rule, as in the rollup's aggregation): its as_of is the
 * oldest of theirs, the month the stalest figure in it was filed for. */
int tally_rollup__as_of(const tally_dataset *ds, size_t ind, int32_t first, int32_t last,
                        int prefer, int32_t **out)
{
    const tally_hierarchy *h = tally_dataset_hierarchy(ds);
    const tally_definitions *d = tally_dataset_definitions(ds);
    size_t n = tally_hierarchy_size(h), nn = n ? n : 1;
    const uint32_t *parent = tally_hierarchy__parents(h);
    int32_t *own = malloc(nn * sizeof *own), *below = malloc(nn * sizeof *below);
    if (!own || !below) {
        free(own);
        free(below);
        return TALLY_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        own[i] = below[i] = -1;
    size_t ncols = tally_dataset__column_count(ds), words = tally_bit__words(n);
    for (size_t k = 0; k < ncols; k++) {
        const tally_column *c = tally_dataset__column(ds, k);
        int32_t end = tally_period__last_month(c->period);
        if (c->indicator != ind || tally_period__first_month(c->period) < first || end > last)
            continue;
        (void)words;
        for (size_t w = tally_column__word_lo(c); w < tally_column__word_hi(c); w++)
            for (uint64_t bits = c->valid[w]; bits; bits &= bits - 1) {
                size_t node = w * 64 + (size_t)__builtin_ctzll(bits);
                if (end > own[node])
                    own[node] = end;
            }
    }
    int stale_after = tally_definitions__stale_after(d, ind);
    for (size_t i = n; i-- > 0;) {
        int has_own = own[i] >= 0 && (stale_after < 0 || last - own[i] <= stale_after);
        int has_below = below[i] >= 0;
        int use_own = prefer == TALLY_PREFER_REPORTED ? has_own : (has_own && !has_below);
        int32_t v = use_own ? own[i] : has_below ? below[i] : -1;
        own[i] = v;
        size_t p = tally_hierarchy__up(parent, i);
        if (v >= 0 && p != TALLY_NONE && (below[p] < 0 || v < below[p]))
            below[p] = v;
    }
    free(below);
    *out = own;
    return 0;
}
