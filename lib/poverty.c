/* Poverty and inequality measures from household records: FGT, Watts,
 * the Gini coefficient, the median income and the households under a
 * monitoring line at every node, and their writer.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/poverty.h"

#include <gsl/gsl_sort_double.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The households of a node as sorted runs: run j is [b[j], b[j + 1]) of
 * (y, w), sorted by income; read in income order through a heap of the
 * runs' heads when there are several. */
typedef struct merged {
    const double *y, *w;
    const size_t *b;
    size_t k;
    size_t *pos;  /* per run: the next element */
    size_t *heap; /* runs by their next income (min-heap), `live` of them */
    size_t live;
} merged;

static int heap_less(const merged *m, size_t a, size_t b)
{
    double ya = m->y[m->pos[a]], yb = m->y[m->pos[b]];
    return ya < yb || (ya == yb && a < b);
}

static void heap_down(merged *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, s = i;
        if (l < m->live && heap_less(m, m->heap[l], m->heap[s]))
            s = l;
        if (l + 1 < m->live && heap_less(m, m->heap[l + 1], m->heap[s]))
            s = l + 1;
        if (s == i)
            return;
        size_t t = m->heap[i];
        m->heap[i] = m->heap[s];
        m->heap[s] = t;
        i = s;
    }
}

static void merged_start(merged *m)
{
    m->live = 0;
    for (size_t j = 0; j < m->k; j++) {
        m->pos[j] = m->b[j];
        m->heap[m->live++] = j;
    }
    for (size_t i = m->live / 2; i-- > 0;)
        heap_down(m, i);
}

/* The next household in income order: its index, or SIZE_MAX at the end. */
static inline size_t merged_next(merged *m)
{
    if (!m->live)
        return SIZE_MAX;
    size_t r = m->heap[0], at = m->pos[r]++;
    if (m->pos[r] == m->b[r + 1])
        m->heap[0] = m->heap[--m->live];
    heap_down(m, 0);
    return at;
}

/* Gini's sums and the median's search over the households in income
 * order, one at a time: NEXT(i) sets i to the next household's index and
 * is false at the end. Sets both to NaN when they are undefined. */
#define GINI_MEDIAN(START, NEXT)                                                              \
    do {                                                                                      \
        double ws = 0, wc = 0; /* cumulative weight W_i */                                   \
        double ts = 0, tc = 0; /* sum w_i y_i W_i */                                          \
        double us = 0, uc = 0; /* sum w_i^2 y_i */                                            \
        double ss = 0, sc = 0; /* sum w_i y_i */                                              \
        size_t n = 0, i;                                                                      \
        START;                                                                                \
        for (; NEXT(i); n++) {                                                                \
            tally_util__neumaier(&ws, &wc, w[i]);                                             \
            double wi = ws + wc;                                                              \
            tally_util__neumaier(&ts, &tc, w[i] * y[i] * wi);                                 \
            tally_util__neumaier(&us, &uc, w[i] * w[i] * y[i]);                               \
            tally_util__neumaier(&ss, &sc, w[i] * y[i]);                                      \
        }                                                                                     \
        double W = ws + wc, S = ss + sc;                                                      \
        if (n == 0 || !(S > 0)) {                                                             \
            *gini = NAN;                                                                      \
        } else {                                                                              \
            double g = (2 * (ts + tc) - (us + uc)) / (W * S) - 1;                             \
            /* Equal incomes give exactly 0 in exact arithmetic; rounding may                 \
             * leave -1e-16, which is not an inequality. */                                   \
            *gini = g < 0 ? 0 : g;                                                            \
        }                                                                                     \
        *median = NAN;                                                                        \
        ws = wc = 0;                                                                          \
        START;                                                                                \
        while (NEXT(i)) {                                                                     \
            tally_util__neumaier(&ws, &wc, w[i]);                                             \
            double twice = 2 * (ws + wc);                                                     \
            if (twice >= W) {                                                                 \
                size_t half = i;                                                              \
                *median = twice == W && NEXT(i) ? (y[half] + y[i]) / 2 : y[half];               \
                break;                                                                        \
            }                                                                                 \
        }                                                                                     \
    } while (0)

/* Gini and the weighted median of the sorted households [lo, hi). */
static void gini_median_run(const double *y, const double *w, size_t lo, size_t hi,
                            double *gini, double *median)
{
    size_t at = lo;
#define RUN_START at = lo
#define RUN_NEXT(i) (at < hi ? ((i) = at++, 1) : 0)
    GINI_MEDIAN(RUN_START, RUN_NEXT);
#undef RUN_START
#undef RUN_NEXT
}

