/* Rolling reported values up the hierarchy: time first, then space, then
 * formulas.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rollup.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carry.h"
#include "dataset.h"
#include "definitions.h"
#include "definitions_categories.h"
#include "error.h"
#include "hierarchy.h"
#include "period.h"
#include "util.h"

struct tally_result {
    const tally_hierarchy *h;
    const tally_definitions *d;
    size_t nodes, nind, nper;
    int32_t *periods;
    char (*period_text)[TALLY_PERIOD_TEXT_MAX];
    int compare;
    /* By period: the text of the period compared with, and whether it was
     * cut to the months the period's data cover (like for like). */
    char (*compared_text)[TALLY_PERIOD_TEXT_MAX];
    unsigned char *matched;
    /* Columns indexed [indicator * nper + period]. */
    double **out, **previous;
    struct sides *sides;
    tally_rollup__cov *cov; /* formula columns' coverage */
    int show_coverage;
    /* The nodes the columns hold (S.n values each, node j of the set at
     * [j]): every node, or the regions with data and their ancestors. */
    tally_rollup__nodes S;
    double **whole; /* tally_result_column's columns over every node, made on first use */
};

/* Whether a period lies inside the absolute months [first, last]. */
static int inside(int32_t period, int32_t first, int32_t last)
{
    return tally_period__first_month(period) >= first && tally_period__last_month(period) <= last;
}

/* ---- the two sides of each value ----
 *
 * A result keeps one dense column per indicator and period: the output.
 * Each side (reported, computed) of a node is, nearly always, either that
 * output or missing, so a side is a bit per node ("equals the output") and
 * a short list, sorted by node, of the values where it is neither (a node
 * that reported and has reports below it; the reported counts of a count
 * indicator). A national column then costs its 8 bytes per node and two
 * bits, instead of three columns. */

typedef struct side_list {
    size_t *node;
    double *value;
    size_t n, cap;
} side_list;

typedef struct sides {
    uint64_t *rbits, *cbits; /* the reported / computed side equals the output */
    side_list r, c;
} sides;

static int side_add(side_list *l, size_t node, double v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        size_t *nn = realloc(l->node, cap * sizeof *nn);
        if (!nn)
            return TALLY_ENOMEM;
        l->node = nn;
        double *nv = realloc(l->value, cap * sizeof *nv);
        if (!nv)
            return TALLY_ENOMEM;
        l->value = nv;
        l->cap = cap;
    }
    l->node[l->n] = node;
    l->value[l->n] = v;
    l->n++;
    return 0;
}

/* Lists are built in reverse pre-order: turn them into node order. */
static void side_sort(side_list *l)
{
    for (size_t a = 0, b = l->n; a + 1 < b; a++, b--) {
        size_t tn = l->node[a];
        l->node[a] = l->node[b - 1];
        l->node[b - 1] = tn;
        double tv = l->value[a];
        l->value[a] = l->value[b - 1];
        l->value[b - 1] = tv;
    }
}

static double side_find(const side_list *l, size_t node)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->node[mid] < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && l->node[lo] == node ? l->value[lo] : NAN;
}

static void sides_free(sides *s)
{
    if (!s)
        return;
    free(s->rbits);
    free(s->cbits);
    free(s->r.node);
    free(s->r.value);
    free(s->c.node);
    free(s->c.value);
    memset(s, 0, sizeof *s);
}

static int sides_alloc(sides *s, size_t n)
{
    size_t words = tally_bit__words(n ? n : 1);
    s->rbits = calloc(words, sizeof *s->rbits);
    s->cbits = calloc(words, sizeof *s->cbits);
    return s->rbits && s->cbits ? 0 : TALLY_ENOMEM;
}

static double side_value(const sides *s, const double *out, size_t node, int reported)
{
    const uint64_t *bits = reported ? s->rbits : s->cbits;
    if (tally_bit__get(bits, node))
        return out[node];
    return side_find(reported ? &s->r : &s->c, node);
}

/* ---- the nodes a rollup works on ---- */

void tally_rollup__nodes_all(tally_rollup__nodes *s, const tally_hierarchy *h)
{
    memset(s, 0, sizeof *s);
    s->n = s->hi = tally_hierarchy_size(h);
    s->parent = tally_hierarchy__parents(h);
    s->all = 1;
}

void tally_rollup__nodes_free(tally_rollup__nodes *s)
{
    if (s->borrowed) {
        memset(s, 0, sizeof *s);
        return;
    }
    free(s->anc);
    free(s->parents);
    free(s->has);
    free((void *)s->icol);
    free(s->istart);
    memset(s, 0, sizeof *s);
}

static int by_first_month(const void *a, const void *b)
{
    int32_t x = tally_period__first_month((*(const tally_column *const *)a)->period);
    int32_t y = tally_period__first_month((*(const tally_column *const *)b)->period);
    return x < y ? -1 : x > y;
}

