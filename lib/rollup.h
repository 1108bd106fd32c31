/* Internal: rollup pieces shared with later computations (completion,
 * checks), which need a node's value over arbitrary month spans. */
#ifndef TALLY_LIB_ROLLUP_H
#define TALLY_LIB_ROLLUP_H

#include <math.h>
#include <stdint.h>

#include "tally/rollup.h"
#include "hierarchy.h"

/* The nodes a rollup works on, in pre-order: every node of the hierarchy,
 * or, for data filed by the regions [lo, hi) of a larger hierarchy, those
 * regions and the ancestors of lo before it (the regions that have data
 * below them, and their ancestors: a county's villages and the county, its
 * city and its province). Every node outside has nothing at or below it,
 * so its value is missing. Node j of the set (0 <= j < n) is anc[j] for
 * j < na, else lo + j - na; parent[j] is the set's index of its parent
 * (TALLY_HIERARCHY__ROOT for a root), which is always in the set. */
typedef struct tally_rollup__nodes {
    size_t n, lo, hi, na;
    const uint32_t *parent;
    size_t *anc;
    uint32_t *parents; /* parent, when made for the set (freed with it) */
    unsigned char *has; /* by indicator: 1 when the dataset has a column of it
                         * (tally_rollup__nodes_of), else NULL: not known */
    int all;           /* every node of the hierarchy: j is node j */
    /* The dataset's columns by indicator (tally_rollup__nodes_of, else
     * NULL): those of indicator i are icol[istart[i] .. istart[i + 1]), in
     * the order of their first months, so that a span's columns are found
     * without a scan of every column. */
    const struct tally_column **icol;
    size_t *istart;
    int borrowed; /* the arrays are another set's: nothing is freed */
} tally_rollup__nodes;

/* The hierarchy node of the set's node j. */
static inline size_t tally_rollup__node(const tally_rollup__nodes *s, size_t j)
{
    return j < s->na ? s->anc[j] : s->lo + (j - s->na);
}

/* The set's index of hierarchy node `node`, or TALLY_NONE when it is not
 * in the set (its value is missing). */
static inline size_t tally_rollup__index(const tally_rollup__nodes *s, size_t node)
{
    if (node - s->lo < s->hi - s->lo)
        return s->na + (node - s->lo);
    for (size_t k = 0; k < s->na; k++)
        if (s->anc[k] == node)
            return k;
    return TALLY_NONE;
}

/* A result's column as it is held: values[j] is node j of the set S. */
typedef struct tally_rollup__col {
    const tally_rollup__nodes *S;
    const double *values;
} tally_rollup__col;

/* The value of hierarchy node `node` in a column held so (NaN: missing). */
static inline double tally_rollup__at(const tally_rollup__col *c, size_t node)
{
    if (c->S->all)
        return c->values[node];
    size_t j = tally_rollup__index(c->S, node);
    return j == TALLY_NONE ? NAN : c->values[j];
}

/* Sorts the n period keys at p (by key) and drops repeats: the count
 * left. */
size_t tally_rollup__unique_periods(int32_t *p, size_t n);

/* With s->icol: the place in it of indicator ind's first column that
 * starts in absolute month `first` or later (s->istart[ind + 1] when
 * none does). */
size_t tally_rollup__first_column(const tally_rollup__nodes *s, size_t ind, int32_t first);

/* Every node of h. Nothing to free. */
void tally_rollup__nodes_all(tally_rollup__nodes *s, const tally_hierarchy *h);
/* The nodes of ds's cells and their ancestors (every node when they are
 * most of the hierarchy). 0 or TALLY_ENOMEM (recorded). */
int tally_rollup__nodes_of(tally_rollup__nodes *s, const tally_dataset *ds);
void tally_rollup__nodes_free(tally_rollup__nodes *s);

/* Fills own[node] (n nodes) with each node's own value for indicator `ind`
 * over the absolute months [first, last] by the time rule `over_time`
 * (rollup_time.c, and the table in README.md); NaN where the node filed
 * nothing there, or only a value older than the indicator's stale_after. */
int tally_rollup__own(const tally_dataset *ds, size_t ind, int over_time, int32_t first,
                      int32_t last, double *own);

/* What the time rule met at one node. */
enum {
    TALLY_ROLLUP__NOTE_CONFLICT = 1, /* two complete sources that disagree */
    TALLY_ROLLUP__NOTE_STALE = 2     /* a level older than stale_after, not carried */
};
typedef struct tally_rollup__note {
    int kind;
    size_t node, indicator;
    int32_t period; /* conflict: the coarser report's; stale: the report's */
    double coarse;  /* conflict: that report's figure; stale: the value */
    double fine;    /* conflict: what the finer reports give (the value used) */
    int32_t age;    /* stale: months from the report's end to the span's end */
} tally_rollup__note;
typedef void (*tally_rollup__note_fn)(void *ctx, const tally_rollup__note *note);

/* tally_rollup__own telling each conflict and stale value to note(ctx, ..)
 * (note may be NULL). */
