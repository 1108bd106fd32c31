/* tally: what every reader of CSV input shares: what to do with a bad row,
 * the read options, what a read did, and the list of rejected rows.
 *
 * The readers of records (tally/dataset.h), targets (tally/targets.h) and
 * households (tally/households.h) take these options, fill these stats, and
 * in collecting mode append every bad row, with its file, line, column and
 * reason, to a tally_rejects list.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_READ_H
#define TALLY_READ_H

#include "tally/common.h"

TALLY_BEGIN_DECLS

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
 *   says so and suggests declaring the encoding); "auto": UTF-8 when the
 *   file's first megabyte (whole lines) is valid UTF-8, else GB18030 when
 *   the whole file is valid GB18030, with a warning at line 1 in the
 *   rejects list (when one is given) saying so, else UTF-8
 *   (docs/input-files.md);
 * max_columns, max_field_bytes: limits on a row's fields and a field's size
 *   (0: the defaults, 4096 fields and 1 MiB); a row past them is rejected
 *   (TALLY_ELIMIT) like any bad row.
 * Since version 3:
 * threads: how many threads read a records file (tally_dataset_read_file
 *   and _read_buffer) or a households file (tally_households_read_file and
 *   _read_buffer; the other readers read with one): 0 for one per
 *   online core (at most 8), 1 for a serial read; at most 64. The result
 *   is the same with any number: the same values, columns in the same
 *   order, stats, last error, and rejected rows in file order with their
 *   exact lines. Inputs under about 2 MB are read with one thread, and so
 *   is any input whose pieces cannot be read apart (the same cell in
 *   pieces of two threads, a quoted line break where a piece was cut, a
 *   bad row in stop mode): the read is then undone and done again by one
 *   thread. Options of versions 1 and 2 read as with threads 0.
 * Since version 4:
 * max_input_bytes: the most read from a file that is not a regular file
 *   (a pipe, a FIFO, a character device such as /dev/zero), which is read
 *   into memory whole; past it the read fails with TALLY_ELIMIT naming the
 *   file and the limit, having stored nothing. 0: the default, 1 GiB.
 *   Regular files are mapped, not read, and have no such limit.
 * max_dataset_bytes: the memory budget of the dataset's columns. Every
 *   (indicator, period) a file reports is a dense column of 8 bytes per
 *   region (a column of the national table is about 5.6 MB), so a small
 *   file with many periods can ask for many gigabytes. Before each new
 *   column is allocated, the columns' total size is checked against the
 *   budget; past it the read stops with TALLY_ELIMIT at the row that asked,
 *   naming the columns, the regions and the bytes. The budget stays with
 *   the dataset (tally_dataset_add obeys it too). 0: the default, a quarter
 *   of physical memory, at most half of the address-space limit when one is
 *   set (ulimit -v). See docs/untrusted-input.md.
 * Since version 5:
 * sheet: the xlsx sheet (tally/xlsx_read.h) whose text this read is
 *   given, or NULL (the default) for CSV. With it, messages and rejected
 *   rows name the sheet's cells ("NAME!D5": line is the sheet's row and
 *   column the column's number), the text is read as UTF-8 whatever the
 *   encoding says (a sheet's text always is), and a records read is a
 *   serial read whatever threads says. It belongs to this read alone, so
 *   reads of different sheets in different threads never see each other's.
 *   Only for the _buffer readers, given the sheet's own text
 *   (tally_xlsx_sheet_csv; its size is checked: TALLY_EINVAL otherwise).
 *   Borrowed for the call. Options of versions 1 to 4 read as with NULL:
 *   places are lines and columns of the text. */
typedef struct tally_read_options {
    unsigned int version;
    int on_error; /* tally_on_error */
    const char *encoding;
    size_t max_columns;
    size_t max_field_bytes;
    unsigned int threads;
    size_t max_input_bytes;
    size_t max_dataset_bytes;
    const struct tally_xlsx_sheet *sheet;
} tally_read_options;

#define TALLY_READ_OPTIONS_VERSION 5
#define TALLY_READ_OPTIONS_INIT \
    { TALLY_READ_OPTIONS_VERSION, TALLY_ON_ERROR_STOP, NULL, 0, 0, 0, 0, 0, NULL }

/* What a read did: rows_read == rows_accepted + rows_rejected, always.
 * The header row is not counted. */
typedef struct tally_read_stats {
    size_t rows_read;
    size_t rows_accepted;
    size_t rows_rejected;
} tally_read_stats;

/* The most bytes of a rejected row's text that are kept (4 KiB). */
#define TALLY_REJECTS_ROW_MAX 4096

/* Rejected rows. */
TALLY_EXTERN(int) tally_rejects_new(tally_rejects **out);
TALLY_EXTERN(void) tally_rejects_free(tally_rejects *r);
TALLY_EXTERN(size_t) tally_rejects_count(const tally_rejects *r);
/* Rows whose cells are all empty (",,,": the rows Excel leaves after a
 * table) are neither data nor errors: every reader skips them, counts
 * them neither as read nor as rejected, and adds them up here, over all
 * the reads that were given r. 0 for r NULL. */
TALLY_EXTERN(size_t) tally_rejects_empty_rows(const tally_rejects *r);
/* Accessors by index; strings are borrowed and live as long as r. */
TALLY_EXTERN(const char *) tally_rejects_path(const tally_rejects *r, size_t i);
TALLY_EXTERN(unsigned long) tally_rejects_line(const tally_rejects *r, size_t i);
TALLY_EXTERN(unsigned long) tally_rejects_column(const tally_rejects *r, size_t i);
TALLY_EXTERN(int) tally_rejects_code(const tally_rejects *r, size_t i);
/* The reason, as the message of tally_error_last() would give it, without
 * the "path:line:col: " prefix. */
TALLY_EXTERN(const char *) tally_rejects_reason(const tally_rejects *r, size_t i);
/* The raw row as it stands in the file (line ending removed). A row longer
 * than TALLY_REJECTS_ROW_MAX bytes is kept cut: its first bytes (whole
 * UTF-8 characters), then "…[cut: N bytes]" with N the row's full length,
 * so that a huge bad row costs neither memory nor a huge rejects file. */
TALLY_EXTERN(const char *) tally_rejects_row(const tally_rejects *r, size_t i);
/* Warnings: rows that were accepted but carry something a person should
 * look at (a region_name that is not the hierarchy's name for the code).
 * They are kept apart from the rejected rows, in file order, and are
 * neither counted in tally_rejects_count nor written by
 * tally_rejects_write_csv; a reader adds them in either on_error mode
 * when it is given a rejects list. Accessors by index; strings are
 * borrowed and live as long as r; the reason has no "path:line:col: "
 * prefix. */
TALLY_EXTERN(size_t) tally_rejects_warning_count(const tally_rejects *r);
TALLY_EXTERN(const char *) tally_rejects_warning_path(const tally_rejects *r, size_t i);
TALLY_EXTERN(unsigned long) tally_rejects_warning_line(const tally_rejects *r, size_t i);
TALLY_EXTERN(unsigned long) tally_rejects_warning_column(const tally_rejects *r, size_t i);
TALLY_EXTERN(const char *) tally_rejects_warning_reason(const tally_rejects *r, size_t i);
/* Writes the rejects as CSV with header file,line,column,reason,row to
 * `path` (NULL: standard output; a file is replaced whole once written,
 * docs/output.md). Errors: TALLY_EIO (with the errno text), TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_rejects_write_csv(const tally_rejects *r, const char *path);

TALLY_END_DECLS

#endif
