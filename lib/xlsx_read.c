/* A sheet of an Excel workbook turned into CSV text in memory: the zip
 * (libzip), xl/workbook.xml (sheet names to relationship ids),
 * xl/_rels/workbook.xml.rels (ids to parts), xl/sharedStrings.xml and the
 * sheet's XML (expat); and, for the readers, where a field of the text is
 * in the sheet.
 *
 * SPDX-License-Identifier: MIT
 */
#include "xlsx_read.h"

#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "error.h"
#include "util.h"

/* A sheet row's first CSV line (rows with a quoted line break take more). */
typedef struct row_start {
    unsigned long line, row;
} row_start;

struct tally_xlsx_sheet {
    char *name; /* "PATH:SHEET" */
    char *csv;
    size_t size;
    row_start *rows;
    size_t nrows, rows_cap;
};

void tally_xlsx__cell(const tally_xlsx_sheet *s, unsigned long line, size_t field,
                      unsigned long *row, unsigned long *column)
{
    size_t lo = 0, hi = s->nrows;
    while (lo < hi) { /* the last start at or before line */
        size_t mid = lo + (hi - lo) / 2;
        if (s->rows[mid].line <= line)
            lo = mid + 1;
        else
            hi = mid;
    }
    *row = lo ? s->rows[lo - 1].row : line;
    *column = (unsigned long)field + 1;
}

TALLY_EXTERN(char *) tally_xlsx_cell_name(unsigned long column, unsigned long row, char *buf,
                                          size_t size)
{
    char letters[16];
    size_t n = 0;
    for (unsigned long c = column; c > 0 && n < sizeof letters; c = (c - 1) / 26)
        letters[n++] = (char)('A' + (c - 1) % 26);
    char rev[17];
    for (size_t i = 0; i < n; i++)
        rev[i] = letters[n - 1 - i];
    rev[n] = '\0';
    if (size)
        snprintf(buf, size, "%s%lu", rev, row);
    return buf;
}

TALLY_EXTERN(const char *) tally_xlsx_sheet_csv(const tally_xlsx_sheet *s, size_t *size)
{
    if (size)
        *size = s ? s->size : 0;
    return s ? s->csv : NULL;
}

TALLY_EXTERN(const char *) tally_xlsx_sheet_name(const tally_xlsx_sheet *s)
{
    return s ? s->name : NULL;
}

TALLY_EXTERN(void) tally_xlsx_sheet_free(tally_xlsx_sheet *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->csv);
    free(s->rows);
    free(s);
}

/* ---- growing text with a cap ------------------------------------------- */

typedef struct text {
    char *p;
    size_t len, cap, max;
    int over; /* 1 once max was passed */
} text;

static int text_add(text *t, const char *s, size_t n)
{
    if (t->over)
        return TALLY_ELIMIT;
    if (n > t->max - t->len) {
        t->over = 1;
        return TALLY_ELIMIT;
    }
    if (tally_util__grow((void **)&t->p, &t->cap, t->len + n + 1, 1))
        return TALLY_ENOMEM;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
    return 0;
}

/* ---- the zip ------------------------------------------------------------ */

typedef struct book {
    const char *path;
    zip_t *zip;
    size_t max;
} book;

/* Reads part `name` whole, at most b->max bytes uncompressed whatever the
 * zip says its size is. TALLY_ENOTFOUND (no error set) when absent. */
