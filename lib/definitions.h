/* Internal: what the other modules need from a definitions object beyond
 * the public accessors (compiled formulas, their evaluation order, and
 * where each indicator is defined, for messages). */
#ifndef TALLY_LIB_DEFINITIONS_H
#define TALLY_LIB_DEFINITIONS_H

#include <stddef.h>

#include "tally/definitions.h"
#include "expr.h"

/* Limits (documented in README): YAML nesting depth and the number of
 * level names. Deeper nesting is refused before it costs memory (the YAML
 * tree's bound, TALLY_YAML_MAX_DEPTH, is this one). */
#define TALLY_DEFINITIONS_MAX_DEPTH 64
#define TALLY_DEFINITIONS_MAX_LEVELS 64

/* The compiled formula of indicator i, or NULL when it is reported (or i is
 * out of range). Borrowed: lives as long as d. Its variable indices are
 * indicator indices of d. */
const tally_expr *tally_definitions__program(const tally_definitions *d, size_t i);

/* Formula indicators in dependency order: each comes after every formula
 * indicator it reads, so evaluating them in this order sees its inputs
 * computed. Returns their count; *order (borrowed, lives as long as d) gets
 * the indicator indices. */
size_t tally_definitions__formula_order(const tally_definitions *d, const size_t **order);

/* For an indicator declared `derive: increment, of: x` (a cumulative
 * indicator x): x's index; TALLY_NONE for any other indicator. */
size_t tally_definitions__derive_of(const tally_definitions *d, size_t i);

/* Months after which a stock or cumulative value is no longer carried
 * into a period (`stale_after:`), or -1 when the indicator has none. */
int tally_definitions__stale_after(const tally_definitions *d, size_t i);

/* 1 when indicator i counts whole units: `exact: true` written in the
 * file, decimals 0, not a formula. A reported value with a fraction is
 * then a bad row. 0 when i is out of range. */
int tally_definitions__whole(const tally_definitions *d, size_t i);

/* Line and column (1-based) of indicator i's `id` value in the file, for
 * messages; 0 and 0 when i is out of range. */
void tally_definitions__position(const tally_definitions *d, size_t i, unsigned long *line,
                                 unsigned long *column);

/* ---- Thresholds (per indicator `thresholds:`), for exit thresholds ----
 *
 *   thresholds:
 *     - { level: county, max: 2.0 }                 # strictly below by default
 *     - { level: village, max: 2.0, inclusive: true }
 *     - level: county
 *       max: 2.0
 *       overrides:
 *         - { regions: ["51", "52", "53", "54", "62", "63", "64", "65"], max: 3.0 }
 *
 * Exactly one of max / min per entry and per override (an override takes
 * the same side as its entry); at most one entry per level; regions are code
 * prefixes (non-empty strings). */
typedef struct tally_threshold_override {
    const char *const *prefixes; /* region code prefixes */
    size_t prefix_count;
    double limit;
} tally_threshold_override;

typedef struct tally_threshold {
    const char *level; /* a level name, as written */
    int is_max;        /* 1: the value must be under `limit`; 0: over it */
    double limit;
    int inclusive;     /* 1: <= or >=; 0 (default): < or > */
    const tally_threshold_override *overrides;
    size_t override_count;
    unsigned long line, column; /* of the entry, for messages */
} tally_threshold;

/* Indicator i's thresholds (borrowed, in file order); returns their count
 * (0 and *out NULL when i is out of range). `level` points at the name in
 * `levels:` or at a static default name; prefixes and overrides live as
 * long as d. */
size_t tally_definitions__thresholds(const tally_definitions *d, size_t i,
                                     const tally_threshold **out);

/* ---- Poverty lines (`poverty:`) ----
 *
 *   poverty:
 *     lines: { 2019: 3218, 2020: 4000 }   # yuan per person per year
 *     monitoring_line: 5000
 *
 * Both keys optional; years are plain integers 1000..9999, given once;
 * lines are positive. */

/* The poverty line for `year`: 0, or TALLY_ENOTFOUND when none is given
 * (no error recorded). */
int tally_definitions__poverty_line(const tally_definitions *d, int year, double *line);

/* The monitoring line, NaN when not given. */
double tally_definitions__monitoring_line(const tally_definitions *d);

/* ---- Consistency checks (`checks:`) ----
 *
 *   checks:
 *     - id: villages_add_up               # unique among checks
 *       hierarchy: [poor_population, rural_population]
 *       tolerance: { absolute: 0, relative: 0.001 }   # or a number: absolute
 *       children: partial                 # or complete
 *       severity: error                   # or warning (default error)
 *     - id: exits_add_up
 *       rule: registered == exited + remaining + removed
 *       tolerance: 0
 *       missing: skip                     # or fail
 *     - id: reported
 *       required: [poor_population]
 *       level: village
 *     - id: spikes
 *       outliers: [exited_population]
 *       method: modified_z                # the only method
 *       threshold: 3.5                    # default 3.5
 *       jump: { max_ratio: 3 }            # optional period-over-period jumps
 *
 * Every check has exactly one of hierarchy / rule / required / outliers;
 * keys that do not belong to its kind are errors. */
typedef enum tally_check_kind {
    TALLY_CHECK_HIERARCHY = 0,
    TALLY_CHECK_RULE = 1,
    TALLY_CHECK_COMPLETENESS = 2,
    TALLY_CHECK_OUTLIERS = 3
} tally_check_kind;

typedef enum tally_severity {
    TALLY_SEVERITY_ERROR = 0,
    TALLY_SEVERITY_WARNING = 1
} tally_severity;

typedef struct tally_check_def {
    const char *id;
    int kind;         /* tally_check_kind */
    int severity;     /* tally_severity */
    double tol_absolute, tol_relative; /* 0 when not given */
    const size_t *indicators;          /* hierarchy / required / outliers: indicator
                                          indices, distinct; NULL for a rule */
    size_t indicator_count;
    int children_complete;             /* hierarchy: 1 for `children: complete` */
    const tally_expr *rule;            /* rule: compiled over indicator indices */
    const char *rule_text;
    int missing_fail;                  /* rule: 1 for `missing: fail` */
    const char *level;                 /* completeness: level name, as written; else NULL */
    double threshold;                  /* outliers: modified z-score threshold (3.5);
                                          NaN for other kinds */
    double jump_max_ratio;             /* outliers: NaN when no `jump:` */
    unsigned long line, column;        /* of the check's `id` value */
} tally_check_def;

/* The checks, in file order (borrowed: ids, lists, rules and texts live as
 * long as d); returns their count. Check ids are unique among checks and
 * may equal an indicator's id. */
size_t tally_definitions__checks(const tally_definitions *d, const tally_check_def **out);

/* ---- Inline targets (`targets:`), for the top of the hierarchy ----
 *
 *   targets:
 *     - { region: "430600000000", indicator: exited_population, year: 2019, target: 90000 }
 */
typedef struct tally_target_def {
    const char *region;
    size_t indicator;
    int year;
    double target;
    unsigned long line, column;
} tally_target_def;

/* The inline targets, in file order (borrowed); returns their count.
 * (region, indicator, year) is unique; regions are not checked against a
 * hierarchy here. line and column are those of the entry. */
size_t tally_definitions__targets(const tally_definitions *d, const tally_target_def **out);

#endif
