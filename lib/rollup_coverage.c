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

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "definitions.h"
#include "error.h"
#include "expr.h"
#include "hierarchy.h"
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
    memset(c, 0, sizeof *c);
}

int tally_rollup__formula(const tally_hierarchy *h, const tally_definitions *d, size_t f,
                          int prefer, double **out, const double *const *own,
                          tally_rollup__cov *cov)
{
    size_t n = tally_hierarchy_size(h);
    const uint32_t *parent = tally_hierarchy__parents(h);
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
    if (!partial) {
        rc = tally_expr__eval(e, (const double *const *)out, n, out[f]);
    } else {
        /* The complete nodes read the plain columns. */
        for (size_t i = 0; i < n; i++)
            if (!(complete[i] < regions[i] && !tally_bit__get(unit, i)))
                for (size_t a = 0; a < k; a++)
                    matched[a][i] = out[ops[a]][i];
        size_t nind = tally_definitions_indicator_count(d);
        const double **cols = malloc((nind ? nind : 1) * sizeof *cols);
        if (!cols) {
            rc = TALLY_ENOMEM;
            goto done;
        }
        for (size_t v = 0; v < nind; v++)
            cols[v] = out[v];
        for (size_t a = 0; a < k; a++)
            cols[ops[a]] = matched[a];
        rc = tally_expr__eval(e, cols, n, out[f]);
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
