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

#include "dataset.h"
#include "definitions.h"
#include "error.h"
#include "period.h"
#include "util.h"

struct tally_result {
    const tally_hierarchy *h;
    const tally_definitions *d;
    size_t nodes, nind, nper;
    int32_t *periods;
    char (*period_text)[TALLY_PERIOD_TEXT_MAX];
    int compare;
    /* Columns indexed [indicator * nper + period]. */
    double **out, **reported, **computed, **previous;
};

static int by_first_month(const void *a, const void *b)
{
    const tally_column *x = *(const tally_column *const *)a, *y = *(const tally_column *const *)b;
    int32_t fx = tally_period__first_month(x->period), fy = tally_period__first_month(y->period);
    return (fx > fy) - (fx < fy);
}

/* The own value of one node from a list of columns of one granularity,
 * sorted by time. Returns 1 when some column has a value. */
static int own_from(const tally_column *const *cols, size_t n, size_t node, int over_time,
                    double *value)
{
    if (over_time == TALLY_OVER_TIME_FLOW) {
        double s = 0, c = 0;
        int any = 0;
        for (size_t k = 0; k < n; k++) {
            if (tally_bit__get(cols[k]->valid, node)) {
                tally_util__neumaier(&s, &c, cols[k]->values[node]);
                any = 1;
            }
        }
        *value = s + c;
        return any;
    }
    for (size_t k = n; k-- > 0;) {
        if (tally_bit__get(cols[k]->valid, node)) {
            *value = cols[k]->values[node];
            return 1;
        }
    }
    return 0;
}

int tally_rollup__own(const tally_dataset *ds, size_t ind, int over_time, int32_t first,
                      int32_t last, double *own)
{
    size_t n = tally_hierarchy_size(tally_dataset_hierarchy(ds));
    for (size_t i = 0; i < n; i++)
        own[i] = NAN;
    /* The columns of this indicator inside the span, by granularity. */
    size_t ncols = tally_dataset__column_count(ds);
    const tally_column **lists[3];
    size_t counts[3] = { 0, 0, 0 };
    const tally_column **buf = malloc((ncols ? ncols : 1) * 3 * sizeof *buf);
    if (!buf)
        return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
    for (int g = 0; g < 3; g++)
        lists[g] = buf + (size_t)g * (ncols ? ncols : 1);
    for (size_t k = 0; k < ncols; k++) {
        const tally_column *c = tally_dataset__column(ds, k);
        if (c->indicator != ind || tally_period__first_month(c->period) < first ||
            tally_period__last_month(c->period) > last)
            continue;
        /* Finest first: months, quarters, years. */
        int g = 2 - tally_period__kind(c->period);
        lists[g][counts[g]++] = c;
    }
    for (int g = 0; g < 3; g++)
        qsort(lists[g], counts[g], sizeof *lists[g], by_first_month);
    if (counts[0] + counts[1] + counts[2] == 0) {
        free(buf);
        return 0;
    }
    size_t words = tally_bit__words(n);
    for (size_t w = 0; w < words; w++) {
        uint64_t any = 0;
        for (int g = 0; g < 3; g++)
            for (size_t k = 0; k < counts[g]; k++)
                any |= lists[g][k]->valid[w];
        while (any) {
            size_t node = w * 64 + (size_t)__builtin_ctzll(any);
            any &= any - 1;
            double v;
            for (int g = 0; g < 3; g++) {
                if (own_from(lists[g], counts[g], node, over_time, &v)) {
                    own[node] = v;
                    break;
                }
            }
        }
    }
    free(buf);
    return 0;
}

typedef struct workspace {
    double *sum, *comp, *mn, *mx;
    size_t *cnt;
    double *computed; /* where computed values go when the caller keeps none */
    double *scratch;  /* own values when the caller keeps no reported column */
} workspace;

/* One reverse pre-order pass: aggregates the regions that count below each
 * node into computed[], and chooses out[] by the precedence rule. */
