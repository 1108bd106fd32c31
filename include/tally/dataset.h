/* tally: reported values, read from records CSV or added one by one.
 *
 * A dataset holds what each region filed itself, per indicator and period,
 * in dense columns over all nodes with a validity bit beside every value
 * (missing is not zero). It borrows its hierarchy and definitions: both must
 * outlive it. A dataset is used by one thread at a time.
 *
 * Records CSV (UTF-8, optional BOM, RFC 4180: quotes, doubled quotes, CRLF):
 *   long:  region_code,indicator,period,value
 *   wide:  region_code,period,<indicator id>,<indicator id>...
 * Columns are found by name, in any order. A header with `indicator` and
 * `value` is long; otherwise every column besides region_code and period
 * must be an indicator id. Periods: YYYY-MM, YYYY-Qn, YYYY. Values: decimal
 * numbers (sign, digits, point, exponent); an empty cell is missing; nan,
 * inf, hexadecimal and numbers that overflow are refused.
 *
 * Every row read is either accepted or rejected; a rejected row has a
 * reason with file, line and column: unknown region, unknown indicator, bad
 * period, bad number, wrong field count, duplicate (same region, indicator
 * and period given twice, in any of the files read into the dataset).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_DATASET_H
#define TALLY_DATASET_H

#include "tally/common.h"
#include "tally/definitions.h"
#include "tally/hierarchy.h"

TALLY_BEGIN_DECLS

typedef struct tally_dataset tally_dataset;

/* A list of rejected rows, filled by the readers in collecting mode. */
typedef struct tally_rejects tally_rejects;

typedef enum tally_on_error {
    TALLY_ON_ERROR_STOP = 0,   /* fail at the first bad row */
    TALLY_ON_ERROR_COLLECT = 1 /* keep going; every bad row goes to the rejects */
} tally_on_error;

/* Options for the readers of records (and of the other CSV inputs that take
 * them). Start from TALLY_READ_OPTIONS_INIT. Version 1 has on_error only.
 * Since version 2:
 * encoding: the file's character encoding, an iconv name ("gb18030");
 *   NULL or "utf-8" for UTF-8 (a rejected row that is not valid UTF-8 then
 *   says so and suggests declaring the encoding);
 * max_columns, max_field_bytes: limits on a row's fields and a field's size
 *   (0: the defaults, 4096 fields and 1 MiB); a row past them is rejected
 *   (TALLY_ELIMIT) like any bad row.
 * Since version 3:
 * threads: how many threads read a records file (tally_dataset_read_file
 *   and _read_buffer; the other readers read with one): 0 for one per
 *   online core (at most 8), 1 for a serial read; at most 64. The result
 *   is the same with any number: the same values, columns in the same
 *   order, stats, last error, and rejected rows in file order with their
 *   exact lines. Inputs under about 2 MB are read with one thread, and so
 *   is any input whose pieces cannot be read apart (the same cell in
 *   pieces of two threads, a quoted line break where a piece was cut, a
 *   bad row in stop mode): the read is then undone and done again by one
 *   thread. Options of versions 1 and 2 read as with threads 0. */
typedef struct tally_read_options {
    unsigned int version;
    int on_error; /* tally_on_error */
    const char *encoding;
    size_t max_columns;
    size_t max_field_bytes;
    unsigned int threads;
} tally_read_options;

#define TALLY_READ_OPTIONS_VERSION 3
#define TALLY_READ_OPTIONS_INIT { TALLY_READ_OPTIONS_VERSION, TALLY_ON_ERROR_STOP, NULL, 0, 0, 0 }

/* What a read did: rows_read == rows_accepted + rows_rejected, always.
 * The header row is not counted. */
typedef struct tally_read_stats {
    size_t rows_read;
    size_t rows_accepted;
    size_t rows_rejected;
} tally_read_stats;

/* Creates an empty dataset over h and d (borrowed; they must outlive it).
 * *out belongs to the caller (tally_dataset_free). */
TALLY_EXTERN(int) tally_dataset_new(tally_dataset **out, const tally_hierarchy *h,
                                    const tally_definitions *d);

