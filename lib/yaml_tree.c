/* A YAML document as a tree of nodes, and reading it with messages that
 * name the file, line and column.
 *
 * The YAML goes through libyaml's event API into a small tree of our own
 * rather than through yaml_parser_load: events say where an anchor or an
 * alias is written, so aliases are refused there, before anything could be
 * expanded, and nesting depth is bounded while the input is read. The tree
 * keeps every node's position for messages.
 *
 * Nothing here knows what the document is for: the definitions file's
 * schema is read over this tree in definitions.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "yaml_tree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "error.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Positions in the source                                             */

/* Bytes of the line break at src[i], 0 when there is none. libyaml counts
 * LF, CR LF, CR, NEL, LS and PS as breaks; positions must agree with it. */
static size_t break_len(const char *src, size_t size, size_t i)
{
    unsigned char c = (unsigned char)src[i];
    if (c == '\n')
        return 1;
    if (c == '\r')
        return i + 1 < size && src[i + 1] == '\n' ? 2 : 1;
    if (c == 0xC2 && i + 1 < size && (unsigned char)src[i + 1] == 0x85)
        return 2;
    if (c == 0xE2 && i + 2 < size && (unsigned char)src[i + 1] == 0x80 &&
        ((unsigned char)src[i + 2] == 0xA8 || (unsigned char)src[i + 2] == 0xA9))
        return 3;
    return 0;
}

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Byte offset in the source of 1-based (line, column); the end of the
 * input when it is past it. Linear in the offset: used for messages only. */
static size_t source_offset(const tally_yaml_tree *t, unsigned long line, unsigned long column)
{
    size_t i = 0;
    for (unsigned long n = 1; n < line && i < t->size;) {
        size_t b = break_len(t->src, t->size, i);
        if (b) {
            i += b;
            n++;
        } else {
            i++;
        }
    }
    for (unsigned long c = 1; c < column && i < t->size && !break_len(t->src, t->size, i); c++)
        i += utf8_len((unsigned char)t->src[i]);
    return i < t->size ? i : t->size;
}

/* 1-based line and column of byte offset `off` (for libyaml's reader
 * errors, which give an offset rather than a mark). */
static void offset_position(const tally_yaml_tree *t, size_t off, unsigned long *line,
                            unsigned long *column)
{
    unsigned long ln = 1, col = 1;
    size_t i = 0;
    if (off > t->size)
        off = t->size;
    while (i < off) {
        size_t b = break_len(t->src, t->size, i);
        if (b) {
            i += b;
            ln++;
            col = 1;
        } else {
            i += utf8_len((unsigned char)t->src[i]);
            col++;
        }
    }
    *line = ln;
    *column = col;
}

/* The rest of the source line from byte offset `off`, as offending text. */
static size_t rest_of_line(const tally_yaml_tree *t, size_t off)
{
    size_t end = off;
    while (end < t->size && !break_len(t->src, t->size, end))
        end++;
    return end - off;
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */

/* Records an error whose offending text is the source line from byte
 * `off`. libyaml may stop before it has checked the rest of the line: text
 * that is not UTF-8 is left out rather than handed on. */
static int set_at_source(const tally_yaml_tree *t, int code, unsigned long line,
                         unsigned long column, size_t off, const char *reason)
{
    size_t len = rest_of_line(t, off);
    const char *text = tally_util__utf8_valid(t->src + off, len) ? t->src + off : NULL;
    return tally_error__set_at(code, t->path, line, column, text, len, "%s", reason);
}

int tally_yaml__shown(const char *text, size_t len)
{
    size_t n = len;
    if (n > 60) {
        n = 60;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    return (int)n;
}

int tally_yaml__fail(const tally_yaml_tree *t, int code, const tally_yaml_node *n,
                     const char *fmt, ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, tally_error__tr(fmt), ap);
    va_end(ap);
    if (n->kind == TALLY_YAML_SCALAR)
        return tally_error__set_at(code, t->path, n->line, n->column, n->text, n->len, "%s",
                                   reason);
    size_t off = source_offset(t, n->line, n->column);
    return set_at_source(t, code, n->line, n->column, off, reason);
}

/* The same at a libyaml mark (0-based: converted here). */
static int fail_mark(const tally_yaml_tree *t, int code, yaml_mark_t mark, const char *fmt, ...)
    TALLY_PRINTF(4, 5);
static int fail_mark(const tally_yaml_tree *t, int code, yaml_mark_t mark, const char *fmt, ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, tally_error__tr(fmt), ap);
    va_end(ap);
    unsigned long line = (unsigned long)mark.line + 1, column = (unsigned long)mark.column + 1;
    size_t off = source_offset(t, line, column);
    /* At the end of an input without a final line break, libyaml's mark is
     * on the line after the last: name the end of the input instead. */
    if (off == t->size)
        offset_position(t, off, &line, &column);
    return set_at_source(t, code, line, column, off, reason);
}

