/* Internal: the check run over an explicit list of check definitions, so
 * that tests can give checks without going through YAML; and what the
 * files of the check run share:
 *
 *   check.c            the run, the findings object, messages;
 *   check_view.c       one period's values (a view);
 *   check_hierarchy.c  hierarchy and completeness checks;
 *   check_rules.c      rules, recomputed formulas, bounds;
 *   check_outliers.c   outliers and jumps, monotonic;
 *   check_targets.c    the targets check;
 *   check_write.c      writing findings. */
#ifndef TALLY_LIB_CHECK_H
#define TALLY_LIB_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "tally/check.h"
#include "definitions.h"
#include "error.h"
#include "period.h"
#include "rollup.h"

/* tally_check_run with `defs` (borrowed for the call; their rules and
 * indicator arrays must outlive the findings only through their `id`
 * strings, which the findings borrow) in place of the definitions'
 * checks. */
int tally_check__run_defs(tally_findings **out, const tally_dataset *ds,
                          const tally_check_options *opts, const tally_check_def *defs,
                          size_t ndefs);

/* ------------------------------------------------------------------ */
/* Messages (check.c)                                                 */
/* ------------------------------------------------------------------ */

/* A growable string; `failed` sticks after the first allocation failure so
 * a message can be built without checking every append. */
typedef struct tally_check__sb {
    char *p;
    size_t len, cap;
    int failed;
} tally_check__sb;

void tally_check__sb_put(tally_check__sb *b, const char *s, size_t n);
void tally_check__sb_str(tally_check__sb *b, const char *s);
void tally_check__sb_printf(tally_check__sb *b, const char *fmt, ...) TALLY_PRINTF(2, 3);

/* Every number in a message goes through tally_number_format. */
void tally_check__sb_num(tally_check__sb *b, double v, int decimals);

/* The decimals to print a finding with: `decimals`, or more until a
 * non-zero difference shows. */
int tally_check__finding_decimals(int decimals, double difference);

/* The fewest decimals from `decimals` up to `most` that print x exactly
 * (a median of integers may end in .5); `most` when none does. */
int tally_check__exact_decimals(double x, int decimals, int most);

/* ------------------------------------------------------------------ */
/* Findings and the run (check.c)                                     */
/* ------------------------------------------------------------------ */

/* One finding; the findings object holds them in an array. */
typedef struct tally_check__finding {
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
} tally_check__finding;

struct tally_findings {
    const tally_hierarchy *h;
    const tally_definitions *d;
    tally_check__finding *items;
    size_t count, cap;
    tally_check_summary *checks;
    size_t check_count;
    size_t errors;
};

/* What a check run needs at hand. */
typedef struct tally_check__run {
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
    /* The nodes the views hold (tally_rollup__nodes_of: the regions with
     * data and their ancestors; every other region has no figure): a
     * view's arrays are indexed by the set's index j, S.parent are the
     * set's parents and send[j] the end of j's subtree within the set.
     * tally_check__node gives j's hierarchy node. */
    tally_rollup__nodes S;
    size_t *send;
} tally_check__run;

/* The hierarchy node of node j of the views' set. */
static inline size_t tally_check__node(const tally_check__run *R, size_t j)
{
    return tally_rollup__node(&R->S, j);
}

/* Adds a finding; `msg` is taken over (freed here on failure).
 * Returns 0 or TALLY_ENOMEM. */
int tally_check__add_finding(tally_check__run *R, size_t check, int kind, int severity, size_t node,
                             size_t ind, size_t order, int32_t period, double expected,
                             double actual, int decimals, tally_check__sb *msg);

/* "<region name> <period>: " */
void tally_check__prefix(tally_check__sb *b, const tally_check__run *R, size_t node,
                         int32_t period);

/* Room for binary floating point: a few units in the last place of the
 * largest number compared. Decimal data differ from their binary values by
 * far less than any tolerance or rounding unit a person writes. */
double tally_check__slack(double a, double b, double c, double e);

/* ------------------------------------------------------------------ */
/* Views (check_view.c)                                               */
/* ------------------------------------------------------------------ */

/* A view: one period's values, as the checks read them (check_view.c).
 * For each indicator (m columns over the R->S.n nodes of the set, indexed
 * by the set's index):
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
 *   pcs: how many pieces carried from old codes through a crosswalk count in
 *     it besides (carry.c: a value at a region that is not its report);
 *   sub: bit set where the region or one below it filed the indicator for
 *     exactly this period (for formulas: also any operand);
 *   cov, sig: where the figure comes from (TALLY_CHECK__COV_*) and, for a figure
 *     computed from below, a signature of the regions it adds up (a sum of
 *     hashes of their indices), so that figures over different sets of
 *     regions are not set against each other. */
