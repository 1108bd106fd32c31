/* Consistency checks.
 *
 * One pass per period: the period is rolled up (values computed from
 * below), each region's own figures and their rounding intervals are put
 * beside them (a "view"), and every check that reads a period runs over the
 * view. Findings are collected as they come and sorted into the documented
 * order at the end, so each check can walk the data in whatever order is
 * cheapest.
 *
 * SPDX-License-Identifier: MIT
 */
#include "check.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "dataset.h"
#include "error.h"
#include "expr.h"
#include "hierarchy.h"
#include "period.h"
#include "rollup.h"
#include "util.h"
#include "tally/number.h"

/* ------------------------------------------------------------------ */
/* Messages                                                           */
/* ------------------------------------------------------------------ */

/* A growable string; `failed` sticks after the first allocation failure so
 * a message can be built without checking every append. */
typedef struct sb {
    char *p;
    size_t len, cap;
    int failed;
} sb;

static void sb_put(sb *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    void *p = b->p;
    if (tally_util__grow(&p, &b->cap, b->len + n + 1, 1)) {
        b->failed = 1;
        return;
    }
    b->p = p;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sb *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(sb *b, const char *fmt, ...) TALLY_PRINTF(2, 3);
static void sb_printf(sb *b, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    sb_put(b, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Every number in a message goes through tally_format_number. */
static void sb_num(sb *b, double v, int decimals)
{
    char buf[400];
    if (decimals < 0)
        decimals = 0;
    if (decimals > 15)
        decimals = 15;
    int n = isnan(v) ? -1 : tally_format_number(buf, sizeof buf, v, decimals);
    if (n < 0) {
        sb_str(b, isnan(v) ? "missing" : "(out of range)");
        return;
    }
    sb_put(b, buf, (size_t)n);
}

/* 1 when `v` prints as zero with `decimals` (so a difference would read 0). */
static int prints_as_zero(double v, int decimals)
{
    char buf[400];
    int n = tally_format_number(buf, sizeof buf, v, decimals);
    if (n < 0)
        return 0;
    for (int k = 0; k < n; k++)
        if (buf[k] >= '1' && buf[k] <= '9')
            return 0;
    return 1;
}

/* The decimals to print a finding with: `decimals`, or more until a
 * non-zero difference shows. */
static int finding_decimals(int decimals, double difference)
{
    if (decimals < 0)
        decimals = 0;
    while (decimals < 15 && !isnan(difference) && difference != 0 &&
           prints_as_zero(difference, decimals))
        decimals++;
    return decimals;
}

/* The fewest decimals from `decimals` up to `most` that print x exactly
 * (a median of integers may end in .5); `most` when none does. */
static int exact_decimals(double x, int decimals, int most)
{
    if (decimals < 0)
        decimals = 0;
    if (most > 15)
        most = 15;
    for (int d = decimals; d < most; d++) {
        double scaled = x * pow(10.0, d);
        if (fabs(scaled - nearbyint(scaled)) <= 1e-6 * fmax(1.0, fabs(scaled)))
            return d;
    }
    return most > decimals ? most : decimals;
}

static int is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

/* Appends formula or rule text with each indicator id replaced by the
 * indicator's name (values == NULL) or by its value at `node` with its
 * decimals, and '*' written as '×'. Numbers, function names and operators
 * are copied as written. */
static void describe(sb *b, const tally_definitions *d, const char *text, size_t len,
                     double *const *values, size_t node)
{
    size_t k = 0;
    while (k < len) {
        char c = text[k];
        if ((c >= '0' && c <= '9') || c == '.') {
            size_t s = k++;
            while (k < len && (is_ident_char(text[k]) || text[k] == '.' ||
                               ((text[k] == '+' || text[k] == '-') &&
                                (text[k - 1] == 'e' || text[k - 1] == 'E'))))
                k++;
            sb_put(b, text + s, k - s);
        } else if (is_ident_start(c)) {
            size_t s = k;
            while (k < len && is_ident_char(text[k]))
                k++;
            size_t j = k;
            while (j < len && (text[j] == ' ' || text[j] == '\t'))
                j++;
            size_t ind;
            if ((j < len && text[j] == '(') ||
                tally_definitions_find(d, text + s, k - s, &ind) != 0) {
                sb_put(b, text + s, k - s);
            } else if (values) {
                sb_num(b, values[ind][node], tally_definitions_decimals(d, ind));
            } else {
                sb_str(b, tally_definitions_name(d, ind));
            }
        } else if (c == '*') {
            sb_str(b, "×");
            k++;
        } else {
            sb_put(b, &c, 1);
            k++;
        }
    }
    /* tally_definitions_find records an error when it misses; a message
     * being built is not an error. */
    tally_error_clear();
}

/* Trims spaces at both ends of [*s, *s + *len). */
static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
                    (*s)[*len - 1] == '\n' || (*s)[*len - 1] == '\r'))
        (*len)--;
}

/* 1 when the text is one identifier (a side that is a single indicator). */
static int is_single_ident(const char *s, size_t len)
{
    if (!len || !is_ident_start(s[0]))
        return 0;
    for (size_t k = 1; k < len; k++)
        if (!is_ident_char(s[k]))
            return 0;
    return 1;
}

/* Finds the comparison operator outside parentheses in a rule whose
 * outermost operation is a comparison (the grammar allows one there). */