static int syntax_error(const tally_yaml_tree *t, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading YAML");
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->error == YAML_READER_ERROR) {
        unsigned long line, column;
        offset_position(t, p->problem_offset, &line, &column);
        /* No offending text: the bytes are not UTF-8, and the text must be. */
        return tally_error__set_at(TALLY_EPARSE, t->path, line, column, NULL, 0,
                                   "%s; expected UTF-8 text", problem);
    }
    if (p->context)
        return fail_mark(t, TALLY_EPARSE, p->problem_mark,
                         "YAML syntax error: %s (%s at line %lu, column %lu)", problem, p->context,
                         (unsigned long)p->context_mark.line + 1,
                         (unsigned long)p->context_mark.column + 1);
    return fail_mark(t, TALLY_EPARSE, p->problem_mark, "YAML syntax error: %s", problem);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

/* Appends a node made from event ev under `parent` (TALLY_NONE: the root),
 * after `*last` (its last child so far). */
static int add_node(tally_yaml_tree *t, const yaml_event_t *ev, int kind, size_t parent,
                    size_t *last, size_t *index)
{
    if (t->node_count == t->node_cap &&
        tally_util__grow((void **)&t->nodes, &t->node_cap, t->node_count + 1, sizeof *t->nodes))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading YAML");
    size_t i = t->node_count;
    tally_yaml_node *n = &t->nodes[i];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = (unsigned long)ev->start_mark.line + 1;
    n->column = (unsigned long)ev->start_mark.column + 1;
    n->end_line = (unsigned long)ev->end_mark.line + 1;
    n->child = n->next = TALLY_NONE;
    if (kind == TALLY_YAML_SCALAR) {
        n->style = (int)ev->data.scalar.style;
        n->len = ev->data.scalar.length;
        n->text = tally_util__strndup((const char *)ev->data.scalar.value, n->len);
        if (!n->text)
            return tally_error__set(TALLY_ENOMEM, "out of memory reading YAML");
    }
    t->node_count++;
    if (parent == TALLY_NONE) {
        t->root = i;
    } else {
        if (t->nodes[parent].count == 0)
            t->nodes[parent].child = i;
        else
            t->nodes[*last].next = i;
        t->nodes[parent].count++;
        *last = i;
    }
    *index = i;
    return 0;
}

static int read_tree(tally_yaml_tree *t)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return tally_error__set(TALLY_ENOMEM, "out of memory starting the YAML parser");
    yaml_parser_set_input_string(&p, (const unsigned char *)t->src, t->size);
    /* The input is UTF-8 (a BOM is already skipped): no guessing of UTF-16,
     * whose offsets would not match the source bytes. */
    yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);

    size_t parent[TALLY_YAML_MAX_DEPTH + 1], last[TALLY_YAML_MAX_DEPTH + 1];
    size_t depth = 0;
    int documents = 0, rc = 0, done = 0;
    t->root = TALLY_NONE;
    while (!rc && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = syntax_error(t, &p);
            break;
        }
        const yaml_char_t *anchor = NULL;
        int kind = -1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
                rc = fail_mark(t, TALLY_EPARSE, ev.start_mark,
                               "a second YAML document; expected one document per file");
            break;
        case YAML_ALIAS_EVENT:
            rc = fail_mark(t, TALLY_EPARSE, ev.start_mark,
                           "aliases are not supported; write the value out in full");
            break;
        case YAML_SCALAR_EVENT:
            anchor = ev.data.scalar.anchor;
            kind = TALLY_YAML_SCALAR;
            break;
        case YAML_SEQUENCE_START_EVENT:
            anchor = ev.data.sequence_start.anchor;
            kind = TALLY_YAML_SEQUENCE;
            break;
        case YAML_MAPPING_START_EVENT:
            anchor = ev.data.mapping_start.anchor;
            kind = TALLY_YAML_MAPPING;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        default:
            break;
        }
        if (!rc && kind >= 0) {
            if (anchor) {
                /* An anchor is only there to be aliased: refuse it where it
                 * is written. */
                rc = fail_mark(t, TALLY_EPARSE, ev.start_mark,
                               "aliases are not supported (anchor '&%s'); write the value out "
                               "in full",
                               (const char *)anchor);
            } else if (kind != TALLY_YAML_SCALAR && depth == TALLY_YAML_MAX_DEPTH) {
                rc = fail_mark(t, TALLY_ELIMIT, ev.start_mark,
                               "nesting deeper than %d levels; expected at most %d",
                               TALLY_YAML_MAX_DEPTH, TALLY_YAML_MAX_DEPTH);
            } else {
                size_t i = TALLY_NONE;
                rc = add_node(t, &ev, kind, depth ? parent[depth - 1] : TALLY_NONE,
                              depth ? &last[depth - 1] : NULL, &i);
                if (!rc && kind != TALLY_YAML_SCALAR) {
                    parent[depth] = i;
                    last[depth] = TALLY_NONE;
                    depth++;
                }
            }
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return rc;
}