typedef struct tally_check__view {
    int32_t key;
    int ready;
    double **out, **rep, **cmp, **val, **lo, **hi, **wcmp;
    size_t **cnt, **pcs;
    uint64_t **sub;
    uint8_t **cov;
    uint64_t **sig;
} tally_check__view;

/* Where a figure comes from. A region's own figure stands for its whole
 * area. A figure computed from below is complete when every region below
 * that it is made of has a value (recursively), partial otherwise: a
 * village that did not report makes its town's sum partial. */
enum {
    TALLY_CHECK__COV_NONE = 0, /* no figure */
    TALLY_CHECK__COV_OWN = 1,  /* the region's own reported value */
    TALLY_CHECK__COV_FULL = 2, /* computed from below, nothing missing */
    TALLY_CHECK__COV_PART = 3, /* computed from below, some region below has no value */
    TALLY_CHECK__COV_MIXED = 4 /* operands over different sets of regions */
};

/* Computes the view of period `key` into *v (its previous contents are
 * ignored); free it with tally_check__view_free. TALLY_ENOMEM, or an error
 * of the rollup. */
int tally_check__view_compute(const tally_check__run *R, tally_check__view *v, int32_t key);

/* Frees a view of m indicators computed by tally_check__view_compute (or
 * zeroed: then nothing), and zeroes it. */
void tally_check__view_free(tally_check__view *v, size_t m);

/* Whether figures can be set against each other at a node: own figures
 * with complete computed ones, or computed ones over the same regions.
 * `own` adds an own figure (a reported value compared with them). Gives
 * the combined TALLY_CHECK__COV_* and, for computed figures, their
 * signature. */
int tally_check__cov_combine(const tally_check__view *v, const tally_expr *e, size_t node, int own,
                             uint64_t *sig);

/* ------------------------------------------------------------------ */
/* The checks                                                         */
/* ------------------------------------------------------------------ */

/* A check of `checks:` made ready to run over views. */
typedef struct tally_check__prepared {
    const tally_check_def *def;
    size_t ord;              /* index in the summaries */
    tally_expr *left, *right; /* rules: the two sides of a comparison */
    int op;
    size_t op_at, op_len;     /* where the comparison stands in the rule text */
    int level;                /* completeness */
} tally_check__prepared;

/* Each check adds its findings with tally_check__add_finding and counts
 * its items in R->f->checks[ord] (P->ord for the checks of `checks:`).
 * 0, or a negative code (TALLY_ENOMEM). The buffers passed in have room
 * for R->n values (R->n + 1 for `expect` and `got`). */

/* check_coverage.c: formula gaps at their source, conflicting reports and
 * stale levels in period `key` (summaries added at the first finding;
 * buf: room for R->n values). */
typedef struct tally_check__state {
    int ord_coverage, ord_conflict, ord_stale; /* -1 until a finding */
    int has_formula;
    int ord_partial; /* check_partial.c; -1 until a finding */
} tally_check__state;
int tally_check__coverage(tally_check__run *R, tally_check__state *st, int32_t key, double *buf);

/* check_partial.c: a flow's year or quarter `key`, asked for, that a
 * region's own reports cover only in part (buf: room for R->n values). */
int tally_check__partial(tally_check__run *R, tally_check__state *st, int32_t key, double *buf);

/* check_hierarchy.c */
int tally_check__hierarchy(tally_check__run *R, const tally_check__prepared *P,
                           const tally_check__view *v);
int tally_check__completeness(tally_check__run *R, const tally_check__prepared *P,
                              const tally_check__view *v, size_t *expect, size_t *got);

/* check_rules.c */
int tally_check__rule(tally_check__run *R, const tally_check__prepared *P,
                      const tally_check__view *v);
int tally_check__bounds(tally_check__run *R, size_t ord, int32_t key);
int tally_check__recomputed(tally_check__run *R, size_t ord, const tally_check__view *v, double *fv,
                            double *flo, double *fhi);

/* Finds the comparison operator outside parentheses in a rule whose
 * outermost operation is a comparison (the grammar allows one there):
 * 1 and its place, or 0. */
int tally_check__split_text(const char *t, size_t len, size_t *op_at, size_t *op_len);

/* check_outliers.c; prev is the previous period's view, or NULL. */
int tally_check__outliers(tally_check__run *R, const tally_check__prepared *P,
                          const tally_check__view *v, const tally_check__view *prev, double *xs,
                          double *tmp, size_t *ids);
int tally_check__monotonic(tally_check__run *R, size_t ord);

/* check_targets.c */
int tally_check__targets(tally_check__run *R, size_t ord, const tally_targets *t);

#endif
