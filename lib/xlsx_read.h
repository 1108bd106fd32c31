/* Internal: where a field of a sheet converted to CSV really is. */
#ifndef TALLY_LIB_XLSX_READ_H
#define TALLY_LIB_XLSX_READ_H

#include <stddef.h>

#include "tally/xlsx_read.h"

/* The open sheet read under `name` (the very pointer tally_xlsx_sheet_name
 * gave), or NULL: a plain CSV input. */
const tally_xlsx_sheet *tally_xlsx__sheet_of(const char *name);

/* The sheet's row and column (1-based) of field `field` (0-based) of the
 * row at CSV line `line`. */
void tally_xlsx__cell(const tally_xlsx_sheet *s, unsigned long line, size_t field,
                      unsigned long *row, unsigned long *column);

#endif