size_t tally_rollup__first_column(const tally_rollup__nodes *s, size_t ind, int32_t first)
{
    size_t a = s->istart[ind], b = s->istart[ind + 1];
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (tally_period__first_month(s->icol[mid]->period) < first)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

/* The index of ds's columns by indicator and first month (s->icol). 0 or
 * TALLY_ENOMEM (recorded). */
static int index_columns(tally_rollup__nodes *s, const tally_dataset *ds, size_t nind)
{
    size_t ncols = tally_dataset__column_count(ds);
    s->istart = calloc(nind + 2, sizeof *s->istart);
    const tally_column **icol = malloc((ncols ? ncols : 1) * sizeof *icol);
    s->icol = icol;
    if (!s->istart || !icol)
        return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
    for (size_t k = 0; k < ncols; k++)
        s->istart[tally_dataset__column(ds, k)->indicator + 2]++;
    for (size_t i = 0; i < nind; i++)
        s->istart[i + 2] += s->istart[i + 1];
    for (size_t k = 0; k < ncols; k++) {
        const tally_column *c = tally_dataset__column(ds, k);
        icol[s->istart[c->indicator + 1]++] = c;
    }
    for (size_t i = 0; i < nind; i++)
        qsort(icol + s->istart[i], s->istart[i + 1] - s->istart[i], sizeof *icol,
              by_first_month);
    return 0;
}

int tally_rollup__nodes_of(tally_rollup__nodes *s, const tally_dataset *ds)
{
    const tally_hierarchy *h = tally_dataset_hierarchy(ds);
    const uint32_t *parent = tally_hierarchy__parents(h);
    size_t n = tally_hierarchy_size(h), lo = n, hi = 0;
    size_t ncols = tally_dataset__column_count(ds);
    for (size_t k = 0; k < ncols; k++) {
        const tally_column *c = tally_dataset__column(ds, k);
        size_t a = tally_column__word_lo(c), b = tally_column__word_hi(c);
        while (a < b && !c->seen[a])
            a++;
        while (b > a && !c->seen[b - 1])
            b--;
        if (a == b)
            continue;
        size_t first = a * 64 + (size_t)__builtin_ctzll(c->seen[a]);
        size_t last = (b - 1) * 64 + 63 - (size_t)__builtin_clzll(c->seen[b - 1]);
        lo = first < lo ? first : lo;
        hi = last + 1 > hi ? last + 1 : hi;
    }
    if (hi <= lo)
        lo = hi = 0;
    size_t nind = tally_definitions_indicator_count(tally_dataset_definitions(ds));
    unsigned char *has = calloc(nind ? nind : 1, 1);
    if (!has)
        return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
    for (size_t k = 0; k < ncols; k++)
        has[tally_dataset__column(ds, k)->indicator] = 1;
    /* Most of the hierarchy: all of it, which needs no mapping. */
    if (hi - lo > n / 2) {
        tally_rollup__nodes_all(s, h);
        s->has = has;
        int rc = index_columns(s, ds, nind);
        if (rc)
            tally_rollup__nodes_free(s);
        return rc;
    }
    memset(s, 0, sizeof *s);
    s->has = has;
    if (index_columns(s, ds, nind)) {
        tally_rollup__nodes_free(s);
        return TALLY_ENOMEM;
    }
    s->lo = lo;
    s->hi = hi;
    size_t depth = 0;
    for (size_t p = hi > lo ? tally_hierarchy__up(parent, lo) : TALLY_NONE; p != TALLY_NONE;
         p = tally_hierarchy__up(parent, p))
        depth++;
    s->anc = malloc((depth ? depth : 1) * sizeof *s->anc);
    s->n = depth + (hi - lo);
    s->parents = malloc((s->n ? s->n : 1) * sizeof *s->parents);
    if (!s->anc || !s->parents) {
        tally_rollup__nodes_free(s);
        return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
    }
    s->na = depth;
    size_t k = depth;
    for (size_t p = hi > lo ? tally_hierarchy__up(parent, lo) : TALLY_NONE; p != TALLY_NONE;
         p = tally_hierarchy__up(parent, p))
        s->anc[--k] = p;
    for (size_t j = 0; j < s->n; j++) {
        size_t up = tally_hierarchy__up(parent, tally_rollup__node(s, j));
        s->parents[j] = up == TALLY_NONE ? TALLY_HIERARCHY__ROOT
                                         : (uint32_t)tally_rollup__index(s, up);
    }
    s->parent = s->parents;
    return 0;
}

/* ---- aggregation ---- */

/* What a node gives its parent: the state of the regions that count in
 * it (its own value, or what its subtree gives). */
typedef struct contrib {
    size_t parent;
    double sum, comp, mn, mx;
    size_t cnt;
} contrib;

typedef struct workspace {
    contrib *stack;  /* the contributions whose parent is not reached yet */
    size_t cap;
    double *scratch; /* a formula's own values (n doubles, worker 0, when a
                      * formula indicator was reported: allocated then) */
} workspace;

static int push(workspace *w, size_t *top, contrib c)
{
    if (*top == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 1024;
        contrib *s = realloc(w->stack, cap * sizeof *s);
        if (!s)
            return TALLY_ENOMEM;
        w->stack = s;
        w->cap = cap;
    }
    w->stack[(*top)++] = c;
    return 0;
}

/* One reverse pre-order pass. out[] holds each node's own value (NaN where
 * it reported nothing) on entry and its output on return; the subtree
 * aggregate of every node is computed on the way, and its sides recorded
 * in `sd` when not NULL. Children come after their parent in pre-order,
 * so a node's own value is still in out[] when the pass reaches it.
 *
 * The state lives on a stack, not in an array over the nodes: when the
 * pass reaches node i, every contribution not yet taken comes from a node
 * after i whose parent is i or before i, and those from i's children (its
 * subtree) were pushed last, so they are the top of the stack. They are
 * taken in the order they were pushed (children from the last to the
 * first), as a running accumulator per parent would add them. */
static int aggregate(const uint32_t *parent, size_t n, int agg, int prefer, double *out, sides *sd,
                     workspace *w, const uint64_t *carried)
{
    size_t top = 0;
    for (size_t i = n; i-- > 0;) {
        size_t first = top;
        while (first > 0 && w->stack[first - 1].parent == i)
            first--;
        double sum = 0, comp = 0, mn = INFINITY, mx = -INFINITY;
        size_t cnt = 0;
        for (size_t k = first; k < top; k++) {
            const contrib *c = &w->stack[k];
            tally_util__neumaier(&sum, &comp, c->sum);
            comp += c->comp;
            cnt += c->cnt;
            if (c->mn < mn)
                mn = c->mn;
            if (c->mx > mx)
                mx = c->mx;
        }
        top = first;
        if (carried && cnt && tally_bit__get(carried, i) && !isnan(out[i])) {
            /* A piece carried here from an old region (carry.c) counts
             * beside the regions below, as one more of them. */
            tally_util__neumaier(&sum, &comp, out[i]);
            cnt++;
            mn = out[i] < mn ? out[i] : mn;
            mx = out[i] > mx ? out[i] : mx;
            out[i] = NAN;
        }
        int below = cnt > 0;
        double cval = NAN;
        if (below) {
            switch (agg) {
            case TALLY_AGGREGATE_SUM: cval = sum + comp; break;
            case TALLY_AGGREGATE_MEAN: cval = (sum + comp) / (double)cnt; break;
            case TALLY_AGGREGATE_MIN: cval = mn; break;
            case TALLY_AGGREGATE_MAX: cval = mx; break;
            case TALLY_AGGREGATE_COUNT: cval = (double)cnt; break;
            default: break;
            }
        }
        double ov = out[i];
        int has_own = !isnan(ov);
        int use_own = prefer == TALLY_PREFER_REPORTED ? has_own : (has_own && !below);
        size_t p = tally_hierarchy__up(parent, i);
        if (use_own) {
            double o = agg == TALLY_AGGREGATE_COUNT ? 1.0 : ov;
            out[i] = o;
            if (sd) {
                if (o == ov)
                    tally_bit__set(sd->rbits, i);
                else if (side_add(&sd->r, i, ov))
                    return TALLY_ENOMEM;
                if (below && side_add(&sd->c, i, cval))
                    return TALLY_ENOMEM;
            }
            if (p != TALLY_NONE && push(w, &top, (contrib){ p, ov, 0, ov, ov, 1 }))
                return TALLY_ENOMEM;
        } else if (below) {
            out[i] = cval;
            if (sd) {
                tally_bit__set(sd->cbits, i);
                if (has_own && side_add(&sd->r, i, ov))
                    return TALLY_ENOMEM;
            }
            if (p != TALLY_NONE && push(w, &top, (contrib){ p, sum, comp, mn, mx, cnt }))
                return TALLY_ENOMEM;
        } else {
            out[i] = NAN;
        }
    }
    if (sd) {
        side_sort(&sd->r);
        side_sort(&sd->c);
    }
    return 0;
}

static void column_free(tally_result *r, size_t k);

TALLY_EXTERN(void) tally_result_free(tally_result *r)
{
    if (!r)
        return;
    size_t ncols = r->nind * r->nper;
    for (size_t k = 0; k < ncols; k++)
        column_free(r, k);
    free(r->out);
    free(r->sides);
    free(r->cov);
    free(r->previous);
    free(r->periods);
    free(r->period_text);
    free(r->compared_text);
    free(r->matched);
    for (size_t k = 0; r->whole && k < ncols; k++)
        free(r->whole[k]);
    free(r->whole);
    tally_rollup__nodes_free(&r->S);
    free(r);
}

static void column_free(tally_result *r, size_t k)
{
    if (r->out)
        free(r->out[k]);
    if (r->sides)
        sides_free(&r->sides[k]);
    if (r->previous)
        free(r->previous[k]);
    if (r->cov)
        tally_rollup__cov_free(&r->cov[k]);
}

static int cmp_period(const void *a, const void *b)
{
    return tally_period__compare(*(const int32_t *)a, *(const int32_t *)b);
}

static int cmp_key(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts the n period keys at p and drops repeats: the count left. */
size_t tally_rollup__unique_periods(int32_t *p, size_t n)
{
    qsort(p, n, sizeof *p, cmp_key);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (!m || p[m - 1] != p[k])
            p[m++] = p[k];
    return m;
}

/* One span's computation, shared by the threads: each worker takes the
 * next indicator until none is left, so the split follows the real cost. */
typedef struct span_job {
    const tally_dataset *ds;
    const tally_rollup__nodes *S;
    int32_t first, last;
    int prefer;
    double **out; /* nind columns; those in `given` already hold own values */
    sides *sd;    /* nind, or NULL */
    const unsigned char *given;
    double **own; /* nind: a copy of the own values of each formula operand, else NULL */
    size_t nind;
    pthread_mutex_t lock;
    size_t next;
    int rc;
} span_job;

typedef struct span_worker {
    span_job *job;
    workspace *w;
    int rc;
} span_worker;

/* The own values of slot i (out[], n nodes) where the region did not report
 * it: for each exclusive category i is a total of, the sum of the options'
 * own values, where every option has one (each option filled the same way
 * first: a margin from the cells of a cross-classification), over the
 * node set S (n of them). A region that
 * lacks an option keeps no value. This happens where values enter, before
 * any aggregation, so that the total and its options above a region are
 * made of the same regions. */
static int fill_exclusive(const tally_dataset *ds, const tally_rollup__nodes *S, size_t i,
                          int32_t first, int32_t last, double *out, size_t n)
{
    const tally_definitions *d = tally_dataset_definitions(ds);
    size_t base = tally_definitions__base(d, i), nb = tally_definitions__by_count(d, i);
    for (size_t j = 0; j < nb; j++) {
        size_t c = tally_definitions__by(d, i, j);
        if (tally_definitions__slot_option(d, i, j) >= 0 ||
            tally_definitions_category_exclusive(d, c) != 1)
            continue;
        int any = 0;
        for (size_t k = 0; k < n && !any; k++)
            any = isnan(out[k]);
        if (!any)
            return 0;
        double *acc = calloc(n ? n : 1, sizeof *acc), *tmp = malloc((n ? n : 1) * sizeof *tmp);
        int rc = acc && tmp ? 0 : tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
        int opt[TALLY_DEFINITIONS__MAX_BY];
        for (size_t q = 0; q < nb; q++)
            opt[q] = tally_definitions__slot_option(d, i, q);
        for (size_t o = 0; !rc && o < tally_definitions_option_count(d, c); o++) {
            opt[j] = (int)o;
            size_t s = tally_definitions__slot_at(d, base, opt);
            rc = tally_rollup__own_in(ds, S, s, tally_definitions_over_time(d, s), first, last, tmp,
                                          NULL, NULL);
            if (!rc)
                rc = fill_exclusive(ds, S, s, first, last, tmp, n);
            for (size_t k = 0; !rc && k < n; k++)
                acc[k] += tmp[k]; /* a missing option leaves NaN */
        }
        for (size_t k = 0; !rc && k < n; k++)
            if (isnan(out[k]))
                out[k] = acc[k];
        free(acc);
        free(tmp);
        if (rc)
            return rc;
    }
    return 0;
}

/* Bits over the hierarchy's nodes (*bits) made bits over the set's. 0 or
 * TALLY_ENOMEM (*bits freed). */
static int local_bits(const tally_rollup__nodes *S, uint64_t **bits)
{
    uint64_t *b = calloc(tally_bit__words(S->n ? S->n : 1), sizeof *b);
    for (size_t j = 0; b && j < S->n; j++)
        if (tally_bit__get(*bits, tally_rollup__node(S, j)))
            tally_bit__set(b, j);
    free(*bits);
    *bits = b;
    return b ? 0 : TALLY_ENOMEM;
}

/* Time rule and aggregation of every non-formula indicator a worker takes.
 * Indicators write disjoint columns, and each reads the dataset only, so the
 * result does not depend on the number of threads or the order. */
static void *span_work(void *arg)
{
    span_worker *wk = arg;
    span_job *j = wk->job;
    const tally_definitions *d = tally_dataset_definitions(j->ds);
    size_t n = j->S->n;
    const uint32_t *parent = j->S->parent;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        size_t i = j->next++;
        int stop = j->rc != 0;
        pthread_mutex_unlock(&j->lock);
        if (stop || i >= j->nind)
            break;
        int agg = tally_definitions_aggregate(d, i);
        if (agg == TALLY_AGGREGATE_FORMULA)
            continue; /* after every operand, in dependency order */
        int rc = 0;
        if (j->S->has && !j->S->has[i] &&
            tally_definitions__derive_of(d, i) == TALLY_NONE) {
            /* No column of the indicator: nothing of its own anywhere. */
            for (size_t k = 0; k < n; k++)
                j->out[i][k] = NAN;
        } else if (!(j->given && j->given[i]))
            rc = tally_rollup__own_in(j->ds, j->S, i, tally_definitions_over_time(d, i), j->first,
                                      j->last, j->out[i], NULL, NULL);
        if (!rc && !(j->given && j->given[i]) && tally_definitions__by_count(d, i))
            rc = fill_exclusive(j->ds, j->S, i, j->first, j->last, j->out[i], n);
        if (!rc && j->own[i])
            memcpy(j->own[i], j->out[i], n * sizeof(double));
        /* Pieces carried from old codes in this span only: a region that
         * holds one in another period reported its own value here. */
        uint64_t *pieces = NULL;
        if (!rc)
            rc = tally_carry__additive_span(j->ds, i, j->first, j->last, &pieces);
        if (!rc && pieces && !j->S->all)
            rc = local_bits(j->S, &pieces);
        if (!rc)
            rc = aggregate(parent, n, agg, j->prefer, j->out[i],
                           j->sd ? &j->sd[i] : NULL, wk->w, pieces);
        free(pieces);
        if (rc) {
            wk->rc = rc;
            pthread_mutex_lock(&j->lock);
            j->rc = rc;
            pthread_mutex_unlock(&j->lock);
            break;
        }
    }
    return NULL;
}

/* Whether the dataset has a column of indicator `ind` inside [first, last]. */
static int has_columns(const tally_dataset *ds, const tally_rollup__nodes *S, size_t ind,
                       int32_t first, int32_t last)
{
    if (S->icol) { /* the indicator's columns that start in the span */
        for (size_t k = tally_rollup__first_column(S, ind, first);
             k < S->istart[ind + 1] && tally_period__first_month(S->icol[k]->period) <= last; k++)
            if (inside(S->icol[k]->period, first, last))
                return 1;
        return 0;
    }
    size_t ncols = tally_dataset__column_count(ds);
    for (size_t k = 0; k < ncols; k++) {
        const tally_column *c = tally_dataset__column(ds, k);
        if (c->indicator == ind && inside(c->period, first, last))
            return 1;
    }
    return 0;
}

/* A formula's output from its computed values (in out[]) and own reported
 * values (NULL: none), by the precedence rule; sides into sd. */
static int formula_sides(size_t n, int prefer, double *out, const double *own, sides *sd)
{
    for (size_t i = 0; i < n; i++) {
        double c = out[i], o = own ? own[i] : NAN;
        int hc = !isnan(c), ho = !isnan(o);
        if (prefer == TALLY_PREFER_REPORTED ? ho : (ho && !hc)) {
            out[i] = o;
            if (sd) {
                tally_bit__set(sd->rbits, i);
                if (hc && side_add(&sd->c, i, c))
                    return TALLY_ENOMEM;
            }
        } else if (hc) {
            if (sd) {
                tally_bit__set(sd->cbits, i);
                if (ho && side_add(&sd->r, i, o))
                    return TALLY_ENOMEM;
            }
        }
    }
    return 0;
}

static void free_columns(double **cols, size_t count)
{
    for (size_t i = 0; cols && i < count; i++)
        free(cols[i]);
    free(cols);
}

static int span_formulas(const tally_dataset *ds, const tally_rollup__nodes *S, int32_t first,
                         int32_t last, int prefer, double **out, sides *sd,
                         const unsigned char *given, double **own, tally_rollup__cov *cov,
                         workspace *w, size_t nw);

/* Computes every indicator over the absolute months [first, last] into
 * out (nind columns of n doubles) and, when sd is not NULL, the sides. The
 * indicators are shared among nw workers (w: one workspace each). */
static int compute_span(const tally_dataset *ds, const tally_rollup__nodes *S, int32_t first,
                        int32_t last, int prefer, double **out, sides *sd,
                        const unsigned char *given, tally_rollup__cov *cov, workspace *w,
                        size_t nw)
{
    const tally_definitions *d = tally_dataset_definitions(ds);
    size_t n = S->n, nind = tally_definitions_indicator_count(d);
    /* The own values of formula operands are kept for the matched
     * coverage (only where formulas exist). */
    double **own = calloc(nind ? nind : 1, sizeof *own);
    if (!own)
        return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
    const size_t *order;
    size_t nf = tally_definitions__formula_order(d, &order);
    for (size_t k = 0; k < nf; k++) {
        const tally_expr *e = tally_definitions__program(d, order[k]);
        for (size_t j = 0; j < tally_expr__var_count(e); j++) {
            size_t v = (size_t)tally_expr__var(e, j);
            if (tally_definitions_aggregate(d, v) != TALLY_AGGREGATE_FORMULA && !own[v] &&
                !(own[v] = malloc((n ? n : 1) * sizeof(double)))) {
                free_columns(own, nind);
                return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
            }
        }
    }
    int rc = span_formulas(ds, S, first, last, prefer, out, sd, given, own, cov, w, nw);
    free_columns(own, nind);
    return rc;
}

static int span_formulas(const tally_dataset *ds, const tally_rollup__nodes *S, int32_t first,
                         int32_t last, int prefer, double **out, sides *sd,
                         const unsigned char *given, double **own, tally_rollup__cov *cov,
                         workspace *w, size_t nw)
{
    const tally_definitions *d = tally_dataset_definitions(ds);
    size_t n = S->n, nind = tally_definitions_indicator_count(d);

    span_job job = { ds, S, first, last, prefer, out, sd, given, own, nind,
                     PTHREAD_MUTEX_INITIALIZER, 0, 0 };
    span_worker wk[TALLY_ROLLUP_MAX_THREADS];
    pthread_t tid[TALLY_ROLLUP_MAX_THREADS];
    int started[TALLY_ROLLUP_MAX_THREADS];
    if (nw > TALLY_ROLLUP_MAX_THREADS)
        nw = TALLY_ROLLUP_MAX_THREADS;
    if (nw > nind)
        nw = nind ? nind : 1;
    for (size_t t = 0; t < nw; t++) {
        wk[t].job = &job;
        wk[t].w = &w[t];
        wk[t].rc = 0;
        /* A thread that cannot start leaves its share to the others. */
        started[t] = t > 0 && pthread_create(&tid[t], NULL, span_work, &wk[t]) == 0;
    }
    span_work(&wk[0]);
    int rc = wk[0].rc;
    for (size_t t = 1; t < nw; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        if (!rc && wk[t].rc)
            rc = wk[t].rc;
    }
    pthread_mutex_destroy(&job.lock);
    if (rc) /* a worker's error record is its own thread's: set it here */
        return tally_error__set(rc, "out of memory rolling up");

    /* Formulas, in dependency order, over the output columns. */
    const size_t *order;
    size_t nf = tally_definitions__formula_order(d, &order);
    for (size_t k = 0; k < nf; k++) {
        size_t f = order[k];
        const double *fown = NULL;
        if ((!S->has || S->has[f]) && has_columns(ds, S, f, first, last)) {
            /* Reported values of a formula indicator are levels: the latest. */
            if (!w[0].scratch && !(w[0].scratch = malloc((n ? n : 1) * sizeof(double))))
                return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
            rc = tally_rollup__own_in(ds, S, f, TALLY_OVER_TIME_STOCK, first, last, w[0].scratch,
                                      NULL, NULL);
            if (rc)
                return rc;
            fown = w[0].scratch;
        }
        /* A formula never reads itself (cycles are refused), so its column
         * can receive the values. */
        rc = tally_rollup__formula(S, d, f, prefer, out, (const double *const *)own,
                                   cov ? &cov[f] : NULL);
        if (!rc)
            rc = formula_sides(n, prefer, out[f], fown, sd ? &sd[f] : NULL);
        if (rc)
            return tally_error__set(rc, "out of memory evaluating a formula");
    }
    return 0;
}

static void workspace_free(workspace *w)
{
    free(w->stack);
    free(w->scratch);
    memset(w, 0, sizeof *w);
}

/* nw empty workspaces (they grow as they are used), or NULL. */
static workspace *workspaces_alloc(size_t nw) { return calloc(nw, sizeof(workspace)); }

static void workspaces_free(workspace *w, size_t nw)
{
    for (size_t t = 0; w && t < nw; t++)
        workspace_free(&w[t]);
    free(w);
}

size_t tally_rollup__default_threads(const tally_dataset *ds)
{
    size_t n = tally_hierarchy_size(tally_dataset_hierarchy(ds));
    size_t nind = tally_definitions_indicator_count(tally_dataset_definitions(ds));
    /* Below about a million cells a thread costs more than it saves. */
    if (n * nind < ((size_t)1 << 20))
        return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t t = cpus > 0 ? (size_t)cpus : 1;
    if (t > TALLY_ROLLUP_MAX_THREADS)
        t = TALLY_ROLLUP_MAX_THREADS;
    return t > nind ? (nind ? nind : 1) : t;
}

int tally_rollup__span(const tally_dataset *ds, int32_t first, int32_t last, int prefer,
                       double **out, double **reported, double **computed)
{
    return tally_rollup__span_cov(ds, first, last, prefer, out, reported, computed, NULL);
}

int tally_rollup__span_cov(const tally_dataset *ds, int32_t first, int32_t last, int prefer,
                           double **out, double **reported, double **computed,
                           tally_rollup__cov *cov)
{
    tally_rollup__nodes all;
    tally_rollup__nodes_all(&all, tally_dataset_hierarchy(ds));
    return tally_rollup__span_in(ds, &all, first, last, prefer, out, reported, computed, cov);
}

int tally_rollup__span_in(const tally_dataset *ds, const tally_rollup__nodes *S, int32_t first,
                          int32_t last, int prefer, double **out, double **reported,
                          double **computed, tally_rollup__cov *cov)
{
    size_t n = S->n;
    size_t nind = tally_definitions_indicator_count(tally_dataset_definitions(ds));
    size_t nw = tally_rollup__default_threads(ds);
    int rc = 0;
    workspace *w = workspaces_alloc(nw);
    sides *sd = reported || computed ? calloc(nind ? nind : 1, sizeof *sd) : NULL;
    if (!w || ((reported || computed) && !sd)) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
        goto done;
    }
    for (size_t i = 0; sd && i < nind && !rc; i++)
        if (sides_alloc(&sd[i], n))
            rc = tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
    if (!rc)
        rc = compute_span(ds, S, first, last, prefer, out, sd, NULL, cov, w, nw);
    for (size_t i = 0; sd && i < nind && !rc; i++) {
        for (size_t k = 0; k < n; k++) {
            if (reported)
                reported[i][k] = side_value(&sd[i], out[i], k, 1);
            if (computed)
                computed[i][k] = side_value(&sd[i], out[i], k, 0);
        }
    }
done:
    for (size_t i = 0; sd && i < nind; i++)
        sides_free(&sd[i]);
    free(sd);
    workspaces_free(w, nw);
    return rc;
}

