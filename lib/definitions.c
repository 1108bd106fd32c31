/* Indicator definitions, read from YAML.
 *
 * The file is read into a tree of nodes that keep their positions
 * (yaml_tree.c); this file reads the schema over that tree.
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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util.h"
#include "yaml_tree.h"

_Static_assert(TALLY_DEFINITIONS_MAX_DEPTH == TALLY_YAML_MAX_DEPTH,
               "the depth limit of definitions files is the YAML tree's");

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
/* Reading a file                                                      */

typedef struct loader {
    tally_yaml_tree tree;
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

/* A string value: any non-null scalar (plain `123` is the text "123"). */
static int get_string(const loader *l, const tally_yaml_node *v, const char *what, char **out)
{
    if (v->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(v))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "expected %s", what);
    if (memchr(v->text, '\0', v->len))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "a NUL character; expected %s without NUL", what);
    free(*out);
    *out = tally_util__strndup(v->text, v->len);
    if (!*out)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    return 0;
}

static int get_decimals(const loader *l, const tally_yaml_node *v, int *out)
{
    static const char expected[] = "expected an integer from 0 to 15";
    if (!tally_yaml__is_plain(v))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "%s", expected);
    const char *s = v->text;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i++;
    }
    if (i == v->len)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "%s", expected);
    long value = 0;
    for (; i < v->len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "'%.*s' is not an integer; %s",
                                    tally_yaml__shown(v->text, v->len), v->text, expected);
        if (value < 1000)
            value = value * 10 + (s[i] - '0');
    }
    if (neg && value)
        value = -1;
    if (value < 0 || value > 15)
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, v, "decimals %.*s out of range; %s",
                                tally_yaml__shown(v->text, v->len), v->text, expected);
    *out = (int)value;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Levels                                                              */

static int parse_levels(loader *l, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a list of level names, such as [province, "
                                "city, county, town, village]");
    if (v->count == 0)
        return tally_yaml__fail(
            &l->tree, TALLY_EINVAL, v,
            "an empty list of levels; expected level names (or no 'levels' key)");
    if (v->count > TALLY_DEFINITIONS_MAX_LEVELS)
        return tally_yaml__fail(&l->tree, TALLY_ELIMIT, v, "%zu levels; expected at most %d",
                                v->count, TALLY_DEFINITIONS_MAX_LEVELS);
    d->levels = calloc(v->count, sizeof *d->levels);
    if (!d->levels)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    for (size_t c = v->child; c != TALLY_NONE; c = tally_yaml__node(&l->tree, c)->next) {
        const tally_yaml_node *item = tally_yaml__node(&l->tree, c);
        char *name = NULL;
        int rc = get_string(l, item, "a level name", &name);
        if (rc)
            return rc;
        d->levels[d->level_count++] = name;
        if (item->len == 0)
            return tally_yaml__fail(&l->tree, TALLY_EINVAL, item,
                                    "an empty level name; expected a name");
        /* At most TALLY_DEFINITIONS_MAX_LEVELS: the quadratic scan is cheap. */
        size_t k = 0;
        for (size_t p = v->child; p != c; p = tally_yaml__node(&l->tree, p)->next, k++) {
            if (strcmp(d->levels[k], name) == 0)
                return tally_yaml__fail(
                    &l->tree, TALLY_EEXIST, item,
                    "level '%.*s' given twice (first at line %lu); expected distinct "
                    "level names",
                    tally_yaml__shown(item->text, item->len), item->text,
                    tally_yaml__node(&l->tree, p)->line);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Shared by thresholds, poverty lines, checks and targets             */

/* A year: a plain integer from 1000 to 9999. */
static int get_year(const loader *l, const tally_yaml_node *v, int *out)
{
    static const char expected[] = "expected a year from 1000 to 9999, such as 2019";
    if (!tally_yaml__is_plain(v))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "%s", expected);
    long value = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->text[i] < '0' || v->text[i] > '9')
            return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "'%.*s' is not a year; %s",
                                    tally_yaml__shown(v->text, v->len), v->text, expected);
        if (value < 100000)
            value = value * 10 + (v->text[i] - '0');
    }
    if (value < 1000 || value > 9999)
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, v, "year %.*s out of range; %s",
                                tally_yaml__shown(v->text, v->len), v->text, expected);
    *out = (int)value;
    return 0;
}

static const char *const default_levels[] = { "province", "city", "county", "town", "village" };

/* A level name: one of `levels:`, or of the default levels when the file
 * has none. *out gets the stored name (borrowed from d or static), *index
 * its position. */
