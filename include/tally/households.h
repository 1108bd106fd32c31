/* tally: household records, the input of the poverty measures.
 *
 * Households `household_id,region_code,size,income_per_capita[,weight][,year]`
 * read from CSV or added one by one, each checked as it comes in; the
 * measures over them are in tally/poverty.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_HOUSEHOLDS_H
#define TALLY_HOUSEHOLDS_H

#include "tally/common.h"
#include "tally/read.h"
#include "tally/hierarchy.h"

TALLY_BEGIN_DECLS

/* Households read from CSV or added one by one. It borrows its hierarchy,
 * which must outlive it. Used by one thread at a time. Holds about 36
 * bytes a household plus its id, front coded (docs/poverty.md), and at
 * most 2^31 households (more fail with TALLY_ENOMEM). */
typedef struct tally_households tally_households;

/* Creates an empty set of households over h (borrowed). *out belongs to
 * the caller (tally_households_free). Errors: TALLY_EINVAL (h NULL),
 * TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_households_new(tally_households **out, const tally_hierarchy *h);

/* Frees households. NULL does nothing. */
TALLY_EXTERN(void) tally_households_free(tally_households *hh);

/* The hierarchy the households were made over (borrowed). */
TALLY_EXTERN(const tally_hierarchy *) tally_households_hierarchy(const tally_households *hh);

/* Reads a households CSV (UTF-8, optional BOM, RFC 4180) whose header names
 * the columns household_id, region_code, size, income_per_capita (required)
 * and weight, year (optional), in any order. Any other column is refused
 * (a misspelt `weight` must not silently become weight 1).
 *
 * A row is accepted when: household_id is not empty; region_code is a code
 * of the hierarchy (any level: a household filed under a town counts for
 * the town and everything above it); size is a whole number from 1 to
 * 10^6; income_per_capita is a number from 0 to 10^15; weight, when the
 * column exists, is a number > 0 and at most 10^12 (without the column
 * every weight is 1); year, when the column exists, is four digits (1000
 * to 9999); and no household with the same id and year was accepted
 * before (in any file read into hh). The bounds keep every sum finite. Empty
 * cells are refused: a missing income is not an income of 0.
 *
 * Error codes of rejected rows: TALLY_EPARSE (malformed CSV, wrong field
 * count, not a number), TALLY_ENOTFOUND (unknown region), TALLY_EINVAL (an
 * empty cell or a value out of range), TALLY_ERANGE (a number that
 * overflows), TALLY_EEXIST (duplicate household). Each carries the file,
 * line and column of the offending field.
 *
 * Modes, encodings, limits, stats and rejects work as for
 * tally_dataset_read_file (the same row loop): with
 * TALLY_ON_ERROR_STOP the first bad row stops the read and its code is
 * returned (households accepted before it stay); with
 * TALLY_ON_ERROR_COLLECT every bad row goes to `rejects` (required then)
 * and the read goes on, returning 0 unless the file cannot be read or its
 * header is unusable. rows_read == rows_accepted + rows_rejected. `stats`
 * may be NULL; opts NULL means TALLY_READ_OPTIONS_INIT. opts->threads (0:
 * one per core, at most 8): threads read the rows of an input of 2 MB or
 * more ahead, in pieces cut at line breaks, and the calling thread stores
 * them in file order, so the result is the one-thread read's: the same
 * households in the same order, rejected rows, duplicates (found at the
 * later line), stats and last error. */
TALLY_EXTERN(int) tally_households_read_file(tally_households *hh, const char *path,
                                             const tally_read_options *opts,
                                             tally_rejects *rejects, tally_read_stats *stats);

/* Same, from memory; `name` stands for the path in messages (NULL:
 * "<buffer>"). The buffer is not kept. */
TALLY_EXTERN(int) tally_households_read_buffer(tally_households *hh, const char *data,
                                               size_t size, const char *name,
                                               const tally_read_options *opts,
                                               tally_rejects *rejects, tally_read_stats *stats);

/* Adds one household, checked as a CSV row would be (weight: pass 1 when
 * there is none; year: 0 when the household has none). Errors:
 * TALLY_EINVAL, TALLY_ENOTFOUND, TALLY_EEXIST, TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_households_add(tally_households *hh, const char *household_id,
                                       const char *region_code, double size,
                                       double income_per_capita, double weight, int year);

/* Number of households accepted so far (every year). */
TALLY_EXTERN(size_t) tally_households_count(const tally_households *hh);

TALLY_END_DECLS

#endif