static double **alloc_columns(size_t count, size_t n)
{
    double **cols = calloc(count ? count : 1, sizeof *cols);
    if (!cols)
        return NULL;
    for (size_t k = 0; k < count; k++) {
        cols[k] = malloc((n ? n : 1) * sizeof **cols);
        if (!cols[k]) {
            for (size_t j = 0; j < k; j++)
                free(cols[j]);
            free(cols);
            return NULL;
        }
    }
    return cols;
}

TALLY_EXTERN(int) tally_rollup(tally_result **out, const tally_dataset *ds,
                               const tally_rollup_options *opts)
{
    if (out)
        *out = NULL;
    return ds ? tally_rollup__threads(out, ds, opts, tally_rollup__default_threads(ds))
              : tally_error__set(TALLY_EINVAL, "tally_rollup: NULL dataset");
}

static int rollup(tally_result **out, const tally_dataset *ds, tally_dataset *take,
                  const tally_rollup_options *opts, size_t threads,
                  const tally_rollup__nodes *set);

TALLY_EXTERN(int) tally_rollup_take(tally_result **out, tally_dataset *ds,
                                    const tally_rollup_options *opts)
{
    if (out)
        *out = NULL;
    if (!ds)
        return tally_error__set(TALLY_EINVAL, "tally_rollup_take: NULL dataset");
    int rc = rollup(out, ds, ds, opts, tally_rollup__default_threads(ds), NULL);
    tally_dataset__clear(ds);
    return rc;
}

