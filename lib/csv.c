/* RFC 4180 CSV reading over memory.
 *
 * SPDX-License-Identifier: MIT
 */
#include "csv.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#include "error.h"
#include "tally/read.h"
#include "util.h"
#include "xlsx_read.h"

void tally_csv__init(tally_csv *c, const char *data, size_t size, const char *name)
{
    memset(c, 0, sizeof *c);
    c->data = data;
    c->size = size;
    c->name = name ? name : "<buffer>";
    c->next_line = 1;
    if (size >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
        (unsigned char)data[2] == 0xBF)
        c->pos = 3;
}

void tally_csv__fini(tally_csv *c)
{
    free(c->fields);
    free(c->scratch);
    c->fields = NULL;
    c->scratch = NULL;
}

/* A field collected while scanning: where it lives is decided once the row
 * is complete, because the scratch buffer may move while it grows. */
enum { IN_DATA = 0, IN_SCRATCH = 1 };

static int push_field(tally_csv *c, size_t start, size_t len, size_t offset, int where)
{
    if (c->nfields == c->fields_cap &&
        tally_util__grow((void **)&c->fields, &c->fields_cap, c->nfields + 1, sizeof *c->fields))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", c->name);
    /* ptr holds an offset until the row is finished (see fix_pointers). */
    c->fields[c->nfields].ptr = (const char *)(uintptr_t)(start * 2 + (size_t)where);
    c->fields[c->nfields].len = len;
    c->fields[c->nfields].offset = offset;
    c->nfields++;
    return 0;
}

static void fix_pointers(tally_csv *c)
{
    for (size_t i = 0; i < c->nfields; i++) {
        uintptr_t v = (uintptr_t)c->fields[i].ptr;
        size_t start = v / 2;
        c->fields[i].ptr = (v & 1) ? c->scratch + start : c->data + start;
    }
}

/* Skips to the end of the current physical row after an error. */
static void skip_rest(tally_csv *c)
{
    const char *d = c->data;
    size_t p = c->pos;
    while (p < c->size && d[p] != '\n')
        p++;
    c->row_end = (p > c->row_start && d[p - 1] == '\r' && p <= c->size) ? p - 1 : p;
    if (p < c->size) {
        p++;
        c->next_line++;
    }
    c->pos = p;
}

/* The state of a row on the fast path, kept out of *c while scanning so
 * the compiler can hold it in registers (stores through c would have to be
 * repeated: c->fields may alias anything). */
typedef struct simple_row {
    tally_csv_field *fields;
    size_t cap, nf, start, longest;
} simple_row;

/* A separator found at q on the fast path: '"' (give the row to the plain
 * path: 0), ',' (a field ends: 2 to go on) or '\n' (q == size stands for
 * the end of the input; the row is complete: 1). TALLY_ENOMEM. */
static inline int simple_sep(tally_csv *c, simple_row *s, size_t p, size_t q, char ch)
{
    if (ch == '"')
        return 0;
    const char *d = c->data;
    size_t end = q;
    if (ch == '\n' && end > s->start && d[end - 1] == '\r')
        end--;
    if (s->nf == s->cap) {
        if (tally_util__grow((void **)&c->fields, &c->fields_cap, s->nf + 1, sizeof *c->fields))
            return tally_error__set(TALLY_ENOMEM, "out of memory reading %s", c->name);
        s->fields = c->fields;
        s->cap = c->fields_cap;
    }
    size_t len = end - s->start;
    s->fields[s->nf].ptr = d + s->start;
    s->fields[s->nf].len = len;
    s->fields[s->nf].offset = s->start;
    s->nf++;
    if (len > s->longest)
        s->longest = len;
    if (ch == ',') {
        s->start = q + 1;
        return 2;
    }
    c->nfields = s->nf;
    c->line = c->next_line;
    c->row_start = p;
    c->row_end = end;
    if (q < c->size) {
        q++;
        c->next_line++;
    }
    c->pos = q;
    return 1;
}

/* Scanning a row, every this many bytes the pages of a row longer than
 * twice this are given back (tally_csv.map). */
#define LONG_ROW_STEP ((size_t)1 << 20)

/* Checks a row that was read against the limits. */
static int check_limits(const tally_csv *c);

