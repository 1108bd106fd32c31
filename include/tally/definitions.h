/* tally: indicator definitions, read from YAML.
 *
 *   levels: [province, city, county, town, village]   # optional
 *   ignore_columns: [unit, remark]  # records columns not read (optional)
 *   indicators:
 *     - id: poor_population        # required; letters, digits, '_'; unique
 *       name: 建档立卡贫困人口       # default: the id
 *       unit: 人                    # default: ""
 *       aggregate: sum             # sum | mean | min | max | count
 *       over_time: stock           # flow | cumulative | stock
 *       decimals: 0                # printed decimals (0..15)
 *       direction: higher_is_better  # or lower_is_better
 *       exact: true                # reported values exact, or rounded to decimals;
 *                                  # with decimals 0: whole numbers, a fraction
 *                                  # is a bad row
 *       min: 0                     # bounds, used by checks
 *       max: 1000000
 *     - id: incidence
 *       formula: poor_population / rural_population * 100
 *       thresholds:                # exit thresholds, at most one per level
 *         - level: county          # a name from `levels:` (or the defaults)
 *           max: 2.0               # or min: exactly one; the value must be
 *           inclusive: false       #   under (over) it; true: <= (>=)
 *           overrides:             # other limits for region code prefixes
 *             - { regions: ["51", "52"], max: 3.0 }   # same side as the entry
 *   poverty:
 *     lines: { 2019: 3218, 2020: 4000 }   # year (1000..9999) -> line, > 0
 *     monitoring_line: 5000               # > 0
 *   checks:                        # ids unique among checks
 *     - id: villages_add_up
 *       hierarchy: [poor_population]      # reported (not formula) indicators
 *       tolerance: { absolute: 0, relative: 0.001 }   # or a number: absolute
 *       children: partial          # or complete
 *       severity: error            # or warning
 *     - id: not_more_poor_than_people
 *       rule: poor_population <= rural_population   # a comparison or logic
 *       tolerance: 0
 *       missing: skip              # or fail
 *     - id: villages_report
 *       required: [poor_population]
 *       level: village             # required with `required:`
 *     - id: spikes
 *       outliers: [poor_population]
 *       method: modified_z         # the only method
 *       threshold: 3.5             # > 0
 *       jump: { max_ratio: 3 }     # optional, > 1
 *   targets:                       # annual targets for the top of the hierarchy
 *     - { region: "430600000000", indicator: poor_population, year: 2019, target: 0 }
 *
 * Defaults: aggregate sum, over_time flow, decimals 0 (2 for a formula),
 * direction higher_is_better, exact when decimals is 0 and the indicator is
 * not a formula. A formula indicator takes no aggregate or over_time: it is
 * evaluated after aggregation, at every node and period.
 *
 * A check has exactly one of hierarchy / rule / required / outliers, and
 * only the keys of its kind (tolerance on hierarchy and rule; children on
 * hierarchy; missing on rule; level on required; method, threshold and jump
 * on outliers). The sections may come in any order.
 *
 * Unknown keys, wrong types, bad values and duplicate ids, levels, years,
 * check ids and targets are errors with file:line:column. A finished
 * definitions object is read-only and may be shared between threads.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_DEFINITIONS_H
#define TALLY_DEFINITIONS_H

#include "tally/common.h"

TALLY_BEGIN_DECLS

typedef struct tally_definitions tally_definitions;

/* How an indicator aggregates over the hierarchy. */
typedef enum tally_aggregate {
    TALLY_AGGREGATE_SUM = 0,
    TALLY_AGGREGATE_MEAN = 1,
    TALLY_AGGREGATE_MIN = 2,
    TALLY_AGGREGATE_MAX = 3,
    TALLY_AGGREGATE_COUNT = 4,
    TALLY_AGGREGATE_FORMULA = 5 /* computed from a formula after aggregation */
} tally_aggregate;

/* How an indicator aggregates over time. */
typedef enum tally_over_time {
    TALLY_OVER_TIME_FLOW = 0,       /* monthly increments; longer periods sum */
    TALLY_OVER_TIME_CUMULATIVE = 1, /* year-to-date; a period takes its latest report */
    TALLY_OVER_TIME_STOCK = 2       /* a level; a period takes its latest report */
} tally_over_time;

typedef enum tally_direction {
    TALLY_DIRECTION_HIGHER_IS_BETTER = 0,
    TALLY_DIRECTION_LOWER_IS_BETTER = 1
} tally_direction;

/* Reads definitions from a YAML file. On success *out belongs to the caller
 * (tally_definitions_free); on failure *out is NULL and tally_error_last()
 * has the file, line and column. Errors: TALLY_EPARSE (YAML syntax, wrong
 * type, unknown key, bad formula), TALLY_EEXIST (anything given twice: id,
 * key, level, threshold level, poverty year, check id, target),
 * TALLY_ENOTFOUND (an unknown indicator or level in a formula, rule,
 * threshold, check or target), TALLY_ECYCLE (formulas that depend on each
 * other), TALLY_EINVAL (a value out of range), TALLY_ELIMIT (nesting too
 * deep), TALLY_EIO, TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_definitions_from_file(tally_definitions **out, const char *path);

/* Same, from memory; `name` stands for the path in messages (NULL: "<buffer>"). */
TALLY_EXTERN(int) tally_definitions_from_buffer(tally_definitions **out, const char *data,
                                                size_t size, const char *name);

/* Frees definitions. NULL does nothing. */
TALLY_EXTERN(void) tally_definitions_free(tally_definitions *d);

/* Level names from `levels:` (0 when the key is absent: use the defaults). */
TALLY_EXTERN(size_t) tally_definitions_level_count(const tally_definitions *d);
TALLY_EXTERN(const char *) tally_definitions_level_name(const tally_definitions *d, size_t i);