int tally_rollup__threads(tally_result **out, const tally_dataset *ds,
                          const tally_rollup_options *opts, size_t threads)
{
    return rollup(out, ds, NULL, opts, threads, NULL);
}

int tally_rollup__threads_in(tally_result **out, const tally_dataset *ds,
                             const tally_rollup_options *opts, size_t threads,
                             const tally_rollup__nodes *S)
{
    return rollup(out, ds, NULL, opts, threads, S);
}

/* How many of the result's periods contain a period. */
static size_t periods_covering(const tally_result *r, int32_t period)
{
    size_t n = 0;
    for (size_t p = 0; p < r->nper; p++)
        n += inside(period, tally_period__first_month(r->periods[p]),
                    tally_period__last_month(r->periods[p]));
    return n;
}

/* The result's columns for one period, taking over the dataset's value
 * arrays (when `take` is the dataset) where one reported column is exactly
 * the own values of an indicator there: it is then rolled up in place. */
static int period_columns(tally_result *r, const tally_dataset *ds, tally_dataset *take, size_t p,
                          double **o, sides **s, unsigned char *given)
{
    int32_t first = tally_period__first_month(r->periods[p]);
    int32_t last = tally_period__last_month(r->periods[p]);
    size_t ncols = tally_dataset__column_count(ds);
    for (size_t i = 0; i < r->nind; i++) {
        size_t k = i * r->nper + p;
        given[i] = 0;
        /* Only when this span alone reads the column (no comparison, no
         * other period asked for covers it) and it is the indicator's only
         * reported column in the span. */
        /* A cumulative indicator with a derived increment is read again
         * (its month before): never taken. */
        int source = 0;
        for (size_t j = 0; j < r->nind && !source; j++)
            source = tally_definitions__derive_of(r->d, j) == i;
        /* Nor an indicator broken down by categories: the total of an
         * exclusive one reads its options' columns (fill_exclusive). */
        if (take && r->S.all && !r->compare && !source && !tally_definitions__by_count(r->d, i) &&
            tally_definitions_aggregate(r->d, i) != TALLY_AGGREGATE_FORMULA) {
            size_t found = 0, which = 0;
            for (size_t c = 0; c < ncols; c++) {
                const tally_column *col = tally_dataset__column(ds, c);
                if (col->indicator == i && inside(col->period, first, last)) {
                    found++;
                    which = c;
                }
            }
            if (found == 1 && periods_covering(r, tally_dataset__column(ds, which)->period) == 1 &&
                (r->out[k] = tally_dataset__take_values(take, which)))
                given[i] = 1;
        }
        if (!r->out[k] && !(r->out[k] = malloc((r->S.n ? r->S.n : 1) * sizeof(double))))
            return TALLY_ENOMEM;
        if (sides_alloc(&r->sides[k], r->S.n))
            return TALLY_ENOMEM;
        o[i] = r->out[k];
        (*s)[i] = r->sides[k];
    }
    return 0;
}

