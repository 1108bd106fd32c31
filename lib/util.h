/* Internal: small shared helpers (hashing, file mapping, numbers, UTF-8). */
#ifndef TALLY_LIB_UTIL_H
#define TALLY_LIB_UTIL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

uint64_t tally_util__hash_bytes(const void *data, size_t len);
uint64_t tally_util__hash_u64(uint64_t x);

/* 1 and the value when s is exactly 12 ASCII digits (a statistical
 * division code), else 0. */
int tally_util__code12(const char *s, size_t len, uint64_t *value);

/* A file mapped read-only (or read into memory where mapping fails, as for
 * pipes). An empty file maps to a valid zero-length buffer. */
typedef struct tally_mapped {
    const char *data;
    size_t size;
    int mapped; /* 1: munmap; 0: free */
} tally_mapped;

/* The most a reader takes from an input that is not a regular file (a
 * pipe, a FIFO, a character device such as /dev/zero), which is read into
 * memory whole: 1 GiB. Regular files are mapped and not limited. */
#define TALLY_UTIL_DEFAULT_MAX_INPUT ((size_t)1 << 30)

/* TALLY_EIO with "path: cannot open: <strerror>" on failure; TALLY_ELIMIT
 * naming the file and the limit when a stream gives more than max_bytes
 * (0: TALLY_UTIL_DEFAULT_MAX_INPUT), with nothing kept.
 * tally_util__map_file is tally_util__map_file_capped with 0. */
int tally_util__map_file(tally_mapped *m, const char *path);
int tally_util__map_file_capped(tally_mapped *m, const char *path, size_t max_bytes);

/* A byte count as people read it ("1 GiB", "5.4 MiB", "12 bytes"). */
void tally_util__format_bytes(char *buf, size_t len, uint64_t n);
void tally_util__unmap(tally_mapped *m);

/* Gives back the pages wholly inside bytes [from, to) of a file mapping
 * (m->mapped), which a reader is done with: they stop counting in the
 * process's resident memory, and reading them again maps them again from
 * the page cache, unchanged (the mapping is read-only and private). Does
 * nothing for a buffer that was read into memory (a pipe), whose pages
 * hold the only copy. */
void tally_util__release(const tally_mapped *m, size_t from, size_t to);

/* Faults in the pages wholly inside [p, p + len) of memory about to be
 * written all over (a new column), in one call where the system has one
 * (MADV_POPULATE_WRITE) and the range is large; else does nothing. Never
 * changes the memory's contents. */
void tally_util__prefault(void *p, size_t len);

/* Parses a decimal number: optional sign, digits with an optional point,
 * optional exponent; surrounding spaces and tabs allowed. 0, TALLY_EPARSE
 * (not a number; also nan, inf, hexadecimal, empty), TALLY_ERANGE
 * (overflows a double) or TALLY_UTIL__INEXACT (a whole number, written
 * without an exponent, past 2^53 that no double holds exactly, such as
 * 9007199254740993: it is refused rather than rounded). Exact: integers
 * and short decimals take a fast path whose result is correctly rounded;
 * the rest goes to strtod. */
#define TALLY_UTIL__INEXACT 1
/* What the readers say of such a number, after "number '...' ". */
#define TALLY_UTIL__INEXACT_TEXT                                                               \
    "is a whole number past 2^53 that a double cannot hold exactly (it would be rounded); "    \
    "expected at most 9007199254740992 in magnitude, or a value in a larger unit"
int tally_util__parse_number(const char *s, size_t len, double *out);

/* The forms Excel and Chinese input methods leave in a number cell, for a
 * cell tally_util__parse_number refused: thousands separators ("1,989",
 * "12,345.6": 1 to 3 digits, then groups of exactly 3 after each comma)
 * and full-width digits, point and minus (U+FF10..FF19, U+FF0E, U+FF0D),
 * with surrounding spaces and tabs; no exponent. The result is what
 * tally_util__parse_number gives for the plain form (so 2^53 exactness
 * holds): 0, TALLY_EPARSE (neither form), TALLY_ERANGE,
 * TALLY_UTIL__INEXACT or TALLY_ENOMEM. */
int tally_util__parse_number_relaxed(const char *s, size_t len, double *out);

/* 1-based column, in UTF-8 code points, of byte `pos` in a line starting at
 * `line_start`. */
unsigned long tally_util__utf8_column(const char *line_start, const char *pos);

/* 1 when [s, s+len) is valid UTF-8. */
int tally_util__utf8_valid(const char *s, size_t len);

/* Growable array helper: ensures *cap >= need elements of `size` bytes. */
int tally_util__grow(void **ptr, size_t *cap, size_t need, size_t size);

/* 1 when `encoding` means UTF-8 (NULL, "", "utf-8", "UTF8", ...). */
int tally_util__is_utf8_name(const char *encoding);

/* Converts `data` from `encoding` to UTF-8 with iconv into a new buffer
 * (*out, free()) of *out_size bytes. Line breaks are kept, so lines and
 * character columns of the result are those of the input. Errors:
 * TALLY_EINVAL (an encoding iconv does not know), TALLY_EPARSE at
 * name:line:column (bytes that are not valid in that encoding),
 * TALLY_ENOMEM. */
int tally_util__to_utf8(const char *encoding, const char *name, const char *data, size_t size,
                        char **out, size_t *out_size);

/* Neumaier's compensated addition, (s, c) += x: the sum is s + c, exact to
 * within one rounding however many terms of whatever sizes are added (so
 * money totals do not drift). */
static inline void tally_util__neumaier(double *s, double *c, double x)
{
    double t = *s + x;
    /* Past DBL_MAX the sum is infinite, and the compensation would turn
     * it into NaN (missing): keep the infinity, for the rollup to report. */
    if (isinf(t)) {
        *s = t;
        return;
    }
    if ((*s < 0 ? -*s : *s) >= (x < 0 ? -x : x))
        *c += (*s - t) + x;
    else
        *c += (x - t) + *s;
    *s = t;
}

/* strdup of len bytes; NULL on allocation failure. */
char *tally_util__strndup(const char *s, size_t len);

/* Levenshtein distance between two sequences of at most
 * TALLY_UTIL__DISTANCE_MAX elements (bytes widened, or characters), for
 * "did you mean" hints; (size_t)-1 when either is longer. */
#define TALLY_UTIL__DISTANCE_MAX 64
size_t tally_util__distance(const unsigned *a, size_t na, const unsigned *b, size_t nb);

#endif