/* The fast path of tally_csv__next for a row without a double quote (by
 * far the common case): fields point into the data, nothing is copied.
 * Sixteen bytes at a time (SSE2, else eight with integer arithmetic) are
 * checked for ',', '\n' and '"' at once, and only the separators found are
 * looked at: the rows of a records file are about 30 bytes, and branching
 * on every byte was most of the reading time. The last bytes of the input
 * go one at a time. Returns 1 with the row read, or 0 when the row has a
 * quote (then nothing has changed and the plain path reads it). Bytes,
 * ranges, lines and limit errors are the same as the plain path's. */
static int next_simple(tally_csv *c, size_t p)
{
    const char *d = c->data;
    size_t n = c->size, q = p;
    simple_row s = { c->fields, c->fields_cap, 0, p, 0 };
    int r;
    /* Blocks of LONG_ROW_STEP bytes: a row longer than one gives back the
     * pages it has scanned, but its first ones, as it goes (see map). */
    for (;;) {
        size_t stop = n - q > LONG_ROW_STEP ? q + LONG_ROW_STEP : n;
#if defined(__SSE2__) && defined(__GNUC__)
        const __m128i comma = _mm_set1_epi8(','), nl = _mm_set1_epi8('\n'),
                      quote = _mm_set1_epi8('"');
        for (; stop - q >= 16; q += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(d + q));
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl)),
                             _mm_cmpeq_epi8(v, quote)));
            for (; m; m &= m - 1) {
                size_t at = q + (size_t)__builtin_ctz(m);
                if ((r = simple_sep(c, &s, p, at, d[at])) != 2)
                    goto done;
            }
        }
#endif
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* The high bit of each byte equal to ',', '\n' or '"', and no other
         * bit: exact per byte (no borrow crosses bytes, as in the shorter
         * (x - 0x01..) & ~x), so every set bit is a separator. */
        const uint64_t ones = 0x0101010101010101ULL, low7 = 0x7F7F7F7F7F7F7F7FULL;
        for (; stop - q >= 8; q += 8) {
            uint64_t w;
            memcpy(&w, d + q, 8);
            uint64_t x1 = w ^ (ones * ','), x2 = w ^ (ones * '\n'), x3 = w ^ (ones * '"');
            uint64_t m = ~(((x1 & low7) + low7) | x1 | low7) |
                         ~(((x2 & low7) + low7) | x2 | low7) | ~(((x3 & low7) + low7) | x3 | low7);
            for (; m; m &= m - 1) {
                size_t at = q + (size_t)__builtin_ctzll(m) / 8;
                if ((r = simple_sep(c, &s, p, at, d[at])) != 2)
                    goto done;
            }
        }
#endif
        if (stop == n)
            break;
        if (c->map && q - p > 2 * LONG_ROW_STEP)
            tally_util__release(c->map, p + LONG_ROW_STEP, q);
    }
    for (;; q++) {
        char ch = q < n ? d[q] : '\n';
        if (ch != ',' && ch != '\n' && ch != '"')
            continue;
        if ((r = simple_sep(c, &s, p, q, ch)) != 2)
            break;
    }
done:
    /* The limits cost nothing here: the longest field is known. */
    if (r == 1 && ((c->max_fields && s.nf > c->max_fields) ||
                   (c->max_field_bytes && s.longest > c->max_field_bytes)))
        r = check_limits(c);
    return r;
}

/* Scanning a row, every this many bytes the pages of a row longer than
 * twice this are given back (tally_csv.map). */
#define LONG_ROW_STEP ((size_t)1 << 20)

/* Checks a row that was read against the limits. */
static int check_limits(const tally_csv *c)
{
    if (c->max_fields && c->nfields > c->max_fields)
        return tally_csv__error_at_field(c, c->max_fields, TALLY_ELIMIT,
                                         "row has %zu fields; the limit is %zu", c->nfields,
                                         c->max_fields);
    if (c->max_field_bytes)
        for (size_t i = 0; i < c->nfields; i++)
            if (c->fields[i].len > c->max_field_bytes)
                return tally_csv__error_at_field(c, i, TALLY_ELIMIT,
                                                 "field of %zu bytes; the limit is %zu bytes",
                                                 c->fields[i].len, c->max_field_bytes);
    return 1;
}