/* An aggregate past DBL_MAX (1e308 + 1e308) is an error, never a cell
 * printed empty: the sums keep the infinity (tally_util__neumaier) and
 * this finds it in the period's columns of the reported indicators. In
 * reverse pre-order the first one found has only finite values below it:
 * the node where the sum overflowed. A formula's result past DBL_MAX
 * (1e308 * 10) is the same error; a division by zero gives missing (NaN),
 * not an infinity, so it never comes here. */
static int check_overflow(const tally_result *r, size_t p, double *const *o)
{
    for (size_t i = 0; i < r->nind; i++) {
        if (tally_definitions_aggregate(r->d, i) == TALLY_AGGREGATE_FORMULA) {
            for (size_t j = r->S.n; j-- > 0;)
                if (isinf(o[i][j]))
                    return tally_error__set(
                        TALLY_ERANGE,
                        "%s (%s) of %s %s in %s: its formula %s gives a number past the "
                        "largest a double holds (about 1.8e308); expected operands whose "
                        "result is finite",
                        tally_definitions_id(r->d, i), tally_definitions_name(r->d, i),
                        tally_hierarchy_code(r->h, tally_rollup__node(&r->S, j)),
                        tally_hierarchy_name(r->h, tally_rollup__node(&r->S, j)),
                        r->period_text[p], tally_definitions_formula(r->d, i));
            continue;
        }
        for (size_t j = r->S.n; j-- > 0;)
            if (isinf(o[i][j]))
                return tally_error__set(
                    TALLY_ERANGE,
                    "%s (%s) of %s %s in %s is past the largest number a double holds (about "
                    "1.8e308); expected values whose aggregate is finite",
                    tally_definitions_id(r->d, i), tally_definitions_name(r->d, i),
                    tally_hierarchy_code(r->h, tally_rollup__node(&r->S, j)),
                        tally_hierarchy_name(r->h, tally_rollup__node(&r->S, j)),
                    r->period_text[p]);
    }
    return 0;
}