static int read_part(book *b, const char *name, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    zip_file_t *f = zip_fopen(b->zip, name, 0);
    if (!f) {
        if (zip_error_code_zip(zip_get_error(b->zip)) == ZIP_ER_NOENT)
            return TALLY_ENOTFOUND;
        return tally_error__set_at(TALLY_EPARSE, b->path, 0, 0, NULL, 0,
                                   "cannot open %s in the workbook: %s", name,
                                   zip_strerror(b->zip));
    }
    text t = { NULL, 0, 0, b->max, 0 };
    char buf[65536];
    int rc = 0;
    for (;;) {
        zip_int64_t k = zip_fread(f, buf, sizeof buf);
        if (k < 0) {
            rc = tally_error__set_at(TALLY_EPARSE, b->path, 0, 0, NULL, 0,
                                     "%s in the workbook is damaged: %s; expected an xlsx "
                                     "file as Excel saves it",
                                     name, zip_file_strerror(f));
            break;
        }
        if (k == 0)
            break;
        rc = text_add(&t, buf, (size_t)k);
        if (rc == TALLY_ELIMIT) {
            rc = tally_error__set_at(TALLY_ELIMIT, b->path, 0, 0, NULL, 0,
                                     "%s in the workbook is over %zu bytes uncompressed; "
                                     "expected at most max_input_bytes (--max-input)",
                                     name, b->max);
            break;
        }
        if (rc) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory reading %s", b->path);
            break;
        }
    }
    zip_fclose(f);
    if (rc) {
        free(t.p);
        return rc;
    }
    *out = t.p ? t.p : calloc(1, 1);
    *len = t.len;
    return *out ? 0 : tally_error__set(TALLY_ENOMEM, "out of memory reading %s", b->path);
}

/* ---- XML ---------------------------------------------------------------- */

/* The local part of an XML name ("r:id" -> "id"). */
static const char *local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(local(atts[i]), name) == 0)
            return atts[i + 1];
    return NULL;
}

typedef struct parse {
    int rc;          /* first error (set) */
    const char *path, *part;
    XML_Parser xp;
} parse;

static int parse_fail(parse *p, int code, const char *what)
{
    if (!p->rc) {
        p->rc = code == TALLY_ENOMEM
                    ? tally_error__set(TALLY_ENOMEM, "out of memory reading %s", p->path)
                    : tally_error__set_at(code, p->path, 0, 0, NULL, 0, "%s in the workbook: %s",
                                          p->part, what);
    }
    XML_StopParser(p->xp, XML_FALSE);
    return p->rc;
}

static int run_parser(parse *p, XML_Parser xp, const char *data, size_t len)
{
    p->xp = xp;
    if (XML_Parse(xp, data, (int)len, 1) == XML_STATUS_ERROR && !p->rc) {
        char what[256];
        snprintf(what, sizeof what, "XML error at line %lu: %s; expected an xlsx file as Excel "
                 "saves it", (unsigned long)XML_GetCurrentLineNumber(xp),
                 XML_ErrorString(XML_GetErrorCode(xp)));
        p->rc = tally_error__set_at(TALLY_EPARSE, p->path, 0, 0, NULL, 0, "%s in the workbook: %s",
                                    p->part, what);
    }
    XML_ParserFree(xp);
    return p->rc;
}

/* xl/workbook.xml: the wanted sheet's relationship id (and the names, for
 * a message when it is not there). */
typedef struct wb {
    parse p;
    const char *want; /* NULL: the first */
    char *rid, *name;
    text names;
} wb;

static void wb_start(void *ud, const char *el, const char **atts)
{
    wb *w = ud;
    if (strcmp(local(el), "sheet") != 0 || w->rid)
        return;
    const char *name = attr(atts, "name"), *id = attr(atts, "id");
    if (!name || !id)
        return;
    if (!w->want || strcmp(w->want, name) == 0) {
        w->rid = strdup(id);
        w->name = strdup(name);
        if (!w->rid || !w->name)
            parse_fail(&w->p, TALLY_ENOMEM, "");
        return;
    }
    if ((w->names.len && text_add(&w->names, ", ", 2)) || text_add(&w->names, name, strlen(name)))
        w->names.over = 1; /* the list is for a message only */
}

/* xl/_rels/workbook.xml.rels: the part of an id. */
typedef struct rels {
    parse p;
    const char *rid;
    char *target;
} rels;

static void rels_start(void *ud, const char *el, const char **atts)
{
    rels *r = ud;
    if (strcmp(local(el), "Relationship") != 0 || r->target)
        return;
    const char *id = attr(atts, "Id"), *target = attr(atts, "Target");
    if (!id || !target || strcmp(id, r->rid) != 0)
        return;
    /* Relative to xl/, or absolute from the zip's root. */
    size_t n = strlen(target) + 4;
    r->target = malloc(n);
    if (!r->target) {
        parse_fail(&r->p, TALLY_ENOMEM, "");
        return;
    }
    if (target[0] == '/')
        snprintf(r->target, n, "%s", target + 1);
    else
        snprintf(r->target, n, "xl/%s", target);
}

