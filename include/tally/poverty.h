/* tally: poverty and inequality measures from household records.
 *
 * From households (tally_poverty_households): household records
 * `household_id,region_code,size,income_per_capita[,weight][,year]` and a
 * poverty line z give at every node, over the households of its subtree,
 * with person weights pw = weight * size:
 *   P_a   = sum(pw * ((z - y) / z)^a over y < z) / sum(pw), a = 0, 1, 2
 *   Watts = sum(pw * ln(z / y) over 0 < y < z) / sum(pw)
 * (poor means y < z, strictly; households with income 0 count in P0, P1
 * and P2 but not in Watts, where ln(z / 0) is undefined), the
 * person-weighted Gini and median income, and the number of households
 * under a monitoring line. FGT and Watts are decomposable (each node's
 * numerators and weights are the sums of its children's and its own);
 * Gini and the median are computed from each node's own sorted incomes.
 *
 * Households are read or added through tally/households.h; exit
 * thresholds over rolled-up indicators are in tally/thresholds.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_POVERTY_H
#define TALLY_POVERTY_H

#include "tally/common.h"
#include "tally/definitions.h"
#include "tally/hierarchy.h"
#include "tally/households.h"
#include "tally/write.h"

TALLY_BEGIN_DECLS

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
 * Cost: O(H log H + H * L + N) for H households, L levels and N nodes:
 * the households are ordered once by (node, income) and each parent
 * merges its children's sorted runs (docs/poverty.md). Memory: 16 bytes
 * a household and scratch as large as the largest subtree below a root,
 * besides the result. The subtrees below the roots are measured on one
 * thread per core (at most 8), with the same results as one thread.
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

TALLY_END_DECLS

#endif
