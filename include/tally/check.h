/* tally: consistency checks — every reported number that does not add up,
 * with the reason in one sentence.
 *
 * A check run reads a dataset and the checks of its definitions and gives
 * a findings object: one finding per failure, with the check, a severity,
 * the region, the period, the indicator, the expected and actual values,
 * their difference and a sentence that names the region, the indicator and
 * the numbers. Findings are data: a run that finds inconsistencies still
 * returns 0.
 *
 * What runs, in this order:
 *   - the checks under `checks:` in the definitions, in file order:
 *     hierarchy (a region's reported value against the value computed from
 *     below, within a tolerance), rule (a boolean expression at every
 *     region and period), completeness (regions of a level that did not
 *     report), outliers (modified z-score among siblings, and
 *     period-over-period jumps);
 *   - then, without any `checks:` entry: `bounds` (reported values against
 *     an indicator's `min:` / `max:`), `recomputed` (reported values of a
 *     formula indicator against the formula over the region's own figures,
 *     rounding-aware) and `monotonic` (cumulative indicators that decrease
 *     within a year), each when some indicator has what it checks;
 *   - `coverage`, `conflict`, `stale` and `partial` (a flow's year or
 *     quarter that a region filed only part of), listed only when they
 *     find something;
 *   - `targets` (children's targets that do not cover their parent's),
 *     when a target set is given.
 *
 * Which values are read:
 *   - Periods: every period that occurs in the records, as filed (months as
 *     months, years as years), or the periods asked for. A reported value
 *     is checked at the period it was filed for.
 *   - A region's figure for an operand (of a rule or a recomputed formula)
 *     is its own reported value when it filed one (after the time rule),
 *     else the value computed from below.
 *   - A value of an indicator that is not `exact` stands for the interval
 *     of half a unit of its last decimal around it; a value computed from
 *     several such values carries their summed half-units. Rules with a
 *     comparison and recomputed formulas are evaluated over these
 *     intervals, so the rounding of published figures raises no error.
 *   - Figures are set against each other only when they cover the same
 *     area: a region's own figures, figures computed from below where no
 *     region below lacks a value, or figures computed over the same
 *     regions. A town's total with a village missing is not compared with
 *     another of its figures that has that village (the item counts as
 *     missing), nor with its siblings' totals or last month's.
 *
 * The full rules (items counted, when a warning instead of an error, what
 * "missing" means for each check) are in the README section on checks.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_CHECK_H
#define TALLY_CHECK_H

#include "tally/common.h"
#include "tally/dataset.h"
#include "tally/targets.h"
#include "tally/rollup.h"
#include "tally/write.h"

TALLY_BEGIN_DECLS

typedef struct tally_findings tally_findings;

typedef enum tally_finding_severity {
    TALLY_FINDING_ERROR = 0,
    TALLY_FINDING_WARNING = 1
} tally_finding_severity;

/* What kind of check made a finding. */
typedef enum tally_finding_kind {
    TALLY_FINDING_HIERARCHY = 0,    /* reported vs computed from below; or a missing child */
    TALLY_FINDING_RULE = 1,         /* a rule that does not hold */
    TALLY_FINDING_COMPLETENESS = 2, /* a region that did not report */
    TALLY_FINDING_OUTLIER = 3,      /* modified z-score among siblings */
    TALLY_FINDING_JUMP = 4,         /* period-over-period ratio */
    TALLY_FINDING_BOUNDS = 5,       /* below min: or above max: */
    TALLY_FINDING_RECOMPUTED = 6,   /* a formula's reported value vs its operands */
    TALLY_FINDING_MONOTONIC = 7,    /* a cumulative value that decreased within a year */
    TALLY_FINDING_TARGETS = 8,      /* children's targets that do not cover the parent's */
    TALLY_FINDING_COVERAGE = 9,     /* a region that filed some operands of a formula, not all */
    TALLY_FINDING_CONFLICT = 10,    /* two complete reports of one figure that disagree */
    TALLY_FINDING_STALE = 11,       /* a level older than stale_after, not carried forward */
    TALLY_FINDING_PARTIAL = 12      /* a flow's year or quarter from part of its months */
} tally_finding_kind;

/* periods: period strings (YYYY-MM, YYYY-Qn, YYYY), borrowed for the call;
 * NULL (or period_count 0) means every period that occurs in the records.
 * prefer (tally_prefer): how values are computed from below, as in
 * tally_rollup. With TALLY_PREFER_COMPUTED (the default) a region's
 * reported value is compared with the total of the finest reports below
 * it, so a wrong figure is named once, where it stands; with
 * TALLY_PREFER_REPORTED, with its children's own figures.
 * targets: a target set over the same hierarchy and definitions, whose
 * decomposition is checked (borrowed for the call); NULL for none. */
