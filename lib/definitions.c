/* Indicator definitions, read from YAML.
 *
 * The YAML goes through libyaml's event API into a small tree of our own
 * rather than through yaml_parser_load: events say where an anchor or an
 * alias is written, so aliases are refused there, before anything could be
 * expanded, and nesting depth is bounded while the input is read. The tree
 * keeps every node's position for messages.
 *
 * The top-level keys are read first and the sections parsed in dependency
 * order (levels, indicators and their thresholds, formulas, poverty, checks,
 * targets), so a file may put them in any order and every name is checked
 * where it is written.
 *
 * SPDX-License-Identifier: MIT
 */
#include "definitions.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "error.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* The definitions object                                              */

typedef struct indicator {
    char *id;
    char *name;
    char *unit;
    char *formula; /* NULL: a reported indicator */
    size_t id_len;
    size_t formula_len;
    uint64_t hash; /* of id, compared before the bytes in lookups */
    int aggregate;
    int over_time;
    int decimals;
    int direction;
    int exact;
    double min, max; /* NaN: not given */
    unsigned long line, column; /* of the id value, 1-based */
    tally_expr *program;
    tally_threshold *thresholds; /* in the arena */
    size_t threshold_count;
} indicator;

/* Everything read from `thresholds:`, `poverty:`, `checks:` and `targets:`
 * lives in blocks chained from the definitions object and freed together:
 * accessors hand out arrays of arrays (override prefixes), and one owner
 * for all of them keeps both the error paths and tally_definitions_free
 * short. */
typedef struct arena_block {
    struct arena_block *next;
    size_t size, used;
} arena_block;

struct tally_definitions {
    char **levels;
    size_t level_count;
    indicator *ind;
    size_t count;
    /* Open addressing over ids: slot holds index + 1, 0 is empty. The table
     * is at most half full, so a miss ends after a probe or two. */
    size_t *table;
    size_t mask;
    size_t *order; /* formula indicators, dependency order */
    size_t order_count;
    arena_block *arena;
    int *poverty_years; /* with poverty_lines: `poverty: lines:`, file order */
    double *poverty_lines;
    size_t poverty_count;
    double monitoring_line; /* NaN: not given */
    tally_check_def *checks;
    size_t check_count;
    tally_target_def *targets;
    size_t target_count;
};

/* Allocation granularity of the arena: enough for any type stored in it. */
#define ARENA_ALIGN _Alignof(max_align_t)
#define ARENA_HEADER ((sizeof(arena_block) + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN)

/* `count` zeroed elements of `size` bytes from d's arena; NULL (and
 * TALLY_ENOMEM recorded) when memory runs out. Never freed one by one. */
