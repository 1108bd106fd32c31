/* Internal: the export module's fast paths, for the tests. */
#ifndef TALLY_LIB_EXPORT_H
#define TALLY_LIB_EXPORT_H

#include <stddef.h>

#include "tally/export.h"

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

#endif
