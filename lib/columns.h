/* Internal: the names a header cell may give a column: the column's own
 * name or one of its common Chinese names, an indicator's id or name, and
 * the nearest known name for a cell that is none of them. */
#ifndef TALLY_LIB_COLUMNS_H
#define TALLY_LIB_COLUMNS_H

#include <stddef.h>

#include "tally/definitions.h"

/* The records columns, in the order of `columns:` in the definitions. */
enum { TALLY_COLUMNS__RECORDS_COUNT = 5 };
extern const char *const tally_columns__records_keys[TALLY_COLUMNS__RECORDS_COUNT];

/* The header name the definitions' `columns:` give records column k (in
 * the order of tally_columns__records_keys), or NULL; borrowed from d
 * (definitions_columns.c). */
const char *tally_definitions__column_header(const tally_definitions *d, size_t k);

/* The records column (region_code, indicator, period, value, region_name)
 * the header cell names: by the name the definitions' `columns:` give it
 * (d may be NULL), by its own name or by a synonym (区划代码, 指标, 时期,
 * 数值, 名称...); NULL when it names none. */
const char *tally_columns__records_key(const tally_definitions *d, const char *cell, size_t len);

/* The same for a hierarchy: code, name, level, parent_code. */
const char *tally_columns__hierarchy_key(const char *cell, size_t len);

/* An indicator named by its id or, failing that, its name: 0 with *index,
 * or TALLY_ENOTFOUND (the last error is left as it was). */
int tally_columns__find_indicator(const tally_definitions *d, const char *cell, size_t len,
                                  size_t *index);

/* The known name nearest to the cell (edit distance in characters over
 * the keys and synonyms of the records (hierarchy == 0) or hierarchy
 * (hierarchy == 1), and the indicators' ids and names when d is given),
 * as "; did you mean 'X'?" in buf, or "" when nothing is near. */
void tally_columns__nearest(const tally_definitions *d, int hierarchy, const char *cell,
                            size_t len, char *buf, size_t size);

#endif
