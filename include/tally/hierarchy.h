/* tally: an administrative hierarchy (province > city > county > town > village).
 *
 * Nodes are stored in pre-order: every subtree is the contiguous index range
 * [i, tally_hierarchy_subtree_end(h, i)) and every parent index is smaller
 * than its children's. Several roots are allowed (a forest), in file order.
 * A finished hierarchy is read-only and may be shared between threads.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_HIERARCHY_H
#define TALLY_HIERARCHY_H

#include "tally/common.h"
#include "tally/definitions.h"

TALLY_BEGIN_DECLS

typedef struct tally_hierarchy tally_hierarchy;

/* Options for reading a hierarchy. Start from TALLY_HIERARCHY_OPTIONS_INIT.
 * level_names: the level names, top first (borrowed for the call only);
 * NULL means the default five: province, city, county, town, village.
 * Since version 2:
 * encoding: the file's character encoding, an iconv name ("gb18030");
 *   NULL or "utf-8" for UTF-8 (then invalid UTF-8 is an error that suggests
 *   declaring the encoding); "auto": UTF-8 when the file is valid UTF-8,
 *   else GB18030 when it is valid GB18030 (tally_hierarchy_detected_encoding
 *   then says so), else UTF-8;
 * max_columns, max_field_bytes: limits on a row's fields and a field's size
 *   (0: the defaults, 4096 fields and 1 MiB); a row past them is an error
 *   (TALLY_ELIMIT) at the field.
 * Since version 3:
 * definitions: definitions whose `levels:` are the level names (borrowed
 *   for the call only; the hierarchy keeps copies), so that a caller who
 *   loaded a definitions file need not copy its levels; definitions that
 *   declare no levels leave the default five. Setting both definitions and
 *   level_names (or level_count) is TALLY_EINVAL.
 * max_input_bytes: the most read from a file that is not a regular file (a
 *   pipe, a FIFO, a character device); past it TALLY_ELIMIT naming the file
 *   and the limit. 0: the default, 1 GiB (see tally_read_options).
 * Since version 4:
 * sheet: the xlsx sheet whose text tally_hierarchy_from_buffer is given
 *   (tally/xlsx_read.h), or NULL: messages then name its cells, as with
 *   tally_read_options' sheet (which see). Borrowed for the call. */
typedef struct tally_hierarchy_options {
    unsigned int version;
    const char *const *level_names;
    size_t level_count;
    const char *encoding;
    size_t max_columns;
    size_t max_field_bytes;
    const tally_definitions *definitions;
    size_t max_input_bytes;
    const struct tally_xlsx_sheet *sheet;
} tally_hierarchy_options;

#define TALLY_HIERARCHY_OPTIONS_VERSION 4
#define TALLY_HIERARCHY_OPTIONS_INIT \
    { TALLY_HIERARCHY_OPTIONS_VERSION, NULL, 0, NULL, 0, 0, NULL, 0, NULL }

/* Reads a hierarchy CSV (UTF-8, optional BOM, RFC 4180) with a header that
 * names the columns `code` and `name` (required), `level` and `parent_code`
 * (optional), in any order; other columns are ignored.
 *
 * - `level` holds a level name; without the column, 12-digit statistical
 *   division codes give their level from the code (2/4/6/9/12 significant
 *   digits), other codes their depth in the tree.
 * - Without `parent_code`, codes must be 12-digit division codes: a node's
 *   parent is its nearest existing ancestor by code (county digits, then
 *   city, then province), so skipped levels are taken. An empty parent_code
 *   makes a root.
 *
 * Errors (with path, line and column in tally_error_last()):
 * TALLY_EPARSE malformed CSV, missing column, empty code;
 * TALLY_EEXIST duplicate code; TALLY_ENOTFOUND unknown parent or level name;
 * TALLY_ECYCLE a cycle of parents; TALLY_EINVAL a child whose level is not
 * below its parent's, or a code that cannot derive a parent;
 * TALLY_EIO the file cannot be read; TALLY_ELIMIT more than 4294967294
 * regions, more than 4 GiB of names and of codes that are not 12 digits, a
 * row starting after line 4294967295, or more than 255 level names;
 * TALLY_ENOMEM.
 *
 * On success *out belongs to the caller (tally_hierarchy_free). On failure
 * *out is NULL. opts may be NULL. Cost: O(n) expected. */
