/* The calling thread's last error, and the text of status codes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/common.h"

enum { MESSAGE_MAX = 1024, PATH_MAX_ = 512, TEXT_MAX = 96 };

typedef struct error_slot {
    tally_error pub;
    size_t reason_offset;
    char message[MESSAGE_MAX];
    char path[PATH_MAX_];
    char text[TEXT_MAX];
} error_slot;

static _Thread_local error_slot last = { { 0, "", NULL, 0, 0, NULL }, 0, "", "", "" };

TALLY_EXTERN(void) tally_free(void *ptr) { free(ptr); }

TALLY_EXTERN(const char *) tally_strerror(int code)
{
    switch (code) {
    case TALLY_OK: return "success";
    case TALLY_ENOMEM: return "out of memory";
    case TALLY_EIO: return "input/output error";
    case TALLY_EPARSE: return "malformed input";
    case TALLY_ENOTFOUND: return "not found";
    case TALLY_EINVAL: return "invalid argument or value";
    case TALLY_EEXIST: return "given twice";
    case TALLY_ERANGE: return "number out of range";
    case TALLY_ENOTSUP: return "not supported";
    case TALLY_ECYCLE: return "cycle";
    case TALLY_ELIMIT: return "limit exceeded";
    default: return "unknown error";
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
    vsnprintf(reason, sizeof reason, fmt, ap);

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
