/* Internal: where a field of a sheet converted to CSV really is. */
#ifndef TALLY_LIB_XLSX_READ_H
#define TALLY_LIB_XLSX_READ_H

#include <stddef.h>

#include "tally/xlsx_read.h"

/* The sheet's row and column (1-based) of field `field` (0-based) of the
 * row at CSV line `line`. */
void tally_xlsx__cell(const tally_xlsx_sheet *s, unsigned long line, size_t field,
                      unsigned long *row, unsigned long *column);

#endif