/* Frees a dataset. NULL does nothing. */
TALLY_EXTERN(void) tally_dataset_free(tally_dataset *ds);

/* The hierarchy and definitions the dataset was made over (borrowed). */
TALLY_EXTERN(const tally_hierarchy *) tally_dataset_hierarchy(const tally_dataset *ds);
TALLY_EXTERN(const tally_definitions *) tally_dataset_definitions(const tally_dataset *ds);

/* Reads a records CSV into the dataset (the file is mapped, not copied;
 * the pages already read are given back as the read goes on, so a large
 * file does not stay resident: a pipe, which cannot be mapped, is read
 * into memory whole).
 *
 * With TALLY_ON_ERROR_STOP the first bad row stops the read: the function
 * returns its code (TALLY_EPARSE, TALLY_ENOTFOUND, TALLY_EEXIST,
 * TALLY_ERANGE) with the location in tally_error_last(); rows accepted
 * before it stay in the dataset. With TALLY_ON_ERROR_COLLECT every bad row
 * is appended to `rejects` and the read goes on; it returns 0 unless the
 * file cannot be read or its header is unusable (then nothing is read).
 * `rejects` may be NULL in stop mode; in collecting mode it is required.
 * `stats` may be NULL. opts NULL means TALLY_READ_OPTIONS_INIT. */
TALLY_EXTERN(int) tally_dataset_read_file(tally_dataset *ds, const char *path,
                                          const tally_read_options *opts,
                                          tally_rejects *rejects, tally_read_stats *stats);

/* Same, from memory; `name` stands for the path in messages and rejects. */
TALLY_EXTERN(int) tally_dataset_read_buffer(tally_dataset *ds, const char *data, size_t size,
                                            const char *name, const tally_read_options *opts,
                                            tally_rejects *rejects, tally_read_stats *stats);

/* Adds one reported value. `value` NaN records a missing value (the cell
 * was filed empty). Errors: TALLY_ENOTFOUND (region or indicator),
 * TALLY_EPARSE (period), TALLY_EEXIST (already given), TALLY_ERANGE
 * (infinite value). Formula indicators may be reported too: the checks
 * compare what was filed with what the formula gives. */
TALLY_EXTERN(int) tally_dataset_add(tally_dataset *ds, const char *region_code,
                                    const char *indicator, const char *period, double value);

/* The value region `node` filed itself for an indicator and period string
 * exactly as given (no time rule). *present is 1 when a value was filed,
 * 0 when nothing or an empty cell was. */
TALLY_EXTERN(int) tally_dataset_reported(const tally_dataset *ds, size_t node, size_t indicator,
                                         const char *period, double *value, int *present);

/* Number of values (cells) accepted so far, missing ones included. */
TALLY_EXTERN(size_t) tally_dataset_value_count(const tally_dataset *ds);

/* Rejected rows. */
TALLY_EXTERN(int) tally_rejects_new(tally_rejects **out);
TALLY_EXTERN(void) tally_rejects_free(tally_rejects *r);
TALLY_EXTERN(size_t) tally_rejects_count(const tally_rejects *r);
/* Accessors by index; strings are borrowed and live as long as r. */
TALLY_EXTERN(const char *) tally_rejects_path(const tally_rejects *r, size_t i);
TALLY_EXTERN(unsigned long) tally_rejects_line(const tally_rejects *r, size_t i);
TALLY_EXTERN(unsigned long) tally_rejects_column(const tally_rejects *r, size_t i);
TALLY_EXTERN(int) tally_rejects_code(const tally_rejects *r, size_t i);
/* The reason, as the message of tally_error_last() would give it, without
 * the "path:line:col: " prefix. */
TALLY_EXTERN(const char *) tally_rejects_reason(const tally_rejects *r, size_t i);
/* The raw row as it stands in the file (line ending removed). */
TALLY_EXTERN(const char *) tally_rejects_row(const tally_rejects *r, size_t i);
/* Writes the rejects as CSV with header file,line,column,reason,row to
 * `path` (NULL: standard output). */
TALLY_EXTERN(int) tally_rejects_write_csv(const tally_rejects *r, const char *path);

TALLY_END_DECLS

#endif