/* The last absolute month of any report inside [first, last], or -1. */
static int32_t data_end(const tally_dataset *ds, int32_t first, int32_t last)
{
    int32_t end = -1;
    size_t ncols = tally_dataset__column_count(ds);
    for (size_t k = 0; k < ncols; k++) {
        int32_t per = tally_dataset__column(ds, k)->period;
        if (inside(per, first, last) && tally_period__last_month(per) > end)
            end = tally_period__last_month(per);
    }
    return end;
}

/* The period a period is compared with. pop: the previous one of the same
 * length. yoy: the same period a year earlier, cut to the months the data
 * of the period cover (months 1..8 of 2018 for a 2019 whose reports end in
 * August: *matched is then 1). */
static int32_t compared_period(const tally_dataset *ds, int compare, int32_t key,
                               unsigned char *matched)
{
    *matched = 0;
    if (compare == TALLY_COMPARE_POP)
        return tally_period__previous(key);
    int32_t first = tally_period__first_month(key), last = tally_period__last_month(key);
    int32_t end = data_end(ds, first, last);
    if (end < 0 || end == last)
        return tally_period__year_before(key);
    *matched = 1;
    return tally_period__span(first - 12, end - 12);
}

/* The as_of of every stock and cumulative indicator in period p. */
static int levels_as_of(tally_result *r, const tally_dataset *ds, size_t p, int prefer)
{
    for (size_t i = 0; i < r->nind; i++) {
        if (tally_definitions_aggregate(r->d, i) == TALLY_AGGREGATE_FORMULA ||
            tally_definitions_over_time(r->d, i) == TALLY_OVER_TIME_FLOW)
            continue;
        if (tally_rollup__as_of(ds, i, tally_period__first_month(r->periods[p]),
                                tally_period__last_month(r->periods[p]), prefer,
                                &r->cov[p * r->nind + i].as_of))
            return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
    }
    return 0;
}