static void aggregate(const size_t *parent, size_t n, int agg, int prefer, const double *own,
                      double *out, double *computed, workspace *w)
{
    /* Extremes cost two more arrays per pass: only min and max need them. */
    int extremes = agg == TALLY_AGGREGATE_MIN || agg == TALLY_AGGREGATE_MAX;
    memset(w->sum, 0, n * sizeof *w->sum);
    memset(w->comp, 0, n * sizeof *w->comp);
    memset(w->cnt, 0, n * sizeof *w->cnt);
    if (extremes) {
        for (size_t i = 0; i < n; i++) {
            w->mn[i] = INFINITY;
            w->mx[i] = -INFINITY;
        }
    }
    for (size_t i = n; i-- > 0;) {
        int below = w->cnt[i] > 0;
        double cval = NAN;
        if (below) {
            switch (agg) {
            case TALLY_AGGREGATE_SUM: cval = w->sum[i] + w->comp[i]; break;
            case TALLY_AGGREGATE_MEAN: cval = (w->sum[i] + w->comp[i]) / (double)w->cnt[i]; break;
            case TALLY_AGGREGATE_MIN: cval = w->mn[i]; break;
            case TALLY_AGGREGATE_MAX: cval = w->mx[i]; break;
            case TALLY_AGGREGATE_COUNT: cval = (double)w->cnt[i]; break;
            default: break;
            }
        }
        computed[i] = cval;
        double ov = own[i];
        int has_own = !isnan(ov);
        int use_own = prefer == TALLY_PREFER_REPORTED ? has_own : (has_own && !below);
        size_t p = parent[i];
        if (use_own) {
            out[i] = agg == TALLY_AGGREGATE_COUNT ? 1.0 : ov;
            if (p != TALLY_NONE) {
                tally_util__neumaier(&w->sum[p], &w->comp[p], ov);
                w->cnt[p] += 1;
                if (extremes) {
                    if (ov < w->mn[p])
                        w->mn[p] = ov;
                    if (ov > w->mx[p])
                        w->mx[p] = ov;
                }
            }
        } else if (below) {
            out[i] = cval;
            if (p != TALLY_NONE) {
                tally_util__neumaier(&w->sum[p], &w->comp[p], w->sum[i]);
                w->comp[p] += w->comp[i];
                w->cnt[p] += w->cnt[i];
                if (extremes) {
                    if (w->mn[i] < w->mn[p])
                        w->mn[p] = w->mn[i];
                    if (w->mx[i] > w->mx[p])
                        w->mx[p] = w->mx[i];
                }
            }
        } else {
            out[i] = NAN;
        }
    }
}

TALLY_EXTERN(void) tally_result_free(tally_result *r)
{
    if (!r)
        return;
    size_t ncols = r->nind * r->nper;
    for (size_t k = 0; k < ncols; k++) {
        if (r->out)
            free(r->out[k]);
        if (r->reported)
            free(r->reported[k]);
        if (r->computed)
            free(r->computed[k]);
        if (r->previous)
            free(r->previous[k]);
    }
    free(r->out);
    free(r->reported);
    free(r->computed);
    free(r->previous);
    free(r->periods);
    free(r->period_text);
    free(r);
}

static int cmp_period(const void *a, const void *b)
{
    return tally_period__compare(*(const int32_t *)a, *(const int32_t *)b);
}

/* The indicators of one span that threads share: each worker takes the
 * next indicator until none is left, so the split follows the real cost. */