int tally_csv__next(tally_csv *c)
{
    /* Blank lines are the plain path's business. */
    size_t p = c->pos;
    int rc = 0;
    if (p < c->size && c->data[p] != '\n' && c->data[p] != '\r')
        rc = next_simple(c, p);
    if (!rc) {
        rc = tally_csv__next_plain(c);
        if (rc == 1 && (c->max_fields || c->max_field_bytes))
            rc = check_limits(c);
    }
    if (rc == 1 && c->name_header) {
        c->name_header = 0;
        tally_csv__name_header(c);
    }
    return rc;
}

int tally_csv__next_plain(tally_csv *c)
{
    const char *d = c->data;
    size_t n = c->size;
    size_t p = c->pos;

    /* Skip blank lines. */
    for (;;) {
        if (p >= n) {
            c->pos = p;
            return 0;
        }
        if (d[p] == '\n') {
            p++;
            c->next_line++;
        } else if (d[p] == '\r' && p + 1 < n && d[p + 1] == '\n') {
            p += 2;
            c->next_line++;
        } else {
            break;
        }
    }

    c->line = c->next_line;
    c->row_start = p;
    c->nfields = 0;
    size_t scratch_len = 0;

    for (;;) {
        size_t fstart = p;
        if (p < n && d[p] == '"') {
            /* Quoted field. */
            size_t q = p + 1, seg = q;
            int escaped = 0;
            size_t scratch_start = scratch_len;
            for (;;) {
                const char *hit = q < n ? memchr(d + q, '"', n - q) : NULL;
                if (!hit) {
                    /* Count the newlines not yet counted in the runaway field. */
                    for (size_t k = q; k < n; k++)
                        if (d[k] == '\n')
                            c->next_line++;
                    c->pos = n;
                    c->row_end = n;
                    c->unterminated = 1;
                    fix_pointers(c);
                    unsigned long line, col;
                    tally_csv__locate(c, fstart, &line, &col);
                    return tally_error__set_at(TALLY_EPARSE, c->name, line, col, d + fstart,
                                               n - fstart,
                                               "unterminated quoted field; expected a closing '\"'");
                }
                size_t h = (size_t)(hit - d);
                for (size_t k = q; k < h; k++) /* newlines inside quotes */
                    if (d[k] == '\n')
                        c->next_line++;
                if (h + 1 < n && d[h + 1] == '"') {
                    /* Doubled quote: copy the segment and one quote. */
                    size_t add = h + 1 - seg;
                    if (tally_util__grow((void **)&c->scratch, &c->scratch_cap,
                                         scratch_len + add + 1, 1))
                        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s",
                                                c->name);
                    memcpy(c->scratch + scratch_len, d + seg, add);
                    scratch_len += add;
                    escaped = 1;
                    q = h + 2;
                    seg = q;
                    continue;
                }
                /* Closing quote. */
                if (escaped) {
                    size_t add = h - seg;
                    if (tally_util__grow((void **)&c->scratch, &c->scratch_cap,
                                         scratch_len + add + 1, 1))
                        return tally_error__set(TALLY_ENOMEM, "out of memory reading %s",
                                                c->name);
                    memcpy(c->scratch + scratch_len, d + seg, add);
                    scratch_len += add;
                    if (push_field(c, scratch_start, scratch_len - scratch_start, fstart,
                                   IN_SCRATCH))
                        return TALLY_ENOMEM;
                } else {
                    if (push_field(c, p + 1, h - p - 1, fstart, IN_DATA))
                        return TALLY_ENOMEM;
                }
                p = h + 1;
                break;
            }
            if (p < n && d[p] != ',' && d[p] != '\n' && !(d[p] == '\r' && p + 1 < n && d[p + 1] == '\n') &&
                !(d[p] == '\r' && p + 1 == n)) {
                c->pos = p;
                unsigned long line, col;
                tally_csv__locate(c, p, &line, &col);
                skip_rest(c);
                fix_pointers(c);
                return tally_error__set_at(TALLY_EPARSE, c->name, line, col, d + p, 1,
                                           "text after a closing quote; expected ',' or the end of the row");
            }
        } else {
            /* Unquoted field: up to ',', '\n' or the end. */
            size_t q = p;
            while (q < n && d[q] != ',' && d[q] != '\n')
                q++;
            size_t end = q;
            if ((q == n || d[q] == '\n') && end > p && d[end - 1] == '\r')
                end--;
            if (push_field(c, p, end - p, fstart, IN_DATA))
                return TALLY_ENOMEM;
            p = q;
        }
        if (p < n && d[p] == ',') {
            p++;
            continue;
        }
        /* End of row. */
        size_t end = p;
        if (end > c->row_start && end <= n && end > 0 && d[end - 1] == '\r' && (end == n || d[end] == '\n'))
            end--;
        c->row_end = end;
        if (p < n && d[p] == '\r')
            p++;
        if (p < n && d[p] == '\n') {
            p++;
            c->next_line++;
        }
        break;
    }
    c->pos = p;
    fix_pointers(c);
    return 1;
}