static int split_text(const char *t, size_t len, size_t *op_at, size_t *op_len)
{
    int depth = 0;
    for (size_t k = 0; k < len; k++) {
        char c = t[k];
        if (c == '(')
            depth++;
        else if (c == ')')
            depth--;
        else if (depth == 0 && (c == '=' || c == '!' || c == '<' || c == '>')) {
            *op_at = k;
            *op_len = k + 1 < len && t[k + 1] == '=' ? 2 : 1;
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Findings                                                           */
/* ------------------------------------------------------------------ */

typedef struct finding {
    size_t check;  /* index of its check in the summaries */
    size_t node;
    size_t indicator;
    size_t order;  /* indicator position in its check, for sorting */
    size_t seq;    /* insertion order, the last tie-break */
    int kind, severity, decimals;
    int32_t period;
    double expected, actual, difference;
    char *message;
    char period_text[TALLY_PERIOD_TEXT_MAX];
} finding;

struct tally_findings {
    const tally_hierarchy *h;
    const tally_definitions *d;
    finding *items;
    size_t count, cap;
    tally_check_summary *checks;
    size_t check_count;
    size_t errors;
};

/* What a check run needs at hand. */
typedef struct run {
    const tally_dataset *ds;
    const tally_hierarchy *h;
    const tally_definitions *d;
    size_t n, m;
    const uint32_t *parent; /* tally_hierarchy__parents */
    size_t *end; /* subtree ends */
    int prefer;
    tally_findings *f;
    int32_t *periods;
    size_t nper;
    int explicit_periods;
    double *half; /* per indicator: half a unit of the last decimal; 0 when exact */
} run;

/* Adds a finding; `msg` is taken over (freed here on failure).
 * Returns 0 or TALLY_ENOMEM. */
static int add_finding(run *R, size_t check, int kind, int severity, size_t node, size_t ind,
                       size_t order, int32_t period, double expected, double actual,
                       int decimals, sb *msg)
{
    tally_findings *F = R->f;
    if (msg->failed) {
        free(msg->p);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a finding");
    }
    void *p = F->items;
    if (tally_util__grow(&p, &F->cap, F->count + 1, sizeof *F->items)) {
        free(msg->p);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a finding");
    }
    F->items = p;
    finding *x = &F->items[F->count];
    x->check = check;
    x->kind = kind;
    x->severity = severity;
    x->node = node;
    x->indicator = ind;
    x->order = order;
    x->seq = F->count;
    x->period = period;
    tally_period__format(period, x->period_text);
    x->expected = expected;
    x->actual = actual;
    x->difference = actual - expected;
    x->decimals = decimals;
    x->message = msg->p;
    F->count++;
    if (severity == TALLY_FINDING_ERROR)
        F->errors++;
    msg->p = NULL;
    return 0;
}

/* "<region name> <period>: " */
static void prefix(sb *b, const run *R, size_t node, int32_t period)
{
    char per[TALLY_PERIOD_TEXT_MAX];
    tally_period__format(period, per);
    sb_str(b, tally_hierarchy_name(R->h, node));
    sb_printf(b, " %s: ", per);
}

/* Room for binary floating point: a few units in the last place of the
 * largest number compared. Decimal data differ from their binary values by
 * far less than any tolerance or rounding unit a person writes. */
static double slack(double a, double b, double c, double e)
{
    double m = 0;
    double xs[4] = { a, b, c, e };
    for (int k = 0; k < 4; k++)
        if (isfinite(xs[k]) && fabs(xs[k]) > m)
            m = fabs(xs[k]);
    return 64 * DBL_EPSILON * m;
}

/* ------------------------------------------------------------------ */
/* Views: one period's values                                         */
/* ------------------------------------------------------------------ */

/* For each indicator (m columns over the n nodes):
 *   out, rep, cmp: the rollup's output value, the region's own value (time
 *     rule) and the value computed from below (out and rep only while the
 *     view is computed);
 *   val: the region's figure: its own value when it filed one, else the
 *     value computed from below (for formulas: else the formula over the
 *     operands' figures);
 *   lo, hi: the interval each figure stands for; hi[i] NULL means the
 *     figures are points and lo[i] is val[i];
 *   wcmp: half-width of the computed value (indicators that are not exact);
 *   cnt: how many regions count in the computed value (reported indicators);
 *   sub: bit set where the region or one below it filed the indicator for
 *     exactly this period (for formulas: also any operand);
 *   cov, sig: where the figure comes from (COV_*) and, for a figure
 *     computed from below, a signature of the regions it adds up (a sum of
 *     hashes of their indices), so that figures over different sets of
 *     regions are not set against each other. */
typedef struct view {
    int32_t key;
    int ready;
    double **out, **rep, **cmp, **val, **lo, **hi, **wcmp;
    size_t **cnt;
    uint64_t **sub;
    uint8_t **cov;
    uint64_t **sig;
} view;

/* Where a figure comes from. A region's own figure stands for its whole
 * area. A figure computed from below is complete when every region below
 * that it is made of has a value (recursively), partial otherwise: a
 * village that did not report makes its town's sum partial. */
enum {
    COV_NONE = 0,     /* no figure */
    COV_OWN = 1,      /* the region's own reported value */
    COV_FULL = 2,     /* computed from below, nothing missing */
    COV_PART = 3,     /* computed from below, some region below has no value */
    COV_MIXED = 4     /* operands over different sets of regions */
};

/* Whether figures can be set against each other at a node: own figures
 * with complete computed ones, or computed ones over the same regions.
 * `own` adds an own figure (a reported value compared with them). Gives
 * the combined COV_* and, for computed figures, their signature. */
static int cov_combine(const view *v, const tally_expr *e, size_t node, int own, uint64_t *sig)
{
    int any = 0, full = 1, same = 1;
    uint64_t s0 = 0;
    size_t nv = tally_expr__var_count(e);
    for (size_t j = 0; j < nv; j++) {
        size_t i = (size_t)tally_expr__var(e, j);
        int c = v->cov[i][node];
        if (c == COV_MIXED)
            return c;
        if (c == COV_NONE)
            continue; /* a missing operand: the value says whether that matters */
        if (c == COV_OWN) {
            own = 1;
            continue;
        }
        if (!any) {
            s0 = v->sig[i][node];
            any = 1;
        } else if (v->sig[i][node] != s0) {
            same = 0;
        }
        full &= c == COV_FULL;
    }
    *sig = s0;
    if (!any)
        return own ? COV_OWN : COV_NONE;
    if (full)
        return own ? COV_OWN : COV_FULL;
    return same && !own ? COV_PART : COV_MIXED;
}

static void view_free(view *v, size_t m)
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
    free(v->sub);
    free(v->cov);
    free(v->sig);
    memset(v, 0, sizeof *v);
}

/* How many reports each node's own value combines over [first, last]: the
 * number of filings at the finest granularity it filed there (a flow's
 * year from twelve months is twelve rounded numbers). */
static int own_filings(const run *R, size_t ind, int32_t first, int32_t last, unsigned *k)
{
    size_t n = R->n;
    unsigned *c = calloc((n ? n : 1) * 3, sizeof *c);
    if (!c)
        return TALLY_ENOMEM;
    size_t ncols = tally_dataset__column_count(R->ds);
    for (size_t j = 0; j < ncols; j++) {
        const tally_column *col = tally_dataset__column(R->ds, j);
        if (col->indicator != ind || tally_period__first_month(col->period) < first ||
            tally_period__last_month(col->period) > last)
            continue;
        int g = 2 - tally_period__kind(col->period); /* months 0, quarters 1, years 2 */
        for (size_t node = 0; node < n; node++)
            c[(size_t)g * n + node] += (unsigned)tally_bit__get(col->valid, node);
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
static int view_reported(const run *R, view *v, size_t i, double *wown, unsigned *filings,
                         double *accw, double *accmx, uint8_t *full)
{
    size_t n = R->n;
    const double *rep = v->rep[i], *out = v->out[i];
    double *val = v->val[i];
    size_t *cnt = v->cnt[i];
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
        accw[node] = 0;
        accmx[node] = 0;
        sig[node] = 0;
        full[node] = 1;
    }
    for (size_t node = n; node-- > 0;) {
        int below = cnt[node] > 0;
        /* Complete: every child contributes, and completely. */
        int complete = below && full[node];
        cov[node] = !isnan(rep[node]) ? COV_OWN
                    : !below          ? COV_NONE
                    : complete        ? COV_FULL
                                      : COV_PART;
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
        size_t p = tally_hierarchy__up(R->parent, node);
        if (p == TALLY_NONE)
            continue;
        if (!use_own && !(below && complete))
            full[p] = 0;
        if (use_own) {
            sig[p] += tally_util__hash_u64((uint64_t)node + 1);
            cnt[p] += 1;
            if (h > 0) {
                accw[p] += wown[node];
                if (wown[node] > accmx[p])
                    accmx[p] = wown[node];
            }
        } else if (below) {
            sig[p] += sig[node];
            cnt[p] += cnt[node];
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
static void close_upwards(const run *R, uint64_t *sub)
{
    for (size_t node = R->n; node-- > 1;)
        if (tally_bit__get(sub, node) && R->parent[node] != TALLY_HIERARCHY__ROOT)
            tally_bit__set(sub, R->parent[node]);
}

static int view_compute(const run *R, view *v, int32_t key)
{
    size_t n = R->n, m = R->m, nn = n ? n : 1;
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
    v->sub = calloc(m ? m : 1, sizeof *v->sub);
    v->cov = calloc(m ? m : 1, sizeof *v->cov);
    v->sig = calloc(m ? m : 1, sizeof *v->sig);
    wown = malloc(nn * sizeof *wown);
    accw = malloc(nn * sizeof *accw);
    accmx = malloc(nn * sizeof *accmx);
    tmp = malloc(nn * sizeof *tmp);
    filings = calloc(nn, sizeof *filings);
    full = malloc(nn);
    if (!v->out || !v->rep || !v->cmp || !v->val || !v->lo || !v->hi || !v->wcmp || !v->cnt ||
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
            if (!(v->cnt[i] = malloc(nn * sizeof(size_t))))
                goto nomem;
            if (R->half[i] > 0 && !(v->wcmp[i] = malloc(nn * sizeof(double))))
                goto nomem;
        }
    }
    rc = tally_rollup__span(R->ds, tally_period__first_month(key), tally_period__last_month(key),
                            R->prefer, v->out, v->rep, v->cmp);
    if (rc)
        goto fail;
    for (size_t i = 0; i < m; i++) {
        const tally_column *col = tally_dataset__find_column(R->ds, i, key);
        if (col)
            memcpy(v->sub[i], col->valid, tally_bit__words(n) * sizeof(uint64_t));
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
                v->cov[f][node] = COV_OWN;
                v->sig[f][node] = 0;
            } else {
                v->val[f][node] = tmp[node];
                v->cov[f][node] = (uint8_t)cov_combine(v, e, node, 0, &v->sig[f][node]);
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
    view_free(v, m);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Checks                                                             */
/* ------------------------------------------------------------------ */

typedef struct prepared {
    const tally_check_def *def;
    size_t ord;              /* index in the summaries */
    tally_expr *left, *right; /* rules: the two sides of a comparison */
    int op;
    size_t op_at, op_len;     /* where the comparison stands in the rule text */
    int level;                /* completeness */
} prepared;

static const char *agg_phrase(int agg)
{
    switch (agg) {
    case TALLY_AGGREGATE_MEAN: return "average";
    case TALLY_AGGREGATE_MIN: return "lowest";
    case TALLY_AGGREGATE_MAX: return "highest";
    case TALLY_AGGREGATE_COUNT: return "count";
    default: return "sum";
    }
}

/* The regions below `node` that have no figure for indicator i at all, so
 * are not in its computed value: walks down through regions whose value is
 * itself computed from below (they did not file for this period); a region
 * that filed is compared on its own and answers for its own children.
 * Counts them; with `emit`, adds a finding for each (children: complete). */
static int missing_below(run *R, const prepared *P, const view *v, const tally_column *col,
                         size_t i, size_t k, size_t node, double reported, int emit,
                         size_t *count)
{
    const char *name = tally_definitions_name(R->d, i);
    int dec = tally_definitions_decimals(R->d, i);
    *count = 0;
    for (size_t j = node + 1; j < R->end[node];) {
        if (isnan(v->val[i][j])) {
            ++*count;
            if (emit) {
                sb b = { 0 };
                prefix(&b, R, j, v->key);
                sb_printf(&b, "%s not reported here or below, so %s's reported ", name,
                          tally_hierarchy_name(R->h, node));
                sb_num(&b, reported, dec);
                sb_str(&b, " cannot be checked against all of its regions");
                int rc = add_finding(R, P->ord, TALLY_FINDING_HIERARCHY, P->def->severity, j, i,
                                     k, v->key, NAN, NAN, dec, &b);
                if (rc)
                    return rc;
            }
            j = R->end[j];
        } else if (!tally_bit__get(col->valid, j) && !isnan(v->cmp[i][j])) {
            j++;
        } else {
            j = R->end[j];
        }
    }
    return 0;
}

/* hierarchy: the value a region filed for this period against the value
 * computed from below, where something below has one. */
static int check_hierarchy(run *R, const prepared *P, const view *v)
{
    const tally_check_def *c = P->def;
    tally_check_summary *s = &R->f->checks[P->ord];
    for (size_t k = 0; k < c->indicator_count; k++) {
        size_t i = c->indicators[k];
        if (i >= R->m || tally_definitions_aggregate(R->d, i) == TALLY_AGGREGATE_FORMULA)
            continue;
        const tally_column *col = tally_dataset__find_column(R->ds, i, v->key);
        if (!col)
            continue;
        int agg = tally_definitions_aggregate(R->d, i);
        int dec = tally_definitions_decimals(R->d, i);
        const char *name = tally_definitions_name(R->d, i);
        double h = R->half[i];
        for (size_t node = 0; node < R->n; node++) {
            if (!tally_bit__get(col->valid, node))
                continue;
            double r = tally_column__get(col, node), e = v->cmp[i][node];
            if (isnan(e))
                continue;
            s->items++;
            double tol = fmax(c->tol_absolute, c->tol_relative * fabs(e));
            double diff = r - e, sl = slack(r, e, tol, 0);
            double wc = v->wcmp[i] && !isnan(v->wcmp[i][node]) ? v->wcmp[i][node] : 0;
            int severity = c->severity;
            size_t absent;
            int rc = missing_below(R, P, v, col, i, k, node, r, 0, &absent);
            if (rc)
                return rc;
            if (fabs(diff) <= tol + sl) {
                s->passes++;
            } else {
                int rounding = h > 0 && fabs(diff) <= tol + h + wc + sl;
                if (rounding) {
                    s->warnings++;
                    severity = TALLY_FINDING_WARNING;
                } else {
                    s->fails++;
                }
                int d = finding_decimals(dec, diff);
                size_t nb = v->cnt[i][node];
                sb b = { 0 };
                prefix(&b, R, node, v->key);
                sb_printf(&b, "%s reported ", name);
                sb_num(&b, r, d);
                if (agg == TALLY_AGGREGATE_COUNT) {
                    sb_str(&b, " but ");
                    sb_num(&b, e, d);
                    sb_str(&b, " regions below it reported");
                } else if (nb == 1) {
                    sb_str(&b, " but the one region below it that reported has ");
                    sb_num(&b, e, d);
                } else {
                    sb_printf(&b, " but the %s of the %zu regions below it that reported is ",
                              agg_phrase(agg), nb);
                    sb_num(&b, e, d);
                }
                sb_str(&b, " (difference ");
                sb_num(&b, diff, d);
                if (tol > 0) {
                    sb_str(&b, ", tolerance ");
                    sb_num(&b, tol, exact_decimals(tol, d, d + 3));
                }
                sb_str(&b, ")");
                if (rounding) {
                    sb_str(&b, ", within what the rounding of the figures allows (");
                    sb_num(&b, h + wc, exact_decimals(h + wc, d, d + 2));
                    sb_str(&b, ")");
                }
                /* A comparison over the regions that reported says so when
                 * some did not: the difference may be theirs. */
                if (absent)
                    sb_printf(&b, "; %zu region%s below %s no value", absent,
                              absent == 1 ? "" : "s", absent == 1 ? "has" : "have");
                rc = add_finding(R, P->ord, TALLY_FINDING_HIERARCHY, severity, node, i, k,
                                 v->key, e, r, d, &b);
                if (rc)
                    return rc;
            }
            s->items += absent;
            if (c->children_complete) {
                s->fails += absent;
                rc = missing_below(R, P, v, col, i, k, node, r, 1, &absent);
                if (rc)
                    return rc;
            } else {
                s->missing += absent;
            }
        }
    }
    return 0;
}

/* Does some point of [llo, lhi] and of [rlo, rhi] satisfy `l op r` within
 * the tolerance? Strict comparisons get no slack: a == b must fail a < b. */
static int intervals_hold(int op, double llo, double lhi, double rlo, double rhi, double tol,
                          double sl)
{
    switch (op) {
    case TALLY_EXPR_OP_EQ: return llo <= rhi + tol + sl && rlo <= lhi + tol + sl;
    case TALLY_EXPR_OP_NE: return fmax(lhi - rlo, rhi - llo) > tol;
    case TALLY_EXPR_OP_LT: return llo < rhi + tol;
    case TALLY_EXPR_OP_LE: return llo <= rhi + tol + sl;
    case TALLY_EXPR_OP_GT: return lhi > rlo - tol;
    case TALLY_EXPR_OP_GE: return lhi >= rlo - tol - sl;
    default: return 1;
    }
}

/* A side of a rule in a message: its value, preceded by the side with the
 * operands' values when it is more than one indicator. */
static void side_desc(sb *b, const run *R, const char *t, size_t len, const view *v, size_t node,
                      double x, int d)
{
    trim(&t, &len);
    double literal;
    if (!is_single_ident(t, len) && tally_util__parse_number(t, len, &literal) != 0) {
        describe(b, R->d, t, len, v->val, node);
        sb_str(b, " = ");
    }
    sb_num(b, x, d);
}

/* rule: at every region and period where the region or one below it filed
 * one of the rule's indicators for exactly that period. */
static int check_rule(run *R, const prepared *P, const view *v)
{
    const tally_check_def *c = P->def;
    tally_check_summary *s = &R->f->checks[P->ord];
    size_t n = R->n, nn = n ? n : 1;
    const tally_expr *e = c->rule;
    size_t nv = tally_expr__var_count(e);
    int max_dec = 0;
    for (size_t j = 0; j < nv; j++) {
        int dj = tally_definitions_decimals(R->d, (size_t)tally_expr__var(e, j));
        if (dj > max_dec)
            max_dec = dj;
    }
    double *L = malloc(nn * sizeof *L), *Rv = malloc(nn * sizeof *Rv);
    double *llo = malloc(nn * sizeof *llo), *lhi = malloc(nn * sizeof *lhi);
    double *rlo = malloc(nn * sizeof *rlo), *rhi = malloc(nn * sizeof *rhi);
    int rc = 0;
    if (!L || !Rv || !llo || !lhi || !rlo || !rhi) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    const double *const *val = (const double *const *)v->val;
    const double *const *lo = (const double *const *)v->lo;
    const double *const *hi = (const double *const *)v->hi;
    if (P->left) {
        if (tally_expr__eval(P->left, val, n, L) || tally_expr__eval(P->right, val, n, Rv) ||
            tally_expr__eval_interval(P->left, lo, hi, n, llo, lhi) ||
            tally_expr__eval_interval(P->right, lo, hi, n, rlo, rhi)) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
            goto done;
        }
    } else if (tally_expr__eval(e, val, n, L)) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    const char *text = c->rule_text;
    size_t tlen = strlen(text);
    for (size_t node = 0; node < n && !rc; node++) {
        int filed = 0;
        for (size_t j = 0; j < nv && !filed; j++)
            filed = tally_bit__get(v->sub[tally_expr__var(e, j)], node);
        if (!filed)
            continue;
        s->items++;
        int missing = P->left ? isnan(L[node]) || isnan(Rv[node]) : isnan(L[node]);
        /* Figures over different sets of regions (a village that did not
         * report one of them) cannot be set against each other. */
        uint64_t sig;
        int mixed = !missing && cov_combine(v, e, node, 0, &sig) == COV_MIXED;
        missing |= mixed;
        if (missing && !c->missing_fail) {
            s->missing++;
            continue;
        }
        sb b = { 0 };
        double expected = NAN, actual = NAN;
        int d = max_dec;
        if (missing) {
            prefix(&b, R, node, v->key);
            describe(&b, R->d, text, tlen, NULL, 0);
            sb_str(&b, " cannot be evaluated");
            int listed = 0;
            for (size_t j = 0; j < nv; j++) {
                size_t ind = (size_t)tally_expr__var(e, j);
                if (mixed ? v->cov[ind][node] != COV_PART : !isnan(v->val[ind][node]))
                    continue;
                sb_str(&b, listed ? ", " : ": ");
                sb_str(&b, tally_definitions_name(R->d, ind));
                listed++;
            }
            if (mixed)
                sb_str(&b, listed == 1 ? " is not reported by every region below it"
                                       : " are not reported by every region below it");
            else
                sb_str(&b, listed ? (listed == 1 ? " is missing" : " are missing")
                                  : " (a division by zero or a value out of a function's "
                                    "range)");
        } else if (P->left) {
            double tol = fmax(c->tol_absolute, c->tol_relative * fabs(Rv[node]));
            double a = llo[node], bb = lhi[node], x = rlo[node], y = rhi[node];
            /* An interval the arithmetic cannot bound (a divisor that may be
             * zero within rounding) allows anything. */
            double sl = slack(a, bb, x, y) + slack(tol, 0, 0, 0);
            int holds = isnan(a) || isnan(bb) || isnan(x) || isnan(y) ||
                        intervals_hold(P->op, a, bb, x, y, tol, sl);
            if (holds) {
                s->passes++;
                continue;
            }
            expected = Rv[node];
            actual = L[node];
            if (d < 2 && (exact_decimals(expected, d, d + 1) > d ||
                          exact_decimals(actual, d, d + 1) > d))
                d = 2;
            d = finding_decimals(d, actual - expected);
            prefix(&b, R, node, v->key);
            describe(&b, R->d, text, tlen, NULL, 0);
            sb_str(&b, " does not hold: ");
            side_desc(&b, R, text, P->op_at, v, node, actual, d);
            sb_str(&b, " vs ");
            side_desc(&b, R, text + P->op_at + P->op_len, tlen - P->op_at - P->op_len, v, node,
                      expected, d);
            sb_str(&b, " (imbalance ");
            sb_num(&b, actual - expected, d);
            if (tol > 0) {
                sb_str(&b, ", tolerance ");
                sb_num(&b, tol, exact_decimals(tol, d, d + 3));
            }
            sb_str(&b, ")");
            if (a != bb || x != y)
                sb_str(&b, ", and no rounding of the figures explains it");
        } else {
            if (L[node] != 0) {
                s->passes++;
                continue;
            }
            prefix(&b, R, node, v->key);
            describe(&b, R->d, text, tlen, NULL, 0);
            sb_str(&b, " does not hold (");
            describe(&b, R->d, text, tlen, v->val, node);
            sb_str(&b, ")");
        }
        s->fails++;
        rc = add_finding(R, P->ord, TALLY_FINDING_RULE, c->severity, node, TALLY_NONE, 0, v->key,
                         expected, actual, d, &b);
    }
done:
    free(L);
    free(Rv);
    free(llo);
    free(lhi);
    free(rlo);
    free(rhi);
    return rc;
}

/* completeness: every region at the level, for each period at which some
 * region at that level filed the indicator. */
static int check_completeness(run *R, const prepared *P, const view *v, size_t *expect,
                              size_t *got)
{
    const tally_check_def *c = P->def;
    tally_check_summary *s = &R->f->checks[P->ord];
    size_t n = R->n;
    const char *level_name = tally_hierarchy_level_name(R->h, P->level);
    for (size_t k = 0; k < c->indicator_count; k++) {
        size_t i = c->indicators[k];
        const tally_column *col = i < R->m ? tally_dataset__find_column(R->ds, i, v->key) : NULL;
        if (!col)
            continue;
        int any = 0;
        for (size_t node = 0; node < n && !any; node++)
            any = tally_hierarchy_level(R->h, node) == P->level && tally_bit__get(col->valid, node);
        if (!any)
            continue;
        /* Reporting rate per parent; roots count under "the hierarchy". */
        for (size_t node = 0; node <= n; node++)
            expect[node] = got[node] = 0;
        for (size_t node = 0; node < n; node++) {
            if (tally_hierarchy_level(R->h, node) != P->level)
                continue;
            size_t p = R->parent[node] == TALLY_HIERARCHY__ROOT ? n : R->parent[node];
            expect[p]++;
            got[p] += (size_t)tally_bit__get(col->valid, node);
        }
        const char *name = tally_definitions_name(R->d, i);
        for (size_t node = 0; node < n; node++) {
            if (tally_hierarchy_level(R->h, node) != P->level)
                continue;
            s->items++;
            if (tally_bit__get(col->valid, node)) {
                s->passes++;
                continue;
            }
            s->fails++;
            size_t p = R->parent[node] == TALLY_HIERARCHY__ROOT ? n : R->parent[node];
            sb b = { 0 };
            prefix(&b, R, node, v->key);
            sb_printf(&b, "%s not reported (%s); %zu of %zu regions at level %s ", name,
                      tally_bit__get(col->seen, node) ? "the value was left empty"
                                                      : "no record",
                      got[p], expect[p], level_name);
            if (p < n)
                sb_printf(&b, "under %s ", tally_hierarchy_name(R->h, p));
            sb_str(&b, "reported it (");
            sb_num(&b, (double)got[p] / (double)expect[p] * 100.0, 2);
            sb_str(&b, " %)");
            int rc = add_finding(R, P->ord, TALLY_FINDING_COMPLETENESS, c->severity, node, i, k,
                                 v->key, NAN, NAN, tally_definitions_decimals(R->d, i), &b);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* The modified z-score's constant: 0.6745 is the 0.75 quantile of the
 * standard normal, so M is in standard deviations for normal data
 * (Iglewicz and Hoaglin). */
#define MODIFIED_Z 0.6745

/* outliers among siblings, and jumps from the previous period. */
static int check_outliers(run *R, const prepared *P, const view *v, const view *prev,
                          double *xs, double *tmp, size_t *ids)
{
    const tally_check_def *c = P->def;
    tally_check_summary *s = &R->f->checks[P->ord];
    size_t n = R->n;
    double thr = isnan(c->threshold) ? 3.5 : c->threshold;
    for (size_t k = 0; k < c->indicator_count; k++) {
        size_t i = c->indicators[k];
        if (i >= R->m)
            continue;
        const char *name = tally_definitions_name(R->d, i);
        int dec = tally_definitions_decimals(R->d, i);
        for (size_t p = 0; p < n; p++) {
            size_t cnt = 0, partial = 0;
            for (size_t ch = p + 1; ch < R->end[p]; ch = R->end[ch]) {
                if (!tally_bit__get(v->sub[i], ch) || isnan(v->val[i][ch]))
                    continue;
                /* A sum with regions missing is low for that reason. */
                if (v->cov[i][ch] != COV_OWN && v->cov[i][ch] != COV_FULL) {
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
                int d = finding_decimals(dec, xs[j] - med);
                int dm = exact_decimals(med, dec, dec + 3);
                if (dm > d)
                    d = dm;
                sb b = { 0 };
                prefix(&b, R, ids[j], v->key);
                sb_printf(&b, "%s ", name);
                sb_num(&b, xs[j], finding_decimals(dec, xs[j] - med));
                sb_printf(&b, " stands out among the %zu regions under %s (median ", cnt,
                          tally_hierarchy_name(R->h, p));
                sb_num(&b, med, d);
                sb_str(&b, ", median absolute deviation ");
                sb_num(&b, mad, exact_decimals(mad, d, d + 3));
                sb_str(&b, ", modified z-score ");
                sb_num(&b, z, 2);
                sb_str(&b, " beyond ");
                sb_num(&b, thr, exact_decimals(thr, 0, 3));
                sb_str(&b, ")");
                int rc = add_finding(R, P->ord, TALLY_FINDING_OUTLIER, c->severity, ids[j], i, k,
                                     v->key, med, xs[j], d, &b);
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
            int whole_x = cx == COV_OWN || cx == COV_FULL;
            int whole_y = cy == COV_OWN || cy == COV_FULL;
            int comparable = (whole_x && whole_y) || (cx == COV_PART && cy == COV_PART &&
                                                      v->sig[i][node] == prev->sig[i][node]);
            /* A ratio needs two positive numbers; from or to zero is not a
             * ratio (monthly flows are zero in many months). */
            if (!comparable || isnan(x) || isnan(y) || x <= 0 || y <= 0) {
                s->missing++;
                continue;
            }
            double ratio = x > y ? x / y : y / x;
            if (!(ratio > c->jump_max_ratio + slack(ratio, c->jump_max_ratio, 0, 0))) {
                s->passes++;
                continue;
            }
            s->fails++;
            int d = finding_decimals(dec, x - y);
            sb b = { 0 };
            prefix(&b, R, node, v->key);
            sb_printf(&b, "%s went from ", name);
            sb_num(&b, y, d);
            sb_printf(&b, " in %s to ", prev_text);
            sb_num(&b, x, d);
            sb_printf(&b, ", %s by a factor of ", x > y ? "up" : "down");
            sb_num(&b, ratio, finding_decimals(2, ratio - c->jump_max_ratio));
            sb_str(&b, ", more than ");
            sb_num(&b, c->jump_max_ratio, exact_decimals(c->jump_max_ratio, 0, 3));
            int rc = add_finding(R, P->ord, TALLY_FINDING_JUMP, c->severity, node, i, k, v->key,
                                 y, x, d, &b);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* bounds: every value filed for this period against min: / max:. A value
 * that is not exact stands for half a unit around it: it is out of bounds
 * only when all of that interval is. */
static int check_bounds(run *R, size_t ord, int32_t key)
{
    tally_check_summary *s = &R->f->checks[ord];
    for (size_t i = 0; i < R->m; i++) {
        double mn = tally_definitions_min(R->d, i), mx = tally_definitions_max(R->d, i);
        if (isnan(mn) && isnan(mx))
            continue;
        const tally_column *col = tally_dataset__find_column(R->ds, i, key);
        if (!col)
            continue;
        double u = R->half[i];
        int dec = tally_definitions_decimals(R->d, i);
        for (size_t node = 0; node < R->n; node++) {
            if (!tally_bit__get(col->valid, node))
                continue;
            s->items++;
            double x = tally_column__get(col, node);
            int below = !isnan(mn) && x + u < mn - slack(x, mn, 0, 0);
            int above = !isnan(mx) && x - u > mx + slack(x, mx, 0, 0);
            if (!below && !above) {
                s->passes++;
                continue;
            }
            s->fails++;
            double limit = below ? mn : mx;
            int d = finding_decimals(dec, x - limit);
            sb b = { 0 };
            prefix(&b, R, node, key);
            sb_printf(&b, "%s reported ", tally_definitions_name(R->d, i));
            sb_num(&b, x, d);
            sb_str(&b, below ? ", below its minimum " : ", above its maximum ");
            sb_num(&b, limit, d);
            int rc = add_finding(R, ord, TALLY_FINDING_BOUNDS, TALLY_FINDING_ERROR, node, i, i,
                                 key, limit, x, d, &b);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* x cut (not rounded) to `d` decimals, and rounded half away from zero;
 * a scaled value within a few ulps of an integer counts as that integer. */
static void cut_and_round(double x, int d, double *cut, double *rounded)
{
    double p = pow(10.0, d), a = fabs(x) * p;
    double near = nearbyint(a);
    if (fabs(a - near) <= 8 * DBL_EPSILON * fmax(1.0, a))
        a = near;
    double t = floor(a), r = floor(a + 0.5);
    *cut = copysign(t / p, x);
    *rounded = copysign(r / p, x);
}

/* recomputed: every value filed for a formula indicator against the
 * formula over the region's figures, over intervals (see the header). */
static int check_recomputed(run *R, size_t ord, const view *v, double *fv, double *flo,
                            double *fhi)
{
    tally_check_summary *s = &R->f->checks[ord];
    size_t n = R->n;
    for (size_t f = 0; f < R->m; f++) {
        if (tally_definitions_aggregate(R->d, f) != TALLY_AGGREGATE_FORMULA)
            continue;
        const tally_column *col = tally_dataset__find_column(R->ds, f, v->key);
        if (!col)
            continue;
        const tally_expr *e = tally_definitions__program(R->d, f);
        if (tally_expr__eval(e, (const double *const *)v->val, n, fv) ||
            tally_expr__eval_interval(e, (const double *const *)v->lo,
                                      (const double *const *)v->hi, n, flo, fhi))
            return tally_error__set(TALLY_ENOMEM, "out of memory checking");
        int d = tally_definitions_decimals(R->d, f);
        double u = 0.5 * pow(10.0, -d);
        const char *name = tally_definitions_name(R->d, f);
        const char *formula = tally_definitions_formula(R->d, f);
        for (size_t node = 0; node < n; node++) {
            if (!tally_bit__get(col->valid, node))
                continue;
            s->items++;
            double r = tally_column__get(col, node), x = fv[node], lo = flo[node], hi = fhi[node];
            /* The region's value stands for its whole area: operands
             * computed from an incomplete set of regions cannot judge it. */
            uint64_t sig;
            if (isnan(x) || cov_combine(v, e, node, 1, &sig) == COV_MIXED) {
                s->missing++;
                continue;
            }
            double sl = slack(r, x, lo, hi);
            if (fabs(r - x) <= u + sl) {
                s->passes++;
                continue;
            }
            int bounded = !isnan(lo) && !isnan(hi);
            int error = bounded && (r + u < lo - sl || r - u > hi + sl);
            if (error)
                s->fails++;
            else
                s->warnings++;
            int dd = finding_decimals(d, r - x);
            int wide = dd + 2 > 15 ? 15 : dd + 2;
            sb b = { 0 };
            prefix(&b, R, node, v->key);
            sb_printf(&b, "%s reported ", name);
            sb_num(&b, r, dd);
            sb_str(&b, " but ");
            describe(&b, R->d, formula, strlen(formula), NULL, 0);
            sb_str(&b, " = ");
            describe(&b, R->d, formula, strlen(formula), v->val, node);
            sb_str(&b, " = ");
            sb_num(&b, x, dd);
            if (!error) {
                sb_str(&b, ", explained only by the rounding of the operands");
                if (bounded) {
                    sb_str(&b, " (which allows ");
                    sb_num(&b, lo, wide);
                    sb_str(&b, " to ");
                    sb_num(&b, hi, wide);
                    sb_str(&b, ")");
                }
            } else if (lo != hi) {
                sb_str(&b, ", beyond what the rounding of the operands allows (");
                sb_num(&b, lo, wide);
                sb_str(&b, " to ");
                sb_num(&b, hi, wide);
                sb_str(&b, ")");
            }
            double cut, rounded;
            cut_and_round(x, d, &cut, &rounded);
            if (fabs(r - cut) <= sl + u * 1e-6 && fabs(r - rounded) > sl + u * 1e-6) {
                sb_str(&b, "; ");
                sb_num(&b, r, d);
                sb_str(&b, " is ");
                sb_num(&b, x, wide);
                sb_str(&b, " truncated instead of rounded (");
                sb_num(&b, rounded, d);
                sb_str(&b, ")");
            }
            int rc = add_finding(R, ord, TALLY_FINDING_RECOMPUTED,
                                 error ? TALLY_FINDING_ERROR : TALLY_FINDING_WARNING, node, f, f,
                                 v->key, x, r, dd, &b);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* Is period `key` inside one of the periods asked for (all, when none)? */
static int period_wanted(const run *R, int32_t key)
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
static int check_monotonic(run *R, size_t ord)
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
                    if (!tally_bit__get(c->valid, node))
                        continue;
                    if (last && tally_period__year(last->period) == tally_period__year(c->period) &&
                        period_wanted(R, c->period)) {
                        double x = tally_column__get(c, node), y = tally_column__get(last, node);
                        s->items++;
                        if (x >= y - slack(x, y, 0, 0)) {
                            s->passes++;
                        } else {
                            s->fails++;
                            char prev_text[TALLY_PERIOD_TEXT_MAX];
                            tally_period__format(last->period, prev_text);
                            int d = finding_decimals(dec, x - y);
                            sb b = { 0 };
                            prefix(&b, R, node, c->period);
                            sb_printf(&b, "%s, a year-to-date figure, fell from ", name);
                            sb_num(&b, y, d);
                            sb_printf(&b, " in %s to ", prev_text);
                            sb_num(&b, x, d);
                            sb_str(&b, "; it cannot decrease within a year");
                            rc = add_finding(R, ord, TALLY_FINDING_MONOTONIC, TALLY_FINDING_ERROR,
                                             node, i, i, c->period, y, x, d, &b);
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

/* targets: the decomposition findings of the target set, and the number of
 * comparisons they come from (in the years checked and the years of the
 * findings). */
static int check_targets(run *R, size_t ord, const tally_targets *t)
{
    tally_check_summary *s = &R->f->checks[ord];
    tally_target_findings *tf = NULL;
    int rc = tally_targets_decomposition(&tf, t);
    if (rc)
        return rc;
    size_t nt = tally_target_findings_count(tf), n = R->n;
    /* Years: those of the periods checked and of the findings. */
    int *years = malloc((R->nper + nt + 1) * sizeof *years);
    double *eff = malloc((n ? n : 1) * sizeof *eff);
    if (!years || !eff) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    size_t ny = 0;
    for (size_t k = 0; k < R->nper + nt; k++) {
        int y = k < R->nper ? tally_period__year(R->periods[k])
                            : tally_target_findings_year(tf, k - R->nper);
        int dup = 0;
        for (size_t j = 0; j < ny && !dup; j++)
            dup = years[j] == y;
        if (!dup)
            years[ny++] = y;
    }
    for (size_t i = 0; i < R->m; i++) {
        int agg = tally_definitions_aggregate(R->d, i);
        if (agg != TALLY_AGGREGATE_SUM && agg != TALLY_AGGREGATE_COUNT)
            continue;
        for (size_t k = 0; k < ny; k++) {
            if (!tally_targets_has(t, i, years[k]))
                continue;
            int r = tally_targets_effective(t, i, years[k], eff, n);
            if (r < 0) {
                rc = r;
                goto done;
            }
            for (size_t node = 0; node < n; node++) {
                double given;
                int present;
                tally_targets_given(t, node, i, years[k], &given, &present);
                if (!present)
                    continue;
                int child = 0;
                for (size_t c = node + 1; c < R->end[node] && !child; c = R->end[c])
                    child = !isnan(eff[c]);
                s->items += (size_t)child;
            }
        }
    }
    s->fails = nt;
    s->passes = s->items >= nt ? s->items - nt : 0;
    for (size_t k = 0; k < nt && !rc; k++) {
        size_t node = tally_target_findings_node(tf, k), i = tally_target_findings_indicator(tf, k);
        int year = tally_target_findings_year(tf, k);
        double target = tally_target_findings_target(tf, k);
        double sum = tally_target_findings_children_sum(tf, k);
        size_t with = tally_target_findings_children_with_target(tf, k);
        size_t children = tally_target_findings_children(tf, k);
        int ceiling = tally_definitions_direction(R->d, i) == TALLY_DIRECTION_LOWER_IS_BETTER;
        int d = finding_decimals(tally_definitions_decimals(R->d, i), sum - target);
        /* Target years are 1000..9999 (the targets reader refuses others),
         * so the year always parses as a period. */
        int32_t key = 0;
        char ytext[16];
        snprintf(ytext, sizeof ytext, "%04d", year);
        tally_period__parse(ytext, strlen(ytext), &key);
        sb b = { 0 };
        prefix(&b, R, node, key);
        sb_printf(&b, "the targets for %s of %zu of its %zu regions below add up to ",
                  tally_definitions_name(R->d, i), with, children);
        sb_num(&b, sum, d);
        sb_str(&b, ceiling ? ", above its own ceiling " : ", short of its own target ");
        sb_num(&b, target, d);
        rc = add_finding(R, ord, TALLY_FINDING_TARGETS, TALLY_FINDING_ERROR, node, i, i, key,
                         target, sum, d, &b);
    }
done:
    free(years);
    free(eff);
    tally_target_findings_free(tf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The run                                                            */
/* ------------------------------------------------------------------ */

static int by_time(const void *a, const void *b)
{
    return tally_period__compare(*(const int32_t *)a, *(const int32_t *)b);
}

static int finding_order(const void *a, const void *b)
{
    const finding *x = a, *y = b;
    if (x->check != y->check)
        return x->check < y->check ? -1 : 1;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    int c = tally_period__compare(x->period, y->period);
    if (c)
        return c;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

TALLY_EXTERN(void) tally_findings_free(tally_findings *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++)
        free(f->items[i].message);
    free(f->items);
    free(f->checks);
    free(f);
}

static int have_period(const run *R, int32_t key)
{
    size_t ncols = tally_dataset__column_count(R->ds);
    for (size_t j = 0; j < ncols; j++)
        if (tally_dataset__column(R->ds, j)->period == key)
            return 1;
    return 0;
}

static int add_summary(tally_findings *F, const char *id, int kind, int severity)
{
    tally_check_summary *s = &F->checks[F->check_count++];
    memset(s, 0, sizeof *s);
    s->check = id;
    s->kind = kind;
    s->severity = severity;
    return (int)(F->check_count - 1);
}

int tally_check__run_defs(tally_findings **out, const tally_dataset *ds,
                          const tally_check_options *opts, const tally_check_def *defs,
                          size_t ndefs)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "tally_check_run: NULL output");
    *out = NULL;
    tally_check_options defaults = TALLY_CHECK_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!ds)
        return tally_error__set(TALLY_EINVAL, "tally_check_run: NULL dataset");
    if (opts->version < 1 || opts->version > TALLY_CHECK_OPTIONS_VERSION)
        return tally_error__set(TALLY_EINVAL, "tally_check_run: options version %u; expected %d",
                                opts->version, TALLY_CHECK_OPTIONS_VERSION);
    if (opts->prefer != TALLY_PREFER_COMPUTED && opts->prefer != TALLY_PREFER_REPORTED)
        return tally_error__set(TALLY_EINVAL, "tally_check_run: unknown prefer %d; expected "
                                              "TALLY_PREFER_COMPUTED or TALLY_PREFER_REPORTED",
                                opts->prefer);

    run R;
    memset(&R, 0, sizeof R);
    R.ds = ds;
    R.h = tally_dataset_hierarchy(ds);
    R.d = tally_dataset_definitions(ds);
    R.n = tally_hierarchy_size(R.h);
    R.m = tally_definitions_indicator_count(R.d);
    R.parent = tally_hierarchy__parents(R.h);
    R.prefer = opts->prefer;
    size_t n = R.n, m = R.m, nn = n ? n : 1;
    int rc = 0;
    prepared *prep = calloc(ndefs ? ndefs : 1, sizeof *prep);
    view cur, prev, extra;
    memset(&cur, 0, sizeof cur);
    memset(&prev, 0, sizeof prev);
    memset(&extra, 0, sizeof extra);
    double *b1 = malloc((nn + 1) * sizeof *b1), *b2 = malloc((nn + 1) * sizeof *b2),
           *b3 = malloc((nn + 1) * sizeof *b3);
    size_t *s1 = malloc((nn + 1) * sizeof *s1), *s2 = malloc((nn + 1) * sizeof *s2);
    R.f = calloc(1, sizeof *R.f);
    R.end = malloc(nn * sizeof *R.end);
    R.half = malloc((m ? m : 1) * sizeof *R.half);
    if (!prep || !b1 || !b2 || !b3 || !s1 || !s2 || !R.f || !R.end || !R.half) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    R.f->h = R.h;
    R.f->d = R.d;
    R.f->checks = calloc(ndefs + 4, sizeof *R.f->checks);
    if (!R.f->checks) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        R.end[i] = tally_hierarchy_subtree_end(R.h, i);
    for (size_t i = 0; i < m; i++)
        R.half[i] = tally_definitions_exact(R.d, i) == 1
                        ? 0
                        : 0.5 * pow(10.0, -tally_definitions_decimals(R.d, i));

    /* Periods: as asked, or every period filed, in time order. */
    size_t ncols = tally_dataset__column_count(ds);
    size_t cap = opts->periods && opts->period_count ? opts->period_count : ncols;
    R.periods = malloc((cap ? cap : 1) * sizeof *R.periods);
    if (!R.periods) {
        rc = tally_error__set(TALLY_ENOMEM, "out of memory checking");
        goto done;
    }
    if (opts->periods && opts->period_count) {
        R.explicit_periods = 1;
        for (size_t k = 0; k < opts->period_count; k++) {
            const char *p = opts->periods[k];
            int32_t key;
            if (!p || tally_period__parse(p, strlen(p), &key)) {
                rc = tally_error__set(TALLY_EPARSE,
                                      "bad period '%s'; expected YYYY-MM, YYYY-Qn or YYYY",
                                      p ? p : "(null)");
                goto done;
            }
            int dup = 0;
            for (size_t j = 0; j < R.nper && !dup; j++)
                dup = R.periods[j] == key;
            if (!dup)
                R.periods[R.nper++] = key;
        }
    } else {
        for (size_t k = 0; k < ncols; k++) {
            int32_t key = tally_dataset__column(ds, k)->period;
            int dup = 0;
            for (size_t j = 0; j < R.nper && !dup; j++)
                dup = R.periods[j] == key;
            if (!dup)
                R.periods[R.nper++] = key;
        }
    }
    qsort(R.periods, R.nper, sizeof *R.periods, by_time);

    /* The checks, prepared. */
    int need_prev = 0;
    for (size_t k = 0; k < ndefs; k++) {
        const tally_check_def *c = &defs[k];
        prepared *P = &prep[k];
        P->def = c;
        P->level = -1;
        P->ord = (size_t)add_summary(R.f, c->id, c->kind, c->severity);
        for (size_t j = 0; j < c->indicator_count; j++)
            if (c->indicators[j] >= m) {
                rc = tally_error__set(TALLY_EINVAL, "check '%s': indicator index %zu out of range",
                                      c->id, c->indicators[j]);
                goto done;
            }
        switch (c->kind) {
        case TALLY_CHECK_RULE:
            if (!c->rule || !c->rule_text) {
                rc = tally_error__set(TALLY_EINVAL, "check '%s': a rule check without a rule",
                                      c->id);
                goto done;
            }
            rc = tally_expr__split_comparison(c->rule, &P->left, &P->op, &P->right);
            if (rc == TALLY_ENOMEM) {
                rc = tally_error__set(rc, "out of memory checking");
                goto done;
            }
            rc = 0;
            if (P->left && !split_text(c->rule_text, strlen(c->rule_text), &P->op_at, &P->op_len)) {
                /* Cannot happen for a compiled comparison; keep the rule
                 * evaluable as a whole. */
                tally_expr__free(P->left);
                tally_expr__free(P->right);
                P->left = P->right = NULL;
            }
            tally_error_clear();
            break;
        case TALLY_CHECK_COMPLETENESS:
            P->level = c->level ? tally_hierarchy_level_find(R.h, c->level) : -1;
            if (P->level < 0) {
                rc = tally_error__set(TALLY_EINVAL,
                                      "check '%s' (line %lu, column %lu): level '%s' is not a "
                                      "level of the hierarchy",
                                      c->id, c->line, c->column, c->level ? c->level : "(none)");
                goto done;
            }
            break;
        case TALLY_CHECK_OUTLIERS:
            need_prev |= !isnan(c->jump_max_ratio);
            break;
        default: break;
        }
    }
    int has_bounds = 0, has_formula = 0, has_cumulative = 0;
    for (size_t i = 0; i < m; i++) {
        has_bounds |= !isnan(tally_definitions_min(R.d, i)) ||
                      !isnan(tally_definitions_max(R.d, i));
        int agg = tally_definitions_aggregate(R.d, i);
        has_formula |= agg == TALLY_AGGREGATE_FORMULA;
        has_cumulative |= agg != TALLY_AGGREGATE_FORMULA &&
                          tally_definitions_over_time(R.d, i) == TALLY_OVER_TIME_CUMULATIVE;
    }
    int ord_bounds = has_bounds ? add_summary(R.f, "bounds", TALLY_FINDING_BOUNDS,
                                              TALLY_FINDING_ERROR)
                                : -1;
    int ord_recomputed = has_formula ? add_summary(R.f, "recomputed", TALLY_FINDING_RECOMPUTED,
                                                   TALLY_FINDING_ERROR)
                                     : -1;
    int ord_monotonic = has_cumulative ? add_summary(R.f, "monotonic", TALLY_FINDING_MONOTONIC,
                                                     TALLY_FINDING_ERROR)
                                       : -1;
    int ord_targets = opts->targets ? add_summary(R.f, "targets", TALLY_FINDING_TARGETS,
                                                  TALLY_FINDING_ERROR)
                                    : -1;

    for (size_t p = 0; p < R.nper && !rc; p++) {
        int32_t key = R.periods[p];
        rc = view_compute(&R, &cur, key);
        if (rc)
            break;
        const view *pv = NULL;
        if (need_prev) {
            int32_t before = tally_period__previous(key);
            if (prev.ready && prev.key == before) {
                pv = &prev;
            } else if (have_period(&R, before)) {
                rc = view_compute(&R, &extra, before);
                if (rc)
                    break;
                pv = &extra;
            }
        }
        for (size_t k = 0; k < ndefs && !rc; k++) {
            const prepared *P = &prep[k];
            switch (P->def->kind) {
            case TALLY_CHECK_HIERARCHY: rc = check_hierarchy(&R, P, &cur); break;
            case TALLY_CHECK_RULE: rc = check_rule(&R, P, &cur); break;
            case TALLY_CHECK_COMPLETENESS: rc = check_completeness(&R, P, &cur, s1, s2); break;
            case TALLY_CHECK_OUTLIERS: rc = check_outliers(&R, P, &cur, pv, b1, b2, s1); break;
            default: break;
            }
        }
        if (!rc && ord_bounds >= 0)
            rc = check_bounds(&R, (size_t)ord_bounds, key);
        if (!rc && ord_recomputed >= 0)
            rc = check_recomputed(&R, (size_t)ord_recomputed, &cur, b1, b2, b3);
        view_free(&extra, m);
        view_free(&prev, m);
        if (need_prev) {
            prev = cur;
            memset(&cur, 0, sizeof cur);
        } else {
            view_free(&cur, m);
        }
    }
    if (!rc && ord_monotonic >= 0)
        rc = check_monotonic(&R, (size_t)ord_monotonic);
    if (!rc && ord_targets >= 0)
        rc = check_targets(&R, (size_t)ord_targets, opts->targets);
    if (!rc && R.f->count > 1)
        qsort(R.f->items, R.f->count, sizeof *R.f->items, finding_order);

done:
    view_free(&cur, m);
    view_free(&prev, m);
    view_free(&extra, m);
    for (size_t k = 0; prep && k < ndefs; k++) {
        tally_expr__free(prep[k].left);
        tally_expr__free(prep[k].right);
    }
    free(prep);
    free(b1);
    free(b2);
    free(b3);
    free(s1);
    free(s2);
    free(R.end);
    free(R.half);
    free(R.periods);
    if (rc) {
        tally_findings_free(R.f);
        return rc;
    }
    *out = R.f;
    return 0;
}

TALLY_EXTERN(int) tally_check_run(tally_findings **out, const tally_dataset *ds,
                                  const tally_check_options *opts)
{
    const tally_check_def *defs = NULL;
    size_t n = ds ? tally_definitions__checks(tally_dataset_definitions(ds), &defs) : 0;
    return tally_check__run_defs(out, ds, opts, defs, n);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                          */
/* ------------------------------------------------------------------ */

#define FINDING(f, i) ((f) && (i) < (f)->count ? &(f)->items[i] : NULL)

TALLY_EXTERN(size_t) tally_findings_count(const tally_findings *f) { return f ? f->count : 0; }

TALLY_EXTERN(size_t) tally_findings_error_count(const tally_findings *f)
{
    return f ? f->errors : 0;
}

TALLY_EXTERN(const char *) tally_findings_check(const tally_findings *f, size_t i)
{
    const finding *x = FINDING(f, i);
    return x ? f->checks[x->check].check : NULL;
}

TALLY_EXTERN(int) tally_findings_kind(const tally_findings *f, size_t i)
{
    const finding *x = FINDING(f, i);
    return x ? x->kind : -1;
}

TALLY_EXTERN(int) tally_findings_severity(const tally_findings *f, size_t i)
{
    const finding *x = FINDING(f, i);
    return x ? x->severity : -1;
}

TALLY_EXTERN(size_t) tally_findings_node(const tally_findings *f, size_t i)
{
    const finding *x = FINDING(f, i);
    return x ? x->node : TALLY_NONE;
}

TALLY_EXTERN(size_t) tally_findings_indicator(const tally_findings *f, size_t i)
{
    const finding *x = FINDING(f, i);
    return x ? x->indicator : TALLY_NONE;
}

TALLY_EXTERN(const char *) tally_findings_period(const tally_findings *f, size_t i)
{
    const finding *x = FINDING(f, i);
    return x ? x->period_text : NULL;
}

TALLY_EXTERN(double) tally_findings_expected(const tally_findings *f, size_t i)
{
    const finding *x = FINDING(f, i);
    return x ? x->expected : NAN;
}

TALLY_EXTERN(double) tally_findings_actual(const tally_findings *f, size_t i)
{
    const finding *x = FINDING(f, i);
    return x ? x->actual : NAN;
}

TALLY_EXTERN(double) tally_findings_difference(const tally_findings *f, size_t i)
{
    const finding *x = FINDING(f, i);
    return x ? x->difference : NAN;
}

TALLY_EXTERN(int) tally_findings_decimals(const tally_findings *f, size_t i)
{
    const finding *x = FINDING(f, i);
    return x ? x->decimals : -1;
}

TALLY_EXTERN(const char *) tally_findings_message(const tally_findings *f, size_t i)
{
    const finding *x = FINDING(f, i);
    return x ? x->message : NULL;
}

TALLY_EXTERN(size_t) tally_findings_check_count(const tally_findings *f)
{
    return f ? f->check_count : 0;
}

TALLY_EXTERN(int) tally_findings_summary(const tally_findings *f, size_t k,
                                         tally_check_summary *out)
{
    if (!f || !out || k >= f->check_count)
        return tally_error__set(TALLY_EINVAL, "tally_findings_summary: check %zu out of range", k);
    *out = f->checks[k];
    return 0;
}

/* ------------------------------------------------------------------ */
/* Writing                                                            */
/* ------------------------------------------------------------------ */

static void put_csv(sb *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        sb_str(b, s);
        return;
    }
    sb_put(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            sb_put(b, "\"", 1);
        sb_put(b, p, 1);
    }
    sb_put(b, "\"", 1);
}

static void put_json(sb *b, const char *s)
{
    if (!s) {
        sb_str(b, "null");
        return;
    }
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = { '\\', (char)*p };
            sb_put(b, esc, 2);
        } else if (*p < 0x20) {
            sb_printf(b, "\\u%04x", *p);
        } else {
            sb_put(b, (const char *)p, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static void put_num(sb *b, double v, int decimals, int json)
{
    if (isnan(v)) {
        if (json)
            sb_str(b, "null");
        return;
    }
    sb_num(b, v, decimals);
}

TALLY_EXTERN(int) tally_findings_write(const tally_findings *f, const char *path,
                                       const tally_write_options *opts)
{
    tally_write_options defaults = TALLY_WRITE_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!f)
        return tally_error__set(TALLY_EINVAL, "tally_findings_write: NULL findings");
    int json = opts->format == TALLY_FORMAT_JSON;
    FILE *out = path ? fopen(path, "w") : stdout;
    if (!out)
        return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot open for writing");
    static const char *const severity_names[] = { "error", "warning" };
    sb b = { 0 };
    int failed = 0, first = 1;
    sb_str(&b, json ? "[" : "check,severity,region_code,region_name,period,indicator,expected,"
                            "actual,difference,message\n");
    for (size_t i = 0; i < f->count && !b.failed; i++) {
        const finding *x = &f->items[i];
        int level = tally_hierarchy_level(f->h, x->node);
        if (opts->levels && opts->level_count) {
            int want = 0;
            for (size_t k = 0; k < opts->level_count && !want; k++)
                want = opts->levels[k] == level;
            if (!want)
                continue;
        }
        char code_buf[TALLY_HIERARCHY__CODE_BUF];
        const char *check = f->checks[x->check].check;
        const char *sev = severity_names[x->severity == TALLY_FINDING_WARNING];
        const char *ind =
            x->indicator == TALLY_NONE ? NULL : tally_definitions_id(f->d, x->indicator);
        if (json) {
            sb_str(&b, first ? "\n{\"check\":" : ",\n{\"check\":");
            put_json(&b, check);
            sb_str(&b, ",\"severity\":");
            put_json(&b, sev);
            sb_str(&b, ",\"region_code\":");
            put_json(&b, tally_hierarchy__code_text(f->h, x->node, code_buf));
            sb_str(&b, ",\"region_name\":");
            put_json(&b, tally_hierarchy_name(f->h, x->node));
            sb_str(&b, ",\"period\":");
            put_json(&b, x->period_text);
            sb_str(&b, ",\"indicator\":");
            put_json(&b, ind);
            sb_str(&b, ",\"expected\":");
            put_num(&b, x->expected, x->decimals, 1);
            sb_str(&b, ",\"actual\":");
            put_num(&b, x->actual, x->decimals, 1);
            sb_str(&b, ",\"difference\":");
            put_num(&b, x->difference, x->decimals, 1);
            sb_str(&b, ",\"message\":");
            put_json(&b, x->message);
            sb_str(&b, "}");
        } else {
            put_csv(&b, check);
            sb_printf(&b, ",%s,", sev);
            put_csv(&b, tally_hierarchy__code_text(f->h, x->node, code_buf));
            sb_str(&b, ",");
            put_csv(&b, tally_hierarchy_name(f->h, x->node));
            sb_printf(&b, ",%s,", x->period_text);
            put_csv(&b, ind ? ind : "");
            sb_str(&b, ",");
            put_num(&b, x->expected, x->decimals, 0);
            sb_str(&b, ",");
            put_num(&b, x->actual, x->decimals, 0);
            sb_str(&b, ",");
            put_num(&b, x->difference, x->decimals, 0);
            sb_str(&b, ",");
            put_csv(&b, x->message);
            sb_str(&b, "\n");
        }
        first = 0;
        if (b.len >= (1u << 16)) {
            failed |= fwrite(b.p, 1, b.len, out) != b.len;
            b.len = 0;
        }
    }
    if (json)
        sb_str(&b, first ? "]\n" : "\n]\n");
    int nomem = b.failed;
    if (!nomem && b.len)
        failed |= fwrite(b.p, 1, b.len, out) != b.len;
    free(b.p);
    failed |= ferror(out) != 0;
    if (path)
        failed |= fclose(out) != 0;
    else
        failed |= fflush(out) != 0;
    if (nomem)
        return tally_error__set(TALLY_ENOMEM, "out of memory writing findings");
    if (failed)
        return tally_error__set_at(TALLY_EIO, path ? path : "<stdout>", 0, 0, NULL, 0,
                                   "cannot write the findings");
    return 0;
}
