/* tally: how results are written: the format, and which levels.
 *
 * Every writer of results takes these options: tally_result_write
 * (tally/export.h) and the writers of progress, poverty measures, exit
 * thresholds and findings.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_WRITE_H
#define TALLY_WRITE_H

#include "tally/common.h"

TALLY_BEGIN_DECLS

typedef enum tally_format {
    TALLY_FORMAT_CSV = 0,
    TALLY_FORMAT_JSON = 1
} tally_format;

/* levels: level indices to write (borrowed for the call); NULL or
 * level_count 0 writes every level. */
typedef struct tally_write_options {
    unsigned int version;
    int format; /* tally_format */
    const int *levels;
    size_t level_count;
} tally_write_options;

#define TALLY_WRITE_OPTIONS_VERSION 1
#define TALLY_WRITE_OPTIONS_INIT { TALLY_WRITE_OPTIONS_VERSION, TALLY_FORMAT_CSV, NULL, 0 }

TALLY_END_DECLS

#endif
