/* tally: status codes and the calling thread's last error.
 *
 * Every function that can fail returns an int: 0 on success or a negative
 * TALLY_E* code. On failure the calling thread's last error record holds the
 * code, a message, and, for input errors, where the input is wrong. The
 * record is overwritten by the next failing call on the same thread; read it
 * right away.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_ERROR_H
#define TALLY_ERROR_H

#include "tally/common.h"

TALLY_BEGIN_DECLS

/* Status codes. They are never renumbered; new codes are appended. */
enum {
    TALLY_OK = 0,
    TALLY_ENOMEM = -1,   /* out of memory */
    TALLY_EIO = -2,      /* a file could not be opened, mapped or written */
    TALLY_EPARSE = -3,   /* input is malformed (CSV, YAML, number, period, formula) */
    TALLY_ENOTFOUND = -4,/* a code, indicator or period is not known */
    TALLY_EINVAL = -5,   /* an argument or a value is not acceptable */
    TALLY_EEXIST = -6,   /* something given twice (code, indicator id, record) */
    TALLY_ERANGE = -7,   /* a number is out of range (overflow, nan, inf) */
    TALLY_ENOTSUP = -8,  /* valid input this version does not support */
    TALLY_ECYCLE = -9,   /* a cycle (hierarchy parents, formula dependencies) */
    TALLY_ELIMIT = -10   /* a documented limit was exceeded */
};

/* The last error of the calling thread. Strings are borrowed: they live
 * until the next failing call on the same thread. Fields that do not apply
 * are NULL (strings) or 0 (line, column). Lines and columns are 1-based;
 * columns count characters (UTF-8 code points), not bytes. */
typedef struct tally_error {
    int code;
    const char *message; /* "path:line:col: what is wrong; what was expected" */
    const char *path;    /* input file (or buffer name) */
    unsigned long line;
    unsigned long column;
    const char *text;    /* the offending text, possibly shortened */
} tally_error;

/* Fixed English text for a status code ("out of memory", ...). Never NULL;
 * unknown codes give "unknown error". */
TALLY_EXTERN(const char *) tally_strerror(int code);

/* The calling thread's last error. Never NULL: with no error recorded,
 * code is 0 and message is "". The record belongs to the library. */
TALLY_EXTERN(const tally_error *) tally_error_last(void);

/* Forgets the calling thread's last error. */
TALLY_EXTERN(void) tally_error_clear(void);

TALLY_END_DECLS

#endif