/* xl/sharedStrings.xml: every <si>'s text (its <t> runs, not the phonetic
 * <rPh>), stored one after the other. */
typedef struct sst {
    parse p;
    text all;
    size_t *ends; /* end of string i in all */
    size_t n, cap;
    int in_si, in_t, in_rph;
} sst;

static void sst_start(void *ud, const char *el, const char **atts)
{
    (void)atts;
    sst *s = ud;
    const char *l = local(el);
    if (strcmp(l, "si") == 0)
        s->in_si = 1;
    else if (strcmp(l, "rPh") == 0)
        s->in_rph = 1;
    else if (strcmp(l, "t") == 0)
        s->in_t = 1;
}

static void sst_end(void *ud, const char *el)
{
    sst *s = ud;
    const char *l = local(el);
    if (strcmp(l, "t") == 0) {
        s->in_t = 0;
    } else if (strcmp(l, "rPh") == 0) {
        s->in_rph = 0;
    } else if (strcmp(l, "si") == 0) {
        s->in_si = 0;
        if (tally_util__grow((void **)&s->ends, &s->cap, s->n + 1, sizeof *s->ends))
            parse_fail(&s->p, TALLY_ENOMEM, "");
        else
            s->ends[s->n++] = s->all.len;
    }
}

static void sst_chars(void *ud, const char *t, int len)
{
    sst *s = ud;
    if (s->in_si && s->in_t && !s->in_rph && text_add(&s->all, t, (size_t)len))
        parse_fail(&s->p, s->all.over ? TALLY_ELIMIT : TALLY_ENOMEM,
                   "the shared strings are over max_input_bytes (--max-input)");
}

/* The sheet: rows to CSV lines. */
typedef struct sh {
    parse p;
    const sst *strings;
    tally_xlsx_sheet *out;
    text csv;
    unsigned long line;     /* CSV line being written (1-based) */
    unsigned long row;      /* current sheet row */
    unsigned long last_row; /* previous sheet row (0: none) */
    unsigned long col;      /* current cell's column (1-based) */
    unsigned long next_col; /* column after the previous cell of the row */
    size_t commas;          /* commas written in the current row */
    size_t width;           /* fields of the first row with a value (0: none yet) */
    int row_has_value;
    int in_row, in_c, in_v, in_is, in_t, in_rph, has_value;
    char type[16];
    text value;
} sh;

/* "C12" -> column 3, row 12; 0 when the reference does not parse. */
static int parse_ref(const char *ref, unsigned long *col, unsigned long *row)
{
    unsigned long c = 0, r = 0;
    const char *s = ref;
    while (*s >= 'A' && *s <= 'Z') {
        c = c * 26 + (unsigned long)(*s - 'A' + 1);
        if (c > 16384)
            return 0;
        s++;
    }
    if (s == ref || *s < '1' || *s > '9')
        return 0;
    while (*s >= '0' && *s <= '9') {
        r = r * 10 + (unsigned long)(*s - '0');
        if (r > 1048576)
            return 0;
        s++;
    }
    if (*s)
        return 0;
    *col = c;
    *row = r;
    return 1;
}

static void sh_add(sh *s, const char *t, size_t n)
{
    int rc = text_add(&s->csv, t, n);
    if (rc)
        parse_fail(&s->p, rc, "the sheet as CSV is over max_input_bytes (--max-input)");
}

static void sh_row_start(sh *s, const char **atts)
{
    const char *r = attr(atts, "r");
    unsigned long row = s->last_row + 1;
    if (r) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(r, &end, 10);
        if (errno || *end || v == 0 || v > 1048576) {
            parse_fail(&s->p, TALLY_EPARSE, "a row number that is not 1..1048576");
            return;
        }
        row = v;
    }
    if (row <= s->last_row) {
        parse_fail(&s->p, TALLY_EPARSE, "rows out of order");
        return;
    }
    /* Blank lines up to the row's own line. */
    while (!s->p.rc && s->line < row) {
        sh_add(s, "\n", 1);
        s->line++;
    }
    if (s->p.rc)
        return;
    if (tally_util__grow((void **)&s->out->rows, &s->out->rows_cap, s->out->nrows + 1,
                         sizeof *s->out->rows)) {
        parse_fail(&s->p, TALLY_ENOMEM, "");
        return;
    }
    s->out->rows[s->out->nrows++] = (row_start){ s->line, row };
    s->row = row;
    s->last_row = row;
    s->next_col = 1;
    s->commas = 0;
    s->row_has_value = 0;
    s->in_row = 1;
}