int tally_rollup__own_notes(const tally_dataset *ds, size_t ind, int over_time, int32_t first,
                            int32_t last, double *own, tally_rollup__note_fn note,
                            void *note_ctx);
/* tally_rollup__own over the node set s: own has s->n values, own[j] that
 * of node j of the set (which holds every node with a cell). */
int tally_rollup__own_in(const tally_dataset *ds, const tally_rollup__nodes *s, size_t ind,
                         int over_time, int32_t first, int32_t last, double *own,
                         tally_rollup__note_fn note, void *note_ctx);

/* Computes every indicator over the absolute months [first, last]
 * (year * 12 + month - 1) as if that span were a period: time rules, then
 * aggregation by `prefer`, then formulas. out (required), reported and
 * computed (may be NULL) are arrays of one caller-allocated column of
 * tally_hierarchy_size() doubles per indicator; NaN is missing. This is how
 * a year-to-date value (January to the as-of month) is computed. */
int tally_rollup__span(const tally_dataset *ds, int32_t first, int32_t last, int prefer,
                       double **out, double **reported, double **computed);

/* The coverage of a formula at every node (rollup_coverage.c): how many
 * units (regions whose own value counts for some operand) are below or at
 * it, how many of them have every operand, and which nodes are units. */
typedef struct tally_rollup__cov {
    uint32_t *regions, *complete;
    uint64_t *unit;
    int32_t *as_of; /* stock and cumulative indicators, with coverage asked
                     * for: tally_rollup__as_of, else NULL */
} tally_rollup__cov;

void tally_rollup__cov_free(tally_rollup__cov *c);

/* Evaluates formula indicator f at every node into out[f] on matched
 * coverage: its reported operands aggregated over the complete units only
 * (out[] holds every operand's output column; own[v] the own values of
 * each reported operand v, before aggregation). The coverage goes into
 * *cov when not NULL (its old arrays freed). 0 or TALLY_ENOMEM (no error
 * recorded). */
int tally_rollup__formula(const tally_rollup__nodes *h, const tally_definitions *d, size_t f,
                          int prefer, double **out, const double *const *own,
                          tally_rollup__cov *cov);

/* tally_rollup__span also giving each formula's coverage: cov (may be
 * NULL) has one tally_rollup__cov per indicator, zeroed by the caller and
 * freed with tally_rollup__cov_free; those of indicators that are not
 * formulas stay empty. */
int tally_rollup__span_cov(const tally_dataset *ds, int32_t first, int32_t last, int prefer,
                           double **out, double **reported, double **computed,
                           tally_rollup__cov *cov);

/* tally_rollup__span_cov over the node set S: every column (out,
 * reported, computed) has S->n values, value j that of node j of the set;
 * cov, when not NULL, needs S to be every node. */
int tally_rollup__span_in(const tally_dataset *ds, const tally_rollup__nodes *S, int32_t first,
                          int32_t last, int prefer, double **out, double **reported,
                          double **computed, tally_rollup__cov *cov);

/* The absolute month (year * 12 + month - 1) of the oldest report the
 * value of stock or cumulative indicator `ind` rests on at every node, for
 * the span [first, last] (-1 where the value is missing), into *out (n
 * int32, the caller's to free). 0 or TALLY_ENOMEM (no error recorded). */
int tally_rollup__as_of(const tally_dataset *ds, size_t ind, int32_t first, int32_t last,
                        int prefer, int32_t **out);

/* Whether the result was asked for the coverage columns. */
int tally_rollup__show_coverage(const tally_result *r);

/* Column (indicator, period) of r as it is held, without making it whole
 * (tally_result_column): 0, or TALLY_EINVAL for indices out of range (no
 * error recorded). Borrowed from r. */
int tally_rollup__column(const tally_result *r, size_t indicator, size_t period,
                         tally_rollup__col *col);

/* Whether the node is a unit of formula `indicator` (a region whose own
 * value counts for some operand) in the period; indices in range. */
int tally_rollup__unit(const tally_result *r, size_t node, size_t indicator, size_t period);

/* The most threads a rollup uses. */
#define TALLY_ROLLUP_MAX_THREADS 16

/* tally_rollup with the indicators of each period shared among `threads`
 * threads (1: all on the calling thread). The result is the same for every
 * thread count: each indicator is computed whole by one thread. */
int tally_rollup__threads(tally_result **out, const tally_dataset *ds,
                          const tally_rollup_options *opts, size_t threads);

/* tally_rollup__threads over the node set S of ds (tally_rollup__nodes_of,
 * borrowed: it must outlive the result), not made again; S is not used
 * when the options ask for the coverage (every node). */
int tally_rollup__threads_in(tally_result **out, const tally_dataset *ds,
                             const tally_rollup_options *opts, size_t threads,
                             const tally_rollup__nodes *S);

/* The thread count tally_rollup uses: the online processors (at most
 * TALLY_ROLLUP_MAX_THREADS and the indicator count), 1 for small data. */
size_t tally_rollup__default_threads(const tally_dataset *ds);

#endif
