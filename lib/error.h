/* Internal: setting the calling thread's last error. */
#ifndef TALLY_LIB_ERROR_H
#define TALLY_LIB_ERROR_H

#include <stddef.h>

#include "tally/error.h"

#if defined(__GNUC__)
#define TALLY_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define TALLY_FORMAT_ARG(a) __attribute__((format_arg(a)))
#else
#define TALLY_PRINTF(f, a)
#define TALLY_FORMAT_ARG(a)
#endif

#ifndef TALLY_TEXTDOMAIN
#define TALLY_TEXTDOMAIN "tally"
#endif
#ifndef TALLY_LOCALEDIR
#define TALLY_LOCALEDIR "/usr/local/share/locale"
#endif

/* The translation of a message (a printf format) into the language of the
 * program's LC_MESSAGES, from the "tally" catalogue; msgid itself when
 * there is none. Every message is translated where it is formatted:
 * tally_error__set and _set_at do it, and so does each function that
 * formats a reason before handing it on as "%s" (po/meson.build names them
 * all to xgettext; tests/check-translations.py fails on one it lacks). The
 * result is static: it lives as long as the process. */
const char *tally_error__tr(const char *msgid) TALLY_FORMAT_ARG(1);

/* Marks a message kept in a variable for extraction; whoever formats it
 * translates it with tally_error__tr. */
#define N_(msgid) msgid

/* Records an error without a location; message is "what is wrong; what was
 * expected". Returns `code` so callers can `return tally_error__set(...)`. */
int tally_error__set(int code, const char *fmt, ...) TALLY_PRINTF(2, 3);

/* Records an input error at path:line:col with the offending text (`text`,
 * `text_len` bytes, may be NULL; shortened to a few dozen characters).
 * The message becomes "path:line:col: <fmt...>". line/col 0 are left out. */
int tally_error__set_at(int code, const char *path, unsigned long line, unsigned long column,
                        const char *text, size_t text_len, const char *fmt, ...)
    TALLY_PRINTF(7, 8);

/* Rewrites the place in the last error's message as "where: " (a place
 * that is not line:column, such as a sheet's cell "book.xlsx:Sheet1!D5"),
 * keeping its reason, path, line and column. */
void tally_error__set_where(const char *where);

/* The calling thread's last error, whole (error.c's record of it). */
enum { TALLY_ERROR__MESSAGE_MAX = 1024, TALLY_ERROR__PATH_MAX = 512, TALLY_ERROR__TEXT_MAX = 96 };
typedef struct tally_error__kept {
    tally_error pub;
    size_t reason_offset;
    char message[TALLY_ERROR__MESSAGE_MAX];
    char path[TALLY_ERROR__PATH_MAX];
    char text[TALLY_ERROR__TEXT_MAX];
} tally_error__kept;

/* A copy of the last error, to look something up that may fail in
 * between; tally_error__put_back makes it the last error again. */
void tally_error__keep(tally_error__kept *kept);
void tally_error__put_back(const tally_error__kept *kept);

/* Appends to the last error's message (its place, code and text stay). */
void tally_error__append(const char *fmt, ...) TALLY_PRINTF(1, 2);

/* The reason part of the last error's message (after "path:line:col: "). */
const char *tally_error__reason(void);

#endif