typedef struct tally_check_options {
    unsigned int version;
    int prefer;
    const char *const *periods;
    size_t period_count;
    const tally_targets *targets;
} tally_check_options;

#define TALLY_CHECK_OPTIONS_VERSION 1
#define TALLY_CHECK_OPTIONS_INIT { TALLY_CHECK_OPTIONS_VERSION, 0, NULL, 0, NULL }

/* Runs every check on the dataset. On success *out belongs to the caller
 * (tally_findings_free) and borrows the dataset's hierarchy and definitions
 * (not the dataset): both must outlive it. opts NULL means
 * TALLY_CHECK_OPTIONS_INIT. Findings come in a fixed order: by check (as
 * listed above), then region (pre-order), then indicator (in the check's
 * order), then period (time order).
 * Errors: TALLY_EPARSE (a bad period string), TALLY_EINVAL (a check that
 * names a level the hierarchy does not have, bad options), TALLY_ENOMEM.
 * On failure *out is NULL. Cost: one rollup per period checked. */
TALLY_EXTERN(int) tally_check_run(tally_findings **out, const tally_dataset *ds,
                                  const tally_check_options *opts);

/* Frees findings. NULL does nothing. */
TALLY_EXTERN(void) tally_findings_free(tally_findings *f);

/* Number of findings, and how many of them have severity error. */
TALLY_EXTERN(size_t) tally_findings_count(const tally_findings *f);
TALLY_EXTERN(size_t) tally_findings_error_count(const tally_findings *f);

/* Accessors by finding index (0 <= i < count; out of range gives NULL,
 * -1, TALLY_NONE or NaN). Strings are borrowed and live as long as f. */
TALLY_EXTERN(const char *) tally_findings_check(const tally_findings *f, size_t i);
TALLY_EXTERN(int) tally_findings_kind(const tally_findings *f, size_t i);
TALLY_EXTERN(int) tally_findings_severity(const tally_findings *f, size_t i);
/* The region, as a pre-order index of the hierarchy. */
TALLY_EXTERN(size_t) tally_findings_node(const tally_findings *f, size_t i);
/* The indicator index; TALLY_NONE for a rule, which reads several. */
TALLY_EXTERN(size_t) tally_findings_indicator(const tally_findings *f, size_t i);
/* The period as text ("2019-08", "2019-Q3", "2019"). */
TALLY_EXTERN(const char *) tally_findings_period(const tally_findings *f, size_t i);
/* Expected and actual values and actual - expected; NaN where they do not
 * apply (a region that did not report has no actual value). */
TALLY_EXTERN(double) tally_findings_expected(const tally_findings *f, size_t i);
TALLY_EXTERN(double) tally_findings_actual(const tally_findings *f, size_t i);
TALLY_EXTERN(double) tally_findings_difference(const tally_findings *f, size_t i);
/* The decimals the three numbers are written with: the indicator's, or
 * more when the difference would otherwise print as zero. */
TALLY_EXTERN(int) tally_findings_decimals(const tally_findings *f, size_t i);
/* One sentence: region name, period, indicator name, and the numbers. */
TALLY_EXTERN(const char *) tally_findings_message(const tally_findings *f, size_t i);

/* What each check did, in check order. items = passes + warnings + fails
 * + missing: the values (or regions and periods) the check looked at;
 * missing counts those it could not judge (an operand missing, too few
 * siblings). */
typedef struct tally_check_summary {
    const char *check; /* the check id; borrowed, lives as long as f */
    int kind;          /* tally_finding_kind (outliers and jumps: TALLY_FINDING_OUTLIER) */
    int severity;      /* tally_finding_severity of its failures */
    size_t items, passes, warnings, fails, missing;
} tally_check_summary;

TALLY_EXTERN(size_t) tally_findings_check_count(const tally_findings *f);
/* Fills *out for check k. TALLY_EINVAL when k is out of range. */
TALLY_EXTERN(int) tally_findings_summary(const tally_findings *f, size_t k,
                                         tally_check_summary *out);

/* Writes the findings to `path` (NULL: standard output). CSV columns:
 *   check,severity,region_code,region_name,period,indicator,expected,actual,difference,message
 * JSON: an array of objects with the same keys (null where a number or the
 * indicator does not apply). opts (NULL: CSV, every finding): format, and
 * levels to keep only the findings of regions at those levels.
 * Errors: TALLY_EIO, TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_findings_write(const tally_findings *f, const char *path,
                                       const tally_write_options *opts);

TALLY_END_DECLS

#endif
