/* The list of rejected rows every CSV reader fills in collecting mode, and
 * its CSV file.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rejects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "error.h"
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
    for (size_t i = 0; i < r->npaths; i++)
        free(r->paths[i]);
    free(r->items);
    free(r->paths);
    free(r);
}

TALLY_EXTERN(size_t) tally_rejects_count(const tally_rejects *r) { return r ? r->count : 0; }

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

TALLY_EXTERN(int) tally_rejects_write_csv(const tally_rejects *r, const char *path)
{
    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f)
        return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot write the rejects");
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
    int bad = ferror(f);
    if (path)
        bad |= fclose(f) != 0;
    else
        bad |= fflush(f) != 0;
    return bad ? tally_error__set_at(TALLY_EIO, path ? path : "<stdout>", 0, 0, NULL, 0,
                                     "cannot write the rejects")
               : 0;
}