TALLY_EXTERN(int) tally_hierarchy_from_file(tally_hierarchy **out, const char *path,
                                            const tally_hierarchy_options *opts);

/* Same as tally_hierarchy_from_file, from memory. `name` is used as the
 * path in error messages (NULL: "<buffer>"). The buffer is not kept. */
TALLY_EXTERN(int) tally_hierarchy_from_buffer(tally_hierarchy **out, const char *data,
                                              size_t size, const char *name,
                                              const tally_hierarchy_options *opts);

/* Frees a hierarchy. NULL does nothing. */
TALLY_EXTERN(void) tally_hierarchy_free(tally_hierarchy *h);

/* Number of nodes. */
TALLY_EXTERN(size_t) tally_hierarchy_size(const tally_hierarchy *h);

/* "GB18030" when the hierarchy was read with the encoding "auto" and its
 * file was not valid UTF-8 but valid GB18030; else NULL. A static string. */
TALLY_EXTERN(const char *) tally_hierarchy_detected_encoding(const tally_hierarchy *h);

/* Finds a node by code (`len` bytes, need not be NUL-terminated).
 * Stores its pre-order index in *index. TALLY_ENOTFOUND when absent (sets
 * the last error; *index = TALLY_NONE). O(1) expected. */
TALLY_EXTERN(int) tally_hierarchy_find(const tally_hierarchy *h, const char *code,
                                       size_t len, size_t *index);

/* Accessors by pre-order index (0 <= i < size; out of range gives NULL,
 * TALLY_NONE or -1). Strings are borrowed and live as long as h. A 12-digit
 * code is kept as a number: tally_hierarchy_code writes its text out on
 * first use, 4096 regions at a time; that is safe from several threads at
 * once and cannot fail for an index in range. */
TALLY_EXTERN(const char *) tally_hierarchy_code(const tally_hierarchy *h, size_t i);
TALLY_EXTERN(const char *) tally_hierarchy_name(const tally_hierarchy *h, size_t i);
TALLY_EXTERN(int) tally_hierarchy_level(const tally_hierarchy *h, size_t i);
/* Parent index, or TALLY_NONE for a root. */
TALLY_EXTERN(size_t) tally_hierarchy_parent(const tally_hierarchy *h, size_t i);
/* One past the last node of i's subtree. The hierarchy does not keep the
 * ends: the first call works them all out (one pass, 4 bytes a region,
 * into memory reserved at load, so it does not fail), later calls read
 * them. Safe to call from several threads at once. */
TALLY_EXTERN(size_t) tally_hierarchy_subtree_end(const tally_hierarchy *h, size_t i);
/* 1-based line of the node's row in the file it was read from. */
TALLY_EXTERN(unsigned long) tally_hierarchy_line(const tally_hierarchy *h, size_t i);

/* The parent array in pre-order (TALLY_NONE for roots), borrowed: it lives
 * as long as the hierarchy. The hierarchy keeps parents as 32-bit indices;
 * this size_t copy (8 bytes a region) is written out on the first call,
 * into memory reserved at load, so the call does not fail. Safe to call
 * from several threads at once. */
TALLY_EXTERN(const size_t *) tally_hierarchy_parents(const tally_hierarchy *h);

/* Level names: count, name by index (top first), index by name
 * (-1 when unknown). */
TALLY_EXTERN(size_t) tally_hierarchy_level_count(const tally_hierarchy *h);
TALLY_EXTERN(const char *) tally_hierarchy_level_name(const tally_hierarchy *h, int level);
TALLY_EXTERN(int) tally_hierarchy_level_find(const tally_hierarchy *h, const char *name);