int tally_yaml__read(tally_yaml_tree *t, const char *path, const char *src, size_t size)
{
    /* A BOM is no part of the text: skip it so columns on line 1 count
     * from the first real character. */
    if (size >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) {
        src += 3;
        size -= 3;
    }
    memset(t, 0, sizeof *t);
    t->path = path;
    t->src = src;
    t->size = size;
    return read_tree(t);
}

void tally_yaml__free(tally_yaml_tree *t)
{
    for (size_t i = 0; i < t->node_count; i++)
        free(t->nodes[i].text);
    free(t->nodes);
    t->nodes = NULL;
    t->node_count = t->node_cap = 0;
}

/* ------------------------------------------------------------------ */
/* Nodes, keys and values                                              */

int tally_yaml__is_null(const tally_yaml_node *n)
{
    if (n->kind != TALLY_YAML_SCALAR || n->style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
           strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

int tally_yaml__is_plain(const tally_yaml_node *v)
{
    return v->kind == TALLY_YAML_SCALAR && v->style == YAML_PLAIN_SCALAR_STYLE &&
           !tally_yaml__is_null(v);
}

int tally_yaml__key_is(const tally_yaml_node *k, const char *name)
{
    return k->kind == TALLY_YAML_SCALAR && strcmp(k->text, name) == 0 && strlen(name) == k->len;
}

size_t tally_yaml__distance(const char *a, size_t na, const char *b, size_t nb)
{
    enum { MAXW = 32 };
    if (na >= MAXW || nb >= MAXW)
        return (size_t)-1;
    unsigned wa[MAXW], wb[MAXW];
    for (size_t i = 0; i < na; i++)
        wa[i] = (unsigned char)a[i];
    for (size_t i = 0; i < nb; i++)
        wb[i] = (unsigned char)b[i];
    return tally_util__distance(wa, na, wb, nb);
}

const char *tally_yaml__suggest(const tally_yaml_node *n, const char *const *words, size_t count,
                                char *buf, size_t size)
{
    size_t best = 3, which = count;
    for (size_t i = 0; i < count; i++) {
        size_t dist = tally_yaml__distance(n->text, n->len, words[i], strlen(words[i]));
        if (dist < best && dist < n->len) {
            best = dist;
            which = i;
        }
    }
    if (which == count)
        return "";
    snprintf(buf, size, " (did you mean '%s'?)", words[which]);
    return buf;
}

const char *tally_yaml__word_list(const char *const *words, size_t count, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", words[i]);
    return buf;
}

int tally_yaml__check_duplicate_key(const tally_yaml_tree *t, const tally_yaml_node *m,
                                    const tally_yaml_node *key)
{
    for (size_t k = m->child; k != TALLY_NONE;
         k = tally_yaml__node(t, tally_yaml__node(t, k)->next)->next) {
        const tally_yaml_node *prev = tally_yaml__node(t, k);
        if (prev == key)
            return 0;
        if (prev->len == key->len && memcmp(prev->text, key->text, key->len) == 0)
            return tally_yaml__fail(
                t, TALLY_EEXIST, key,
                "key '%.*s' given twice (first at line %lu); expected each key once",
                tally_yaml__shown(key->text, key->len), key->text, prev->line);
    }
    return 0;
}

int tally_yaml__expect_key(const tally_yaml_tree *t, const tally_yaml_node *k)
{
    if (k->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(k))
        return tally_yaml__fail(t, TALLY_EPARSE, k, "expected a key name");
    return 0;
}

int tally_yaml__read_keys(const tally_yaml_tree *t, const tally_yaml_node *m, const char *where,
                          const char *const *keys, size_t count,
                          const tally_yaml_node **value_of, const tally_yaml_node **key_of)
{
    for (size_t k = 0; k < count; k++)
        value_of[k] = key_of[k] = NULL;
    for (size_t k = m->child; k != TALLY_NONE;
         k = tally_yaml__node(t, tally_yaml__node(t, k)->next)->next) {
        const tally_yaml_node *key = tally_yaml__node(t, k);
        int rc = tally_yaml__expect_key(t, key);
        if (!rc)
            rc = tally_yaml__check_duplicate_key(t, m, key);
        if (rc)
            return rc;
        size_t which = count;
        for (size_t w = 0; w < count; w++)
            if (tally_yaml__key_is(key, keys[w]))
                which = w;
        if (which == count) {
            char hint[96], list[256];
            return tally_yaml__fail(t, TALLY_EPARSE, key,
                                    "unknown key '%.*s' %s%s; expected one of %s",
                                    tally_yaml__shown(key->text, key->len), key->text, where,
                                    tally_yaml__suggest(key, keys, count, hint, sizeof hint),
                                    tally_yaml__word_list(keys, count, list, sizeof list));
        }
        key_of[which] = key;
        value_of[which] = tally_yaml__node(t, key->next);
    }
    return 0;
}

int tally_yaml__get_word(const tally_yaml_tree *t, const tally_yaml_node *v, const char *key,
                         const char *const *words, size_t count, int *out)
{
    char list[256] = "", hint[96];
    size_t used = 0;
    for (size_t i = 0; i < count && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", words[i]);
    if (v->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(v))
        return tally_yaml__fail(t, TALLY_EPARSE, v, "expected a word for '%s': one of %s", key,
                                list);
    for (size_t i = 0; i < count; i++) {
        if (v->len == strlen(words[i]) && memcmp(v->text, words[i], v->len) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return tally_yaml__fail(t, TALLY_EINVAL, v, "unknown %s '%.*s'%s; expected one of %s", key,
                            tally_yaml__shown(v->text, v->len), v->text,
                            tally_yaml__suggest(v, words, count, hint, sizeof hint), list);
}

int tally_yaml__get_bool(const tally_yaml_tree *t, const tally_yaml_node *v, int *out)
{
    /* YAML 1.2 core booleans only: yes/no/on/off are words in 1.2. */
    static const char *const yes[] = { "true", "True", "TRUE" };
    static const char *const no[] = { "false", "False", "FALSE" };
    if (tally_yaml__is_plain(v)) {
        for (size_t i = 0; i < 3; i++) {
            if (strcmp(v->text, yes[i]) == 0) {
                *out = 1;
                return 0;
            }
            if (strcmp(v->text, no[i]) == 0) {
                *out = 0;
                return 0;
            }
        }
    }
    return tally_yaml__fail(t, TALLY_EPARSE, v, "expected true or false");
}

int tally_yaml__get_number(const tally_yaml_tree *t, const tally_yaml_node *v, const char *key,
                           double *out)
{
    int rc = tally_yaml__is_plain(v) ? tally_util__parse_number(v->text, v->len, out)
                                     : TALLY_EPARSE;
    if (rc == TALLY_ERANGE)
        return tally_yaml__fail(t, TALLY_ERANGE, v, "'%s' out of range; expected a finite number",
                                key);
    if (rc == TALLY_UTIL__INEXACT)
        return tally_yaml__fail(t, TALLY_ERANGE, v, "'%s' " TALLY_UTIL__INEXACT_TEXT, key);
    if (rc)
        return tally_yaml__fail(t, TALLY_EPARSE, v, "expected a number for '%s'", key);
    return 0;
}

int tally_yaml__get_number_above(const tally_yaml_tree *t, const tally_yaml_node *v,
                                 const char *key, double lower, int strict, double *out)
{
    int rc = tally_yaml__get_number(t, v, key, out);
    if (rc)
        return rc;
    if (strict ? !(*out > lower) : !(*out >= lower))
        return tally_yaml__fail(t, TALLY_EINVAL, v,
                                "%s %.*s out of range; expected a number %s %g", key,
                                tally_yaml__shown(v->text, v->len), v->text,
                                strict ? ">" : ">=", lower);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Where a byte of a scalar's value is in the source                   */

/* Bytes of source and of value taken by the double-quoted escape at raw
 * (the backslash). */
static void escape_size(const char *raw, size_t avail, size_t *raw_len, size_t *value_len)
{
    char c = avail > 1 ? raw[1] : '\0';
    size_t hex = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (hex) {
        unsigned long cp = 0;
        for (size_t i = 0; i < hex && 2 + i < avail; i++) {
            char h = raw[2 + i];
            cp = cp * 16 + (unsigned long)(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
        }
        *raw_len = 2 + hex;
        *value_len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        return;
    }
    *raw_len = 2;
    /* \N (NEL) and \_ (no-break space) are two bytes, \L and \P three. */
    *value_len = c == 'N' || c == '_' ? 2 : c == 'L' || c == 'P' ? 3 : 1;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Where byte `off` of a plain or block scalar's value is in the source that
 * starts at byte `pos`. Folding, indentation and line breaks change only
 * white space: the visible characters of the value are those of the source,
 * in order, so count them. Returns 0 when the source runs out first. */
static int visible_position(const tally_yaml_tree *t, const tally_yaml_node *n, size_t pos,
                            unsigned long line, unsigned long column, size_t off,
                            unsigned long *out_line, unsigned long *out_column)
{
    size_t want = 0; /* visible characters before the offset */
    for (size_t i = 0; i < off && i < n->len; i += utf8_len((unsigned char)n->text[i]))
        want += !is_space(n->text[i]);
    /* At a visible character: find it. At the end (or at white space):
     * stop just after the last visible character before it. */
    int at_visible = off < n->len && !is_space(n->text[off]);
    size_t seen = 0;
    while (pos < t->size) {
        size_t b = break_len(t->src, t->size, pos);
        if (!at_visible && seen == want)
            break;
        if (b) {
            pos += b;
            line++;
            column = 1;
            continue;
        }
        if (!is_space(t->src[pos])) {
            if (at_visible && seen == want)
                break;
            seen++;
        }
        pos += utf8_len((unsigned char)t->src[pos]);
        column++;
    }
    if (pos >= t->size && at_visible)
        return 0;
    *out_line = line;
    *out_column = column;
    return 1;
}

void tally_yaml__scalar_position(const tally_yaml_tree *t, const tally_yaml_node *n, size_t off,
                                 unsigned long *line, unsigned long *column)
{
    *line = n->line;
    *column = n->column;
    if (n->style == YAML_LITERAL_SCALAR_STYLE || n->style == YAML_FOLDED_SCALAR_STYLE) {
        /* The content starts on the line after the '|' or '>' header; a
         * header on the file's last line has none: the header it is. */
        size_t pos = source_offset(t, n->line + 1, 1);
        if (pos < t->size)
            visible_position(t, n, pos, n->line + 1, 1, off, line, column);
        return;
    }
    if (n->style == YAML_PLAIN_SCALAR_STYLE) {
        visible_position(t, n, source_offset(t, n->line, n->column), n->line, n->column, off,
                         line, column);
        return;
    }
    int style = n->style;
    if (n->end_line != n->line ||
        (style != YAML_SINGLE_QUOTED_SCALAR_STYLE && style != YAML_DOUBLE_QUOTED_SCALAR_STYLE))
        return;
    /* After the opening quote. */
    size_t pos = source_offset(t, n->line, n->column) + 1;
    unsigned long col = n->column + 1;
    /* Walk source and value together: escapes and '' take more source
     * bytes than value bytes. */
    size_t v = 0;
    while (v < off && pos < t->size) {
        size_t raw, val;
        if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && t->src[pos] == '\'') {
            raw = 2;
            val = 1;
        } else if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE && t->src[pos] == '\\') {
            escape_size(t->src + pos, t->size - pos, &raw, &val);
        } else {
            raw = val = utf8_len((unsigned char)t->src[pos]);
            col++;
            pos += raw;
            v += val;
            continue;
        }
        col += (unsigned long)raw; /* escapes are ASCII: one column per byte */
        pos += raw;
        v += val;
    }
    *column = col;
}