/* Column names from `ignore_columns:`, in file order: columns a records
 * file may carry that the reader does not read (a unit, a remark). Any
 * other column the reader does not know is an error. 0 when the key is
 * absent. The names are borrowed and live as long as d. */
TALLY_EXTERN(size_t) tally_definitions_ignore_column_count(const tally_definitions *d);
TALLY_EXTERN(const char *) tally_definitions_ignore_column(const tally_definitions *d, size_t i);

/* Indicators, in file order. */
TALLY_EXTERN(size_t) tally_definitions_indicator_count(const tally_definitions *d);

/* Finds an indicator by id (`len` bytes). TALLY_ENOTFOUND when absent
 * (*index = TALLY_NONE). */
TALLY_EXTERN(int) tally_definitions_find(const tally_definitions *d, const char *id, size_t len,
                                         size_t *index);

/* Accessors by indicator index (out of range: NULL or -1). Strings are
 * borrowed and live as long as d. */
TALLY_EXTERN(const char *) tally_definitions_id(const tally_definitions *d, size_t i);
TALLY_EXTERN(const char *) tally_definitions_name(const tally_definitions *d, size_t i);
TALLY_EXTERN(const char *) tally_definitions_unit(const tally_definitions *d, size_t i);
TALLY_EXTERN(int) tally_definitions_decimals(const tally_definitions *d, size_t i);
TALLY_EXTERN(int) tally_definitions_aggregate(const tally_definitions *d, size_t i);
TALLY_EXTERN(int) tally_definitions_over_time(const tally_definitions *d, size_t i);
TALLY_EXTERN(int) tally_definitions_direction(const tally_definitions *d, size_t i);
/* 1 when reported values are exact, 0 when rounded to `decimals`. */
TALLY_EXTERN(int) tally_definitions_exact(const tally_definitions *d, size_t i);
/* The formula text, or NULL for an indicator that is reported. */
TALLY_EXTERN(const char *) tally_definitions_formula(const tally_definitions *d, size_t i);
/* Bounds from `min:` / `max:`; NaN where not given. */
TALLY_EXTERN(double) tally_definitions_min(const tally_definitions *d, size_t i);
TALLY_EXTERN(double) tally_definitions_max(const tally_definitions *d, size_t i);

/* ---- Categories (docs/categories.md) ----
 *
 *   categories:
 *     - id: cause                 # letters, digits, '_'; unique
 *       name: 致贫原因             # default: the id
 *       exclusive: true           # options sum to the total (default false:
 *                                 # each option <= the total)
 *       options:                  # ids unique within the category
 *         - { id: illness, name: 因病 }
 *         - disability            # an id alone: the name is the id
 *   indicators:
 *     - id: poor_population
 *       by: [cause]               # or [cause, sex]: the cross-classification
 *
 * An indicator broken down by categories is followed, among the indicators
 * counted by tally_definitions_indicator_count, by one indicator (a slot)
 * per option combination, margins included: `poor_population[cause=illness]`
 * and, for `by: [cause, sex]`, `poor_population[cause=illness,sex=female]`
 * and `poor_population[sex=female]`. The declared indicator is the total. A
 * slot has its declared indicator's name with the option names
 * (建档立卡贫困人口（因病）), unit, aggregation, time rule and decimals; its
 * values are read, rolled up, written and checked as any indicator's.
 * tally_definitions_find finds a slot by its id, options in any order, `*`
 * for a total (`poor_population[cause=*]` is poor_population). */

/* Categories, in file order (0 when there are none). */
TALLY_EXTERN(size_t) tally_definitions_category_count(const tally_definitions *d);
/* Category c's id and name (borrowed, live as long as d); NULL when c is out
 * of range. */
TALLY_EXTERN(const char *) tally_definitions_category_id(const tally_definitions *d, size_t c);
TALLY_EXTERN(const char *) tally_definitions_category_name(const tally_definitions *d, size_t c);
/* 1 when category c is exclusive, 0 when not, -1 when c is out of range. */
TALLY_EXTERN(int) tally_definitions_category_exclusive(const tally_definitions *d, size_t c);
/* Category c's options, in declared order, and option o's id and name
 * (borrowed; NULL when out of range). */
TALLY_EXTERN(size_t) tally_definitions_option_count(const tally_definitions *d, size_t c);
TALLY_EXTERN(const char *) tally_definitions_option_id(const tally_definitions *d, size_t c,
                                                       size_t o);
TALLY_EXTERN(const char *) tally_definitions_option_name(const tally_definitions *d, size_t c,
                                                         size_t o);

/* The declared indicator of indicator i: i itself for an indicator of the
 * file, the indicator a slot breaks down for a slot. TALLY_NONE when i is
 * out of range. */
TALLY_EXTERN(size_t) tally_definitions_base(const tally_definitions *d, size_t i);

/* Indicator i's option of category c: an option index, or -1 when i is a
 * total of c or is not broken down by c (-2: i or c out of range). */
TALLY_EXTERN(int) tally_definitions_option(const tally_definitions *d, size_t i, size_t c);

/* The slot of indicator `base` for option `option` of category c, the
 * other categories it is broken down by at their totals; option -1 is the
 * total (base itself). Use it as an indicator index anywhere (values of a
 * result, the dataset). TALLY_ENOTFOUND when base is not broken down by c,
 * TALLY_EINVAL when an argument is out of range; *index = TALLY_NONE then. */
TALLY_EXTERN(int) tally_definitions_slot(const tally_definitions *d, size_t base, size_t c,
                                         int option, size_t *index);

TALLY_END_DECLS

#endif
