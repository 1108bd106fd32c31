/* tally: crosswalks between two vintages of a hierarchy.
 *
 * Division codes change from one edition of a table to the next: a county
 * becomes a city under a new code, towns merge, villages are merged. A
 * crosswalk says, for every region of the old table (the "from" side),
 * which region or regions of the new table (the "to" side) it became, with
 * what share, and why. It is a list of rows, one or more per old region
 * (several for a split), rows of one old region next to each other:
 *
 *   from_code, from_name, to_code, to_name, share, how
 *
 * A crosswalk is inferred from the two tables (tally_crosswalk_infer), or
 * read from a CSV file the user wrote or edited (tally_crosswalk_from_file).
 * docs/crosswalk.md gives the method, with examples from the NBS tables.
 * A finished crosswalk is read-only and may be shared between threads.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_CROSSWALK_H
#define TALLY_CROSSWALK_H

#include "tally/common.h"
#include "tally/hierarchy.h"

TALLY_BEGIN_DECLS

typedef struct tally_crosswalk tally_crosswalk;

/* Why an old region maps where it does. */
typedef enum tally_crosswalk_kind {
    TALLY_CROSSWALK_SAME = 0,      /* same code, same name */
    TALLY_CROSSWALK_RENAMED = 1,   /* same code, another name */
    TALLY_CROSSWALK_RECODED = 2,   /* lives on under a new code (by name, or its children) */
    TALLY_CROSSWALK_MERGED = 3,    /* gone; inside the new region it maps to (coarser or not) */
    TALLY_CROSSWALK_SPLIT = 4,     /* several successors (one row each) */
    TALLY_CROSSWALK_UNMATCHED = 5, /* nothing in the new table certainly contains it */
    TALLY_CROSSWALK_GIVEN = 6      /* read from a file without a how column */
} tally_crosswalk_kind;

#define TALLY_CROSSWALK_KIND_COUNT 7

/* "same", "renamed", "recoded", "merged", "split", "unmatched", "given";
 * NULL for another value. Static strings. */
TALLY_EXTERN(const char *) tally_crosswalk_kind_name(int how);

/* Options of tally_crosswalk_infer. Start from TALLY_CROSSWALK_OPTIONS_INIT.
 * Version 1 has no other field. */
typedef struct tally_crosswalk_options {
    unsigned int version;
} tally_crosswalk_options;

#define TALLY_CROSSWALK_OPTIONS_VERSION 1
#define TALLY_CROSSWALK_OPTIONS_INIT { TALLY_CROSSWALK_OPTIONS_VERSION }

/* Infers the crosswalk from `from` (the old table) to `to` (the new one):
 * one row per old region, in the old table's pre-order, two or more for a
 * split. Both hierarchies are borrowed for the call only: the crosswalk
 * keeps copies of the codes and names it needs. The rules, in order (the
 * level of a region is its level name; names are compared without the
 * suffixes that come and go between editions, such as 村民委员会/村委会,
 * 办事处, 镇/乡/街道: see docs/crosswalk.md):
 *  1. the old code is in the new table at the same level: `same` (same
 *     name) or `renamed`;
 *  2. else, under the new region its nearest living ancestor became (the
 *     scope), exactly one region of its level whose code is new has its
 *     name, and the old scope has one region of that name: `recoded`;
 *  3. else, when at least half of its children live on (rules 1-2) and all
 *     of those lie in one new region Q of its level: `recoded` when Q's
 *     code is new and no other old region is found so, else `merged`
 *     into Q; when they lie in several: `split`, one row per successor,
 *     shares not given (NaN: the tables do not say them);
 *  4. else `merged` into the scope (the deepest new region that certainly
 *     contains it), or `unmatched` when there is no scope.
 * Several old regions `recoded` to one new region are `merged` into it,
 * except one whose children are more than half of the new region's.
 * Shares are 1 except in splits.
 *
 * *out belongs to the caller (tally_crosswalk_free); NULL on failure.
 * opts may be NULL. Errors: TALLY_EINVAL (a NULL hierarchy, a bad options
 * version), TALLY_ENOMEM. Cost: about O(n) with the name searches of rule
 * 2 bounded by the size of the scopes. */
TALLY_EXTERN(int) tally_crosswalk_infer(tally_crosswalk **out, const tally_hierarchy *from,
                                        const tally_hierarchy *to,
                                        const tally_crosswalk_options *opts);