/* Gini and the weighted median of the households of m's sorted runs. */
static void gini_median_merged(merged *m, double *gini, double *median)
{
    const double *y = m->y, *w = m->w;
#define MERGED_NEXT(i) (((i) = merged_next(m)) != SIZE_MAX)
    GINI_MEDIAN(merged_start(m), MERGED_NEXT);
#undef MERGED_NEXT
}

/* Merges the sorted runs [lo, mid) and [mid, hi) of (y, w) through the
 * scratch arrays (from their start); stable, so the order of ties is kept. */
static void merge2(double *y, double *w, size_t lo, size_t mid, size_t hi, double *ty, double *tw)
{
    size_t a = lo, b = mid, o = 0;
    /* Without branches (the comparisons of random incomes cannot be
     * predicted): both candidates are loaded and the smaller kept. */
    while (a < mid && b < hi) {
        double ya = y[a], yb = y[b], wa = w[a], wb = w[b];
        size_t take_b = yb < ya;
        ty[o] = take_b ? yb : ya;
        tw[o++] = take_b ? wb : wa;
        b += take_b;
        a += 1 - take_b;
    }
    while (a < mid) {
        ty[o] = y[a];
        tw[o++] = w[a++];
    }
    while (b < hi) {
        ty[o] = y[b];
        tw[o++] = w[b++];
    }
    memcpy(y + lo, ty, (hi - lo) * sizeof *y);
    memcpy(w + lo, tw, (hi - lo) * sizeof *w);
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

/* Sorts one node's own households by income. */
static void sort_own(double *y, double *w, size_t n)
{
    if (n > 24) {
        gsl_sort2(y, 1, w, 1, n);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        double yi = y[i], wi = w[i];
        size_t j = i;
        for (; j > 0 && y[j - 1] > yi; j--) {
            y[j] = y[j - 1];
            w[j] = w[j - 1];
        }
        y[j] = yi;
        w[j] = wi;
    }
}

/* The decomposable sums are kept in the result's own columns while they
 * are made (persons, p0, p1, p2, watts: sums; households, below: counts),
 * their compensations beside them. */
static const int sum_col[] = { TALLY_POVERTY_PERSONS, TALLY_POVERTY_P0, TALLY_POVERTY_P1,
                               TALLY_POVERTY_P2, TALLY_POVERTY_WATTS };
#define NSUMS 5

/* What the measures of a set of subtrees share, and one worker's part. */
typedef struct measure_job {
    tally_poverty *p;
    const uint32_t *first, *parents;
    double *y, *w, *comp;
    const size_t *units; /* subtree roots, each measured whole */
    size_t nunits;
    int whole; /* every person weight whole, so far */
    int rc;    /* 0 or TALLY_ENOMEM */
    size_t merge_root; /* a root with at most this many households is merged */
} measure_job;

/* A node's own households: sorted by income, and their sums. */
static void own_sums(measure_job *J, size_t i)
{
    tally_poverty *p = J->p;
    double *y = J->y, *w = J->w, line = p->line, mline = p->monitoring;
    size_t lo = J->first[i], hi = J->first[i + 1];
    if (lo == hi)
        return;
    sort_own(y + lo, w + lo, hi - lo);
    double s[NSUMS] = { 0 }, c[NSUMS] = { 0 };
    size_t below = 0;
    for (size_t j = lo; j < hi; j++) {
        double pw = w[j], inc = y[j];
        if (pw != floor(pw) || pw > 9007199254740992.0)
            J->whole = 0;
        tally_util__neumaier(&s[0], &c[0], pw);
        if (inc < line) {
            double gap = (line - inc) / line;
            tally_util__neumaier(&s[1], &c[1], pw);
            tally_util__neumaier(&s[2], &c[2], pw * gap);
            tally_util__neumaier(&s[3], &c[3], pw * gap * gap);
            if (inc > 0)
                tally_util__neumaier(&s[4], &c[4], pw * log(line / inc));
        }
        below += !isnan(mline) && inc < mline;
    }
    for (int k = 0; k < NSUMS; k++) {
        p->cols[sum_col[k]][i] = s[k];
        J->comp[i * NSUMS + k] = c[k];
    }
    p->cols[TALLY_POVERTY_HOUSEHOLDS][i] = (double)(hi - lo);
    p->cols[TALLY_POVERTY_BELOW_MONITORING][i] = (double)below;
}

/* Scratch of one worker's merges. */
typedef struct merge_scratch {
    double *ty, *tw;
    size_t cap;
    size_t *bounds, bounds_cap, *pos, *heap, heap_cap;
} merge_scratch;

/* Gini and the median of node i, whose children's ranges are sorted
 * already; leaves i's range sorted unless i is a root. 0 or TALLY_ENOMEM.
 *
 * The parent merges its own sorted households with its children's runs
 * (pairwise, through scratch as large as the range). A root's range is
 * not needed in order by anyone after it: unless it is small
 * (J->merge_root), its runs are read through a heap instead, so the
 * scratch is only as large as the largest subtree below a root or the
 * largest small root. */
static int subtree_order(measure_job *J, merge_scratch *S, size_t i)
{
    const tally_hierarchy *h = J->p->h;
    const uint32_t *first = J->first;
    double *y = J->y, *w = J->w;
    size_t end = tally_hierarchy_subtree_end(h, i);
    size_t lo = first[i], hi = first[end];
    double *col_g = &J->p->cols[TALLY_POVERTY_GINI][i],
           *col_m = &J->p->cols[TALLY_POVERTY_MEDIAN_INCOME][i];
    if (lo == hi) {
        *col_g = *col_m = NAN;
        return 0;
    }
    size_t k = 0;
    if (tally_util__grow((void **)&S->bounds, &S->bounds_cap, 2, sizeof *S->bounds))
        return TALLY_ENOMEM;
    size_t *bounds = S->bounds;
    bounds[0] = lo;
    if (first[i + 1] > lo)
        bounds[++k] = first[i + 1];
    for (size_t ch = i + 1; ch < end; ch = tally_hierarchy_subtree_end(h, ch)) {
        size_t chi = first[tally_hierarchy_subtree_end(h, ch)];
        if (chi == bounds[k])
            continue; /* a child without households */
        if (tally_util__grow((void **)&S->bounds, &S->bounds_cap, k + 2, sizeof *S->bounds))
            return TALLY_ENOMEM;
        bounds = S->bounds;
        bounds[++k] = chi;
    }
    if (k > 1 && (hi - lo <= J->merge_root || tally_hierarchy__up(J->parents, i) != TALLY_NONE)) {
        if (hi - lo > S->cap) {
            free(S->ty);
            free(S->tw);
            S->cap = hi - lo;
            S->ty = malloc(S->cap * sizeof *S->ty);
            S->tw = malloc(S->cap * sizeof *S->tw);
            if (!S->ty || !S->tw) {
                S->cap = 0;
                return TALLY_ENOMEM;
            }
        }
        merge_runs(y, w, bounds, k, S->ty, S->tw);
        bounds[1] = hi;
        k = 1;
    }
    if (k == 1) {
        gini_median_run(y, w, lo, hi, col_g, col_m);
        return 0;
    }
    if (k + 1 > S->heap_cap) {
        size_t *np = realloc(S->pos, (k + 1) * sizeof *np);
        if (np)
            S->pos = np;
        size_t *nh = np ? realloc(S->heap, (k + 1) * sizeof *nh) : NULL;
        if (!nh)
            return TALLY_ENOMEM;
        S->heap = nh;
        S->heap_cap = k + 1;
    }
    merged m = { y, w, bounds, k, S->pos, S->heap, 0 };
    gini_median_merged(&m, col_g, col_m);
    return 0;
}

/* Measures the subtrees J->units: each node's own sums (in pre-order),
 * then Gini and the median (in reverse pre-order, every child before its
 * parent). */
static void *measure_worker(void *arg)
{
    measure_job *J = arg;
    merge_scratch S = { NULL, NULL, 0, NULL, 0, NULL, NULL, 0 };
    for (size_t u = 0; u < J->nunits && !J->rc; u++) {
        size_t r = J->units[u], end = tally_hierarchy_subtree_end(J->p->h, r);
        for (size_t i = r; i < end; i++)
            own_sums(J, i);
        for (size_t i = end; i-- > r && !J->rc;)
            J->rc = subtree_order(J, &S, i);
    }
    free(S.ty);
    free(S.tw);
    free(S.bounds);
    free(S.pos);
    free(S.heap);
    return NULL;
}

/* Threads of the measures: one per online core, at most this many (the
 * subtrees below the roots are measured apart), from this many households. */
#define MEASURE_MAX_THREADS 8
#define MEASURE_MIN_PER_THREAD 65536
/* A root whose subtree holds at most 1/MERGE_ROOT_SHARE of the households
 * (a province of the national table) is merged as any other node and read
 * in one sequential pass, which costs less than the heap; the scratch of
 * a worker then grows to that share (16 bytes a household of it), at most
 * 2 bytes a household. A larger root, or the single root above the
 * subtrees measured apart, is read through the heap. */
#define MERGE_ROOT_SHARE 8

/* Every node's own sums, Gini and median. The work is cut into subtrees
 * measured apart: the roots', or, under a single root, its children's
 * (then the root is measured last, from their runs). Each worker takes
 * whole subtrees, the largest first, to the least loaded worker; the
 * results are the same whatever the number of workers (each node is
 * measured by one worker, in the same order). 0 or TALLY_ENOMEM. */
static int measure_units(tally_poverty *p, const uint32_t *first, double *y, double *w,
                         double *comp, size_t n_used)
{
    const tally_hierarchy *h = p->h;
    size_t nodes = p->nodes;
    const uint32_t *parents = tally_hierarchy__parents(h);
    size_t nunits = 0, top = TALLY_NONE;
    size_t nroots = 0;
    for (size_t r = 0; r < nodes; r = tally_hierarchy_subtree_end(h, r))
        nroots++;
    if (nroots == 1 && nodes > 1)
        top = 0;
    size_t *units = malloc((nodes ? nodes : 1) * sizeof *units);
    if (!units)
        return TALLY_ENOMEM;
    for (size_t r = top == 0 ? 1 : 0; r < nodes; r = tally_hierarchy_subtree_end(h, r))
        units[nunits++] = r;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    size_t threads = online > 1 ? (size_t)online : 1;
    if (threads > MEASURE_MAX_THREADS)
        threads = MEASURE_MAX_THREADS;
    if (threads > n_used / MEASURE_MIN_PER_THREAD)
        threads = n_used / MEASURE_MIN_PER_THREAD ? n_used / MEASURE_MIN_PER_THREAD : 1;
    if (threads > nunits)
        threads = nunits ? nunits : 1;
    measure_job jobs[MEASURE_MAX_THREADS];
    size_t *mine = malloc((nunits ? nunits : 1) * sizeof *mine);
    size_t load[MEASURE_MAX_THREADS] = { 0 };
    int rc = mine ? 0 : TALLY_ENOMEM;
    if (!rc) {
        /* Units by size, largest first, each to the least loaded worker;
         * then each worker's units in pre-order. */
        size_t *owner = malloc((nunits ? nunits : 1) * sizeof *owner);
        if (!owner) {
            rc = TALLY_ENOMEM;
        } else {
            for (size_t t = 0; t < threads; t++)
                jobs[t] = (measure_job){ p, first, parents, y, w, comp, NULL, 0, 1, 0,
                                         n_used / MERGE_ROOT_SHARE };
            size_t *order = mine; /* the units are a few dozen: sorted by insertion */
            for (size_t n = 0; n < nunits; n++)
                order[n] = n;
            for (size_t a2 = 1; a2 < nunits; a2++) { /* insertion by size, descending */
                size_t u = order[a2], su = first[tally_hierarchy_subtree_end(h, units[u])] - first[units[u]];
                size_t b2 = a2;
                while (b2 > 0) {
                    size_t v = order[b2 - 1];
                    size_t sv = first[tally_hierarchy_subtree_end(h, units[v])] - first[units[v]];
                    if (sv >= su)
                        break;
                    order[b2] = v;
                    b2--;
                }
                order[b2] = u;
            }
            for (size_t n = 0; n < nunits; n++) {
                size_t u = order[n], best = 0;
                for (size_t t = 1; t < threads; t++)
                    if (load[t] < load[best])
                        best = t;
                owner[u] = best;
                load[best] += first[tally_hierarchy_subtree_end(h, units[u])] - first[units[u]] + 1;
            }
            /* Each worker's units in pre-order, in one array. */
            size_t at = 0;
            for (size_t t = 0; t < threads; t++) {
                jobs[t].units = mine + at;
                for (size_t u = 0; u < nunits; u++)
                    if (owner[u] == t)
                        mine[at++] = units[u];
                jobs[t].nunits = (size_t)(mine + at - jobs[t].units);
            }
        }
        free(owner);
    }
    if (!rc) {
        pthread_t tid[MEASURE_MAX_THREADS];
        size_t started = 1;
        for (size_t t = 1; t < threads; t++, started++)
            if (pthread_create(&tid[t], NULL, measure_worker, &jobs[t]))
                break;
        measure_worker(&jobs[0]);
        /* A worker that could not be started: its units measured here. */
        for (size_t t = started; t < threads; t++)
            measure_worker(&jobs[t]);
        for (size_t t = 1; t < started; t++)
            pthread_join(tid[t], NULL);
        for (size_t t = 0; t < threads; t++) {
            if (jobs[t].rc)
                rc = jobs[t].rc;
            if (!jobs[t].whole)
                p->whole_persons = 0;
        }
    }
    if (!rc && top != TALLY_NONE) {
        measure_job J = { p, first, parents, y, w, comp, NULL, 0, 1, 0, 0 };
        merge_scratch S = { NULL, NULL, 0, NULL, 0, NULL, NULL, 0 };
        own_sums(&J, top);
        rc = subtree_order(&J, &S, top);
        free(S.ty);
        free(S.tw);
        free(S.bounds);
        free(S.pos);
        free(S.heap);
        if (!J.whole)
            p->whole_persons = 0;
    }
    free(units);
    free(mine);
    return rc;
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
    const uint16_t *hyear = hh->year;
    tally_poverty *p = calloc(1, sizeof *p);
    /* Households are at most 2^31 (households.c): 32-bit offsets. */
    uint32_t *first = calloc(nodes + 1, sizeof *first);
    double *comp = calloc((nodes ? nodes : 1) * NSUMS, sizeof *comp);
    size_t n_used = 0;
    for (size_t i = 0; i < hh->count; i++)
        n_used += !hyear[i] || hyear[i] == year;
    size_t hn = n_used ? n_used : 1;
    double *y = malloc(hn * sizeof *y), *w = malloc(hn * sizeof *w);
    int ok = p && first && comp && y && w;
    for (int k = 0; ok && k < TALLY_POVERTY_MEASURE_COUNT; k++)
        ok = (p->cols[k] = calloc(nodes ? nodes : 1, sizeof *p->cols[k])) != NULL;
    if (!ok)
        goto nomem;
    p->h = h;
    p->nodes = nodes;
    p->year = year;
    p->line = line;
    p->monitoring = mline;
    p->used = n_used;
    p->skipped = hh->count - n_used;
    p->whole_persons = 1;

    /* One ordering of the households, by (node, income): a counting sort
     * by node puts every subtree's households in one contiguous range,
     * [first[i], first[end(i)]), and each node's own households are then
     * sorted by income. */
    for (size_t i = 0; i < hh->count; i++)
        if (!hyear[i] || hyear[i] == year)
            first[hh->node[i] + 1]++;
    for (size_t i = 0; i < nodes; i++)
        first[i + 1] += first[i];
    {
        uint32_t *next = malloc((nodes ? nodes : 1) * sizeof *next);
        if (!next)
            goto nomem;
        memcpy(next, first, nodes * sizeof *next);
        for (size_t i = 0; i < hh->count; i++) {
            if (hyear[i] && hyear[i] != year)
                continue;
            size_t at = next[hh->node[i]]++;
            y[at] = hh->income[i];
            w[at] = hh->pw[i];
        }
        free(next);
    }
    double *col_hh = p->cols[TALLY_POVERTY_HOUSEHOLDS], *col_below = p->cols[TALLY_POVERTY_BELOW_MONITORING];
    if (measure_units(p, first, y, w, comp, n_used))
        goto nomem;
    /* The sums up the hierarchy: children come after their parent in
     * pre-order, so one reverse pass adds every subtree into its root. */
    for (size_t i = nodes; i-- > 0;) {
        size_t par = tally_hierarchy__up(parents, i);
        if (par == TALLY_NONE)
            continue;
        for (int k = 0; k < NSUMS; k++) {
            double *col = p->cols[sum_col[k]];
            tally_util__neumaier(&col[par], &comp[par * NSUMS + k], col[i]);
            comp[par * NSUMS + k] += comp[i * NSUMS + k];
        }
        col_hh[par] += col_hh[i];
        col_below[par] += col_below[i];
    }


    for (size_t i = 0; i < nodes; i++) {
        double persons = p->cols[TALLY_POVERTY_PERSONS][i] + comp[i * NSUMS];
        p->cols[TALLY_POVERTY_PERSONS][i] = persons;
        if (isnan(mline))
            col_below[i] = NAN;
        for (int k = 1; k < NSUMS; k++) {
            double *col = p->cols[sum_col[k]];
            col[i] = col_hh[i] ? (col[i] + comp[i * NSUMS + k]) / persons * 100.0 : NAN;
        }
    }
    rc = 0;
    goto done;
nomem:
    rc = tally_error__set(TALLY_ENOMEM, "out of memory measuring poverty");
done:
    free(first);
    free(comp);
    free(y);
    free(w);
    if (rc)
        tally_poverty_free(p);
    else
        *out = p;
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