static void sh_row_end(sh *s)
{
    s->in_row = 0;
    if (s->row_has_value) {
        if (!s->width)
            s->width = s->commas + 1;
        for (; s->commas + 1 < s->width && !s->p.rc; s->commas++)
            sh_add(s, ",", 1);
    }
    sh_add(s, "\n", 1);
    s->line++;
}

/* An integer stored in exponent form, as its digits; else as stored. */
static void number_text(const char *v, size_t n, char *buf, size_t size, const char **out,
                        size_t *outn)
{
    *out = v;
    *outn = n;
    if (!memchr(v, 'E', n) && !memchr(v, 'e', n))
        return;
    char tmp[64];
    if (n >= sizeof tmp)
        return;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    double d = strtod(tmp, &end);
    if (*end || !isfinite(d) || d != floor(d) || fabs(d) >= 1e15)
        return;
    int k = snprintf(buf, size, "%.0f", d);
    if (k > 0 && (size_t)k < size) {
        *out = buf;
        *outn = (size_t)k;
    }
}

static void sh_cell_end(sh *s)
{
    s->in_c = 0;
    if (!s->has_value)
        return;
    const char *v = s->value.p ? s->value.p : "";
    size_t n = s->value.len;
    char buf[64];
    if (strcmp(s->type, "s") == 0) {
        char *end;
        errno = 0;
        unsigned long long i = strtoull(v, &end, 10);
        if (errno || end == v || *end || i >= s->strings->n)
            {
            parse_fail(&s->p, TALLY_EPARSE,
                                    "a shared string index that is not in xl/sharedStrings.xml");
            return;
        }
        size_t from = i ? s->strings->ends[i - 1] : 0;
        v = s->strings->all.p + from;
        n = s->strings->ends[i] - from;
    } else if (strcmp(s->type, "b") == 0) {
        v = n == 1 && v[0] == '1' ? "TRUE" : "FALSE";
        n = strlen(v);
    } else if (s->type[0] == '\0' || strcmp(s->type, "n") == 0) {
        number_text(v, n, buf, sizeof buf, &v, &n);
    }
    if (!n)
        return;
    for (; s->commas + 1 < s->col && !s->p.rc; s->commas++)
        sh_add(s, ",", 1);
    int quote = memchr(v, ',', n) || memchr(v, '"', n) || memchr(v, '\n', n) || memchr(v, '\r', n);
    if (!quote) {
        sh_add(s, v, n);
    } else {
        sh_add(s, "\"", 1);
        for (size_t i = 0; i < n && !s->p.rc; i++) {
            if (v[i] == '"')
                sh_add(s, "\"\"", 2);
            else
                sh_add(s, v + i, 1);
            if (v[i] == '\n')
                s->line++;
        }
        sh_add(s, "\"", 1);
    }
    s->row_has_value = 1;
}

static void sh_start(void *ud, const char *el, const char **atts)
{
    sh *s = ud;
    if (s->p.rc)
        return;
    const char *l = local(el);
    if (strcmp(l, "row") == 0) {
        sh_row_start(s, atts);
    } else if (strcmp(l, "c") == 0 && s->in_row) {
        const char *r = attr(atts, "r"), *t = attr(atts, "t");
        unsigned long col = s->next_col, row = s->row;
        if (r && (!parse_ref(r, &col, &row) || row != s->row)) {
            parse_fail(&s->p, TALLY_EPARSE, "a cell reference that is not in its row");
            return;
        }
        if (col < s->next_col) {
            parse_fail(&s->p, TALLY_EPARSE, "cells out of order in a row");
            return;
        }
        s->col = col;
        s->next_col = col + 1;
        snprintf(s->type, sizeof s->type, "%s", t ? t : "");
        s->in_c = 1;
        s->has_value = 0;
        s->value.len = 0;
        s->value.over = 0;
        if (s->value.p)
            s->value.p[0] = '\0';
    } else if (s->in_c && strcmp(l, "v") == 0) {
        s->in_v = 1;
        s->has_value = 1;
    } else if (s->in_c && strcmp(l, "is") == 0) {
        s->in_is = 1;
        s->has_value = 1;
    } else if (s->in_is && strcmp(l, "rPh") == 0) {
        s->in_rph = 1;
    } else if (s->in_is && strcmp(l, "t") == 0) {
        s->in_t = 1;
    }
}