static int rollup(tally_result **out, const tally_dataset *ds, tally_dataset *take,
                  const tally_rollup_options *opts, size_t threads,
                  const tally_rollup__nodes *set)
{
    *out = NULL;
    if (threads < 1)
        threads = 1;
    if (threads > TALLY_ROLLUP_MAX_THREADS)
        threads = TALLY_ROLLUP_MAX_THREADS;
    tally_rollup_options defaults = TALLY_ROLLUP_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!ds)
        return tally_error__set(TALLY_EINVAL, "tally_rollup: NULL dataset");
    if (opts->compare < TALLY_COMPARE_NONE || opts->compare > TALLY_COMPARE_POP)
        return tally_error__set(TALLY_EINVAL, "tally_rollup: unknown comparison %d", opts->compare);

    tally_result *r = calloc(1, sizeof *r);
    if (!r)
        return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
    r->h = tally_dataset_hierarchy(ds);
    r->d = tally_dataset_definitions(ds);
    r->nodes = tally_hierarchy_size(r->h);
    r->nind = tally_definitions_indicator_count(r->d);
    r->compare = opts->compare;
    int rc = 0;

    /* The periods: as requested, or every period in the data. */
    if (opts->periods && opts->period_count) {
        r->periods = malloc(opts->period_count * sizeof *r->periods);
        if (!r->periods) {
            tally_result_free(r);
            return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
        }
        for (size_t k = 0; k < opts->period_count; k++) {
            const char *p = opts->periods[k];
            int32_t key;
            if (!p || tally_period__parse_ask(p, strlen(p), &key)) {
                tally_result_free(r);
                return tally_error__set(TALLY_EPARSE,
                                        "bad period '%s'; expected " TALLY_PERIOD__FORMS,
                                        p ? p : "(null)");
            }
            int dup = 0;
            for (size_t j = 0; j < r->nper; j++)
                dup |= r->periods[j] == key;
            if (!dup)
                r->periods[r->nper++] = key;
        }
    } else {
        size_t ncols = tally_dataset__column_count(ds);
        r->periods = malloc((ncols ? ncols : 1) * sizeof *r->periods);
        if (!r->periods) {
            tally_result_free(r);
            return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
        }
        for (size_t k = 0; k < ncols; k++)
            r->periods[k] = tally_dataset__column(ds, k)->period;
        r->nper = tally_rollup__unique_periods(r->periods, ncols);
        qsort(r->periods, r->nper, sizeof *r->periods, cmp_period);
    }
    r->period_text = calloc(r->nper ? r->nper : 1, sizeof *r->period_text);
    size_t ncols = r->nind * r->nper;
    r->out = calloc(ncols ? ncols : 1, sizeof *r->out);
    r->sides = calloc(ncols ? ncols : 1, sizeof *r->sides);
    /* Coverage by period, then indicator (filled a period at a time). */
    r->cov = calloc(ncols ? ncols : 1, sizeof *r->cov);
    r->show_coverage = opts->version >= 2 && opts->coverage;
    /* The regions with data and their ancestors; every region when the
     * coverage is asked for (its ages are kept over every node). */
    if (r->show_coverage) {
        tally_rollup__nodes_all(&r->S, r->h);
    } else if (set) { /* borrowed: its arrays stay the caller's */
        r->S = *set;
        r->S.borrowed = 1;
    } else if ((rc = tally_rollup__nodes_of(&r->S, ds))) {
        tally_result_free(r);
        return rc;
    }
    if (r->compare) {
        r->previous = alloc_columns(ncols, r->S.n);
        r->compared_text = calloc(r->nper ? r->nper : 1, sizeof *r->compared_text);
        r->matched = calloc(r->nper ? r->nper : 1, 1);
    }
    workspace *w = NULL;
    double **o = malloc((r->nind ? r->nind : 1) * sizeof *o);
    sides *s = malloc((r->nind ? r->nind : 1) * sizeof *s);
    unsigned char *given = malloc(r->nind ? r->nind : 1);
    double **prev = r->compare ? alloc_columns(r->nind, r->S.n) : NULL;
    if (!r->period_text || !r->out || !r->sides || !r->cov || (r->compare && (!r->previous || !prev || !r->compared_text || !r->matched)) ||
        !o || !s || !given) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
        goto done;
    }
    if (!(w = workspaces_alloc(threads))) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
        goto done;
    }

    for (size_t p = 0; p < r->nper && !rc; p++) {
        tally_period__format(r->periods[p], r->period_text[p]);
        /* Before period_columns, which may take the dataset's arrays. */
        if (r->show_coverage)
            rc = levels_as_of(r, ds, p, opts->prefer);
        if (rc)
            break;
        if (period_columns(r, ds, take, p, o, &s, given)) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
            break;
        }
        rc = compute_span(ds, &r->S, tally_period__first_month(r->periods[p]),
                          tally_period__last_month(r->periods[p]), opts->prefer, o, s, given,
                          r->cov + p * r->nind, w, threads);
        /* The sides were filled through the copies in s. */
        for (size_t i = 0; i < r->nind; i++)
            r->sides[i * r->nper + p] = s[i];
        if (!rc)
            rc = check_overflow(r, p, o);
        if (rc || !r->compare)
            continue;
        int32_t before = compared_period(ds, r->compare, r->periods[p], &r->matched[p]);
        tally_period__format(before, r->compared_text[p]);
        rc = compute_span(ds, &r->S, tally_period__first_month(before),
                          tally_period__last_month(before),
                          opts->prefer, prev, NULL, NULL, NULL, w, threads);
        /* A year-to-date restarts in January: the period before a span
         * that starts in January and is shorter than a year is zero, so
         * that the change is the increment. */
        int restart = r->compare == TALLY_COMPARE_POP &&
                      tally_period__first_month(r->periods[p]) % 12 == 0 &&
                      tally_period__last_month(r->periods[p]) % 12 != 11;
        for (size_t i = 0; i < r->nind && !rc; i++) {
            double *pv = r->previous[i * r->nper + p];
            memcpy(pv, prev[i], r->S.n * sizeof(double));
            if (restart && tally_definitions_over_time(r->d, i) == TALLY_OVER_TIME_CUMULATIVE &&
                tally_definitions_aggregate(r->d, i) != TALLY_AGGREGATE_FORMULA)
                for (size_t k = 0; k < r->S.n; k++)
                    pv[k] = isnan(o[i][k]) ? NAN : 0.0;
        }
    }

