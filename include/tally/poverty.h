/* tally: poverty incidence against exit thresholds, and poverty and
 * inequality measures from household records.
 *
 * Two computations:
 *
 * 1. From records (tally_poverty_thresholds): an indicator such as
 *    incidence = poor_population / rural_population * 100 is rolled up as
 *    usual (tally_rollup); its `thresholds:` in the definitions give, per
 *    level, a limit the value must stay under (`max`) or over (`min`),
 *    strictly unless `inclusive: true`, with overrides by region code
 *    prefix (the longest matching prefix wins). Every node then gets its
 *    threshold, whether it meets it, and the margin.
 *
 * 2. From households (tally_poverty_households): household records
 *    `household_id,region_code,size,income_per_capita[,weight][,year]` and a
 *    poverty line z give at every node, over the households of its subtree,
 *    with person weights pw = weight * size:
 *      P_a   = sum(pw * ((z - y) / z)^a over y < z) / sum(pw), a = 0, 1, 2
 *      Watts = sum(pw * ln(z / y) over 0 < y < z) / sum(pw)
 *    (poor means y < z, strictly; households with income 0 count in P0, P1
 *    and P2 but not in Watts, where ln(z / 0) is undefined), the
 *    person-weighted Gini and median income, and the number of households
 *    under a monitoring line. FGT and Watts are decomposable (each node's
 *    numerators and weights are the sums of its children's and its own);
 *    Gini and the median are computed from each node's own sorted incomes.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_POVERTY_H
#define TALLY_POVERTY_H

#include "tally/common.h"
#include "tally/dataset.h"
#include "tally/definitions.h"
#include "tally/hierarchy.h"
#include "tally/rollup.h"
#include "tally/write.h"

TALLY_BEGIN_DECLS

/* ---- Household records ---- */

/* Households read from CSV or added one by one. It borrows its hierarchy,
 * which must outlive it. Used by one thread at a time. */
typedef struct tally_households tally_households;

/* Creates an empty set of households over h (borrowed). *out belongs to
 * the caller (tally_households_free). Errors: TALLY_EINVAL (h NULL),
 * TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_households_new(tally_households **out, const tally_hierarchy *h);

/* Frees households. NULL does nothing. */
TALLY_EXTERN(void) tally_households_free(tally_households *hh);

/* The hierarchy the households were made over (borrowed). */
TALLY_EXTERN(const tally_hierarchy *) tally_households_hierarchy(const tally_households *hh);

/* Reads a households CSV (UTF-8, optional BOM, RFC 4180) whose header names
 * the columns household_id, region_code, size, income_per_capita (required)
 * and weight, year (optional), in any order. Any other column is refused
 * (a misspelt `weight` must not silently become weight 1).
 *
 * A row is accepted when: household_id is not empty; region_code is a code
 * of the hierarchy (any level: a household filed under a town counts for
 * the town and everything above it); size is a whole number from 1 to
 * 10^6; income_per_capita is a number from 0 to 10^15; weight, when the
 * column exists, is a number > 0 and at most 10^12 (without the column
 * every weight is 1); year, when the column exists, is four digits (1000
 * to 9999); and no household with the same id and year was accepted
 * before (in any file read into hh). The bounds keep every sum finite. Empty
 * cells are refused: a missing income is not an income of 0.
 *
 * Error codes of rejected rows: TALLY_EPARSE (malformed CSV, wrong field
 * count, not a number), TALLY_ENOTFOUND (unknown region), TALLY_EINVAL (an
 * empty cell or a value out of range), TALLY_ERANGE (a number that
 * overflows), TALLY_EEXIST (duplicate household). Each carries the file,
 * line and column of the offending field.
 *
 * Modes, encodings, limits, stats and rejects work as for
 * tally_dataset_read_file (the same row loop): with
 * TALLY_ON_ERROR_STOP the first bad row stops the read and its code is
 * returned (households accepted before it stay); with
 * TALLY_ON_ERROR_COLLECT every bad row goes to `rejects` (required then)
 * and the read goes on, returning 0 unless the file cannot be read or its
 * header is unusable. rows_read == rows_accepted + rows_rejected. `stats`
 * may be NULL; opts NULL means TALLY_READ_OPTIONS_INIT. */
TALLY_EXTERN(int) tally_households_read_file(tally_households *hh, const char *path,
                                             const tally_read_options *opts,
                                             tally_rejects *rejects, tally_read_stats *stats);

/* Same, from memory; `name` stands for the path in messages (NULL:
 * "<buffer>"). The buffer is not kept. */
TALLY_EXTERN(int) tally_households_read_buffer(tally_households *hh, const char *data,
                                               size_t size, const char *name,
                                               const tally_read_options *opts,
                                               tally_rejects *rejects, tally_read_stats *stats);