static void sh_end(void *ud, const char *el)
{
    sh *s = ud;
    if (s->p.rc)
        return;
    const char *l = local(el);
    if (strcmp(l, "row") == 0 && s->in_row)
        sh_row_end(s);
    else if (strcmp(l, "c") == 0 && s->in_c)
        sh_cell_end(s);
    else if (strcmp(l, "v") == 0)
        s->in_v = 0;
    else if (strcmp(l, "is") == 0)
        s->in_is = 0;
    else if (strcmp(l, "rPh") == 0)
        s->in_rph = 0;
    else if (strcmp(l, "t") == 0)
        s->in_t = 0;
}

static void sh_chars(void *ud, const char *t, int len)
{
    sh *s = ud;
    if (s->p.rc || !s->in_c)
        return;
    if (s->in_v || (s->in_is && s->in_t && !s->in_rph)) {
        int rc = text_add(&s->value, t, (size_t)len);
        if (rc)
            parse_fail(&s->p, rc, "a cell over max_input_bytes (--max-input)");
    }
}

/* ---- the whole ----------------------------------------------------------- */

static XML_Parser parser(void *ud, XML_StartElementHandler st, XML_EndElementHandler en,
                         XML_CharacterDataHandler ch)
{
    XML_Parser xp = XML_ParserCreate("UTF-8");
    if (!xp)
        return NULL;
    XML_SetUserData(xp, ud);
    XML_SetElementHandler(xp, st, en);
    if (ch)
        XML_SetCharacterDataHandler(xp, ch);
    return xp;
}

/* A part that must be there. */
static int need_part(book *b, const char *name, char **data, size_t *len)
{
    int rc = read_part(b, name, data, len);
    if (rc == TALLY_ENOTFOUND)
        rc = tally_error__set_at(TALLY_EPARSE, b->path, 0, 0, NULL, 0,
                                 "the workbook has no %s; expected an xlsx file as Excel saves it",
                                 name);
    return rc;
}