/* Reads a crosswalk CSV: a header naming `from_code`, `to_code` and `share`
 * (required) and any of `from_name`, `to_name`, `how` (kept), other
 * columns ignored, in any order; the file tally_crosswalk_write gives is
 * read back as it is. Checked, each error with path:line:column:
 *  - TALLY_EPARSE malformed CSV, a missing column, an empty from_code, a
 *    share that is not a number, an unknown how;
 *  - TALLY_ENOTFOUND a to_code not in `to` (when `to` is not NULL);
 *  - TALLY_ERANGE a share outside (0, 1];
 *  - TALLY_EINVAL the shares of one from_code not summing to 1 within 1e-9
 *    (at its last row), a from_code given shares on some rows and not on
 *    others, an empty to_code beside other rows of its from_code, the
 *    same (from_code, to_code) twice;
 *  - TALLY_ECYCLE a to_code that is also a from_code (a chain a -> b -> c,
 *    or a cycle): a crosswalk maps one vintage onto the next in one step.
 * A from_code whose rows have empty shares is a split left to the user:
 * it is read, and records under it cannot be carried (tally_crosswalk_
 * share is NaN). A row with an empty to_code (and share) is unmatched.
 * Rows of one from_code need not be next to each other in the file; the
 * crosswalk holds them together, in the order of their first row.
 *
 * On success *out belongs to the caller (tally_crosswalk_free); NULL on
 * failure. `to` is borrowed for the call only. TALLY_EIO when the file
 * cannot be read. */
TALLY_EXTERN(int) tally_crosswalk_from_file(tally_crosswalk **out, const char *path,
                                            const tally_hierarchy *to);

/* Same, from memory; `name` stands for the path in messages (NULL:
 * "<buffer>"). The buffer is not kept. */
TALLY_EXTERN(int) tally_crosswalk_from_buffer(tally_crosswalk **out, const char *data,
                                              size_t size, const char *name,
                                              const tally_hierarchy *to);

/* Frees a crosswalk. NULL does nothing. */
TALLY_EXTERN(void) tally_crosswalk_free(tally_crosswalk *cw);

/* Number of rows. */
TALLY_EXTERN(size_t) tally_crosswalk_size(const tally_crosswalk *cw);

/* Row accessors (0 <= i < size; out of range gives NULL, NaN or -1).
 * Strings are borrowed and live as long as cw; a name not known (a file
 * without the column) and the to_code of an unmatched row are "". */
TALLY_EXTERN(const char *) tally_crosswalk_from_code(const tally_crosswalk *cw, size_t i);
TALLY_EXTERN(const char *) tally_crosswalk_from_name(const tally_crosswalk *cw, size_t i);
TALLY_EXTERN(const char *) tally_crosswalk_to_code(const tally_crosswalk *cw, size_t i);
TALLY_EXTERN(const char *) tally_crosswalk_to_name(const tally_crosswalk *cw, size_t i);
/* The share of the old region's value that goes to this row's region:
 * 1 for a single successor, NaN where not given (a split left to the user,
 * an unmatched region). */
TALLY_EXTERN(double) tally_crosswalk_share(const tally_crosswalk *cw, size_t i);
/* The row's how, a tally_crosswalk_kind. */
TALLY_EXTERN(int) tally_crosswalk_how(const tally_crosswalk *cw, size_t i);
/* The old region's level (an index into the level names below), or -1
 * when not known (a file read without the old table). */
TALLY_EXTERN(int) tally_crosswalk_level(const tally_crosswalk *cw, size_t i);
/* The 1-based line of the row in the file it was read from (0: inferred). */
TALLY_EXTERN(unsigned long) tally_crosswalk_line(const tally_crosswalk *cw, size_t i);

/* The rows of old region `code` (`len` bytes): the first row's index in
 * *first and their number in *count. TALLY_ENOTFOUND when the code is not
 * a from_code (*first = TALLY_NONE, *count = 0; no last error is set, as a
 * miss is the common case for a caller asking about every code). */
TALLY_EXTERN(int) tally_crosswalk_find(const tally_crosswalk *cw, const char *code, size_t len,
                                       size_t *first, size_t *count);

/* The old table's level names (copied from `from` by tally_crosswalk_infer;
 * none for a crosswalk read from a file). */
TALLY_EXTERN(size_t) tally_crosswalk_level_count(const tally_crosswalk *cw);
TALLY_EXTERN(const char *) tally_crosswalk_level_name(const tally_crosswalk *cw, int level);

/* How many old regions of a level (-1: of any level) were mapped by `how`
 * (regions, not rows: a split counts once). */
TALLY_EXTERN(size_t) tally_crosswalk_count(const tally_crosswalk *cw, int level, int how);

/* Writes the crosswalk as CSV, header
 * from_code,from_name,to_code,to_name,share,how (shares as the shortest
 * text that reads back to the same double; empty where not given), to
 * `path` (NULL: standard output). TALLY_EIO when it cannot be written. */
TALLY_EXTERN(int) tally_crosswalk_write(const tally_crosswalk *cw, const char *path);

/* Writes the summary per level, one line each, for a person:
 *   county: 2992 regions = 2919 same + 0 renamed + 53 recoded + ...
 * to `path` (NULL: standard error). TALLY_EIO when it cannot be written. */
TALLY_EXTERN(int) tally_crosswalk_write_summary(const tally_crosswalk *cw, const char *path);

TALLY_END_DECLS

#endif