void tally_csv__locate(const tally_csv *c, size_t offset, unsigned long *line,
                       unsigned long *column)
{
    unsigned long l = c->line;
    size_t ls = c->row_start;
    for (size_t k = c->row_start; k < offset && k < c->size; k++) {
        if (c->data[k] == '\n') {
            l++;
            ls = k + 1;
        }
    }
    *line = l;
    *column = tally_util__utf8_column(c->data + ls, c->data + offset);
    if (c->sheet) { /* the sheet's row, and the column of the field at offset */
        size_t k = 0;
        while (k + 1 < c->nfields && c->fields[k + 1].offset <= offset)
            k++;
        tally_xlsx__cell(c->sheet, l, k, line, column);
    }
}

int tally_csv__error_at_field(const tally_csv *c, size_t i, int code, const char *fmt, ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, tally_error__tr(fmt), ap);
    va_end(ap);
    size_t offset;
    const char *text = NULL;
    size_t text_len = 0;
    if (i < c->nfields) {
        offset = c->fields[i].offset;
        text = c->fields[i].ptr;
        text_len = c->fields[i].len;
    } else {
        offset = c->row_end;
    }
    unsigned long line, col;
    tally_csv__locate(c, offset, &line, &col);
    if (c->sheet)
        tally_xlsx__cell(c->sheet, c->line, i, &line, &col);
    tally_error__set_at(code, c->name, line, col, text, text_len, "%s", reason);
    if (c->sheet) { /* "book.xlsx:Sheet1!D5: reason" */
        char where[600], cell[32];
        snprintf(where, sizeof where, "%s!%s", c->name,
                 tally_xlsx_cell_name(col, line, cell, sizeof cell));
        tally_error__set_where(where);
    }
    return code;
}

long tally_csv__find_column(const tally_csv *c, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < c->nfields; i++)
        if (c->fields[i].len == len && memcmp(c->fields[i].ptr, name, len) == 0)
            return (long)i;
    return -1;
}

