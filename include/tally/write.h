/* tally: how results are written: the format, which levels, regions and
 * indicators, and in what shape.
 *
 * Every writer of results takes these options: tally_result_write
 * (tally/export.h) and the writers of progress, poverty measures, exit
 * thresholds and findings. docs/output.md and docs/excel.md say what each
 * option gives.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_WRITE_H
#define TALLY_WRITE_H

#include "tally/common.h"

TALLY_BEGIN_DECLS

typedef enum tally_format {
    TALLY_FORMAT_CSV = 0,
    TALLY_FORMAT_JSON = 1,
    /* An Excel workbook (libxlsxwriter): codes as text, numbers as numbers
     * with the indicator's decimals as their number format, the header row
     * and the region columns frozen. A rollup result is one wide sheet;
     * the other writers give their CSV table as a sheet. */
    TALLY_FORMAT_XLSX = 2
} tally_format;

typedef enum tally_layout {
    TALLY_LAYOUT_LONG = 0, /* one row per region, indicator and period */
    TALLY_LAYOUT_WIDE = 1  /* one row per region, a column per indicator and
                            * period (rollup results only; CSV) */
} tally_layout;

/* levels: level indices to write (borrowed for the call); NULL or
 * level_count 0 writes every level.
 *
 * From version 2:
 * bom: CSV starts with a UTF-8 byte order mark (EF BB BF), which Excel
 *   needs to read UTF-8; nothing else changes. Ignored for JSON and xlsx.
 * names: each indicator's name and unit beside its id (CSV columns
 *   indicator_name,unit after indicator; JSON keys of the same names; in
 *   the wide layout the columns are headed by name and unit).
 * layout: tally_layout.
 * under: a region code (borrowed); only that region and the regions under
 *   it are written. NULL: every region. An unknown code is TALLY_ENOTFOUND.
 * indicators, indicator_count: indicator ids (borrowed); only those are
 *   written, in definition order. NULL or 0: every indicator. An unknown
 *   id is TALLY_ENOTFOUND.
 *
 * From version 3:
 * all_regions: 0 (the default) writes the regions that have data and
 *   leaves the others out, so that the output grows with what was
 *   reported, not with the hierarchy; 1 writes every region of the levels
 *   and subtree asked for, as versions 1 and 2 do. What "has data" means
 *   for each writer is in docs/output.md ("Only the regions with data"):
 *   a rollup row (region, indicator, period) with a value, or with
 *   --compare a previous value, or with --coverage a region that reported
 *   an operand; a wide or xlsx row with a value in any of its cells; a
 *   progress row with an actual or a target; a poverty row with households
 *   or a measure; a thresholds row with a value. Findings are written
 *   one per finding either way.
 * Options of an earlier version are read as that version: the later
 * fields take their defaults, except all_regions, which is 1 for them, so
 * that a program built against an earlier version writes what it wrote.
 * NULL options are the defaults of the current version. */
typedef struct tally_write_options {
    unsigned int version;
    int format; /* tally_format */
    const int *levels;
    size_t level_count;
    int bom;
    int names;
    int layout; /* tally_layout */
    const char *under;
    const char *const *indicators;
    size_t indicator_count;
    int all_regions;
} tally_write_options;

#define TALLY_WRITE_OPTIONS_VERSION 3
#define TALLY_WRITE_OPTIONS_INIT                                                              \
    { TALLY_WRITE_OPTIONS_VERSION, TALLY_FORMAT_CSV, NULL, 0, 0, 0, TALLY_LAYOUT_LONG, NULL, \
      NULL, 0, 0 }

TALLY_END_DECLS

#endif
