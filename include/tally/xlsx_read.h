/* tally: reading a sheet of an Excel workbook (.xlsx) as CSV.
 *
 * A sheet is turned into CSV text in memory, which any reader's
 * _read_buffer/_from_buffer function then reads, under the sheet's name
 * and with the sheet in its options (tally_read_options and
 * tally_hierarchy_options, field `sheet`): messages and rejected rows of
 * that read then name the sheet's cells ("book.xlsx:Sheet1!C12"), not
 * lines of the text. The sheet is per read, not per process: reads of
 * different sheets may run in different threads at once, and a sheet
 * itself is read-only once open, so several reads may share it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_XLSX_READ_H
#define TALLY_XLSX_READ_H

#include <stddef.h>

#include "tally/common.h"
#include "tally/read.h"

TALLY_BEGIN_DECLS

typedef struct tally_xlsx_sheet tally_xlsx_sheet;

/* Opens sheet `sheet` (by its name; NULL: the first sheet) of the workbook
 * at `path` and converts it to CSV: row N of the sheet is line N of the
 * text (missing rows are blank lines, which the readers skip), every row
 * starts at column A, a cell without a value is an empty field, and rows
 * shorter than the first row are padded to its width. Shared and inline
 * strings are their text; numbers are the digits the workbook stores,
 * except that an integer stored in exponent form (4.30602123456E+11) is
 * written as its digits; booleans are TRUE/FALSE; error cells (#N/A) are
 * their text; dates are the serial numbers Excel stores (no conversion).
 * Formulas give their cached value.
 *
 * opts: max_input_bytes (version 4; 0: 1 GiB) bounds the workbook file,
 * each part of it once uncompressed, and the CSV text (TALLY_ELIMIT past
 * it: a zip bomb ends there). opts NULL: the defaults.
 *
 * Errors: TALLY_EIO (cannot open), TALLY_EPARSE (not a zip, a damaged
 * part, XML that does not parse, a cell reference that is out of order),
 * TALLY_ENOTFOUND (no such sheet: the message lists the sheets),
 * TALLY_ELIMIT, TALLY_ENOMEM. On success *out owns the text; free it with
 * tally_xlsx_sheet_free. */
TALLY_EXTERN(int) tally_xlsx_sheet_open(tally_xlsx_sheet **out, const char *path,
                                        const char *sheet, const tally_read_options *opts);

/* The CSV text (UTF-8, no byte order mark) and its size in *size. Borrowed:
 * lives as long as the sheet. */
TALLY_EXTERN(const char *) tally_xlsx_sheet_csv(const tally_xlsx_sheet *s, size_t *size);

/* The name to read the text under: "PATH:SHEET". Borrowed: lives as long
 * as the sheet. A reader given the sheet in its options places its
 * messages at the sheet's cells under the name it is given (a copy of
 * this one will do): "PATH:SHEET!D5: reason", with line = the sheet's row
 * and column = the column's number (D: 4), also in the rejected rows. */
TALLY_EXTERN(const char *) tally_xlsx_sheet_name(const tally_xlsx_sheet *s);

/* Writes the cell reference of `column` (1-based: 1 is A, 27 is AA) and
 * `row` into buf ("D5"), always NUL-terminated. Returns buf. */
TALLY_EXTERN(char *) tally_xlsx_cell_name(unsigned long column, unsigned long row, char *buf,
                                          size_t size);

/* Frees a sheet (NULL: nothing). Reads given it must be over. */
TALLY_EXTERN(void) tally_xlsx_sheet_free(tally_xlsx_sheet *s);

TALLY_END_DECLS

#endif