typedef struct span_job {
    const tally_dataset *ds;
    int32_t first, last;
    int prefer;
    double **out, **rep, **cmp;
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

/* Time rule and aggregation of every non-formula indicator a worker takes.
 * Indicators write disjoint columns, and each reads the dataset only, so the
 * result does not depend on the number of threads or the order. */
static void *span_work(void *arg)
{
    span_worker *wk = arg;
    span_job *j = wk->job;
    const tally_hierarchy *h = tally_dataset_hierarchy(j->ds);
    const tally_definitions *d = tally_dataset_definitions(j->ds);
    size_t n = tally_hierarchy_size(h);
    const size_t *parent = tally_hierarchy_parents(h);
    for (;;) {
        pthread_mutex_lock(&j->lock);
        size_t i = j->next++;
        int stop = j->rc != 0;
        pthread_mutex_unlock(&j->lock);
        if (stop || i >= j->nind)
            break;
        int agg = tally_definitions_aggregate(d, i);
        if (agg == TALLY_AGGREGATE_FORMULA && j->rep == NULL)
            continue; /* its reported side is read with the formulas */
        double *own = j->rep ? j->rep[i] : wk->w->scratch;
        /* Reported values of a formula indicator are levels: the latest. */
        int ot = agg == TALLY_AGGREGATE_FORMULA ? TALLY_OVER_TIME_STOCK
                                                : tally_definitions_over_time(d, i);
        int rc = tally_rollup__own(j->ds, i, ot, j->first, j->last, own);
        if (rc) {
            wk->rc = rc;
            pthread_mutex_lock(&j->lock);
            j->rc = rc;
            pthread_mutex_unlock(&j->lock);
            break;
        }
        if (agg == TALLY_AGGREGATE_FORMULA)
            continue;
        aggregate(parent, n, agg, j->prefer, own, j->out[i], j->cmp ? j->cmp[i] : wk->w->computed,
                  wk->w);
    }
    return NULL;
}

/* Computes every indicator over the absolute months [first, last]: out,
 * rep and cmp are arrays of nind columns (rep and cmp may be NULL). The
 * indicators are shared among nw workers (w: one workspace each). */
static int compute_span(const tally_dataset *ds, int32_t first, int32_t last, int prefer,
                        double **out, double **rep, double **cmp, workspace *w, size_t nw)
{
    const tally_hierarchy *h = tally_dataset_hierarchy(ds);
    const tally_definitions *d = tally_dataset_definitions(ds);
    size_t n = tally_hierarchy_size(h), nind = tally_definitions_indicator_count(d);

    span_job job = { ds, first, last, prefer, out, rep, cmp, nind,
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
    double *scratch = w[0].scratch;
    const size_t *order;
    size_t nf = tally_definitions__formula_order(d, &order);
    for (size_t k = 0; k < nf; k++) {
        size_t f = order[k];
        double *own = rep ? rep[f] : NULL;
        if (!own) {
            rc = tally_rollup__own(ds, f, TALLY_OVER_TIME_STOCK, first, last, scratch);
            if (rc)
                return rc;
            own = scratch;
        }
        double *computed = cmp ? cmp[f] : out[f];
        rc = tally_expr__eval(tally_definitions__program(d, f), (const double *const *)out, n,
                              computed);
        if (rc)
            return tally_error__set(rc, "out of memory evaluating a formula");
        for (size_t i = 0; i < n; i++) {
            double c = computed[i], o = own[i];
            if (prefer == TALLY_PREFER_REPORTED)
                out[f][i] = !isnan(o) ? o : c;
            else
                out[f][i] = !isnan(c) ? c : o;
        }
    }
    return 0;
}

static void workspace_free(workspace *w)
{
    free(w->sum);
    free(w->comp);
    free(w->mn);
    free(w->mx);
    free(w->cnt);
    free(w->computed);
    free(w->scratch);
    memset(w, 0, sizeof *w);
}

static int workspace_alloc(workspace *w, size_t n)
{
    if (!n)
        n = 1;
    w->sum = malloc(n * sizeof(double));
    w->comp = malloc(n * sizeof(double));
    w->mn = malloc(n * sizeof(double));
    w->mx = malloc(n * sizeof(double));
    w->cnt = malloc(n * sizeof(size_t));
    w->computed = malloc(n * sizeof(double));
    w->scratch = malloc(n * sizeof(double));
    if (w->sum && w->comp && w->mn && w->mx && w->cnt && w->computed && w->scratch)
        return 0;
    workspace_free(w);
    return TALLY_ENOMEM;
}

/* nw workspaces, or none (all freed) on failure. */
static workspace *workspaces_alloc(size_t nw, size_t n)
{
    workspace *w = calloc(nw, sizeof *w);
    if (!w)
        return NULL;
    for (size_t t = 0; t < nw; t++) {
        if (workspace_alloc(&w[t], n)) {
            for (size_t k = 0; k < t; k++)
                workspace_free(&w[k]);
            free(w);
            return NULL;
        }
    }
    return w;
}

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
    size_t n = tally_hierarchy_size(tally_dataset_hierarchy(ds));
    size_t nw = tally_rollup__default_threads(ds);
    workspace *w = workspaces_alloc(nw, n);
    if (!w)
        return tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
    int rc = compute_span(ds, first, last, prefer, out, reported, computed, w, nw);
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

int tally_rollup__threads(tally_result **out, const tally_dataset *ds,
                          const tally_rollup_options *opts, size_t threads)
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
            if (!p || tally_period__parse(p, strlen(p), &key)) {
                tally_result_free(r);
                return tally_error__set(TALLY_EPARSE,
                                        "bad period '%s'; expected YYYY-MM, YYYY-Qn or YYYY",
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
        for (size_t k = 0; k < ncols; k++) {
            int32_t key = tally_dataset__column(ds, k)->period;
            int dup = 0;
            for (size_t j = 0; j < r->nper && !dup; j++)
                dup = r->periods[j] == key;
            if (!dup)
                r->periods[r->nper++] = key;
        }
        qsort(r->periods, r->nper, sizeof *r->periods, cmp_period);
    }
    r->period_text = calloc(r->nper ? r->nper : 1, sizeof *r->period_text);
    size_t ncols = r->nind * r->nper;
    r->out = alloc_columns(ncols, r->nodes);
    r->reported = alloc_columns(ncols, r->nodes);
    r->computed = alloc_columns(ncols, r->nodes);
    if (r->compare)
        r->previous = alloc_columns(ncols, r->nodes);
    workspace *w = workspaces_alloc(threads, r->nodes);
    double **o = malloc((r->nind ? r->nind : 1) * sizeof *o);
    double **rp = malloc((r->nind ? r->nind : 1) * sizeof *rp);
    double **cp = malloc((r->nind ? r->nind : 1) * sizeof *cp);
    double **prev = r->compare ? alloc_columns(r->nind, r->nodes) : NULL;
    if (!r->period_text || !r->out || !r->reported || !r->computed ||
        (r->compare && (!r->previous || !prev)) || !w || !o || !rp || !cp) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory rolling up");
        goto done;
    }

    for (size_t p = 0; p < r->nper && !rc; p++) {
        tally_period__format(r->periods[p], r->period_text[p]);
        for (size_t i = 0; i < r->nind; i++) {
            o[i] = r->out[i * r->nper + p];
            rp[i] = r->reported[i * r->nper + p];
            cp[i] = r->computed[i * r->nper + p];
        }
        rc = compute_span(ds, tally_period__first_month(r->periods[p]),
                          tally_period__last_month(r->periods[p]), opts->prefer, o, rp, cp, w,
                          threads);
        if (rc || !r->compare)
            continue;
        int32_t before = r->compare == TALLY_COMPARE_YOY ? tally_period__year_before(r->periods[p])
                                                         : tally_period__previous(r->periods[p]);
        rc = compute_span(ds, tally_period__first_month(before), tally_period__last_month(before),
                          opts->prefer, prev, NULL, NULL, w, threads);
        for (size_t i = 0; i < r->nind && !rc; i++)
            memcpy(r->previous[i * r->nper + p], prev[i], r->nodes * sizeof(double));
    }

done:
    if (prev) {
        for (size_t i = 0; i < r->nind; i++)
            free(prev[i]);
        free(prev);
    }
    workspaces_free(w, threads);
    free(o);
    free(rp);
    free(cp);
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
    if (!r || !period || tally_period__parse(period, strlen(period), &key))
        return tally_error__set(TALLY_EPARSE, "bad period '%s'; expected YYYY-MM, YYYY-Qn or YYYY",
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
    *value = r->out[indicator * r->nper + period][node];
    *present = !isnan(*value);
    return 0;
}

TALLY_EXTERN(int) tally_result_sides(const tally_result *r, size_t node, size_t indicator,
                                     size_t period, double *reported, double *computed)
{
    int rc = check_index(r, node, indicator, period);
    if (rc)
        return rc;
    if (reported)
        *reported = r->reported[indicator * r->nper + period][node];
    if (computed)
        *computed = r->computed[indicator * r->nper + period][node];
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
    if (r->previous) {
        *value = r->previous[indicator * r->nper + period][node];
        *present = !isnan(*value);
    }
    return 0;
}

TALLY_EXTERN(const double *) tally_result_column(const tally_result *r, size_t indicator,
                                                 size_t period)
{
    if (!r || indicator >= r->nind || period >= r->nper)
        return NULL;
    return r->out[indicator * r->nper + period];
}
