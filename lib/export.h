/* Internal: the export module's fast paths, for the tests. */
#ifndef TALLY_LIB_EXPORT_H
#define TALLY_LIB_EXPORT_H

#include <stddef.h>

#include "tally/export.h"
#include "write.h"

/* tally_number_format with the writer's fast path for values whose scaled
 * value |v| * 10^decimals is below 2^52 and not within 8 ulp of a tie
 * (from size 40 up); the same text, always. */
int tally_export__number(char *buf, size_t size, double v, int decimals);

/* tally_number_format by the exact path on the shortest decimal for every
 * value (no fast path): what the fast paths are tested against. */
int tally_export__number_plain(char *buf, size_t size, double v, int decimals);

/* tally_result_write with `threads` formatting threads and blocks of
 * `block_nodes` nodes (0: the defaults). The output is the same for every
 * choice of the two. */
int tally_export__write(const tally_result *r, const char *path, const tally_write_options *opts,
                        size_t threads, size_t block_nodes);

/* The wide table (export_wide.c): a row per region written, in pre-order,
 * code, name and level, then a column per indicator and period written.
 * CSV (opts->layout wide) or, for TALLY_FORMAT_XLSX, a sheet (xlsx.c).
 * Values only: a result with --compare or --coverage columns is refused
 * (TALLY_EINVAL), as is JSON. Errors as tally_result_write. */
int tally_export__wide(const tally_result *r, const char *path, const tally_write__scope *scope);

/* The header of a wide column: "id period", or with `names`
 * "name (unit) period" (no brackets when the unit is empty). A new string
 * (free()), NULL when out of memory. */
char *tally_export__wide_header(const tally_definitions *d, size_t indicator, const char *period,
                                int names);

/* A node's value (NaN: missing). */
double tally_export__wide_value(const tally_result *r, size_t node, size_t indicator,
                                size_t period);

/* 1 when the node's wide row is written: with scope->opts.all_regions,
 * or when one of its cells (the indicators and periods of the scope) has
 * a value. */
int tally_export__wide_row(const tally_result *r, size_t node, const tally_write__scope *scope);

/* The wide table as the one sheet of a workbook at path (xlsx.c). */
int tally_xlsx__result(const tally_result *r, const char *path, const tally_write__scope *scope);

#endif