done:
    if (prev) {
        for (size_t i = 0; i < r->nind; i++)
            free(prev[i]);
        free(prev);
    }
    workspaces_free(w, threads);
    free(o);
    free(s);
    free(given);
    if (rc) {
        tally_result_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

TALLY_EXTERN(const tally_hierarchy *) tally_result_hierarchy(const tally_result *r)
{
    return r ? r->h : NULL;
}

TALLY_EXTERN(const tally_definitions *) tally_result_definitions(const tally_result *r)
{
    return r ? r->d : NULL;
}

TALLY_EXTERN(size_t) tally_result_period_count(const tally_result *r) { return r ? r->nper : 0; }

TALLY_EXTERN(const char *) tally_result_period(const tally_result *r, size_t i)
{
    return r && i < r->nper ? r->period_text[i] : NULL;
}

TALLY_EXTERN(int) tally_result_period_find(const tally_result *r, const char *period,
                                           size_t *index)
{
    *index = TALLY_NONE;
    int32_t key;
    if (!r || !period || tally_period__parse_ask(period, strlen(period), &key))
        return tally_error__set(TALLY_EPARSE, "bad period '%s'; expected " TALLY_PERIOD__FORMS,
                                period ? period : "(null)");
    for (size_t p = 0; p < r->nper; p++) {
        if (r->periods[p] == key) {
            *index = p;
            return 0;
        }
    }
    return tally_error__set(TALLY_ENOTFOUND, "period %s is not in the result", period);
}

TALLY_EXTERN(int) tally_result_compare(const tally_result *r) { return r ? r->compare : 0; }

TALLY_EXTERN(const char *) tally_result_compared(const tally_result *r, size_t period,
                                                 int *matched)
{
    if (matched)
        *matched = 0;
    if (!r || !r->compare || period >= r->nper)
        return NULL;
    if (matched)
        *matched = r->matched[period];
    return r->compared_text[period];
}

static int check_index(const tally_result *r, size_t node, size_t ind, size_t per)
{
    if (!r || node >= r->nodes || ind >= r->nind || per >= r->nper)
        return tally_error__set(TALLY_EINVAL, "result index out of range (node %zu, indicator %zu, period %zu)",
                                node, ind, per);
    return 0;
}

TALLY_EXTERN(int) tally_result_value(const tally_result *r, size_t node, size_t indicator,
                                     size_t period, double *value, int *present)
{
    *value = NAN;
    *present = 0;
    int rc = check_index(r, node, indicator, period);
    if (rc)
        return rc;
    size_t j = tally_rollup__index(&r->S, node);
    if (j != TALLY_NONE)
        *value = r->out[indicator * r->nper + period][j];
    *present = !isnan(*value);
    return 0;
}

TALLY_EXTERN(int) tally_result_sides(const tally_result *r, size_t node, size_t indicator,
                                     size_t period, double *reported, double *computed)
{
    int rc = check_index(r, node, indicator, period);
    if (rc)
        return rc;
    size_t k = indicator * r->nper + period, j = tally_rollup__index(&r->S, node);
    if (reported)
        *reported = j == TALLY_NONE ? NAN : side_value(&r->sides[k], r->out[k], j, 1);
    if (computed)
        *computed = j == TALLY_NONE ? NAN : side_value(&r->sides[k], r->out[k], j, 0);
    return 0;
}

TALLY_EXTERN(int) tally_result_previous(const tally_result *r, size_t node, size_t indicator,
                                        size_t period, double *value, int *present)
{
    *value = NAN;
    *present = 0;
    int rc = check_index(r, node, indicator, period);
    if (rc)
        return rc;
    size_t j = tally_rollup__index(&r->S, node);
    if (r->previous && j != TALLY_NONE) {
        *value = r->previous[indicator * r->nper + period][j];
        *present = !isnan(*value);
    }
    return 0;
}

TALLY_EXTERN(const double *) tally_result_column(const tally_result *r, size_t indicator,
                                                 size_t period)
{
    if (!r || indicator >= r->nind || period >= r->nper)
        return NULL;
    size_t k = indicator * r->nper + period;
    if (r->S.all)
        return r->out[k];
    /* A result over some regions: the column over every node is made on
     * first use, and kept. */
    tally_result *w = (tally_result *)(uintptr_t)r;
    if (!w->whole && !(w->whole = calloc(r->nind * r->nper, sizeof *w->whole)))
        return NULL;
    if (!w->whole[k]) {
        double *c = malloc((r->nodes ? r->nodes : 1) * sizeof *c);
        if (!c)
            return NULL;
        for (size_t node = 0; node < r->nodes; node++)
            c[node] = NAN;
        for (size_t j = 0; j < r->S.n; j++)
            c[tally_rollup__node(&r->S, j)] = r->out[k][j];
        w->whole[k] = c;
    }
    return w->whole[k];
}

int tally_rollup__column(const tally_result *r, size_t indicator, size_t period,
                         tally_rollup__col *col)
{
    if (!r || indicator >= r->nind || period >= r->nper)
        return TALLY_EINVAL;
    col->S = &r->S;
    col->values = r->out[indicator * r->nper + period];
    return 0;
}

TALLY_EXTERN(int) tally_result_coverage(const tally_result *r, size_t node, size_t indicator,
                                        size_t period, size_t *regions, size_t *complete)
{
    if (regions)
        *regions = 0;
    if (complete)
        *complete = 0;
    int rc = check_index(r, node, indicator, period);
    if (rc)
        return rc;
    const tally_rollup__cov *c = &r->cov[period * r->nind + indicator];
    size_t j = tally_rollup__index(&r->S, node);
    if (c->regions && j != TALLY_NONE) {
        if (regions)
            *regions = c->regions[j];
        if (complete)
            *complete = c->complete[j];
    }
    return 0;
}

TALLY_EXTERN(int) tally_result_complete(const tally_result *r, size_t node, size_t indicator,
                                        size_t period, int *complete)
{
    *complete = 0;
    size_t rg, cp;
    int rc = tally_result_coverage(r, node, indicator, period, &rg, &cp);
    if (!rc)
        *complete = rg == cp;
    return rc;
}

int tally_rollup__show_coverage(const tally_result *r) { return r && r->show_coverage; }

int tally_rollup__unit(const tally_result *r, size_t node, size_t indicator, size_t period)
{
    const tally_rollup__cov *c = &r->cov[period * r->nind + indicator];
    size_t j = tally_rollup__index(&r->S, node);
    return c->unit && j != TALLY_NONE && tally_bit__get(c->unit, j);
}

TALLY_EXTERN(int) tally_result_as_of(const tally_result *r, size_t node, size_t indicator,
                                     size_t period, int *year, int *month)
{
    if (year)
        *year = 0;
    if (month)
        *month = 0;
    int rc = check_index(r, node, indicator, period);
    if (rc)
        return rc;
    const int32_t *a = r->cov[period * r->nind + indicator].as_of;
    if (a && a[node] >= 0) {
        if (year)
            *year = a[node] / 12;
        if (month)
            *month = a[node] % 12 + 1;
    }
    return 0;
}