static int get_level(const loader *l, const tally_yaml_node *v, const char **out, size_t *index)
{
    const tally_definitions *d = l->d;
    const char *const *names = d->level_count ? (const char *const *)d->levels : default_levels;
    size_t count = d->level_count ? d->level_count : 5;
    if (v->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(v))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "expected a level name");
    for (size_t i = 0; i < count; i++) {
        if (strlen(names[i]) == v->len && memcmp(names[i], v->text, v->len) == 0) {
            *out = names[i];
            *index = i;
            return 0;
        }
    }
    char hint[96], list[512];
    return tally_yaml__fail(&l->tree, TALLY_ENOTFOUND, v,
                            "unknown level '%.*s'%s; expected one of %s%s",
                            tally_yaml__shown(v->text, v->len), v->text,
                            tally_yaml__suggest(v, names, count, hint, sizeof hint),
                            tally_yaml__word_list(names, count, list, sizeof list),
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
static int parse_prefixes(loader *l, const tally_yaml_node *v, tally_threshold_override *o)
{
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, v,
            "expected a list of region code prefixes, such as [\"51\", \"52\"]");
    if (v->count == 0)
        return tally_yaml__fail(
            &l->tree, TALLY_EINVAL, v,
            "an empty list of regions; expected at least one region code prefix");
    const char **prefixes = arena_array(l->d, v->count, sizeof *prefixes);
    if (!prefixes)
        return TALLY_ENOMEM;
    for (size_t c = v->child; c != TALLY_NONE; c = tally_yaml__node(&l->tree, c)->next) {
        const tally_yaml_node *item = tally_yaml__node(&l->tree, c);
        if (item->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(item))
            return tally_yaml__fail(&l->tree, TALLY_EPARSE, item,
                                    "expected a region code prefix, such as \"51\"");
        int ok = item->len > 0;
        for (size_t i = 0; ok && i < item->len; i++)
            ok = item->text[i] >= '0' && item->text[i] <= '9';
        if (!ok)
            return tally_yaml__fail(
                &l->tree, TALLY_EINVAL, item,
                "'%.*s' is not a region code prefix; expected digits, such as \"51\"",
                tally_yaml__shown(item->text, item->len), item->text);
        if (!(prefixes[o->prefix_count++] = arena_strndup(l->d, item->text, item->len)))
            return TALLY_ENOMEM;
    }
    o->prefixes = prefixes;
    return 0;
}

/* Exactly one of 'max' / 'min' among the keys of mapping m (`what` names
 * it): *is_max says which. */
static int one_side(const loader *l, const tally_yaml_node *m, const char *what,
                    const tally_yaml_node *max_key, const tally_yaml_node *min_key, int *is_max)
{
    if (max_key && min_key) {
        const tally_yaml_node *second = max_key > min_key ? max_key : min_key;
        const tally_yaml_node *first = second == max_key ? min_key : max_key;
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, second,
            "both 'max' and 'min' in %s ('%s' at line %lu); expected exactly one", what,
            first->text, first->line);
    }
    if (!max_key && !min_key)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "%s without 'max' or 'min'; expected exactly one", what);
    *is_max = max_key != NULL;
    return 0;
}

static int parse_override(loader *l, const tally_yaml_node *m, const tally_threshold *t,
                          tally_threshold_override *o)
{
    if (m->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "expected an override: a mapping with 'regions' and '%s'",
                                t->is_max ? "max" : "min");
    const tally_yaml_node *value_of[O_COUNT], *key_of[O_COUNT];
    int rc = tally_yaml__read_keys(&l->tree, m, "in an override", override_keys, O_COUNT, value_of,
                                   key_of);
    if (rc)
        return rc;
    /* The side is the entry's: a 'min' under a 'max' threshold would read
     * as a bound the other way round. */
    const tally_yaml_node *wrong = key_of[t->is_max ? O_MIN : O_MAX];
    if (wrong)
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, wrong,
            "'%s' in an override of a '%s' threshold; expected '%s', the side of its "
            "entry",
            wrong->text, t->is_max ? "max" : "min", t->is_max ? "max" : "min");
    if (!value_of[O_REGIONS])
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "an override without 'regions'; expected a list of "
                                "region code prefixes");
    int is_max;
    rc = one_side(l, m, "an override", key_of[O_MAX], key_of[O_MIN], &is_max);
    if (!rc)
        rc = tally_yaml__get_number(&l->tree, value_of[is_max ? O_MAX : O_MIN],
                                    is_max ? "max" : "min", &o->limit);
    if (!rc)
        rc = parse_prefixes(l, value_of[O_REGIONS], o);
    return rc;
}