int tally_csv__input_open(tally_csv_input *in, const char *data, size_t size, const char *name,
                          const struct tally_read_options *opts)
{
    memset(in, 0, sizeof *in);
    in->data = data;
    in->size = size;
    in->max_fields = TALLY_CSV_DEFAULT_MAX_FIELDS;
    in->max_field_bytes = TALLY_CSV_DEFAULT_MAX_FIELD_BYTES;
    if (!opts || opts->version < 2) {
        static const tally_read_options plain = TALLY_READ_OPTIONS_INIT;
        opts = &plain;
    }
    if (opts->max_columns)
        in->max_fields = opts->max_columns;
    if (opts->max_field_bytes)
        in->max_field_bytes = opts->max_field_bytes;
    const char *encoding = opts->encoding;
    if (opts->version >= 5 && opts->sheet) {
        size_t n = 0;
        tally_xlsx_sheet_csv(opts->sheet, &n);
        if (n != size)
            return tally_error__set(TALLY_EINVAL,
                                    "reading %s: the options name a sheet whose text is %zu "
                                    "bytes, but %zu bytes were given; expected the sheet's "
                                    "own text (tally_xlsx_sheet_csv)",
                                    name ? name : "<buffer>", n, size);
        in->sheet = opts->sheet;
        return 0; /* a sheet's text is UTF-8, whatever the encoding says */
    }
    if (tally_csv__is_auto(encoding)) {
        encoding = NULL;
        /* Decided on the first megabyte's whole lines, so that a huge file
         * is not paged in twice (a GB18030 file whose first megabyte is
         * ASCII reads as UTF-8: its rows then say they are not UTF-8). */
        size_t look = size;
        if (look > LONG_ROW_STEP) {
            look = LONG_ROW_STEP;
            while (look && data[look - 1] != '\n')
                look--;
        }
        if (!tally_util__utf8_valid(data, look)) {
            /* Not UTF-8: GB18030 when the whole file converts, else UTF-8
             * again, so that each bad row says what is wrong with it. */
            if (tally_util__to_utf8("GB18030", name ? name : "<buffer>", data, size, &in->owned,
                                    &in->size) == 0) {
                in->declared = 1;
                in->detected = "GB18030";
                in->data = in->owned;
                return 0;
            }
            tally_error_clear();
            in->size = size;
        }
    }
    if (tally_util__is_utf8_name(encoding)) {
        /* Byte order marks: UTF-32 LE (FF FE 00 00) before UTF-16 LE
         * (FF FE), which it starts with. */
        const unsigned char *u = (const unsigned char *)data;
        const char *wide = NULL;
        if (size >= 4 && ((u[0] == 0xFF && u[1] == 0xFE && !u[2] && !u[3]) ||
                          (!u[0] && !u[1] && u[2] == 0xFE && u[3] == 0xFF)))
            wide = "UTF-32";
        else if (size >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
            wide = "UTF-16";
        if (wide)
            return tally_error__set_at(TALLY_EPARSE, name ? name : "<buffer>", 1, 1, NULL, 0,
                                       "the file is %s (it starts with a %s byte order mark); "
                                       "expected UTF-8, or declare it: --encoding %s",
                                       wide, wide, wide[4] == '3' ? "utf-32" : "utf-16");
        return 0;
    }
    in->declared = 1;
    int rc = tally_util__to_utf8(encoding, name ? name : "<buffer>", data, size,
                                 &in->owned, &in->size);
    if (rc)
        return rc;
    in->data = in->owned;
    return 0;
}

int tally_csv__is_auto(const char *encoding)
{
    return encoding && strcasecmp(encoding, "auto") == 0;
}

void tally_csv__input_apply(const tally_csv_input *in, tally_csv *c)
{
    c->max_fields = in->max_fields;
    c->max_field_bytes = in->max_field_bytes;
    c->sheet = in->sheet;
}

void tally_csv__input_close(tally_csv_input *in)
{
    free(in->owned);
    in->owned = NULL;
}

/* Re-raises the last error with a note appended to its reason. */
static void append_note(const tally_csv *c, const char *note)
{
    const tally_error *e = tally_error_last();
    char reason[900], path[512];
    snprintf(reason, sizeof reason, "%s (%s)", tally_error__reason(), tally_error__tr(note));
    snprintf(path, sizeof path, "%s", e->path ? e->path : c->name);
    tally_error__set_at(e->code, path, e->line, e->column, e->text,
                        e->text ? strlen(e->text) : 0, "%s", reason);
}

void tally_csv__hint_encoding(const tally_csv_input *in, const tally_csv *c)
{
    const char *row = c->data + c->row_start;
    size_t len = c->row_end - c->row_start;
    /* The hints look at the row's first megabyte: a row of gigabytes (a
     * hostile file) is not scanned again, nor mapped in whole. */
    if (len > LONG_ROW_STEP)
        len = LONG_ROW_STEP;
    if (len >= 3 && (unsigned char)row[0] == 0xEF && (unsigned char)row[1] == 0xBB &&
        (unsigned char)row[2] == 0xBF) {
        append_note(c, "the row starts with a byte order mark: were files joined together?");
        return;
    }
    if (len && !memchr(row, ',', len) && (memchr(row, '\t', len) || memchr(row, ';', len))) {
        append_note(c, memchr(row, '\t', len)
                           ? N_("the row is separated by tabs; tally reads comma-separated files")
                           : N_("the row is separated by semicolons; tally reads "
                                "comma-separated files"));
        return;
    }
    const char *nul = memchr(row, '\0', len);
    if (nul) {
        char note[160];
        snprintf(note, sizeof note, tally_error__tr("the row has a NUL byte at column %lu, "
                 "which cuts the text quoted above short: is this a binary or a UTF-16 file?"),
                 tally_util__utf8_column(row, nul));
        append_note(c, note);
        return;
    }
    const char *cr = memchr(row, '\r', len);
    if (cr && cr + 1 < row + len && cr[1] != '\n' && !memchr(row, '"', len)) {
        append_note(c, "the line breaks are bare carriage returns (classic Mac OS), so the "
                       "file reads as one line; expected LF or CRLF line breaks");
        return;
    }
    if (in->declared || !len || tally_util__utf8_valid(row, len))
        return;
    append_note(c, "the row is not valid UTF-8: if the file is GB18030, read it with "
                   "--encoding gb18030");
}