/* Adds one household, checked as a CSV row would be (weight: pass 1 when
 * there is none; year: 0 when the household has none). Errors:
 * TALLY_EINVAL, TALLY_ENOTFOUND, TALLY_EEXIST, TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_households_add(tally_households *hh, const char *household_id,
                                       const char *region_code, double size,
                                       double income_per_capita, double weight, int year);

/* Number of households accepted so far (every year). */
TALLY_EXTERN(size_t) tally_households_count(const tally_households *hh);

/* ---- Measures from households ---- */

/* The measures at every node. */
typedef struct tally_poverty tally_poverty;

/* year: the survey year to measure; households of other years are skipped
 * (and counted: tally_poverty_households_skipped). Households without a
 * year (read from a file without a year column) belong to any year.
 * 0 means: the one year the households have (an error when they have
 * several), or no year at all when none has one.
 * line: the poverty line (income per person per year); 0 means the line
 * the definitions give for the year (`poverty: lines:`).
 * monitoring_line: 0 means the definitions' `poverty: monitoring_line`,
 * or none (then below_monitoring_line is missing). */
typedef struct tally_poverty_options {
    unsigned int version;
    int year;
    double line;
    double monitoring_line;
} tally_poverty_options;

#define TALLY_POVERTY_OPTIONS_VERSION 1
#define TALLY_POVERTY_OPTIONS_INIT { TALLY_POVERTY_OPTIONS_VERSION, 0, 0.0, 0.0 }

/* The measures, as columns of the result. FGT and Watts are percentages
 * (0..100); Gini is 0..1. */
typedef enum tally_poverty_measure {
    TALLY_POVERTY_HOUSEHOLDS = 0,     /* households in the subtree */
    TALLY_POVERTY_PERSONS = 1,        /* sum of weight * size */
    TALLY_POVERTY_P0 = 2,             /* headcount ratio, % */
    TALLY_POVERTY_P1 = 3,             /* poverty gap index, % */
    TALLY_POVERTY_P2 = 4,             /* squared poverty gap index, % */
    TALLY_POVERTY_WATTS = 5,          /* Watts index, % */
    TALLY_POVERTY_GINI = 6,           /* person-weighted Gini, 0..1 */
    TALLY_POVERTY_MEDIAN_INCOME = 7,  /* person-weighted median income */
    TALLY_POVERTY_BELOW_MONITORING = 8 /* households with income < monitoring line */
} tally_poverty_measure;

#define TALLY_POVERTY_MEASURE_COUNT 9

/* Computes the measures at every node of hh's hierarchy from the
 * households of the chosen year. `d` gives the poverty and monitoring
 * lines when opts does not (it may be NULL when opts->line is given).
 *
 * Definitions, for the households H of a node's subtree, income y, person
 * weight w = weight * size, W = sum(w):
 *   - P0, P1, P2, Watts: the formulas above, times 100;
 *   - Gini: with H sorted by income and W_i the cumulative weight up to and
 *     including household i,
 *       (2 * sum(w_i y_i W_i) - sum(w_i^2 y_i)) / (W * sum(w_i y_i)) - 1,
 *     missing when every income is 0 (a value of -1e-16 from rounding,
 *     where incomes are all equal, is reported as 0);
 *   - median income: the first sorted income whose cumulative weight share
 *     W_i / W is >= 0.5, averaged with the next income when the share is
 *     exactly 0.5 (sums in double precision; exact for whole weights);
 *   - below the monitoring line: households (not persons) with y < m.
 * A node without households has households 0, persons 0, below 0 (when
 * there is a monitoring line) and every other measure missing.
 *
 * Errors: TALLY_EINVAL (a year the households do not settle, a line that
 * is not a positive finite number), TALLY_ENOTFOUND (no line given and
 * none in the definitions for the year), TALLY_ENOMEM.
 * Cost: O(H log H + N) for H households and N nodes, plus O(H log k) per
 * level for merging the sorted incomes of k children.
 * *out belongs to the caller (tally_poverty_free); it borrows the
 * hierarchy, not the households. */
TALLY_EXTERN(int) tally_poverty_households(tally_poverty **out, const tally_households *hh,
                                           const tally_definitions *d,
                                           const tally_poverty_options *opts);

/* Frees a result. NULL does nothing. */
TALLY_EXTERN(void) tally_poverty_free(tally_poverty *p);

TALLY_EXTERN(const tally_hierarchy *) tally_poverty_hierarchy(const tally_poverty *p);

/* The year measured (0: none), the poverty line and the monitoring line
 * used (NaN: none). */
TALLY_EXTERN(int) tally_poverty_year(const tally_poverty *p);
TALLY_EXTERN(double) tally_poverty_line(const tally_poverty *p);
TALLY_EXTERN(double) tally_poverty_monitoring_line(const tally_poverty *p);

/* Households measured, and households skipped for being of another year.
 * Their sum is tally_households_count() of the input. */
TALLY_EXTERN(size_t) tally_poverty_households_used(const tally_poverty *p);
TALLY_EXTERN(size_t) tally_poverty_households_skipped(const tally_poverty *p);

/* 1 when every person weight (weight * size) measured is a whole number
 * (persons are then printed without decimals), else 0. */