/* One threshold entry. first_line[level] is the line of the entry already
 * given for that level (0: none). */
static int parse_threshold(loader *l, const tally_yaml_node *m, tally_threshold *t,
                           unsigned long *first_line)
{
    if (m->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, m,
            "expected a threshold: a mapping such as { level: county, max: 2.0 }");
    t->line = m->line;
    t->column = m->column;
    const tally_yaml_node *value_of[T_COUNT], *key_of[T_COUNT];
    int rc = tally_yaml__read_keys(&l->tree, m, "in a threshold", threshold_keys, T_COUNT, value_of,
                                   key_of);
    if (rc)
        return rc;
    if (!value_of[T_LEVEL])
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "a threshold without 'level'; expected a level name");
    size_t level;
    rc = get_level(l, value_of[T_LEVEL], &t->level, &level);
    if (rc)
        return rc;
    if (first_line[level])
        return tally_yaml__fail(
            &l->tree, TALLY_EEXIST, value_of[T_LEVEL],
            "a threshold for level '%s' given twice (first at line %lu); expected one "
            "entry per level",
            t->level, first_line[level]);
    first_line[level] = value_of[T_LEVEL]->line;
    rc = one_side(l, m, "a threshold", key_of[T_MAX], key_of[T_MIN], &t->is_max);
    if (!rc)
        rc = tally_yaml__get_number(&l->tree, value_of[t->is_max ? T_MAX : T_MIN],
                                    t->is_max ? "max" : "min", &t->limit);
    if (!rc && value_of[T_INCLUSIVE])
        rc = tally_yaml__get_bool(&l->tree, value_of[T_INCLUSIVE], &t->inclusive);
    if (rc || !value_of[T_OVERRIDES])
        return rc;
    const tally_yaml_node *v = value_of[T_OVERRIDES];
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a list of overrides, such as [{ regions: "
                                "[\"51\"], max: 3.0 }]");
    tally_threshold_override *o = arena_array(l->d, v->count, sizeof *o);
    if (!o)
        return TALLY_ENOMEM;
    t->overrides = o;
    for (size_t c = v->child; c != TALLY_NONE; c = tally_yaml__node(&l->tree, c)->next) {
        rc = parse_override(l, tally_yaml__node(&l->tree, c), t, &o[t->override_count]);
        if (rc)
            return rc;
        t->override_count++;
    }
    return 0;
}

