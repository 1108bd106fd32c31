/* The calling thread's last error, and the text of status codes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "error.h"

#include <libintl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/common.h"

enum { MESSAGE_MAX = TALLY_ERROR__MESSAGE_MAX, PATH_MAX_ = TALLY_ERROR__PATH_MAX,
       TEXT_MAX = TALLY_ERROR__TEXT_MAX };

typedef tally_error__kept error_slot;

static _Thread_local error_slot last = { { 0, "", NULL, 0, 0, NULL }, 0, "", "", "" };

TALLY_EXTERN(void) tally_free(void *ptr) { free(ptr); }

/* The catalogue's directory is bound once per process, to $TALLY_LOCALEDIR
 * when set (an uninstalled build's tests) or to the install's. Binding a
 * text domain is the only process-wide state the library touches, and only
 * for its own domain: the locale itself is the program's to choose (a
 * library never calls setlocale), so a program that never does gets the
 * English messages. */
static pthread_once_t catalogue_once = PTHREAD_ONCE_INIT;

static void bind_catalogue(void)
{
    const char *dir = getenv("TALLY_LOCALEDIR");
    bindtextdomain(TALLY_TEXTDOMAIN, dir && *dir ? dir : TALLY_LOCALEDIR);
    bind_textdomain_codeset(TALLY_TEXTDOMAIN, "UTF-8");
}

/* The messages whose text ends in a macro (TALLY_PERIOD__FORMS,
 * TALLY_UTIL__INEXACT_TEXT), written whole for xgettext, which reads a
 * call's format only up to the macro while gettext looks the whole text up
 * at run time. Never compiled. tests/check-translations.py expands the
 * macros at every call and fails when a whole text is neither here nor
 * translated. */
#if 0
N_("bad period '%s'; expected YYYY-MM, YYYY-Qn, YYYY, a half YYYY-H1 or YYYY-H2, or a range of "
   "one year YYYY-MM..YYYY-MM or YYYY-Qn..YYYY-Qn")
N_("bad period '%.*s'; expected YYYY-MM, YYYY-Qn, YYYY, a half YYYY-H1 or YYYY-H2, or a range "
   "of one year YYYY-MM..YYYY-MM or YYYY-Qn..YYYY-Qn")
N_("number '%.*s' is a whole number past 2^53 that a double cannot hold exactly (it would be "
   "rounded); expected at most 9007199254740992 in magnitude, or a value in a larger unit")
N_("%s '%.*s' is a whole number past 2^53 that a double cannot hold exactly (it would be "
   "rounded); expected at most 9007199254740992 in magnitude, or a value in a larger unit")
N_("'%s' is a whole number past 2^53 that a double cannot hold exactly (it would be rounded); "
   "expected at most 9007199254740992 in magnitude, or a value in a larger unit")
#endif

const char *tally_error__tr(const char *msgid)
{
    pthread_once(&catalogue_once, bind_catalogue);
    return dgettext(TALLY_TEXTDOMAIN, msgid);
}

TALLY_EXTERN(const char *) tally_strerror(int code)
{
    switch (code) {
    case TALLY_OK: return tally_error__tr("success");
    case TALLY_ENOMEM: return tally_error__tr("out of memory");
    case TALLY_EIO: return tally_error__tr("input/output error");
    case TALLY_EPARSE: return tally_error__tr("malformed input");
    case TALLY_ENOTFOUND: return tally_error__tr("not found");
    case TALLY_EINVAL: return tally_error__tr("invalid argument or value");
    case TALLY_EEXIST: return tally_error__tr("given twice");
    case TALLY_ERANGE: return tally_error__tr("number out of range");
    case TALLY_ENOTSUP: return tally_error__tr("not supported");
    case TALLY_ECYCLE: return tally_error__tr("cycle");
    case TALLY_ELIMIT: return tally_error__tr("limit exceeded");
    default: return tally_error__tr("unknown error");
    }
}

TALLY_EXTERN(const tally_error *) tally_error_last(void) { return &last.pub; }

TALLY_EXTERN(void) tally_error_clear(void)
{
    memset(&last.pub, 0, sizeof last.pub);
    last.message[0] = '\0';
    last.pub.message = last.message;
    last.reason_offset = 0;
}

/* Copies at most TEXT_MAX-4 bytes of text, cut on a UTF-8 boundary, with
 * "..." when shortened. */
static void copy_text(const char *text, size_t len)
{
    size_t max = TEXT_MAX - 4;
    if (len > max) {
        size_t n = max;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
        memmove(last.text, text, n);
        memcpy(last.text + n, "...", 4);
    } else {
        memmove(last.text, text, len);
        last.text[len] = '\0';
    }
}

static int set_va(int code, const char *path, unsigned long line, unsigned long column,
                  const char *text, size_t text_len, const char *fmt, va_list ap)
{
    /* The arguments may point into the previous record (a reason being
     * re-raised with a location): format into a local buffer first. */
    char reason[MESSAGE_MAX];
    vsnprintf(reason, sizeof reason, tally_error__tr(fmt), ap);

    int n = 0;
    if (path) {
        if (line && column)
            n = snprintf(last.message, MESSAGE_MAX, "%s:%lu:%lu: ", path, line, column);
        else if (line)
            n = snprintf(last.message, MESSAGE_MAX, "%s:%lu: ", path, line);
        else
            n = snprintf(last.message, MESSAGE_MAX, "%s: ", path);
        if (n < 0 || n >= MESSAGE_MAX)
            n = 0;
        snprintf(last.path, PATH_MAX_, "%s", path);
    }
    snprintf(last.message + n, (size_t)(MESSAGE_MAX - n), "%s", reason);
    last.reason_offset = (size_t)n;

    last.pub.code = code;
    last.pub.message = last.message;
    last.pub.path = path ? last.path : NULL;
    last.pub.line = line;
    last.pub.column = column;
    if (text) {
        copy_text(text, text_len);
        last.pub.text = last.text;
    } else {
        last.pub.text = NULL;
    }
    return code;
}

int tally_error__set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_va(code, NULL, 0, 0, NULL, 0, fmt, ap);
    va_end(ap);
    return code;
}

int tally_error__set_at(int code, const char *path, unsigned long line, unsigned long column,
                        const char *text, size_t text_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_va(code, path, line, column, text, text_len, fmt, ap);
    va_end(ap);
    return code;
}

void tally_error__keep(tally_error__kept *kept) { *kept = last; }

void tally_error__put_back(const tally_error__kept *kept)
{
    last = *kept;
    /* The pointers into the slot point into the copy: point them home. */
    last.pub.message = last.message;
    last.pub.path = last.pub.path ? last.path : NULL;
    last.pub.text = last.pub.text ? last.text : NULL;
}

void tally_error__append(const char *fmt, ...)
{
    size_t n = strlen(last.message);
    if (n + 1 >= MESSAGE_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last.message + n, MESSAGE_MAX - n, tally_error__tr(fmt), ap);
    va_end(ap);
}

const char *tally_error__reason(void) { return last.message + last.reason_offset; }

void tally_error__set_where(const char *where)
{
    char reason[MESSAGE_MAX];
    snprintf(reason, sizeof reason, "%s", last.message + last.reason_offset);
    int n = snprintf(last.message, MESSAGE_MAX, "%s: ", where);
    if (n < 0 || n >= MESSAGE_MAX)
        n = 0;
    snprintf(last.message + n, (size_t)(MESSAGE_MAX - n), "%s", reason);
    last.reason_offset = (size_t)n;
}