/* ---- hierarchy cache files (docs/hierarchy-cache.md) ----------------------
 *
 * A hierarchy cache is a binary form of a hierarchy CSV that loads by
 * mapping the file: the arrays the hierarchy keeps, its code lookup table
 * included, are used in place. It records the CSV's size, modification
 * time and a hash of its first and last 64 KiB, and the options it was
 * read with (level names, encoding, limits); a cache that does not match
 * them is stale. Every byte is covered by a checksum (XXH3) and the
 * structure is checked (sizes, bounds, pre-order, levels), so a damaged,
 * truncated or forged file is refused, never read out of bounds. The
 * cache of `FILE.csv` is `FILE.csv.tallyh`. */

/* The suffix of a cache beside its CSV. */
#define TALLY_HIERARCHY_CACHE_SUFFIX ".tallyh"

/* Writes h, read from the CSV at csv_path with opts (NULL: defaults), as a
 * cache file at cache_path, through a temporary file renamed over it (a
 * failed write leaves what was there). An existing file at cache_path that
 * is not a hierarchy cache is never replaced: TALLY_EEXIST. csv_path must
 * be a regular file (its size and time are recorded). 0; TALLY_EIO (a file
 * cannot be read or written), TALLY_EINVAL, TALLY_EEXIST or TALLY_ENOMEM
 * with the last error set. */
TALLY_EXTERN(int) tally_hierarchy_cache_save(const tally_hierarchy *h, const char *cache_path,
                                             const char *csv_path,
                                             const tally_hierarchy_options *opts);

/* Loads the cache at cache_path, made from the CSV at csv_path with opts.
 * On success *out is the caller's (tally_hierarchy_free); it equals what
 * tally_hierarchy_from_file(csv_path, opts) gives in every accessor, and
 * the file is mapped: it must be replaced by renaming, never rewritten in
 * place, while in use. Errors (*out NULL, last error set, naming the file):
 * TALLY_EIO cannot open or map it; TALLY_EPARSE not a hierarchy cache, or
 * damaged (truncated, checksum mismatch, a structure check failed);
 * TALLY_ENOTSUP another format version or byte order; TALLY_EINVAL stale
 * (the CSV changed since, or other options); TALLY_ENOMEM. */
TALLY_EXTERN(int) tally_hierarchy_cache_load(tally_hierarchy **out, const char *cache_path,
                                             const char *csv_path,
                                             const tally_hierarchy_options *opts);

/* Flags for tally_hierarchy_from_file_cached. */
#define TALLY_HIERARCHY_CACHE_MAKE 1u /* make the cache when there is none */

/* What tally_hierarchy_from_file_cached did with the cache. */
#define TALLY_HIERARCHY_CACHE_NONE 0    /* read the CSV; no cache written */
#define TALLY_HIERARCHY_CACHE_USED 1    /* loaded from the cache */
#define TALLY_HIERARCHY_CACHE_WRITTEN 2 /* read the CSV and wrote the cache */

/* tally_hierarchy_from_file with the cache `path` + ".tallyh":
 * - a fresh cache is loaded (the CSV is not read);
 * - a stale cache, or one of another format version, is made again from
 *   the CSV (it is a cache of ours: it is replaced);
 * - without a cache, the CSV is read, and with TALLY_HIERARCHY_CACHE_MAKE
 *   in flags the cache is written;
 * - a file at the cache's name that is not a hierarchy cache is left
 *   alone and the CSV read;
 * - a damaged cache is an error (TALLY_EPARSE naming it), unless
 *   TALLY_HIERARCHY_CACHE_MAKE is in flags: then it is made again.
 * A cache that cannot be written (a read-only directory) is no error
 * unless TALLY_HIERARCHY_CACHE_MAKE asked for it (then TALLY_EIO or
 * TALLY_EEXIST, and *out NULL). A path that is not a regular file is
 * read as tally_hierarchy_from_file reads it, without a cache.
 * *state (may be NULL) is set to a TALLY_HIERARCHY_CACHE_* value above.
 * Errors otherwise as tally_hierarchy_from_file and
 * tally_hierarchy_cache_load. */
TALLY_EXTERN(int) tally_hierarchy_from_file_cached(tally_hierarchy **out, const char *path,
                                                   const tally_hierarchy_options *opts,
                                                   unsigned flags, int *state);

TALLY_END_DECLS

#endif