static int parse_thresholds(loader *l, const tally_yaml_node *v, indicator *x)
{
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, v,
            "expected a list of thresholds, such as [{ level: county, max: 2.0 }]");
    unsigned long first_line[TALLY_DEFINITIONS_MAX_LEVELS] = { 0 };
    tally_threshold *t = arena_array(l->d, v->count, sizeof *t);
    if (!t)
        return TALLY_ENOMEM;
    x->thresholds = t;
    for (size_t c = v->child; c != TALLY_NONE; c = tally_yaml__node(&l->tree, c)->next) {
        int rc =
            parse_threshold(l, tally_yaml__node(&l->tree, c), &t[x->threshold_count], first_line);
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

static int check_id(const loader *l, const tally_yaml_node *v)
{
    const char *s = v->text;
    int ok = v->len > 0 && (s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') ||
                            (s[0] >= 'a' && s[0] <= 'z'));
    for (size_t i = 1; ok && i < v->len; i++)
        ok = s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
             (s[i] >= '0' && s[i] <= '9');
    if (!ok)
        return tally_yaml__fail(
            &l->tree, TALLY_EINVAL, v,
            "'%.*s' is not a valid id; expected ASCII letters, digits and '_', not "
            "starting with a digit",
            tally_yaml__shown(v->text, v->len), v->text);
    for (size_t i = 0; i < sizeof reserved_words / sizeof *reserved_words; i++)
        if (strcmp(s, reserved_words[i]) == 0)
            return tally_yaml__fail(&l->tree, TALLY_EINVAL, v,
                                    "'%s' is a word of the formula language; expected another id",
                                    s);
    return 0;
}

/* Adds indicator i to the id table: TALLY_EEXIST at its id when the id is
 * already there. */
static int insert_id(const loader *l, size_t i, const tally_yaml_node *id_node)
{
    tally_definitions *d = l->d;
    indicator *x = &d->ind[i];
    x->hash = tally_util__hash_bytes(x->id, x->id_len);
    size_t s = (size_t)x->hash & d->mask;
    for (; d->table[s]; s = (s + 1) & d->mask) {
        const indicator *y = &d->ind[d->table[s] - 1];
        if (y->hash == x->hash && y->id_len == x->id_len && memcmp(y->id, x->id, x->id_len) == 0)
            return tally_yaml__fail(
                &l->tree, TALLY_EEXIST, id_node,
                "indicator id '%s' given twice (first at line %lu); expected unique ids", x->id,
                y->line);
    }
    d->table[s] = i + 1;
    return 0;
}

static int parse_indicator(loader *l, const tally_yaml_node *m, size_t i)
{
    indicator *x = &l->d->ind[i];
    x->min = x->max = NAN;
    if (m->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "expected an indicator: a mapping with 'id' and other keys");

    const tally_yaml_node *value_of[K_COUNT] = { NULL };
    const tally_yaml_node *key_of[K_COUNT] = { NULL };
    for (size_t k = m->child; k != TALLY_NONE;
         k = tally_yaml__node(&l->tree, tally_yaml__node(&l->tree, k)->next)->next) {
        const tally_yaml_node *key = tally_yaml__node(&l->tree, k),
                              *v = tally_yaml__node(&l->tree, key->next);
        int rc = tally_yaml__expect_key(&l->tree, key);
        if (!rc)
            rc = tally_yaml__check_duplicate_key(&l->tree, m, key);
        if (rc)
            return rc;
        size_t which = K_COUNT;
        for (size_t w = 0; w < K_COUNT; w++)
            if (tally_yaml__key_is(key, indicator_keys[w]))
                which = w;
        if (which == K_COUNT) {
            char hint[96];
            return tally_yaml__fail(
                &l->tree, TALLY_EPARSE, key,
                "unknown key '%.*s'%s; expected one of id, name, unit, aggregate, "
                "over_time, decimals, direction, exact, formula, min, max, thresholds",
                tally_yaml__shown(key->text, key->len), key->text,
                tally_yaml__suggest(key, indicator_keys, K_COUNT, hint, sizeof hint));
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
        case K_AGGREGATE:
            rc = tally_yaml__get_word(&l->tree, v, "aggregate", aggregate_words, 5, &x->aggregate);
            break;
        case K_OVER_TIME:
            rc = tally_yaml__get_word(&l->tree, v, "over_time", over_time_words, 3, &x->over_time);
            break;
        case K_DIRECTION:
            rc = tally_yaml__get_word(&l->tree, v, "direction", direction_words, 2, &x->direction);
            break;
        case K_DECIMALS: rc = get_decimals(l, v, &x->decimals); break;
        case K_EXACT: rc = tally_yaml__get_bool(&l->tree, v, &x->exact); break;
        case K_FORMULA:
            rc = get_string(l, v, "a formula", &x->formula);
            x->formula_len = v->len;
            l->formula_node[i] = key->next;
            break;
        case K_MIN: rc = tally_yaml__get_number(&l->tree, v, "min", &x->min); break;
        case K_MAX: rc = tally_yaml__get_number(&l->tree, v, "max", &x->max); break;
        case K_THRESHOLDS: rc = parse_thresholds(l, v, x); break;
        }
        if (rc)
            return rc;
    }

    if (!value_of[K_ID])
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "an indicator without 'id'; expected an 'id' key");
    if (x->formula) {
        /* Report whichever of the two comes first in the file. */
        const tally_yaml_node *a = key_of[K_AGGREGATE], *o = key_of[K_OVER_TIME];
        const tally_yaml_node *bad = a && (!o || a < o) ? a : o;
        if (bad)
            return tally_yaml__fail(
                &l->tree, TALLY_EINVAL, bad,
                "a formula indicator is computed after aggregation; remove '%s'", bad->text);
    }
    if (value_of[K_MIN] && value_of[K_MAX] && x->min > x->max)
        return tally_yaml__fail(
            &l->tree, TALLY_EINVAL, value_of[K_MAX],
            "max %.*s is less than min %.*s; expected min <= max",
            tally_yaml__shown(value_of[K_MAX]->text, value_of[K_MAX]->len), value_of[K_MAX]->text,
            tally_yaml__shown(value_of[K_MIN]->text, value_of[K_MIN]->len), value_of[K_MIN]->text);

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

static int parse_indicators(loader *l, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "expected a list of indicators");
    if (v->count == 0)
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, v,
                                "an empty list of indicators; expected at least one");
    size_t cap = 8;
    while (cap < v->count * 2)
        cap *= 2;
    d->ind = calloc(v->count, sizeof *d->ind);
    d->table = calloc(cap, sizeof *d->table);
    l->formula_node = malloc(v->count * sizeof *l->formula_node);
    if (!d->ind || !d->table || !l->formula_node)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    d->mask = cap - 1;
    for (size_t c = v->child; c != TALLY_NONE; c = tally_yaml__node(&l->tree, c)->next) {
        size_t i = d->count++;
        l->formula_node[i] = TALLY_NONE;
        int rc = parse_indicator(l, tally_yaml__node(&l->tree, c), i);
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


static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

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
        size_t dist = tally_yaml__distance(text, len, d->ind[i].id, d->ind[i].id_len);
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
static int expr_error(const loader *l, int rc, const tally_yaml_node *n, const char *src,
                      size_t len, size_t off, const char *what)
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
    tally_yaml__scalar_position(&l->tree, n, off, &line, &column);
    /* The offending text: the expression from the offset to the end of its
     * line (all of it when the offset is at the end). */
    const char *text = off < len ? src + off : src;
    size_t text_len = 0;
    while (text + text_len < src + len && text[text_len] != '\n')
        text_len++;
    return tally_error__set_at(rc, l->tree.path, line, column, text, text_len,
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
        return expr_error(l, rc, tally_yaml__node(&l->tree, l->formula_node[i]), x->formula,
                          x->formula_len, off, "formula");
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
            const tally_yaml_node *n = tally_yaml__node(&l->tree, l->formula_node[stack[first]]);
            rc = tally_error__set_at(TALLY_ECYCLE, l->tree.path, n->line, n->column, y->formula,
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

static int parse_poverty_lines(loader *l, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, v,
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
    for (size_t k = v->child; k != TALLY_NONE && !rc;
         k = tally_yaml__node(&l->tree, tally_yaml__node(&l->tree, k)->next)->next) {
        const tally_yaml_node *key = tally_yaml__node(&l->tree, k),
                              *line = tally_yaml__node(&l->tree, key->next);
        int year;
        rc = get_year(l, key, &year);
        if (rc)
            break;
        if (first[year - 1000]) {
            rc = tally_yaml__fail(
                &l->tree, TALLY_EEXIST, key,
                "a poverty line for %d given twice (first at line %lu); expected one line "
                "per year",
                year, first[year - 1000]);
            break;
        }
        first[year - 1000] = key->line;
        rc = tally_yaml__get_number_above(&l->tree, line, "poverty line", 0, 1,
                                          &d->poverty_lines[d->poverty_count]);
        if (!rc)
            d->poverty_years[d->poverty_count++] = year;
    }
    free(first);
    return rc;
}

static int parse_poverty(loader *l, const tally_yaml_node *v)
{
    if (v->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, v,
            "expected a mapping with 'lines' (year: line) and 'monitoring_line'");
    const tally_yaml_node *value_of[P_COUNT], *key_of[P_COUNT];
    int rc =
        tally_yaml__read_keys(&l->tree, v, "in 'poverty'", poverty_keys, P_COUNT, value_of, key_of);
    if (!rc && value_of[P_LINES])
        rc = parse_poverty_lines(l, value_of[P_LINES]);
    if (!rc && value_of[P_MONITORING])
        rc = tally_yaml__get_number_above(&l->tree, value_of[P_MONITORING], "monitoring_line", 0, 1,
                                          &l->d->monitoring_line);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */

/* An indicator id that must be in the definitions: its index. */
static int get_indicator(const loader *l, const tally_yaml_node *v, size_t *out)
{
    if (v->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(v))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "expected an indicator id");
    long i = resolve(l->d, v->text, v->len);
    if (i < 0) {
        char hint[96];
        return tally_yaml__fail(&l->tree, TALLY_ENOTFOUND, v,
                                "unknown indicator '%.*s'%s; expected an id from "
                                "'indicators'",
                                tally_yaml__shown(v->text, v->len), v->text,
                                suggest_indicator(l, v->text, v->len, hint, sizeof hint));
    }
    *out = (size_t)i;
    return 0;
}

/* A non-empty list of distinct indicator ids for check key `key`; only
 * reported (not formula) indicators when `reported_only`. */
static int parse_id_list(loader *l, const tally_yaml_node *v, const char *key, int reported_only,
                         tally_check_def *c)
{
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a list of indicator ids for '%s'", key);
    if (v->count == 0)
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, v,
                                "an empty list for '%s'; expected at least one "
                                "indicator id",
                                key);
    size_t *ids = arena_array(l->d, v->count, sizeof *ids);
    if (!ids)
        return TALLY_ENOMEM;
    c->indicators = ids;
    l->list++;
    for (size_t k = v->child; k != TALLY_NONE; k = tally_yaml__node(&l->tree, k)->next) {
        const tally_yaml_node *item = tally_yaml__node(&l->tree, k);
        size_t i;
        int rc = get_indicator(l, item, &i);
        if (rc)
            return rc;
        if (reported_only && l->d->ind[i].formula)
            return tally_yaml__fail(
                &l->tree, TALLY_EINVAL, item,
                "'%s' is a formula indicator; a hierarchy check compares reported "
                "values with their children's sums, expected reported indicators",
                l->d->ind[i].id);
        if (l->seen[i] == l->list)
            return tally_yaml__fail(
                &l->tree, TALLY_EEXIST, item,
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

static int parse_tolerance(const loader *l, const tally_yaml_node *v, tally_check_def *c)
{
    if (v->kind == TALLY_YAML_SCALAR)
        return tally_yaml__get_number_above(&l->tree, v, "tolerance", 0, 0, &c->tol_absolute);
    if (v->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a tolerance: a number (absolute) or "
                                "{ absolute: a, relative: r }");
    const tally_yaml_node *value_of[TOL_COUNT], *key_of[TOL_COUNT];
    int rc = tally_yaml__read_keys(&l->tree, v, "in a tolerance", tolerance_keys, TOL_COUNT,
                                   value_of, key_of);
    if (rc)
        return rc;
    if (!value_of[TOL_ABSOLUTE] && !value_of[TOL_RELATIVE])
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "an empty tolerance; expected 'absolute', 'relative' or both");
    if (value_of[TOL_ABSOLUTE])
        rc = tally_yaml__get_number_above(&l->tree, value_of[TOL_ABSOLUTE], "absolute", 0, 0,
                                          &c->tol_absolute);
    if (!rc && value_of[TOL_RELATIVE])
        rc = tally_yaml__get_number_above(&l->tree, value_of[TOL_RELATIVE], "relative", 0, 0,
                                          &c->tol_relative);
    return rc;
}

static int parse_jump(const loader *l, const tally_yaml_node *v, tally_check_def *c)
{
    static const char *const keys[] = { "max_ratio" };
    if (v->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a mapping such as { max_ratio: 3 }");
    const tally_yaml_node *value_of[1], *key_of[1];
    int rc = tally_yaml__read_keys(&l->tree, v, "in 'jump'", keys, 1, value_of, key_of);
    if (rc)
        return rc;
    if (!value_of[0])
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "'jump' without 'max_ratio'; expected { max_ratio: k } "
                                "with k > 1");
    return tally_yaml__get_number_above(&l->tree, value_of[0], "max_ratio", 1, 1,
                                        &c->jump_max_ratio);
}

static int parse_rule(loader *l, const tally_yaml_node *v, tally_check_def *c)
{
    if (v->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(v))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a rule, such as poor <= population");
    if (memchr(v->text, '\0', v->len))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "a NUL character; expected a rule without NUL");
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
        return tally_yaml__fail(
            &l->tree, TALLY_EINVAL, v,
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
static int insert_check_id(loader *l, size_t i, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    const tally_check_def *c = &d->checks[i];
    size_t s = (size_t)tally_util__hash_bytes(v->text, v->len) & l->check_mask;
    for (; l->check_table[s]; s = (s + 1) & l->check_mask) {
        const tally_check_def *o = &d->checks[l->check_table[s] - 1];
        if (strcmp(o->id, c->id) == 0)
            return tally_yaml__fail(
                &l->tree, TALLY_EEXIST, v,
                "check id '%s' given twice (first at line %lu); expected unique check "
                "ids",
                c->id, o->line);
    }
    l->check_table[s] = i + 1;
    return 0;
}

static int parse_check(loader *l, const tally_yaml_node *m, size_t i)
{
    tally_check_def *c = &l->d->checks[i];
    c->threshold = NAN;
    c->jump_max_ratio = NAN;
    if (m->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "expected a check: a mapping with 'id' and one of "
                                "hierarchy, rule, required, outliers");
    const tally_yaml_node *value_of[C_COUNT], *key_of[C_COUNT];
    int rc =
        tally_yaml__read_keys(&l->tree, m, "in a check", check_keys, C_COUNT, value_of, key_of);
    if (rc)
        return rc;
    if (!value_of[C_ID])
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "a check without 'id'; expected an 'id' key");

    /* The kind: exactly one of the four kind keys, the second in the file
     * is the one reported. */
    const tally_yaml_node *kind_key = NULL;
    for (size_t k = m->child; k != TALLY_NONE;
         k = tally_yaml__node(&l->tree, tally_yaml__node(&l->tree, k)->next)->next) {
        const tally_yaml_node *key = tally_yaml__node(&l->tree, k);
        for (int w = C_HIERARCHY; w <= C_OUTLIERS; w++) {
            if (key_of[w] != key)
                continue;
            if (kind_key)
                return tally_yaml__fail(
                    &l->tree, TALLY_EPARSE, key,
                    "a check with both '%s' (line %lu) and '%s'; expected exactly one "
                    "of hierarchy, rule, required, outliers",
                    kind_key->text, kind_key->line, key->text);
            kind_key = key;
            c->kind = w - C_HIERARCHY;
        }
    }
    if (!kind_key)
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, m,
            "check '%.*s' has no kind; expected one of hierarchy, rule, required, "
            "outliers",
            tally_yaml__shown(value_of[C_ID]->text, value_of[C_ID]->len), value_of[C_ID]->text);
    for (size_t k = m->child; k != TALLY_NONE;
         k = tally_yaml__node(&l->tree, tally_yaml__node(&l->tree, k)->next)->next) {
        const tally_yaml_node *key = tally_yaml__node(&l->tree, k);
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
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, key, "'%s' does not apply to %s; expected one of %s", key->text,
            kind_names[c->kind], tally_yaml__word_list(allowed, n, list, sizeof list));
    }

    if (c->kind == TALLY_CHECK_OUTLIERS)
        c->threshold = 3.5;
    for (size_t k = m->child; k != TALLY_NONE && !rc;
         k = tally_yaml__node(&l->tree, tally_yaml__node(&l->tree, k)->next)->next) {
        const tally_yaml_node *key = tally_yaml__node(&l->tree, k),
                              *v = tally_yaml__node(&l->tree, key->next);
        size_t w = 0;
        while (key_of[w] != key)
            w++;
        int word = 0;
        size_t level;
        switch (w) {
        case C_ID:
            if (v->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(v))
                return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "expected a check id");
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
        case C_SEVERITY:
            rc = tally_yaml__get_word(&l->tree, v, "severity", severity_words, 2, &c->severity);
            break;
        case C_TOLERANCE: rc = parse_tolerance(l, v, c); break;
        case C_CHILDREN:
            rc = tally_yaml__get_word(&l->tree, v, "children", children_words, 2,
                                      &c->children_complete);
            break;
        case C_MISSING:
            rc = tally_yaml__get_word(&l->tree, v, "missing", missing_words, 2, &c->missing_fail);
            break;
        case C_LEVEL: rc = get_level(l, v, &c->level, &level); break;
        case C_METHOD:
            rc = tally_yaml__get_word(&l->tree, v, "method", method_words, 1, &word);
            break;
        case C_THRESHOLD:
            rc = tally_yaml__get_number_above(&l->tree, v, "threshold", 0, 1, &c->threshold);
            break;
        case C_JUMP: rc = parse_jump(l, v, c); break;
        }
    }
    if (!rc && c->kind == TALLY_CHECK_COMPLETENESS && !value_of[C_LEVEL])
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, m,
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

static int parse_checks(loader *l, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "expected a list of checks");
    d->checks = arena_array(d, v->count, sizeof *d->checks);
    if (!d->checks)
        return TALLY_ENOMEM;
    l->seen = calloc(d->count, sizeof *l->seen);
    l->seen_line = calloc(d->count, sizeof *l->seen_line);
    if (!l->seen || !l->seen_line)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    int rc = new_table(v->count, &l->check_table, &l->check_mask);
    for (size_t k = v->child; k != TALLY_NONE && !rc; k = tally_yaml__node(&l->tree, k)->next) {
        /* Counted before parsing: tally_definitions_free frees the rule of
         * a check that fails after its rule compiled. */
        rc = parse_check(l, tally_yaml__node(&l->tree, k), d->check_count++);
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

static int parse_target(loader *l, const tally_yaml_node *m, size_t i)
{
    tally_definitions *d = l->d;
    tally_target_def *t = &d->targets[i];
    if (m->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "expected a target: a mapping with region, indicator, "
                                "year and target");
    t->line = m->line;
    t->column = m->column;
    const tally_yaml_node *value_of[G_COUNT], *key_of[G_COUNT];
    int rc =
        tally_yaml__read_keys(&l->tree, m, "in a target", target_keys, G_COUNT, value_of, key_of);
    if (rc)
        return rc;
    for (size_t k = 0; k < G_COUNT; k++)
        if (!value_of[k])
            return tally_yaml__fail(
                &l->tree, TALLY_EPARSE, m,
                "a target without '%s'; expected region, indicator, year and target",
                target_keys[k]);
    const tally_yaml_node *r = value_of[G_REGION];
    if (r->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(r))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, r, "expected a region code");
    if (r->len == 0 || memchr(r->text, '\0', r->len))
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, r,
                                "not a region code; expected a code such as "
                                "\"430600000000\"");
    if (!(t->region = arena_strndup(d, r->text, r->len)))
        return TALLY_ENOMEM;
    rc = get_indicator(l, value_of[G_INDICATOR], &t->indicator);
    if (!rc)
        rc = get_year(l, value_of[G_YEAR], &t->year);
    if (!rc)
        rc = tally_yaml__get_number(&l->tree, value_of[G_TARGET], "target", &t->target);
    if (rc)
        return rc;
    size_t s = (size_t)target_hash(t) & l->target_mask;
    for (; l->target_table[s]; s = (s + 1) & l->target_mask) {
        const tally_target_def *o = &d->targets[l->target_table[s] - 1];
        if (o->indicator == t->indicator && o->year == t->year &&
            strcmp(o->region, t->region) == 0)
            return tally_yaml__fail(
                &l->tree, TALLY_EEXIST, m,
                "a target for region '%.*s', indicator '%s', year %d given twice (first "
                "at line %lu); expected one target per region, indicator and year",
                tally_yaml__shown(r->text, r->len), r->text, d->ind[t->indicator].id, t->year,
                o->line);
    }
    l->target_table[s] = i + 1;
    return 0;
}

static int parse_targets(loader *l, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a list of targets, such as [{ region: "
                                "\"430600000000\", indicator: x, year: 2019, target: "
                                "100 }]");
    d->targets = arena_array(d, v->count, sizeof *d->targets);
    if (!d->targets)
        return TALLY_ENOMEM;
    int rc = new_table(v->count, &l->target_table, &l->target_mask);
    for (size_t k = v->child; k != TALLY_NONE && !rc; k = tally_yaml__node(&l->tree, k)->next) {
        rc = parse_target(l, tally_yaml__node(&l->tree, k), d->target_count);
        if (!rc)
            d->target_count++;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

static int load(loader *l)
{
    int rc;
    if (l->tree.root == TALLY_NONE || tally_yaml__is_null(tally_yaml__node(&l->tree, l->tree.root)))
        return tally_error__set_at(TALLY_EPARSE, l->tree.path, 1, 1, NULL, 0,
                                   "no definitions; expected a mapping with an 'indicators' list");
    const tally_yaml_node *root = tally_yaml__node(&l->tree, l->tree.root);
    if (root->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, root,
            "expected a mapping with 'levels' and 'indicators' at the top level");

    /* Keys first, then the sections in the order they depend on each other
     * (thresholds and checks name levels, checks and targets name
     * indicators), wherever they are in the file. */
    enum { TOP_LEVELS, TOP_INDICATORS, TOP_CHECKS, TOP_POVERTY, TOP_TARGETS, TOP_COUNT };
    static const char *const top_keys[TOP_COUNT] = { "levels", "indicators", "checks",
                                                     "poverty", "targets" };
    const tally_yaml_node *value_of[TOP_COUNT], *key_of[TOP_COUNT];
    rc = tally_yaml__read_keys(&l->tree, root, "at the top level", top_keys, TOP_COUNT, value_of,
                               key_of);
    if (rc)
        return rc;
    if (!value_of[TOP_INDICATORS])
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, root,
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
    loader l;
    memset(&l, 0, sizeof l);
    l.d = calloc(1, sizeof *l.d);
    if (l.d)
        l.d->monitoring_line = NAN;
    int rc = l.d ? tally_yaml__read(&l.tree, path, data, size)
                 : tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    if (!rc)
        rc = load(&l);
    tally_yaml__free(&l.tree);
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
    return tally_error__set(TALLY_ENOTFOUND,
                            "unknown indicator '%.*s'; expected an id from the "
                            "definitions",
                            tally_yaml__shown(id, len), id);
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