static void *arena_array(tally_definitions *d, size_t count, size_t size)
{
    if (size && count > (SIZE_MAX - 2 * ARENA_HEADER - ARENA_ALIGN) / size) {
        tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
        return NULL;
    }
    size_t n = (count * size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (n == 0)
        n = ARENA_ALIGN;
    arena_block *b = d->arena;
    if (!b || b->size - b->used < n) {
        size_t want = n > 4096 ? n : 4096;
        b = malloc(ARENA_HEADER + want);
        if (!b) {
            tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
            return NULL;
        }
        b->size = want;
        b->used = 0;
        b->next = d->arena;
        d->arena = b;
    }
    void *p = (char *)b + ARENA_HEADER + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

static char *arena_strndup(tally_definitions *d, const char *s, size_t len)
{
    char *p = arena_array(d, len + 1, 1);
    if (p)
        memcpy(p, s, len);
    return p;
}

/* ------------------------------------------------------------------ */
/* A YAML tree                                                         */

enum { YNODE_SCALAR, YNODE_SEQUENCE, YNODE_MAPPING };

typedef struct ynode {
    int kind;
    int style;                  /* yaml_scalar_style_t, for scalars */
    unsigned long line, column; /* 1-based start */
    unsigned long end_line;     /* 1-based line of the end mark */
    char *text;                 /* scalar value, NUL-terminated (owned) */
    size_t len;
    size_t child; /* first child, or TALLY_NONE */
    size_t next;  /* next sibling, or TALLY_NONE */
    size_t count; /* children; a mapping alternates keys and values */
} ynode;

typedef struct loader {
    const char *path;
    const char *src;
    size_t size;
    ynode *nodes;
    size_t node_count, node_cap;
    size_t root;
    tally_definitions *d;
    size_t *formula_node; /* per indicator: its formula scalar, or TALLY_NONE */
    /* Duplicates within one list of indicator ids: seen[i] == list marks
     * indicator i as named in the current list, at line seen_line[i]. */
    unsigned long *seen, *seen_line;
    unsigned long list;
    /* Duplicate detection: slot holds check (target) index + 1. */
    size_t *check_table, check_mask;
    size_t *target_table, target_mask;
} loader;

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
static size_t source_offset(const loader *l, unsigned long line, unsigned long column)
{
    size_t i = 0;
    for (unsigned long n = 1; n < line && i < l->size;) {
        size_t b = break_len(l->src, l->size, i);
        if (b) {
            i += b;
            n++;
        } else {
            i++;
        }
    }
    for (unsigned long c = 1; c < column && i < l->size && !break_len(l->src, l->size, i); c++)
        i += utf8_len((unsigned char)l->src[i]);
    return i < l->size ? i : l->size;
}

/* 1-based line and column of byte offset `off` (for libyaml's reader
 * errors, which give an offset rather than a mark). */
static void offset_position(const loader *l, size_t off, unsigned long *line,
                            unsigned long *column)
{
    unsigned long ln = 1, col = 1;
    size_t i = 0;
    if (off > l->size)
        off = l->size;
    while (i < off) {
        size_t b = break_len(l->src, l->size, i);
        if (b) {
            i += b;
            ln++;
            col = 1;
        } else {
            i += utf8_len((unsigned char)l->src[i]);
            col++;
        }
    }
    *line = ln;
    *column = col;
}

/* The rest of the source line from byte offset `off`, as offending text. */
static size_t rest_of_line(const loader *l, size_t off)
{
    size_t end = off;
    while (end < l->size && !break_len(l->src, l->size, end))
        end++;
    return end - off;
}

/* Records an error whose offending text is the source line from byte
 * `off`. libyaml may stop before it has checked the rest of the line: text
 * that is not UTF-8 is left out rather than handed on. */
static int set_at_source(const loader *l, int code, unsigned long line, unsigned long column,
                         size_t off, const char *reason)
{
    size_t len = rest_of_line(l, off);
    const char *text = tally_util__utf8_valid(l->src + off, len) ? l->src + off : NULL;
    return tally_error__set_at(code, l->path, line, column, text, len, "%s", reason);
}

/* How many bytes of `text` to quote in a message: at most 60, cut on a
 * character boundary, so a long value does not drown the message. */
static int shown(const char *text, size_t len)
{
    size_t n = len;
    if (n > 60) {
        n = 60;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    return (int)n;
}

/* Records an error at node n with its text (a scalar's value, or the source
 * line from a collection's start). Returns code. */
static int fail(const loader *l, int code, const ynode *n, const char *fmt, ...) TALLY_PRINTF(4, 5);
static int fail(const loader *l, int code, const ynode *n, const char *fmt, ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (n->kind == YNODE_SCALAR)
        return tally_error__set_at(code, l->path, n->line, n->column, n->text, n->len, "%s",
                                   reason);
    size_t off = source_offset(l, n->line, n->column);
    return set_at_source(l, code, n->line, n->column, off, reason);
}

/* The same at a libyaml mark (0-based: converted here). */
static int fail_mark(const loader *l, int code, yaml_mark_t mark, const char *fmt, ...)
    TALLY_PRINTF(4, 5);
static int fail_mark(const loader *l, int code, yaml_mark_t mark, const char *fmt, ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    unsigned long line = (unsigned long)mark.line + 1, column = (unsigned long)mark.column + 1;
    size_t off = source_offset(l, line, column);
    /* At the end of an input without a final line break, libyaml's mark is
     * on the line after the last: name the end of the input instead. */
    if (off == l->size)
        offset_position(l, off, &line, &column);
    return set_at_source(l, code, line, column, off, reason);
}

static int syntax_error(const loader *l, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading YAML");
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->error == YAML_READER_ERROR) {
        unsigned long line, column;
        offset_position(l, p->problem_offset, &line, &column);
        /* No offending text: the bytes are not UTF-8, and the text must be. */
        return tally_error__set_at(TALLY_EPARSE, l->path, line, column, NULL, 0,
                                   "%s; expected UTF-8 text", problem);
    }
    if (p->context)
        return fail_mark(l, TALLY_EPARSE, p->problem_mark,
                         "YAML syntax error: %s (%s at line %lu, column %lu)", problem, p->context,
                         (unsigned long)p->context_mark.line + 1,
                         (unsigned long)p->context_mark.column + 1);
    return fail_mark(l, TALLY_EPARSE, p->problem_mark, "YAML syntax error: %s", problem);
}

/* Appends a node made from event ev under `parent` (TALLY_NONE: the root),
 * after `*last` (its last child so far). */
static int add_node(loader *l, const yaml_event_t *ev, int kind, size_t parent, size_t *last,
                    size_t *index)
{
    if (l->node_count == l->node_cap &&
        tally_util__grow((void **)&l->nodes, &l->node_cap, l->node_count + 1, sizeof *l->nodes))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading YAML");
    size_t i = l->node_count;
    ynode *n = &l->nodes[i];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = (unsigned long)ev->start_mark.line + 1;
    n->column = (unsigned long)ev->start_mark.column + 1;
    n->end_line = (unsigned long)ev->end_mark.line + 1;
    n->child = n->next = TALLY_NONE;
    if (kind == YNODE_SCALAR) {
        n->style = (int)ev->data.scalar.style;
        n->len = ev->data.scalar.length;
        n->text = tally_util__strndup((const char *)ev->data.scalar.value, n->len);
        if (!n->text)
            return tally_error__set(TALLY_ENOMEM, "out of memory reading YAML");
    }
    l->node_count++;
    if (parent == TALLY_NONE) {
        l->root = i;
    } else {
        if (l->nodes[parent].count == 0)
            l->nodes[parent].child = i;
        else
            l->nodes[*last].next = i;
        l->nodes[parent].count++;
        *last = i;
    }
    *index = i;
    return 0;
}

static int read_tree(loader *l)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return tally_error__set(TALLY_ENOMEM, "out of memory starting the YAML parser");
    yaml_parser_set_input_string(&p, (const unsigned char *)l->src, l->size);
    /* The input is UTF-8 (a BOM is already skipped): no guessing of UTF-16,
     * whose offsets would not match the source bytes. */
    yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);

    size_t parent[TALLY_DEFINITIONS_MAX_DEPTH + 1], last[TALLY_DEFINITIONS_MAX_DEPTH + 1];
    size_t depth = 0;
    int documents = 0, rc = 0, done = 0;
    l->root = TALLY_NONE;
    while (!rc && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = syntax_error(l, &p);
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
                rc = fail_mark(l, TALLY_EPARSE, ev.start_mark,
                               "a second YAML document; expected one document per file");
            break;
        case YAML_ALIAS_EVENT:
            rc = fail_mark(l, TALLY_EPARSE, ev.start_mark,
                           "aliases are not supported; write the value out in full");
            break;
        case YAML_SCALAR_EVENT:
            anchor = ev.data.scalar.anchor;
            kind = YNODE_SCALAR;
            break;
        case YAML_SEQUENCE_START_EVENT:
            anchor = ev.data.sequence_start.anchor;
            kind = YNODE_SEQUENCE;
            break;
        case YAML_MAPPING_START_EVENT:
            anchor = ev.data.mapping_start.anchor;
            kind = YNODE_MAPPING;
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
                rc = fail_mark(l, TALLY_EPARSE, ev.start_mark,
                               "aliases are not supported (anchor '&%s'); write the value out "
                               "in full",
                               (const char *)anchor);
            } else if (kind != YNODE_SCALAR && depth == TALLY_DEFINITIONS_MAX_DEPTH) {
                rc = fail_mark(l, TALLY_ELIMIT, ev.start_mark,
                               "nesting deeper than %d levels; expected at most %d",
                               TALLY_DEFINITIONS_MAX_DEPTH, TALLY_DEFINITIONS_MAX_DEPTH);
            } else {
                size_t i = TALLY_NONE;
                rc = add_node(l, &ev, kind, depth ? parent[depth - 1] : TALLY_NONE,
                              depth ? &last[depth - 1] : NULL, &i);
                if (!rc && kind != YNODE_SCALAR) {
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

static const ynode *node(const loader *l, size_t i) { return &l->nodes[i]; }

static int is_null(const ynode *n)
{
    if (n->kind != YNODE_SCALAR || n->style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
           strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

static int key_is(const ynode *k, const char *name)
{
    return k->kind == YNODE_SCALAR && strcmp(k->text, name) == 0 && strlen(name) == k->len;
}

/* Levenshtein distance, capped: small inputs only (keys and words). */
static size_t distance(const char *a, size_t na, const char *b, size_t nb)
{
    enum { MAXW = 32 };
    if (na >= MAXW || nb >= MAXW)
        return (size_t)-1;
    size_t row[MAXW + 1];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

/* " (did you mean 'x'?)" when one word of `words` is within two edits of
 * text, else "". */
static const char *suggest(const ynode *n, const char *const *words, size_t count, char *buf,
                           size_t size)
{
    size_t best = 3, which = count;
    for (size_t i = 0; i < count; i++) {
        size_t dist = distance(n->text, n->len, words[i], strlen(words[i]));
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

/* 0 when no key before `key` in mapping m is the same, else TALLY_EEXIST
 * at `key`, naming the line of the first. The keys before it have all been
 * accepted as known and distinct, so this scan is short whatever the
 * input. */
static int check_duplicate_key(const loader *l, const ynode *m, const ynode *key)
{
    for (size_t k = m->child; k != TALLY_NONE; k = node(l, node(l, k)->next)->next) {
        const ynode *prev = node(l, k);
        if (prev == key)
            return 0;
        if (prev->len == key->len && memcmp(prev->text, key->text, key->len) == 0)
            return fail(l, TALLY_EEXIST, key,
                        "key '%.*s' given twice (first at line %lu); expected each key once",
                        shown(key->text, key->len), key->text, prev->line);
    }
    return 0;
}

static int expect_key(const loader *l, const ynode *k)
{
    if (k->kind != YNODE_SCALAR || is_null(k))
        return fail(l, TALLY_EPARSE, k, "expected a key name");
    return 0;
}

/* A string value: any non-null scalar (plain `123` is the text "123"). */
static int get_string(const loader *l, const ynode *v, const char *what, char **out)
{
    if (v->kind != YNODE_SCALAR || is_null(v))
        return fail(l, TALLY_EPARSE, v, "expected %s", what);
    if (memchr(v->text, '\0', v->len))
        return fail(l, TALLY_EPARSE, v, "a NUL character; expected %s without NUL", what);
    free(*out);
    *out = tally_util__strndup(v->text, v->len);
    if (!*out)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    return 0;
}

/* One of `words` (a plain or quoted scalar). Unknown words are TALLY_EINVAL:
 * the type is right, the value is not acceptable. */
static int get_word(const loader *l, const ynode *v, const char *key, const char *const *words,
                    size_t count, int *out)
{
    char list[256] = "", hint[96];
    size_t used = 0;
    for (size_t i = 0; i < count && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", words[i]);
    if (v->kind != YNODE_SCALAR || is_null(v))
        return fail(l, TALLY_EPARSE, v, "expected a word for '%s': one of %s", key, list);
    for (size_t i = 0; i < count; i++) {
        if (v->len == strlen(words[i]) && memcmp(v->text, words[i], v->len) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return fail(l, TALLY_EINVAL, v, "unknown %s '%.*s'%s; expected one of %s", key,
                shown(v->text, v->len), v->text, suggest(v, words, count, hint, sizeof hint),
                list);
}

/* A plain (unquoted) scalar: numbers and booleans in quotes are strings in
 * YAML, and accepting them would hide a mistake. */
static int is_plain(const ynode *v)
{
    return v->kind == YNODE_SCALAR && v->style == YAML_PLAIN_SCALAR_STYLE && !is_null(v);
}

static int get_decimals(const loader *l, const ynode *v, int *out)
{
    static const char expected[] = "expected an integer from 0 to 15";
    if (!is_plain(v))
        return fail(l, TALLY_EPARSE, v, "%s", expected);
    const char *s = v->text;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i++;
    }
    if (i == v->len)
        return fail(l, TALLY_EPARSE, v, "%s", expected);
    long value = 0;
    for (; i < v->len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fail(l, TALLY_EPARSE, v, "'%.*s' is not an integer; %s",
                        shown(v->text, v->len), v->text, expected);
        if (value < 1000)
            value = value * 10 + (s[i] - '0');
    }
    if (neg && value)
        value = -1;
    if (value < 0 || value > 15)
        return fail(l, TALLY_EINVAL, v, "decimals %.*s out of range; %s", shown(v->text, v->len),
                    v->text, expected);
    *out = (int)value;
    return 0;
}

static int get_bool(const loader *l, const ynode *v, int *out)
{
    /* YAML 1.2 core booleans only: yes/no/on/off are words in 1.2. */
    static const char *const yes[] = { "true", "True", "TRUE" };
    static const char *const no[] = { "false", "False", "FALSE" };
    if (is_plain(v)) {
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
    return fail(l, TALLY_EPARSE, v, "expected true or false");
}

static int get_number(const loader *l, const ynode *v, const char *key, double *out)
{
    int rc = is_plain(v) ? tally_util__parse_number(v->text, v->len, out) : TALLY_EPARSE;
    if (rc == TALLY_ERANGE)
        return fail(l, TALLY_ERANGE, v, "'%s' out of range; expected a finite number", key);
    if (rc)
        return fail(l, TALLY_EPARSE, v, "expected a number for '%s'", key);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Levels                                                              */

static int parse_levels(loader *l, const ynode *v)
{
    tally_definitions *d = l->d;
    if (v->kind != YNODE_SEQUENCE)
        return fail(l, TALLY_EPARSE, v, "expected a list of level names, such as [province, "
                                        "city, county, town, village]");
    if (v->count == 0)
        return fail(l, TALLY_EINVAL, v,
                    "an empty list of levels; expected level names (or no 'levels' key)");
    if (v->count > TALLY_DEFINITIONS_MAX_LEVELS)
        return fail(l, TALLY_ELIMIT, v, "%zu levels; expected at most %d", v->count,
                    TALLY_DEFINITIONS_MAX_LEVELS);
    d->levels = calloc(v->count, sizeof *d->levels);
    if (!d->levels)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    for (size_t c = v->child; c != TALLY_NONE; c = node(l, c)->next) {
        const ynode *item = node(l, c);
        char *name = NULL;
        int rc = get_string(l, item, "a level name", &name);
        if (rc)
            return rc;
        d->levels[d->level_count++] = name;
        if (item->len == 0)
            return fail(l, TALLY_EINVAL, item, "an empty level name; expected a name");
        /* At most TALLY_DEFINITIONS_MAX_LEVELS: the quadratic scan is cheap. */
        size_t k = 0;
        for (size_t p = v->child; p != c; p = node(l, p)->next, k++) {
            if (strcmp(d->levels[k], name) == 0)
                return fail(l, TALLY_EEXIST, item,
                            "level '%.*s' given twice (first at line %lu); expected distinct "
                            "level names",
                            shown(item->text, item->len), item->text, node(l, p)->line);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Shared by thresholds, poverty lines, checks and targets             */

/* "a, b, c" from words, into buf. */
static const char *word_list(const char *const *words, size_t count, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", words[i]);
    return buf;
}

/* Reads the keys of mapping m (`where`, such as "in a check", places it in
 * messages): each must be
 * one of `keys` and given once. value_of[k] / key_of[k] get the nodes of
 * key k, NULL when absent. */
static int read_keys(const loader *l, const ynode *m, const char *where, const char *const *keys,
                     size_t count, const ynode **value_of, const ynode **key_of)
{
    for (size_t k = 0; k < count; k++)
        value_of[k] = key_of[k] = NULL;
    for (size_t k = m->child; k != TALLY_NONE; k = node(l, node(l, k)->next)->next) {
        const ynode *key = node(l, k);
        int rc = expect_key(l, key);
        if (!rc)
            rc = check_duplicate_key(l, m, key);
        if (rc)
            return rc;
        size_t which = count;
        for (size_t w = 0; w < count; w++)
            if (key_is(key, keys[w]))
                which = w;
        if (which == count) {
            char hint[96], list[256];
            return fail(l, TALLY_EPARSE, key, "unknown key '%.*s' %s%s; expected one of %s",
                        shown(key->text, key->len), key->text, where,
                        suggest(key, keys, count, hint, sizeof hint),
                        word_list(keys, count, list, sizeof list));
        }
        key_of[which] = key;
        value_of[which] = node(l, key->next);
    }
    return 0;
}

/* A number for `key` that is at least `lower` (more than it when `strict`). */
static int get_number_above(const loader *l, const ynode *v, const char *key, double lower,
                            int strict, double *out)
{
    int rc = get_number(l, v, key, out);
    if (rc)
        return rc;
    if (strict ? !(*out > lower) : !(*out >= lower))
        return fail(l, TALLY_EINVAL, v, "%s %.*s out of range; expected a number %s %g", key,
                    shown(v->text, v->len), v->text, strict ? ">" : ">=", lower);
    return 0;
}

/* A year: a plain integer from 1000 to 9999. */
static int get_year(const loader *l, const ynode *v, int *out)
{
    static const char expected[] = "expected a year from 1000 to 9999, such as 2019";
    if (!is_plain(v))
        return fail(l, TALLY_EPARSE, v, "%s", expected);
    long value = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->text[i] < '0' || v->text[i] > '9')
            return fail(l, TALLY_EPARSE, v, "'%.*s' is not a year; %s", shown(v->text, v->len),
                        v->text, expected);
        if (value < 100000)
            value = value * 10 + (v->text[i] - '0');
    }
    if (value < 1000 || value > 9999)
        return fail(l, TALLY_EINVAL, v, "year %.*s out of range; %s", shown(v->text, v->len),
                    v->text, expected);
    *out = (int)value;
    return 0;
}

static const char *const default_levels[] = { "province", "city", "county", "town", "village" };

/* A level name: one of `levels:`, or of the default levels when the file
 * has none. *out gets the stored name (borrowed from d or static), *index
 * its position. */
static int get_level(const loader *l, const ynode *v, const char **out, size_t *index)
{
    const tally_definitions *d = l->d;
    const char *const *names = d->level_count ? (const char *const *)d->levels : default_levels;
    size_t count = d->level_count ? d->level_count : 5;
    if (v->kind != YNODE_SCALAR || is_null(v))
        return fail(l, TALLY_EPARSE, v, "expected a level name");
    for (size_t i = 0; i < count; i++) {
        if (strlen(names[i]) == v->len && memcmp(names[i], v->text, v->len) == 0) {
            *out = names[i];
            *index = i;
            return 0;
        }
    }
    char hint[96], list[512];
    return fail(l, TALLY_ENOTFOUND, v, "unknown level '%.*s'%s; expected one of %s%s",
                shown(v->text, v->len), v->text, suggest(v, names, count, hint, sizeof hint),
                word_list(names, count, list, sizeof list),
                d->level_count ? " (from 'levels')" : " (the default levels)");
}

/* ------------------------------------------------------------------ */
/* Thresholds                                                          */

enum { T_LEVEL, T_MAX, T_MIN, T_INCLUSIVE, T_OVERRIDES, T_COUNT };
static const char *const threshold_keys[T_COUNT] = { "level", "max", "min", "inclusive",
                                                     "overrides" };
enum { O_REGIONS, O_MAX, O_MIN, O_COUNT };
static const char *const override_keys[O_COUNT] = { "regions", "max", "min" };

/* Region code prefixes: a non-empty list of non-empty strings of digits. */
static int parse_prefixes(loader *l, const ynode *v, tally_threshold_override *o)
{
    if (v->kind != YNODE_SEQUENCE)
        return fail(l, TALLY_EPARSE, v,
                    "expected a list of region code prefixes, such as [\"51\", \"52\"]");
    if (v->count == 0)
        return fail(l, TALLY_EINVAL, v,
                    "an empty list of regions; expected at least one region code prefix");
    const char **prefixes = arena_array(l->d, v->count, sizeof *prefixes);
    if (!prefixes)
        return TALLY_ENOMEM;
    for (size_t c = v->child; c != TALLY_NONE; c = node(l, c)->next) {
        const ynode *item = node(l, c);
        if (item->kind != YNODE_SCALAR || is_null(item))
            return fail(l, TALLY_EPARSE, item, "expected a region code prefix, such as \"51\"");
        int ok = item->len > 0;
        for (size_t i = 0; ok && i < item->len; i++)
            ok = item->text[i] >= '0' && item->text[i] <= '9';
        if (!ok)
            return fail(l, TALLY_EINVAL, item,
                        "'%.*s' is not a region code prefix; expected digits, such as \"51\"",
                        shown(item->text, item->len), item->text);
        if (!(prefixes[o->prefix_count++] = arena_strndup(l->d, item->text, item->len)))
            return TALLY_ENOMEM;
    }
    o->prefixes = prefixes;
    return 0;
}

/* Exactly one of 'max' / 'min' among the keys of mapping m (`what` names
 * it): *is_max says which. */
static int one_side(const loader *l, const ynode *m, const char *what, const ynode *max_key,
                    const ynode *min_key, int *is_max)
{
    if (max_key && min_key) {
        const ynode *second = max_key > min_key ? max_key : min_key;
        const ynode *first = second == max_key ? min_key : max_key;
        return fail(l, TALLY_EPARSE, second,
                    "both 'max' and 'min' in %s ('%s' at line %lu); expected exactly one", what,
                    first->text, first->line);
    }
    if (!max_key && !min_key)
        return fail(l, TALLY_EPARSE, m, "%s without 'max' or 'min'; expected exactly one", what);
    *is_max = max_key != NULL;
    return 0;
}

static int parse_override(loader *l, const ynode *m, const tally_threshold *t,
                          tally_threshold_override *o)
{
    if (m->kind != YNODE_MAPPING)
        return fail(l, TALLY_EPARSE, m,
                    "expected an override: a mapping with 'regions' and '%s'",
                    t->is_max ? "max" : "min");
    const ynode *value_of[O_COUNT], *key_of[O_COUNT];
    int rc = read_keys(l, m, "in an override", override_keys, O_COUNT, value_of, key_of);
    if (rc)
        return rc;
    /* The side is the entry's: a 'min' under a 'max' threshold would read
     * as a bound the other way round. */
    const ynode *wrong = key_of[t->is_max ? O_MIN : O_MAX];
    if (wrong)
        return fail(l, TALLY_EPARSE, wrong,
                    "'%s' in an override of a '%s' threshold; expected '%s', the side of its "
                    "entry",
                    wrong->text, t->is_max ? "max" : "min", t->is_max ? "max" : "min");
    if (!value_of[O_REGIONS])
        return fail(l, TALLY_EPARSE, m, "an override without 'regions'; expected a list of "
                                        "region code prefixes");
    int is_max;
    rc = one_side(l, m, "an override", key_of[O_MAX], key_of[O_MIN], &is_max);
    if (!rc)
        rc = get_number(l, value_of[is_max ? O_MAX : O_MIN], is_max ? "max" : "min", &o->limit);
    if (!rc)
        rc = parse_prefixes(l, value_of[O_REGIONS], o);
    return rc;
}

/* One threshold entry. first_line[level] is the line of the entry already
 * given for that level (0: none). */
static int parse_threshold(loader *l, const ynode *m, tally_threshold *t,
                           unsigned long *first_line)
{
    if (m->kind != YNODE_MAPPING)
        return fail(l, TALLY_EPARSE, m,
                    "expected a threshold: a mapping such as { level: county, max: 2.0 }");
    t->line = m->line;
    t->column = m->column;
    const ynode *value_of[T_COUNT], *key_of[T_COUNT];
    int rc = read_keys(l, m, "in a threshold", threshold_keys, T_COUNT, value_of, key_of);
    if (rc)
        return rc;
    if (!value_of[T_LEVEL])
        return fail(l, TALLY_EPARSE, m, "a threshold without 'level'; expected a level name");
    size_t level;
    rc = get_level(l, value_of[T_LEVEL], &t->level, &level);
    if (rc)
        return rc;
    if (first_line[level])
        return fail(l, TALLY_EEXIST, value_of[T_LEVEL],
                    "a threshold for level '%s' given twice (first at line %lu); expected one "
                    "entry per level",
                    t->level, first_line[level]);
    first_line[level] = value_of[T_LEVEL]->line;
    rc = one_side(l, m, "a threshold", key_of[T_MAX], key_of[T_MIN], &t->is_max);
    if (!rc)
        rc = get_number(l, value_of[t->is_max ? T_MAX : T_MIN], t->is_max ? "max" : "min",
                        &t->limit);
    if (!rc && value_of[T_INCLUSIVE])
        rc = get_bool(l, value_of[T_INCLUSIVE], &t->inclusive);
    if (rc || !value_of[T_OVERRIDES])
        return rc;
    const ynode *v = value_of[T_OVERRIDES];
    if (v->kind != YNODE_SEQUENCE)
        return fail(l, TALLY_EPARSE, v, "expected a list of overrides, such as [{ regions: "
                                        "[\"51\"], max: 3.0 }]");
    tally_threshold_override *o = arena_array(l->d, v->count, sizeof *o);
    if (!o)
        return TALLY_ENOMEM;
    t->overrides = o;
    for (size_t c = v->child; c != TALLY_NONE; c = node(l, c)->next) {
        rc = parse_override(l, node(l, c), t, &o[t->override_count]);
        if (rc)
            return rc;
        t->override_count++;
    }
    return 0;
}

static int parse_thresholds(loader *l, const ynode *v, indicator *x)
{
    if (v->kind != YNODE_SEQUENCE)
        return fail(l, TALLY_EPARSE, v,
                    "expected a list of thresholds, such as [{ level: county, max: 2.0 }]");
    unsigned long first_line[TALLY_DEFINITIONS_MAX_LEVELS] = { 0 };
    tally_threshold *t = arena_array(l->d, v->count, sizeof *t);
    if (!t)
        return TALLY_ENOMEM;
    x->thresholds = t;
    for (size_t c = v->child; c != TALLY_NONE; c = node(l, c)->next) {
        int rc = parse_threshold(l, node(l, c), &t[x->threshold_count], first_line);
        if (rc)
            return rc;
        x->threshold_count++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Indicators                                                          */

enum {
    K_ID, K_NAME, K_UNIT, K_AGGREGATE, K_OVER_TIME, K_DECIMALS, K_DIRECTION, K_EXACT,
    K_FORMULA, K_MIN, K_MAX, K_THRESHOLDS, K_COUNT
};
static const char *const indicator_keys[K_COUNT] = {
    "id", "name", "unit", "aggregate", "over_time", "decimals", "direction", "exact",
    "formula", "min", "max", "thresholds"
};
static const char *const aggregate_words[] = { "sum", "mean", "min", "max", "count" };
static const char *const over_time_words[] = { "flow", "cumulative", "stock" };
static const char *const direction_words[] = { "higher_is_better", "lower_is_better" };

/* Words an id may not be: the formula language would read them as
 * operators or function calls. */
static const char *const reserved_words[] = { "and", "or", "not", "abs", "min", "max", "round",
                                              "pow", "sqrt", "ln", "exp", "if", "is_missing",
                                              "coalesce" };

static int check_id(const loader *l, const ynode *v)
{
    const char *s = v->text;
    int ok = v->len > 0 && (s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') ||
                            (s[0] >= 'a' && s[0] <= 'z'));
    for (size_t i = 1; ok && i < v->len; i++)
        ok = s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
             (s[i] >= '0' && s[i] <= '9');
    if (!ok)
        return fail(l, TALLY_EINVAL, v,
                    "'%.*s' is not a valid id; expected ASCII letters, digits and '_', not "
                    "starting with a digit",
                    shown(v->text, v->len), v->text);
    for (size_t i = 0; i < sizeof reserved_words / sizeof *reserved_words; i++)
        if (strcmp(s, reserved_words[i]) == 0)
            return fail(l, TALLY_EINVAL, v,
                        "'%s' is a word of the formula language; expected another id", s);
    return 0;
}

/* Adds indicator i to the id table: TALLY_EEXIST at its id when the id is
 * already there. */
static int insert_id(const loader *l, size_t i, const ynode *id_node)
{
    tally_definitions *d = l->d;
    indicator *x = &d->ind[i];
    x->hash = tally_util__hash_bytes(x->id, x->id_len);
    size_t s = (size_t)x->hash & d->mask;
    for (; d->table[s]; s = (s + 1) & d->mask) {
        const indicator *y = &d->ind[d->table[s] - 1];
        if (y->hash == x->hash && y->id_len == x->id_len && memcmp(y->id, x->id, x->id_len) == 0)
            return fail(l, TALLY_EEXIST, id_node,
                        "indicator id '%s' given twice (first at line %lu); expected unique ids",
                        x->id, y->line);
    }
    d->table[s] = i + 1;
    return 0;
}

static int parse_indicator(loader *l, const ynode *m, size_t i)
{
    indicator *x = &l->d->ind[i];
    x->min = x->max = NAN;
    if (m->kind != YNODE_MAPPING)
        return fail(l, TALLY_EPARSE, m,
                    "expected an indicator: a mapping with 'id' and other keys");

    const ynode *value_of[K_COUNT] = { NULL };
    const ynode *key_of[K_COUNT] = { NULL };
    for (size_t k = m->child; k != TALLY_NONE; k = node(l, node(l, k)->next)->next) {
        const ynode *key = node(l, k), *v = node(l, key->next);
        int rc = expect_key(l, key);
        if (!rc)
            rc = check_duplicate_key(l, m, key);
        if (rc)
            return rc;
        size_t which = K_COUNT;
        for (size_t w = 0; w < K_COUNT; w++)
            if (key_is(key, indicator_keys[w]))
                which = w;
        if (which == K_COUNT) {
            char hint[96];
            return fail(l, TALLY_EPARSE, key,
                        "unknown key '%.*s'%s; expected one of id, name, unit, aggregate, "
                        "over_time, decimals, direction, exact, formula, min, max, thresholds",
                        shown(key->text, key->len), key->text,
                        suggest(key, indicator_keys, K_COUNT, hint, sizeof hint));
        }
        key_of[which] = key;
        value_of[which] = v;
        switch (which) {
        case K_ID:
            rc = get_string(l, v, "an indicator id", &x->id);
            if (!rc)
                rc = check_id(l, v);
            x->id_len = v->len;
            x->line = v->line;
            x->column = v->column;
            break;
        case K_NAME: rc = get_string(l, v, "a display name", &x->name); break;
        case K_UNIT: rc = get_string(l, v, "a unit (\"\" for none)", &x->unit); break;
        case K_AGGREGATE: rc = get_word(l, v, "aggregate", aggregate_words, 5, &x->aggregate); break;
        case K_OVER_TIME: rc = get_word(l, v, "over_time", over_time_words, 3, &x->over_time); break;
        case K_DIRECTION: rc = get_word(l, v, "direction", direction_words, 2, &x->direction); break;
        case K_DECIMALS: rc = get_decimals(l, v, &x->decimals); break;
        case K_EXACT: rc = get_bool(l, v, &x->exact); break;
        case K_FORMULA:
            rc = get_string(l, v, "a formula", &x->formula);
            x->formula_len = v->len;
            l->formula_node[i] = key->next;
            break;
        case K_MIN: rc = get_number(l, v, "min", &x->min); break;
        case K_MAX: rc = get_number(l, v, "max", &x->max); break;
        case K_THRESHOLDS: rc = parse_thresholds(l, v, x); break;
        }
        if (rc)
            return rc;
    }

    if (!value_of[K_ID])
        return fail(l, TALLY_EPARSE, m, "an indicator without 'id'; expected an 'id' key");
    if (x->formula) {
        /* Report whichever of the two comes first in the file. */
        const ynode *a = key_of[K_AGGREGATE], *o = key_of[K_OVER_TIME];
        const ynode *bad = a && (!o || a < o) ? a : o;
        if (bad)
            return fail(l, TALLY_EINVAL, bad,
                        "a formula indicator is computed after aggregation; remove '%s'",
                        bad->text);
    }
    if (value_of[K_MIN] && value_of[K_MAX] && x->min > x->max)
        return fail(l, TALLY_EINVAL, value_of[K_MAX],
                    "max %.*s is less than min %.*s; expected min <= max",
                    shown(value_of[K_MAX]->text, value_of[K_MAX]->len), value_of[K_MAX]->text,
                    shown(value_of[K_MIN]->text, value_of[K_MIN]->len), value_of[K_MIN]->text);

    if (!x->name && !(x->name = tally_util__strndup(x->id, x->id_len)))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    if (!x->unit && !(x->unit = tally_util__strndup("", 0)))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    if (!value_of[K_DECIMALS])
        x->decimals = x->formula ? 2 : 0;
    if (!value_of[K_EXACT])
        x->exact = x->decimals == 0 && !x->formula;
    if (x->formula) {
        x->aggregate = TALLY_AGGREGATE_FORMULA;
        /* Reported values of a formula indicator (a rate filed by a county)
         * are levels, not increments: a longer period takes the latest. */
        x->over_time = TALLY_OVER_TIME_STOCK;
    }
    return insert_id(l, i, value_of[K_ID]);
}

static int parse_indicators(loader *l, const ynode *v)
{
    tally_definitions *d = l->d;
    if (v->kind != YNODE_SEQUENCE)
        return fail(l, TALLY_EPARSE, v, "expected a list of indicators");
    if (v->count == 0)
        return fail(l, TALLY_EINVAL, v, "an empty list of indicators; expected at least one");
    size_t cap = 8;
    while (cap < v->count * 2)
        cap *= 2;
    d->ind = calloc(v->count, sizeof *d->ind);
    d->table = calloc(cap, sizeof *d->table);
    l->formula_node = malloc(v->count * sizeof *l->formula_node);
    if (!d->ind || !d->table || !l->formula_node)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    d->mask = cap - 1;
    for (size_t c = v->child; c != TALLY_NONE; c = node(l, c)->next) {
        size_t i = d->count++;
        l->formula_node[i] = TALLY_NONE;
        int rc = parse_indicator(l, node(l, c), i);
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Formulas                                                            */

static long resolve(void *ctx, const char *name, size_t len)
{
    const tally_definitions *d = ctx;
    for (size_t s = (size_t)tally_util__hash_bytes(name, len) & d->mask; d->table[s];
         s = (s + 1) & d->mask) {
        size_t i = d->table[s] - 1;
        if (d->ind[i].id_len == len && memcmp(d->ind[i].id, name, len) == 0)
            return (long)i;
    }
    return -1;
}

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
static int visible_position(const loader *l, const ynode *n, size_t pos, unsigned long line,
                            unsigned long column, size_t off, unsigned long *out_line,
                            unsigned long *out_column)
{
    size_t want = 0; /* visible characters before the offset */
    for (size_t i = 0; i < off && i < n->len; i += utf8_len((unsigned char)n->text[i]))
        want += !is_space(n->text[i]);
    /* At a visible character: find it. At the end (or at white space):
     * stop just after the last visible character before it. */
    int at_visible = off < n->len && !is_space(n->text[off]);
    size_t seen = 0;
    while (pos < l->size) {
        size_t b = break_len(l->src, l->size, pos);
        if (!at_visible && seen == want)
            break;
        if (b) {
            pos += b;
            line++;
            column = 1;
            continue;
        }
        if (!is_space(l->src[pos])) {
            if (at_visible && seen == want)
                break;
            seen++;
        }
        pos += utf8_len((unsigned char)l->src[pos]);
        column++;
    }
    if (pos >= l->size && at_visible)
        return 0;
    *out_line = line;
    *out_column = column;
    return 1;
}

/* Where byte `off` of formula scalar n is in the file. Exact for plain and
 * block scalars and for quoted scalars on one line; a quoted scalar over
 * several lines gives its start (the message still has the offset). */
static void formula_position(const loader *l, const ynode *n, size_t off, unsigned long *line,
                             unsigned long *column)
{
    *line = n->line;
    *column = n->column;
    if (n->style == YAML_LITERAL_SCALAR_STYLE || n->style == YAML_FOLDED_SCALAR_STYLE) {
        /* The content starts on the line after the '|' or '>' header. */
        size_t pos = source_offset(l, n->line + 1, 1);
        visible_position(l, n, pos, n->line + 1, 1, off, line, column);
        return;
    }
    if (n->style == YAML_PLAIN_SCALAR_STYLE) {
        visible_position(l, n, source_offset(l, n->line, n->column), n->line, n->column, off,
                         line, column);
        return;
    }
    int style = n->style;
    if (n->end_line != n->line ||
        (style != YAML_SINGLE_QUOTED_SCALAR_STYLE && style != YAML_DOUBLE_QUOTED_SCALAR_STYLE))
        return;
    /* After the opening quote. */
    size_t pos = source_offset(l, n->line, n->column) + 1;
    unsigned long col = n->column + 1;
    /* Walk source and value together: escapes and '' take more source
     * bytes than value bytes. */
    size_t v = 0;
    while (v < off && pos < l->size) {
        size_t raw, val;
        if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && l->src[pos] == '\'') {
            raw = 2;
            val = 1;
        } else if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE && l->src[pos] == '\\') {
            escape_size(l->src + pos, l->size - pos, &raw, &val);
        } else {
            raw = val = utf8_len((unsigned char)l->src[pos]);
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

static int is_id_char(char c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* " (did you mean 'x'?)" when an indicator id is within two edits of
 * text, else "". Error path only: a linear scan. */
static const char *suggest_indicator(const loader *l, const char *text, size_t len, char *buf,
                                     size_t size)
{
    const tally_definitions *d = l->d;
    size_t best = 3, which = d->count;
    for (size_t i = 0; i < d->count; i++) {
        size_t dist = distance(text, len, d->ind[i].id, d->ind[i].id_len);
        if (dist < best && dist < len) {
            best = dist;
            which = i;
        }
    }
    if (which == d->count)
        return "";
    snprintf(buf, size, " (did you mean '%s'?)", d->ind[which].id);
    return buf;
}

/* Re-raises the expression engine's last error (code rc, at byte `off` of
 * `src`, the value of scalar n) with its place in the file. `what` is
 * "formula" or "rule". */
static int expr_error(const loader *l, int rc, const ynode *n, const char *src, size_t len,
                      size_t off, const char *what)
{
    char reason[768];
    snprintf(reason, sizeof reason, "%s", tally_error__reason());
    char *semi = strstr(reason, "; ");
    const char *rest = "";
    if (semi) {
        *semi = '\0';
        rest = semi + 1;
    }
    if (off > len)
        off = len;
    /* An unknown name that is not a call: perhaps a misspelt indicator. */
    char hint[96] = "";
    size_t id_len = 0, after;
    while (off + id_len < len && is_id_char(src[off + id_len]))
        id_len++;
    for (after = off + id_len; after < len && is_space(src[after]); after++)
        ;
    if (rc == TALLY_ENOTFOUND && id_len && (after == len || src[after] != '('))
        suggest_indicator(l, src + off, id_len, hint, sizeof hint);
    unsigned long line, column;
    formula_position(l, n, off, &line, &column);
    /* The offending text: the expression from the offset to the end of its
     * line (all of it when the offset is at the end). */
    const char *text = off < len ? src + off : src;
    size_t text_len = 0;
    while (text + text_len < src + len && text[text_len] != '\n')
        text_len++;
    return tally_error__set_at(rc, l->path, line, column, text, text_len,
                               "%s%s at offset %zu of the %s%s%s", reason, hint, off, what,
                               *rest ? ";" : "", rest);
}

static int compile_formulas(loader *l)
{
    tally_definitions *d = l->d;
    for (size_t i = 0; i < d->count; i++) {
        indicator *x = &d->ind[i];
        if (!x->formula)
            continue;
        size_t off = 0;
        int rc = tally_expr__compile(&x->program, x->formula, x->formula_len, resolve, d, &off);
        if (!rc)
            continue;
        if (rc == TALLY_ENOMEM)
            return rc;
        return expr_error(l, rc, node(l, l->formula_node[i]), x->formula, x->formula_len, off,
                          "formula");
    }
    return 0;
}

/* Orders formula indicators so each follows the formulas it reads (a
 * depth-first search with an explicit stack: a long chain of formulas must
 * not exhaust the C stack). A cycle is TALLY_ECYCLE at the formula of its
 * member that comes first in the file. */
static int order_formulas(loader *l)
{
    tally_definitions *d = l->d;
    size_t nf = 0;
    for (size_t i = 0; i < d->count; i++)
        nf += d->ind[i].program != NULL;
    if (nf == 0)
        return 0;
    unsigned char *state = calloc(d->count, 1); /* 0 new, 1 on the stack, 2 done */
    size_t *stack = malloc(nf * sizeof *stack), *next = malloc(nf * sizeof *next);
    d->order = malloc(nf * sizeof *d->order);
    if (!state || !stack || !next || !d->order) {
        free(state);
        free(stack);
        free(next);
        return tally_error__set(TALLY_ENOMEM, "out of memory ordering formulas");
    }
    int rc = 0;
    for (size_t s = 0; s < d->count && !rc; s++) {
        if (!d->ind[s].program || state[s])
            continue;
        size_t top = 0;
        stack[top] = s;
        next[top] = 0;
        state[s] = 1;
        top = 1;
        while (top && !rc) {
            size_t u = stack[top - 1];
            const tally_expr *e = d->ind[u].program;
            if (next[top - 1] == tally_expr__var_count(e)) {
                state[u] = 2;
                d->order[d->order_count++] = u;
                top--;
                continue;
            }
            size_t v = (size_t)tally_expr__var(e, next[top - 1]++);
            if (v >= d->count || !d->ind[v].program || state[v] == 2)
                continue;
            if (state[v] == 0) {
                state[v] = 1;
                stack[top] = v;
                next[top] = 0;
                top++;
                continue;
            }
            /* v is on the stack: stack[from..top) and back to v is a cycle. */
            size_t from = top - 1;
            while (stack[from] != v)
                from--;
            size_t first = from;
            for (size_t k = from; k < top; k++)
                if (stack[k] < stack[first])
                    first = k;
            char path[512];
            size_t used = 0, len = top - from;
            for (size_t k = 0; k <= len && used < sizeof path; k++) {
                const indicator *y = &d->ind[stack[from + (first - from + k) % len]];
                used += (size_t)snprintf(path + used, sizeof path - used, "%s%s",
                                         k ? " -> " : "", y->id);
            }
            const indicator *y = &d->ind[stack[first]];
            const ynode *n = node(l, l->formula_node[stack[first]]);
            rc = tally_error__set_at(TALLY_ECYCLE, l->path, n->line, n->column, y->formula,
                                     y->formula_len,
                                     "formulas depend on each other: %s; expected formulas "
                                     "that do not use themselves",
                                     path);
        }
    }
    free(state);
    free(stack);
    free(next);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Poverty lines                                                       */

enum { P_LINES, P_MONITORING, P_COUNT };
static const char *const poverty_keys[P_COUNT] = { "lines", "monitoring_line" };

static int parse_poverty_lines(loader *l, const ynode *v)
{
    tally_definitions *d = l->d;
    if (v->kind != YNODE_MAPPING)
        return fail(l, TALLY_EPARSE, v,
                    "expected a mapping of year to poverty line, such as { 2019: 3218 }");
    size_t count = v->count / 2;
    d->poverty_years = arena_array(d, count, sizeof *d->poverty_years);
    d->poverty_lines = arena_array(d, count, sizeof *d->poverty_lines);
    /* Line of each year given so far, by year - 1000: years are compared
     * as numbers, so 2019 and "+2019"-like spellings cannot slip past. */
    unsigned long *first = calloc(9000, sizeof *first);
    if (!d->poverty_years || !d->poverty_lines || !first) {
        free(first);
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    }
    int rc = 0;
    for (size_t k = v->child; k != TALLY_NONE && !rc; k = node(l, node(l, k)->next)->next) {
        const ynode *key = node(l, k), *line = node(l, key->next);
        int year;
        rc = get_year(l, key, &year);
        if (rc)
            break;
        if (first[year - 1000]) {
            rc = fail(l, TALLY_EEXIST, key,
                      "a poverty line for %d given twice (first at line %lu); expected one line "
                      "per year",
                      year, first[year - 1000]);
            break;
        }
        first[year - 1000] = key->line;
        rc = get_number_above(l, line, "poverty line", 0, 1, &d->poverty_lines[d->poverty_count]);
        if (!rc)
            d->poverty_years[d->poverty_count++] = year;
    }
    free(first);
    return rc;
}

static int parse_poverty(loader *l, const ynode *v)
{
    if (v->kind != YNODE_MAPPING)
        return fail(l, TALLY_EPARSE, v,
                    "expected a mapping with 'lines' (year: line) and 'monitoring_line'");
    const ynode *value_of[P_COUNT], *key_of[P_COUNT];
    int rc = read_keys(l, v, "in 'poverty'", poverty_keys, P_COUNT, value_of, key_of);
    if (!rc && value_of[P_LINES])
        rc = parse_poverty_lines(l, value_of[P_LINES]);
    if (!rc && value_of[P_MONITORING])
        rc = get_number_above(l, value_of[P_MONITORING], "monitoring_line", 0, 1,
                              &l->d->monitoring_line);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */

/* An indicator id that must be in the definitions: its index. */
static int get_indicator(const loader *l, const ynode *v, size_t *out)
{
    if (v->kind != YNODE_SCALAR || is_null(v))
        return fail(l, TALLY_EPARSE, v, "expected an indicator id");
    long i = resolve(l->d, v->text, v->len);
    if (i < 0) {
        char hint[96];
        return fail(l, TALLY_ENOTFOUND, v, "unknown indicator '%.*s'%s; expected an id from "
                                           "'indicators'",
                    shown(v->text, v->len), v->text,
                    suggest_indicator(l, v->text, v->len, hint, sizeof hint));
    }
    *out = (size_t)i;
    return 0;
}

/* A non-empty list of distinct indicator ids for check key `key`; only
 * reported (not formula) indicators when `reported_only`. */
static int parse_id_list(loader *l, const ynode *v, const char *key, int reported_only,
                         tally_check_def *c)
{
    if (v->kind != YNODE_SEQUENCE)
        return fail(l, TALLY_EPARSE, v, "expected a list of indicator ids for '%s'", key);
    if (v->count == 0)
        return fail(l, TALLY_EINVAL, v, "an empty list for '%s'; expected at least one "
                                        "indicator id",
                    key);
    size_t *ids = arena_array(l->d, v->count, sizeof *ids);
    if (!ids)
        return TALLY_ENOMEM;
    c->indicators = ids;
    l->list++;
    for (size_t k = v->child; k != TALLY_NONE; k = node(l, k)->next) {
        const ynode *item = node(l, k);
        size_t i;
        int rc = get_indicator(l, item, &i);
        if (rc)
            return rc;
        if (reported_only && l->d->ind[i].formula)
            return fail(l, TALLY_EINVAL, item,
                        "'%s' is a formula indicator; a hierarchy check compares reported "
                        "values with their children's sums, expected reported indicators",
                        l->d->ind[i].id);
        if (l->seen[i] == l->list)
            return fail(l, TALLY_EEXIST, item,
                        "indicator '%s' listed twice (first at line %lu); expected each id once",
                        l->d->ind[i].id, l->seen_line[i]);
        l->seen[i] = l->list;
        l->seen_line[i] = item->line;
        ids[c->indicator_count++] = i;
    }
    return 0;
}

enum { TOL_ABSOLUTE, TOL_RELATIVE, TOL_COUNT };
static const char *const tolerance_keys[TOL_COUNT] = { "absolute", "relative" };

static int parse_tolerance(const loader *l, const ynode *v, tally_check_def *c)
{
    if (v->kind == YNODE_SCALAR)
        return get_number_above(l, v, "tolerance", 0, 0, &c->tol_absolute);
    if (v->kind != YNODE_MAPPING)
        return fail(l, TALLY_EPARSE, v, "expected a tolerance: a number (absolute) or "
                                        "{ absolute: a, relative: r }");
    const ynode *value_of[TOL_COUNT], *key_of[TOL_COUNT];
    int rc = read_keys(l, v, "in a tolerance", tolerance_keys, TOL_COUNT, value_of, key_of);
    if (rc)
        return rc;
    if (!value_of[TOL_ABSOLUTE] && !value_of[TOL_RELATIVE])
        return fail(l, TALLY_EPARSE, v,
                    "an empty tolerance; expected 'absolute', 'relative' or both");
    if (value_of[TOL_ABSOLUTE])
        rc = get_number_above(l, value_of[TOL_ABSOLUTE], "absolute", 0, 0, &c->tol_absolute);
    if (!rc && value_of[TOL_RELATIVE])
        rc = get_number_above(l, value_of[TOL_RELATIVE], "relative", 0, 0, &c->tol_relative);
    return rc;
}

static int parse_jump(const loader *l, const ynode *v, tally_check_def *c)
{
    static const char *const keys[] = { "max_ratio" };
    if (v->kind != YNODE_MAPPING)
        return fail(l, TALLY_EPARSE, v, "expected a mapping such as { max_ratio: 3 }");
    const ynode *value_of[1], *key_of[1];
    int rc = read_keys(l, v, "in 'jump'", keys, 1, value_of, key_of);
    if (rc)
        return rc;
    if (!value_of[0])
        return fail(l, TALLY_EPARSE, v, "'jump' without 'max_ratio'; expected { max_ratio: k } "
                                        "with k > 1");
    return get_number_above(l, value_of[0], "max_ratio", 1, 1, &c->jump_max_ratio);
}

static int parse_rule(loader *l, const ynode *v, tally_check_def *c)
{
    if (v->kind != YNODE_SCALAR || is_null(v))
        return fail(l, TALLY_EPARSE, v, "expected a rule, such as poor <= population");
    if (memchr(v->text, '\0', v->len))
        return fail(l, TALLY_EPARSE, v, "a NUL character; expected a rule without NUL");
    if (!(c->rule_text = arena_strndup(l->d, v->text, v->len)))
        return TALLY_ENOMEM;
    tally_expr *e = NULL;
    size_t off = 0;
    int rc = tally_expr__compile(&e, v->text, v->len, resolve, l->d, &off);
    if (rc == TALLY_ENOMEM)
        return rc;
    if (rc)
        return expr_error(l, rc, v, v->text, v->len, off, "rule");
    c->rule = e;
    if (!tally_expr__is_boolean(e))
        return fail(l, TALLY_EINVAL, v,
                    "a rule must be a comparison or a logical expression; expected something "
                    "like a == b + c or a <= b");
    return 0;
}

enum {
    C_ID, C_HIERARCHY, C_RULE, C_REQUIRED, C_OUTLIERS, C_SEVERITY, C_TOLERANCE, C_CHILDREN,
    C_MISSING, C_LEVEL, C_METHOD, C_THRESHOLD, C_JUMP, C_COUNT
};
static const char *const check_keys[C_COUNT] = {
    "id", "hierarchy", "rule", "required", "outliers", "severity", "tolerance", "children",
    "missing", "level", "method", "threshold", "jump"
};
#define KIND_BIT(k) (1u << (k))
#define ANY_KIND 0xFu
/* The kinds of check each key belongs to. */
static const unsigned check_key_kinds[C_COUNT] = {
    ANY_KIND,
    KIND_BIT(TALLY_CHECK_HIERARCHY),
    KIND_BIT(TALLY_CHECK_RULE),
    KIND_BIT(TALLY_CHECK_COMPLETENESS),
    KIND_BIT(TALLY_CHECK_OUTLIERS),
    ANY_KIND,
    KIND_BIT(TALLY_CHECK_HIERARCHY) | KIND_BIT(TALLY_CHECK_RULE),
    KIND_BIT(TALLY_CHECK_HIERARCHY),
    KIND_BIT(TALLY_CHECK_RULE),
    KIND_BIT(TALLY_CHECK_COMPLETENESS),
    KIND_BIT(TALLY_CHECK_OUTLIERS),
    KIND_BIT(TALLY_CHECK_OUTLIERS),
    KIND_BIT(TALLY_CHECK_OUTLIERS),
};
static const char *const kind_names[] = { "a hierarchy check", "a rule check",
                                          "a completeness check ('required')",
                                          "an outliers check" };
static const char *const severity_words[] = { "error", "warning" };
static const char *const children_words[] = { "partial", "complete" };
static const char *const missing_words[] = { "skip", "fail" };
static const char *const method_words[] = { "modified_z" };

/* Adds check c (index i) to the check id table: TALLY_EEXIST at its id
 * when the id is already there. */
static int insert_check_id(loader *l, size_t i, const ynode *v)
{
    tally_definitions *d = l->d;
    const tally_check_def *c = &d->checks[i];
    size_t s = (size_t)tally_util__hash_bytes(v->text, v->len) & l->check_mask;
    for (; l->check_table[s]; s = (s + 1) & l->check_mask) {
        const tally_check_def *o = &d->checks[l->check_table[s] - 1];
        if (strcmp(o->id, c->id) == 0)
            return fail(l, TALLY_EEXIST, v,
                        "check id '%s' given twice (first at line %lu); expected unique check "
                        "ids",
                        c->id, o->line);
    }
    l->check_table[s] = i + 1;
    return 0;
}

static int parse_check(loader *l, const ynode *m, size_t i)
{
    tally_check_def *c = &l->d->checks[i];
    c->threshold = NAN;
    c->jump_max_ratio = NAN;
    if (m->kind != YNODE_MAPPING)
        return fail(l, TALLY_EPARSE, m, "expected a check: a mapping with 'id' and one of "
                                        "hierarchy, rule, required, outliers");
    const ynode *value_of[C_COUNT], *key_of[C_COUNT];
    int rc = read_keys(l, m, "in a check", check_keys, C_COUNT, value_of, key_of);
    if (rc)
        return rc;
    if (!value_of[C_ID])
        return fail(l, TALLY_EPARSE, m, "a check without 'id'; expected an 'id' key");

    /* The kind: exactly one of the four kind keys, the second in the file
     * is the one reported. */
    const ynode *kind_key = NULL;
    for (size_t k = m->child; k != TALLY_NONE; k = node(l, node(l, k)->next)->next) {
        const ynode *key = node(l, k);
        for (int w = C_HIERARCHY; w <= C_OUTLIERS; w++) {
            if (key_of[w] != key)
                continue;
            if (kind_key)
                return fail(l, TALLY_EPARSE, key,
                            "a check with both '%s' (line %lu) and '%s'; expected exactly one "
                            "of hierarchy, rule, required, outliers",
                            kind_key->text, kind_key->line, key->text);
            kind_key = key;
            c->kind = w - C_HIERARCHY;
        }
    }
    if (!kind_key)
        return fail(l, TALLY_EPARSE, m,
                    "check '%.*s' has no kind; expected one of hierarchy, rule, required, "
                    "outliers",
                    shown(value_of[C_ID]->text, value_of[C_ID]->len), value_of[C_ID]->text);
    for (size_t k = m->child; k != TALLY_NONE; k = node(l, node(l, k)->next)->next) {
        const ynode *key = node(l, k);
        size_t w = 0;
        while (key_of[w] != key)
            w++;
        if (check_key_kinds[w] & KIND_BIT(c->kind))
            continue;
        const char *allowed[C_COUNT];
        size_t n = 0;
        for (size_t a = 0; a < C_COUNT; a++)
            if (check_key_kinds[a] & KIND_BIT(c->kind))
                allowed[n++] = check_keys[a];
        char list[256];
        return fail(l, TALLY_EPARSE, key, "'%s' does not apply to %s; expected one of %s",
                    key->text, kind_names[c->kind], word_list(allowed, n, list, sizeof list));
    }

    if (c->kind == TALLY_CHECK_OUTLIERS)
        c->threshold = 3.5;
    for (size_t k = m->child; k != TALLY_NONE && !rc; k = node(l, node(l, k)->next)->next) {
        const ynode *key = node(l, k), *v = node(l, key->next);
        size_t w = 0;
        while (key_of[w] != key)
            w++;
        int word = 0;
        size_t level;
        switch (w) {
        case C_ID:
            if (v->kind != YNODE_SCALAR || is_null(v))
                return fail(l, TALLY_EPARSE, v, "expected a check id");
            rc = check_id(l, v);
            if (rc)
                return rc;
            if (!(c->id = arena_strndup(l->d, v->text, v->len)))
                return TALLY_ENOMEM;
            c->line = v->line;
            c->column = v->column;
            rc = insert_check_id(l, i, v);
            break;
        case C_HIERARCHY: rc = parse_id_list(l, v, "hierarchy", 1, c); break;
        case C_REQUIRED: rc = parse_id_list(l, v, "required", 0, c); break;
        case C_OUTLIERS: rc = parse_id_list(l, v, "outliers", 0, c); break;
        case C_RULE: rc = parse_rule(l, v, c); break;
        case C_SEVERITY: rc = get_word(l, v, "severity", severity_words, 2, &c->severity); break;
        case C_TOLERANCE: rc = parse_tolerance(l, v, c); break;
        case C_CHILDREN:
            rc = get_word(l, v, "children", children_words, 2, &c->children_complete);
            break;
        case C_MISSING: rc = get_word(l, v, "missing", missing_words, 2, &c->missing_fail); break;
        case C_LEVEL: rc = get_level(l, v, &c->level, &level); break;
        case C_METHOD: rc = get_word(l, v, "method", method_words, 1, &word); break;
        case C_THRESHOLD: rc = get_number_above(l, v, "threshold", 0, 1, &c->threshold); break;
        case C_JUMP: rc = parse_jump(l, v, c); break;
        }
    }
    if (!rc && c->kind == TALLY_CHECK_COMPLETENESS && !value_of[C_LEVEL])
        return fail(l, TALLY_EPARSE, m,
                    "a completeness check without 'level'; expected the level that must "
                    "report, such as level: village");
    return rc;
}

/* A hash table of `count` * 2 slots or more, for duplicate detection. */
static int new_table(size_t count, size_t **table, size_t *mask)
{
    size_t cap = 8;
    while (cap < count * 2)
        cap *= 2;
    *table = calloc(cap, sizeof **table);
    *mask = cap - 1;
    return *table ? 0 : tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
}

static int parse_checks(loader *l, const ynode *v)
{
    tally_definitions *d = l->d;
    if (v->kind != YNODE_SEQUENCE)
        return fail(l, TALLY_EPARSE, v, "expected a list of checks");
    d->checks = arena_array(d, v->count, sizeof *d->checks);
    if (!d->checks)
        return TALLY_ENOMEM;
    l->seen = calloc(d->count, sizeof *l->seen);
    l->seen_line = calloc(d->count, sizeof *l->seen_line);
    if (!l->seen || !l->seen_line)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    int rc = new_table(v->count, &l->check_table, &l->check_mask);
    for (size_t k = v->child; k != TALLY_NONE && !rc; k = node(l, k)->next) {
        /* Counted before parsing: tally_definitions_free frees the rule of
         * a check that fails after its rule compiled. */
        rc = parse_check(l, node(l, k), d->check_count++);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Targets                                                             */

enum { G_REGION, G_INDICATOR, G_YEAR, G_TARGET, G_COUNT };
static const char *const target_keys[G_COUNT] = { "region", "indicator", "year", "target" };

static uint64_t target_hash(const tally_target_def *t)
{
    return tally_util__hash_bytes(t->region, strlen(t->region)) ^
           tally_util__hash_u64((uint64_t)t->indicator * 10000u + (uint64_t)t->year);
}

static int parse_target(loader *l, const ynode *m, size_t i)
{
    tally_definitions *d = l->d;
    tally_target_def *t = &d->targets[i];
    if (m->kind != YNODE_MAPPING)
        return fail(l, TALLY_EPARSE, m, "expected a target: a mapping with region, indicator, "
                                        "year and target");
    t->line = m->line;
    t->column = m->column;
    const ynode *value_of[G_COUNT], *key_of[G_COUNT];
    int rc = read_keys(l, m, "in a target", target_keys, G_COUNT, value_of, key_of);
    if (rc)
        return rc;
    for (size_t k = 0; k < G_COUNT; k++)
        if (!value_of[k])
            return fail(l, TALLY_EPARSE, m,
                        "a target without '%s'; expected region, indicator, year and target",
                        target_keys[k]);
    const ynode *r = value_of[G_REGION];
    if (r->kind != YNODE_SCALAR || is_null(r))
        return fail(l, TALLY_EPARSE, r, "expected a region code");
    if (r->len == 0 || memchr(r->text, '\0', r->len))
        return fail(l, TALLY_EINVAL, r, "not a region code; expected a code such as "
                                        "\"430600000000\"");
    if (!(t->region = arena_strndup(d, r->text, r->len)))
        return TALLY_ENOMEM;
    rc = get_indicator(l, value_of[G_INDICATOR], &t->indicator);
    if (!rc)
        rc = get_year(l, value_of[G_YEAR], &t->year);
    if (!rc)
        rc = get_number(l, value_of[G_TARGET], "target", &t->target);
    if (rc)
        return rc;
    size_t s = (size_t)target_hash(t) & l->target_mask;
    for (; l->target_table[s]; s = (s + 1) & l->target_mask) {
        const tally_target_def *o = &d->targets[l->target_table[s] - 1];
        if (o->indicator == t->indicator && o->year == t->year &&
            strcmp(o->region, t->region) == 0)
            return fail(l, TALLY_EEXIST, m,
                        "a target for region '%.*s', indicator '%s', year %d given twice (first "
                        "at line %lu); expected one target per region, indicator and year",
                        shown(r->text, r->len), r->text, d->ind[t->indicator].id, t->year,
                        o->line);
    }
    l->target_table[s] = i + 1;
    return 0;
}

static int parse_targets(loader *l, const ynode *v)
{
    tally_definitions *d = l->d;
    if (v->kind != YNODE_SEQUENCE)
        return fail(l, TALLY_EPARSE, v, "expected a list of targets, such as [{ region: "
                                        "\"430600000000\", indicator: x, year: 2019, target: "
                                        "100 }]");
    d->targets = arena_array(d, v->count, sizeof *d->targets);
    if (!d->targets)
        return TALLY_ENOMEM;
    int rc = new_table(v->count, &l->target_table, &l->target_mask);
    for (size_t k = v->child; k != TALLY_NONE && !rc; k = node(l, k)->next) {
        rc = parse_target(l, node(l, k), d->target_count);
        if (!rc)
            d->target_count++;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

static int load(loader *l)
{
    int rc = read_tree(l);
    if (rc)
        return rc;
    if (l->root == TALLY_NONE || is_null(node(l, l->root)))
        return tally_error__set_at(TALLY_EPARSE, l->path, 1, 1, NULL, 0,
                                   "no definitions; expected a mapping with an 'indicators' list");
    const ynode *root = node(l, l->root);
    if (root->kind != YNODE_MAPPING)
        return fail(l, TALLY_EPARSE, root,
                    "expected a mapping with 'levels' and 'indicators' at the top level");

    /* Keys first, then the sections in the order they depend on each other
     * (thresholds and checks name levels, checks and targets name
     * indicators), wherever they are in the file. */
    enum { TOP_LEVELS, TOP_INDICATORS, TOP_CHECKS, TOP_POVERTY, TOP_TARGETS, TOP_COUNT };
    static const char *const top_keys[TOP_COUNT] = { "levels", "indicators", "checks",
                                                     "poverty", "targets" };
    const ynode *value_of[TOP_COUNT], *key_of[TOP_COUNT];
    rc = read_keys(l, root, "at the top level", top_keys, TOP_COUNT, value_of, key_of);
    if (rc)
        return rc;
    if (!value_of[TOP_INDICATORS])
        return fail(l, TALLY_EPARSE, root,
                    "no 'indicators' key; expected a list of indicators at the top level");
    if (value_of[TOP_LEVELS])
        rc = parse_levels(l, value_of[TOP_LEVELS]);
    if (!rc)
        rc = parse_indicators(l, value_of[TOP_INDICATORS]);
    if (!rc)
        rc = compile_formulas(l);
    if (!rc)
        rc = order_formulas(l);
    if (!rc && value_of[TOP_POVERTY])
        rc = parse_poverty(l, value_of[TOP_POVERTY]);
    if (!rc && value_of[TOP_CHECKS])
        rc = parse_checks(l, value_of[TOP_CHECKS]);
    if (!rc && value_of[TOP_TARGETS])
        rc = parse_targets(l, value_of[TOP_TARGETS]);
    return rc;
}

static int from_memory(tally_definitions **out, const char *data, size_t size, const char *path)
{
    /* A BOM is no part of the text: skip it so columns on line 1 count
     * from the first real character. */
    if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        size -= 3;
    }
    loader l;
    memset(&l, 0, sizeof l);
    l.path = path;
    l.src = data;
    l.size = size;
    l.d = calloc(1, sizeof *l.d);
    if (l.d)
        l.d->monitoring_line = NAN;
    int rc = l.d ? load(&l) : tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    for (size_t i = 0; i < l.node_count; i++)
        free(l.nodes[i].text);
    free(l.nodes);
    free(l.formula_node);
    free(l.seen);
    free(l.seen_line);
    free(l.check_table);
    free(l.target_table);
    if (rc) {
        tally_definitions_free(l.d);
        return rc;
    }
    *out = l.d;
    return 0;
}

TALLY_EXTERN(int) tally_definitions_from_buffer(tally_definitions **out, const char *data,
                                                size_t size, const char *name)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "out is NULL; expected a place for the result");
    *out = NULL;
    if (!data && size)
        return tally_error__set(TALLY_EINVAL, "data is NULL; expected %zu bytes", size);
    return from_memory(out, data ? data : "", size, name ? name : "<buffer>");
}

TALLY_EXTERN(int) tally_definitions_from_file(tally_definitions **out, const char *path)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "out is NULL; expected a place for the result");
    *out = NULL;
    if (!path)
        return tally_error__set(TALLY_EINVAL, "path is NULL; expected a file name");
    tally_mapped m;
    int rc = tally_util__map_file(&m, path);
    if (rc)
        return rc;
    rc = from_memory(out, m.data, m.size, path);
    tally_util__unmap(&m);
    return rc;
}

TALLY_EXTERN(void) tally_definitions_free(tally_definitions *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->level_count; i++)
        free(d->levels[i]);
    free(d->levels);
    for (size_t i = 0; i < d->count; i++) {
        indicator *x = &d->ind[i];
        free(x->id);
        free(x->name);
        free(x->unit);
        free(x->formula);
        tally_expr__free(x->program);
    }
    free(d->ind);
    free(d->table);
    free(d->order);
    /* Rules are the only things in checks not in the arena. */
    for (size_t i = 0; i < d->check_count; i++)
        tally_expr__free((tally_expr *)d->checks[i].rule);
    for (arena_block *b = d->arena, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(d);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */

TALLY_EXTERN(size_t) tally_definitions_level_count(const tally_definitions *d)
{
    return d ? d->level_count : 0;
}

TALLY_EXTERN(const char *) tally_definitions_level_name(const tally_definitions *d, size_t i)
{
    return d && i < d->level_count ? d->levels[i] : NULL;
}

TALLY_EXTERN(size_t) tally_definitions_indicator_count(const tally_definitions *d)
{
    return d ? d->count : 0;
}

TALLY_EXTERN(int) tally_definitions_find(const tally_definitions *d, const char *id, size_t len,
                                         size_t *index)
{
    if (index)
        *index = TALLY_NONE;
    if (!d || !index || (!id && len))
        return tally_error__set(TALLY_EINVAL, "NULL argument; expected definitions, an id and "
                                              "a place for the index");
    uint64_t h = tally_util__hash_bytes(id, len);
    for (size_t s = (size_t)h & d->mask; d->table[s]; s = (s + 1) & d->mask) {
        const indicator *x = &d->ind[d->table[s] - 1];
        if (x->hash == h && x->id_len == len && memcmp(x->id, id, len) == 0) {
            *index = d->table[s] - 1;
            return 0;
        }
    }
    return tally_error__set(TALLY_ENOTFOUND, "unknown indicator '%.*s'; expected an id from the "
                                             "definitions",
                            shown(id, len), id);
}

/* Indicator i of d, or NULL when there is none. */
static const indicator *at(const tally_definitions *d, size_t i)
{
    return d && i < d->count ? &d->ind[i] : NULL;
}

TALLY_EXTERN(const char *) tally_definitions_id(const tally_definitions *d, size_t i)
{
    const indicator *x = at(d, i);
    return x ? x->id : NULL;
}

TALLY_EXTERN(const char *) tally_definitions_name(const tally_definitions *d, size_t i)
{
    const indicator *x = at(d, i);
    return x ? x->name : NULL;
}

TALLY_EXTERN(const char *) tally_definitions_unit(const tally_definitions *d, size_t i)
{
    const indicator *x = at(d, i);
    return x ? x->unit : NULL;
}

TALLY_EXTERN(int) tally_definitions_decimals(const tally_definitions *d, size_t i)
{
    const indicator *x = at(d, i);
    return x ? x->decimals : -1;
}

TALLY_EXTERN(int) tally_definitions_aggregate(const tally_definitions *d, size_t i)
{
    const indicator *x = at(d, i);
    return x ? x->aggregate : -1;
}

TALLY_EXTERN(int) tally_definitions_over_time(const tally_definitions *d, size_t i)
{
    const indicator *x = at(d, i);
    return x ? x->over_time : -1;
}

TALLY_EXTERN(int) tally_definitions_direction(const tally_definitions *d, size_t i)
{
    const indicator *x = at(d, i);
    return x ? x->direction : -1;
}

TALLY_EXTERN(int) tally_definitions_exact(const tally_definitions *d, size_t i)
{
    const indicator *x = at(d, i);
    return x ? x->exact : -1;
}

TALLY_EXTERN(const char *) tally_definitions_formula(const tally_definitions *d, size_t i)
{
    const indicator *x = at(d, i);
    return x ? x->formula : NULL;
}

TALLY_EXTERN(double) tally_definitions_min(const tally_definitions *d, size_t i)
{
    const indicator *x = at(d, i);
    return x ? x->min : NAN;
}

TALLY_EXTERN(double) tally_definitions_max(const tally_definitions *d, size_t i)
{
    const indicator *x = at(d, i);
    return x ? x->max : NAN;
}

const tally_expr *tally_definitions__program(const tally_definitions *d, size_t i)
{
    return d && i < d->count ? d->ind[i].program : NULL;
}

size_t tally_definitions__formula_order(const tally_definitions *d, const size_t **order)
{
    *order = d ? d->order : NULL;
    return d ? d->order_count : 0;
}

void tally_definitions__position(const tally_definitions *d, size_t i, unsigned long *line,
                                 unsigned long *column)
{
    *line = d && i < d->count ? d->ind[i].line : 0;
    *column = d && i < d->count ? d->ind[i].column : 0;
}

size_t tally_definitions__thresholds(const tally_definitions *d, size_t i,
                                     const tally_threshold **out)
{
    const indicator *x = at(d, i);
    *out = x ? x->thresholds : NULL;
    return x ? x->threshold_count : 0;
}

int tally_definitions__poverty_line(const tally_definitions *d, int year, double *line)
{
    /* A handful of years: a scan is as fast as anything. */
    for (size_t i = 0; d && i < d->poverty_count; i++) {
        if (d->poverty_years[i] == year) {
            *line = d->poverty_lines[i];
            return 0;
        }
    }
    return TALLY_ENOTFOUND;
}

double tally_definitions__monitoring_line(const tally_definitions *d)
{
    return d ? d->monitoring_line : NAN;
}

size_t tally_definitions__checks(const tally_definitions *d, const tally_check_def **out)
{
    *out = d ? d->checks : NULL;
    return d ? d->check_count : 0;
}

size_t tally_definitions__targets(const tally_definitions *d, const tally_target_def **out)
{
    *out = d ? d->targets : NULL;
    return d ? d->target_count : 0;
}
