/* Internal: what every writer of CSV or JSON output shares. */
#ifndef TALLY_LIB_WRITE_H
#define TALLY_LIB_WRITE_H

#include <stdio.h>

#include "tally/export.h"
#include "tally/hierarchy.h"

/* A CSV field, quoted only when it needs to be (comma, quote, CR, LF). */
void tally_write__csv(FILE *f, const char *s);
/* A JSON string with its quotes. */
void tally_write__json(FILE *f, const char *s);
/* A number with `decimals` (tally_format_number); missing (NaN) is empty in
 * CSV and null in JSON. */
void tally_write__number(FILE *f, double v, int decimals, int json);
/* want[level] = 1 for every level the options ask for (all when they name
 * none); a new array of level_count + 1 bytes (free()), NULL when out of
 * memory. */
unsigned char *tally_write__levels(const tally_hierarchy *h, const tally_write_options *opts);

#endif
