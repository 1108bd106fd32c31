/* Internal: the list of rejected rows, for the readers that fill it. */
#ifndef TALLY_LIB_REJECTS_H
#define TALLY_LIB_REJECTS_H

#include <stddef.h>

#include "tally/read.h"

typedef struct tally_rejects__item {
    size_t path; /* index into paths */
    unsigned long line, column;
    int code;
    char *reason;
    char *row;
} tally_rejects__item;

/* Open to the readers: the parallel records reader moves the rows each
 * piece of the input rejected into the caller's list, numbered from where
 * the piece starts. */
struct tally_rejects {
    tally_rejects__item *items;
    size_t count, cap;
    tally_rejects__item *warnings; /* accepted rows with a warning (code 0) */
    size_t nwarnings, warnings_cap;
    char **paths;
    size_t npaths, paths_cap;
    size_t empty_rows; /* rows whose cells were all empty, skipped */
};

struct tally_csv;
/* Appends the calling thread's last error, located in the current row of
 * `c`, to a rejects list, with the raw row. 0 or TALLY_ENOMEM. For every
 * reader that collects rejected rows. */
int tally_rejects__add(tally_rejects *r, const struct tally_csv *c);

/* Appends the calling thread's last error to a rejects list for input that
 * is not a row of a file (an element of arrays added at once): with the
 * `path`, `line` and `row` given, column 0. 0 or TALLY_ENOMEM. */
int tally_rejects__add_item(tally_rejects *r, const char *path, unsigned long line,
                            const char *row);

/* Appends a warning about an accepted row: field `field` of the current
 * row of `c` (line and column from there), the reason from fmt, and the
 * raw row. 0 or TALLY_ENOMEM; the last error is left alone. */
int tally_rejects__warn(tally_rejects *r, const struct tally_csv *c, size_t field,
                        const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The index of `path` in r's paths (the last one, when it is the same, or
 * a copy added at the end). 0 or TALLY_ENOMEM; no error is recorded. */
int tally_rejects__path(tally_rejects *r, const char *path, size_t *index);

#endif
