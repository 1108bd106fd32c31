/* The list of rejected rows every CSV reader fills in collecting mode, and
 * its CSV file.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rejects.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "error.h"
#include "output.h"
#include "util.h"
#include "write.h"

TALLY_EXTERN(int) tally_rejects_new(tally_rejects **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : tally_error__set(TALLY_ENOMEM, "out of memory");
}

TALLY_EXTERN(void) tally_rejects_free(tally_rejects *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].reason);
        free(r->items[i].row);
    }
    for (size_t i = 0; i < r->nwarnings; i++) {
        free(r->warnings[i].reason);
        free(r->warnings[i].row);
    }
    free(r->warnings);
    for (size_t i = 0; i < r->npaths; i++)
        free(r->paths[i]);
    free(r->items);
    free(r->paths);
    free(r);
}

TALLY_EXTERN(size_t) tally_rejects_count(const tally_rejects *r) { return r ? r->count : 0; }

TALLY_EXTERN(size_t) tally_rejects_empty_rows(const tally_rejects *r)
{
    return r ? r->empty_rows : 0;
}

TALLY_EXTERN(const char *) tally_rejects_path(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->paths[r->items[i].path] : NULL;
}

TALLY_EXTERN(unsigned long) tally_rejects_line(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->items[i].line : 0;
}

TALLY_EXTERN(unsigned long) tally_rejects_column(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->items[i].column : 0;
}

TALLY_EXTERN(int) tally_rejects_code(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->items[i].code : 0;
}

TALLY_EXTERN(const char *) tally_rejects_reason(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->items[i].reason : NULL;
}

TALLY_EXTERN(const char *) tally_rejects_row(const tally_rejects *r, size_t i)
{
    return r && i < r->count ? r->items[i].row : NULL;
}

TALLY_EXTERN(size_t) tally_rejects_warning_count(const tally_rejects *r)
{
    return r ? r->nwarnings : 0;
}

TALLY_EXTERN(const char *) tally_rejects_warning_path(const tally_rejects *r, size_t i)
{
    return r && i < r->nwarnings ? r->paths[r->warnings[i].path] : NULL;
}

TALLY_EXTERN(unsigned long) tally_rejects_warning_line(const tally_rejects *r, size_t i)
{
    return r && i < r->nwarnings ? r->warnings[i].line : 0;
}

TALLY_EXTERN(unsigned long) tally_rejects_warning_column(const tally_rejects *r, size_t i)
{
    return r && i < r->nwarnings ? r->warnings[i].column : 0;
}

TALLY_EXTERN(const char *) tally_rejects_warning_reason(const tally_rejects *r, size_t i)
{
    return r && i < r->nwarnings ? r->warnings[i].reason : NULL;
}

int tally_rejects__path(tally_rejects *r, const char *path, size_t *index)
{
    if (r->npaths && strcmp(r->paths[r->npaths - 1], path) == 0) {
        *index = r->npaths - 1;
        return 0;
    }
    if (tally_util__grow((void **)&r->paths, &r->paths_cap, r->npaths + 1, sizeof *r->paths))
        return TALLY_ENOMEM;
    r->paths[r->npaths] = tally_util__strndup(path, strlen(path));
    if (!r->paths[r->npaths])
        return TALLY_ENOMEM;
    *index = r->npaths++;
    return 0;
}

/* The raw row as a C string: a NUL byte becomes U+FFFD, so the text after
 * it is kept. A row longer than TALLY_REJECTS_ROW_MAX bytes keeps its first
 * bytes, cut before a whole UTF-8 character, then "…[cut: N bytes]" with N
 * the row's full length in the file. */