static int convert(book *b, const char *want, tally_xlsx_sheet *out)
{
    char *data = NULL;
    size_t len = 0;
    int rc = need_part(b, "xl/workbook.xml", &data, &len);
    if (rc)
        return rc;
    wb w = { { 0, b->path, "xl/workbook.xml", NULL }, want, NULL, NULL, { NULL, 0, 0, 4096, 0 } };
    XML_Parser xp = parser(&w, wb_start, NULL, NULL);
    rc = xp ? run_parser(&w.p, xp, data, len)
            : tally_error__set(TALLY_ENOMEM, "out of memory reading %s", b->path);
    free(data);
    if (!rc && !w.rid) {
        rc = want ? tally_error__set_at(TALLY_ENOTFOUND, b->path, 0, 0, want, strlen(want),
                                        "no sheet named '%s'; the workbook has: %s", want,
                                        w.names.p ? w.names.p : "no sheets")
                  : tally_error__set_at(TALLY_EPARSE, b->path, 0, 0, NULL, 0,
                                        "the workbook has no sheets");
    }
    free(w.names.p);
    rels r = { { 0, b->path, "xl/_rels/workbook.xml.rels", NULL }, w.rid, NULL };
    if (!rc)
        rc = need_part(b, r.p.part, &data, &len);
    if (!rc) {
        xp = parser(&r, rels_start, NULL, NULL);
        rc = xp ? run_parser(&r.p, xp, data, len)
                : tally_error__set(TALLY_ENOMEM, "out of memory reading %s", b->path);
        free(data);
        if (!rc && !r.target)
            rc = tally_error__set_at(TALLY_EPARSE, b->path, 0, 0, NULL, 0,
                                     "sheet '%s' has no part in xl/_rels/workbook.xml.rels",
                                     w.name);
    }
    if (!rc) {
        size_t n = strlen(b->path) + strlen(w.name) + 2;
        out->name = malloc(n);
        if (out->name)
            snprintf(out->name, n, "%s:%s", b->path, w.name);
        else
            rc = tally_error__set(TALLY_ENOMEM, "out of memory reading %s", b->path);
    }
    free(w.rid);
    free(w.name);
    sst s = { { 0, b->path, "xl/sharedStrings.xml", NULL }, { NULL, 0, 0, b->max, 0 }, NULL,
              0, 0, 0, 0, 0 };
    if (!rc) {
        rc = read_part(b, s.p.part, &data, &len);
        if (rc == TALLY_ENOTFOUND) {
            rc = 0; /* a workbook without strings */
        } else if (!rc) {
            xp = parser(&s, sst_start, sst_end, sst_chars);
            rc = xp ? run_parser(&s.p, xp, data, len)
                    : tally_error__set(TALLY_ENOMEM, "out of memory reading %s", b->path);
            free(data);
        }
    }
    if (!rc)
        rc = need_part(b, r.target, &data, &len);
    if (!rc) {
        sh t;
        memset(&t, 0, sizeof t);
        t.p = (parse){ 0, b->path, r.target, NULL };
        t.strings = &s;
        t.out = out;
        t.csv.max = b->max;
        t.value.max = b->max;
        t.line = 1;
        xp = parser(&t, sh_start, sh_end, sh_chars);
        rc = xp ? run_parser(&t.p, xp, data, len)
                : tally_error__set(TALLY_ENOMEM, "out of memory reading %s", b->path);
        free(data);
        free(t.value.p);
        if (!rc) {
            out->csv = t.csv.p ? t.csv.p : calloc(1, 1);
            out->size = t.csv.len;
            if (!out->csv)
                rc = tally_error__set(TALLY_ENOMEM, "out of memory reading %s", b->path);
        } else {
            free(t.csv.p);
        }
    }
    free(r.target);
    free(s.all.p);
    free(s.ends);
    return rc;
}

TALLY_EXTERN(int) tally_xlsx_sheet_open(tally_xlsx_sheet **out, const char *path,
                                        const char *sheet, const tally_read_options *opts)
{
    if (!out || !path)
        return tally_error__set(TALLY_EINVAL, "tally_xlsx_sheet_open: NULL argument");
    *out = NULL;
    size_t max = opts && opts->version >= 4 ? opts->max_input_bytes : 0;
    if (!max)
        max = TALLY_UTIL_DEFAULT_MAX_INPUT;
    struct stat st;
    if (stat(path, &st) != 0)
        return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot open: %s",
                                   strerror(errno));
    if (!S_ISREG(st.st_mode))
        return tally_error__set_at(TALLY_EINVAL, path, 0, 0, NULL, 0,
                                   "a workbook must be a regular file (a zip is read from its "
                                   "end); expected a path to an .xlsx file");
    if ((unsigned long long)st.st_size > (unsigned long long)max)
        return tally_error__set_at(TALLY_ELIMIT, path, 0, 0, NULL, 0,
                                   "the workbook is %lld bytes, over max_input_bytes (%zu)",
                                   (long long)st.st_size, max);
    int zerr = 0;
    book b = { path, zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr), max };
    if (!b.zip) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        int rc = tally_error__set_at(zerr == ZIP_ER_OPEN ? TALLY_EIO : TALLY_EPARSE, path, 0, 0,
                                     NULL, 0, "not a readable xlsx workbook (%s); expected an "
                                     "xlsx file as Excel saves it",
                                     zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return rc;
    }
    tally_xlsx_sheet *s = calloc(1, sizeof *s);
    int rc = s ? convert(&b, sheet, s) : tally_error__set(TALLY_ENOMEM, "out of memory");
    zip_discard(b.zip);
    if (rc) {
        tally_xlsx_sheet_free(s);
        return rc;
    }
    *out = s;
    return 0;
}
