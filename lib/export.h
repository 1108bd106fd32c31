/* Internal: the export module's number fast path, for the tests. */
#ifndef TALLY_LIB_EXPORT_H
#define TALLY_LIB_EXPORT_H

#include <stddef.h>

/* tally_format_number with a fast path for values that are whole once
 * scaled by 10^decimals (within 10^14); the same text, always. */
int tally_export__number(char *buf, size_t size, double v, int decimals);

#endif