TALLY_EXTERN(int) tally_poverty_whole_persons(const tally_poverty *p);

/* A node's measure (tally_poverty_measure). *present is 0 when it is
 * missing (then *value is NaN). TALLY_EINVAL for a node or measure out of
 * range. */
TALLY_EXTERN(int) tally_poverty_value(const tally_poverty *p, size_t node, int measure,
                                      double *value, int *present);

/* A whole column over all nodes in pre-order, NaN where missing. Borrowed;
 * lives as long as p. NULL for a measure out of range. */
TALLY_EXTERN(const double *) tally_poverty_column(const tally_poverty *p, int measure);

/* The measure's column name ("p0", "median_income", ...), NULL when out of
 * range. Static storage. */
TALLY_EXTERN(const char *) tally_poverty_measure_name(int measure);

/* Writes the result to `path` (NULL: standard output), one row per node in
 * pre-order at the levels asked for (opts->levels; every level by default):
 *   region_code,region_name,level,year,households,persons,poverty_line,
 *   p0,p1,p2,watts,gini,median_income,below_monitoring_line
 * Decimals: persons 0 when every person weight is whole, else 2;
 * poverty_line and median_income 2; p0, p1, p2, watts and gini 4. Missing
 * values are empty (null in JSON, an array of objects with the same keys).
 * Errors: TALLY_EIO, TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_poverty_write(const tally_poverty *p, const char *path,
                                      const tally_write_options *opts);

/* ---- Exit thresholds from records ---- */

/* Each node's value of thresholded indicators against its threshold. */
typedef struct tally_thresholds tally_thresholds;

/* indicators: indicator indices to judge (borrowed for the call); NULL or
 * indicator_count 0 means every indicator that has `thresholds:`. */
typedef struct tally_thresholds_options {
    unsigned int version;
    const size_t *indicators;
    size_t indicator_count;
} tally_thresholds_options;

#define TALLY_THRESHOLDS_OPTIONS_VERSION 1
#define TALLY_THRESHOLDS_OPTIONS_INIT { TALLY_THRESHOLDS_OPTIONS_VERSION, NULL, 0 }

/* One node's standing for one indicator and period. */
typedef struct tally_threshold_status {
    double value;     /* the rolled-up value; NaN when missing */
    double threshold; /* NaN when the node's level has no threshold */
    int is_max;       /* 1: the value must stay under the threshold; 0: over it */
    int inclusive;    /* 1: equal to the threshold meets it; 0: it does not */
    int meets;        /* 1 yes, 0 no, -1 unknown (value or threshold missing) */
    double margin;    /* how far inside the threshold the value is: threshold -
                       * value for a max, value - threshold for a min;
                       * negative when it is outside; NaN when unknown */
} tally_threshold_status;

/* Judges every node of the rollup result, for each indicator with
 * thresholds and each period of the result. A node's threshold is its
 * level's entry (levels are matched by name), with the limit of the
 * override whose region prefix is the longest prefix of the node's code;
 * a level without an entry has no threshold. Values are compared at full
 * precision, not as printed.
 * Errors: TALLY_ENOTFOUND (no indicator has thresholds; an entry's level
 * is not a level of the hierarchy), TALLY_EINVAL (an indicator index out
 * of range), TALLY_ENOMEM.
 * *out belongs to the caller (tally_thresholds_free); it borrows the
 * result's hierarchy and definitions, not the result. */
TALLY_EXTERN(int) tally_poverty_thresholds(tally_thresholds **out, const tally_result *r,
                                           const tally_thresholds_options *opts);

/* Frees thresholds. NULL does nothing. */
TALLY_EXTERN(void) tally_thresholds_free(tally_thresholds *t);

/* The indicators judged (indices into the definitions), in definition
 * order, and the periods (as in the rollup result). */
TALLY_EXTERN(size_t) tally_thresholds_indicator_count(const tally_thresholds *t);
TALLY_EXTERN(size_t) tally_thresholds_indicator(const tally_thresholds *t, size_t k);
TALLY_EXTERN(size_t) tally_thresholds_period_count(const tally_thresholds *t);
TALLY_EXTERN(const char *) tally_thresholds_period(const tally_thresholds *t, size_t p);

/* The standing of `node` for the k-th judged indicator and period p.
 * TALLY_EINVAL for an index out of range. */
TALLY_EXTERN(int) tally_thresholds_status(const tally_thresholds *t, size_t node, size_t k,
                                          size_t p, tally_threshold_status *out);

/* Writes one row per node (pre-order, at opts->levels), judged indicator
 * and period:
 *   region_code,region_name,level,period,indicator,value,threshold,
 *   meets_threshold,margin
 * value, threshold and margin with the indicator's decimals;
 * meets_threshold yes / no, empty when unknown (JSON: true / false / null).
 * Errors: TALLY_EIO, TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_thresholds_write(const tally_thresholds *t, const char *path,
                                         const tally_write_options *opts);

TALLY_END_DECLS

#endif