static char *row_text(const char *s, size_t len)
{
    size_t keep = len;
    if (len > TALLY_REJECTS_ROW_MAX) {
        keep = TALLY_REJECTS_ROW_MAX;
        /* Back off over continuation bytes: no character is cut in two. */
        for (int k = 0; k < 3 && keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80; k++)
            keep--;
    }
    char mark[64] = "";
    if (keep < len)
        snprintf(mark, sizeof mark, "\xE2\x80\xA6[cut: %zu bytes]", len);
    size_t nuls = 0;
    for (size_t i = 0; i < keep; i++)
        nuls += s[i] == '\0';
    size_t mlen = strlen(mark);
    char *out = malloc(keep + 2 * nuls + mlen + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < keep; i++) {
        if (s[i] == '\0') {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else {
            *o++ = s[i];
        }
    }
    memcpy(o, mark, mlen + 1);
    return out;
}

/* Appends the current last error as a rejected row. */
int tally_rejects__add(tally_rejects *r, const tally_csv *c)
{
    const tally_error *e = tally_error_last();
    size_t path;
    if (tally_rejects__path(r, c->name, &path) ||
        tally_util__grow((void **)&r->items, &r->cap, r->count + 1, sizeof *r->items))
        return TALLY_ENOMEM;
    const char *reason = tally_error__reason();
    tally_rejects__item *it = &r->items[r->count];
    it->path = path;
    it->line = e->line;
    it->column = e->column;
    it->code = e->code;
    it->reason = tally_util__strndup(reason, strlen(reason));
    it->row = row_text(c->data + c->row_start, c->row_end - c->row_start);
    if (!it->reason || !it->row) {
        free(it->reason);
        free(it->row);
        return TALLY_ENOMEM;
    }
    r->count++;
    return 0;
}

int tally_rejects__add_item(tally_rejects *r, const char *path, unsigned long line,
                            const char *row)
{
    const tally_error *e = tally_error_last();
    size_t p;
    if (tally_rejects__path(r, path, &p) ||
        tally_util__grow((void **)&r->items, &r->cap, r->count + 1, sizeof *r->items))
        return TALLY_ENOMEM;
    const char *reason = tally_error__reason();
    tally_rejects__item *it = &r->items[r->count];
    it->path = p;
    it->line = line;
    it->column = 0;
    it->code = e->code;
    it->reason = tally_util__strndup(reason, strlen(reason));
    it->row = tally_util__strndup(row, strlen(row));
    if (!it->reason || !it->row) {
        free(it->reason);
        free(it->row);
        return TALLY_ENOMEM;
    }
    r->count++;
    return 0;
}

int tally_rejects__warn(tally_rejects *r, const tally_csv *c, size_t field, const char *fmt, ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, tally_error__tr(fmt), ap);
    va_end(ap);
    size_t path;
    if (tally_rejects__path(r, c->name, &path) ||
        tally_util__grow((void **)&r->warnings, &r->warnings_cap, r->nwarnings + 1,
                         sizeof *r->warnings))
        return TALLY_ENOMEM;
    tally_rejects__item *it = &r->warnings[r->nwarnings];
    it->path = path;
    tally_csv__locate(c, field < c->nfields ? c->fields[field].offset : c->row_end, &it->line,
                      &it->column);
    it->code = 0;
    it->reason = tally_util__strndup(reason, strlen(reason));
    it->row = row_text(c->data + c->row_start, c->row_end - c->row_start);
    if (!it->reason || !it->row) {
        free(it->reason);
        free(it->row);
        return TALLY_ENOMEM;
    }
    r->nwarnings++;
    return 0;
}

TALLY_EXTERN(int) tally_rejects_write_csv(const tally_rejects *r, const char *path)
{
    tally_output o;
    int orc = tally_output__open_stream(&o, path, "the rejects");
    if (orc)
        return orc;
    FILE *f = o.f;
    fputs("file,line,column,reason,row\n", f);
    for (size_t i = 0; r && i < r->count; i++) {
        const tally_rejects__item *it = &r->items[i];
        tally_write__csv(f, r->paths[it->path]);
        fprintf(f, ",%lu,%lu,", it->line, it->column);
        tally_write__csv(f, it->reason);
        fputc(',', f);
        tally_write__csv(f, it->row);
        fputc('\n', f);
    }
    return tally_output__close(&o);
}
