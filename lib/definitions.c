/* Indicator definitions, read from YAML: the object, reading a file, and
 * the accessors.
 *
 * The file is read into a tree of nodes that keep their positions
 * (yaml_tree.c); the schema is read over that tree. The top-level keys are
 * read first and the sections parsed in dependency order (levels,
 * indicators and their thresholds, formulas, poverty, checks, targets), so
 * a file may put them in any order and every name is checked where it is
 * written. This file reads the top level and the small sections (levels,
 * poverty lines, targets); the indicators with their thresholds and
 * formulas are read in definitions_indicators.c, the checks in
 * definitions_checks.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "definitions.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "definitions_loader.h"
#include "error.h"
#include "util.h"
#include "yaml_tree.h"

_Static_assert(TALLY_DEFINITIONS_MAX_DEPTH == TALLY_YAML_MAX_DEPTH,
               "the depth limit of definitions files is the YAML tree's");

/* ------------------------------------------------------------------ */
/* The definitions object (its layout is in definitions_loader.h)      */

/* Everything read from `thresholds:`, `poverty:`, `checks:` and `targets:`
 * lives in blocks chained from the definitions object and freed together:
 * accessors hand out arrays of arrays (override prefixes), and one owner
 * for all of them keeps both the error paths and tally_definitions_free
 * short. */
typedef struct tally_definitions__arena_block {
    struct tally_definitions__arena_block *next;
    size_t size, used;
} arena_block;

/* Allocation granularity of the arena: enough for any type stored in it. */
#define ARENA_ALIGN _Alignof(max_align_t)
#define ARENA_HEADER ((sizeof(arena_block) + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN)

void *tally_definitions__arena_array(tally_definitions *d, size_t count, size_t size)
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

char *tally_definitions__arena_strndup(tally_definitions *d, const char *s, size_t len)
{
    char *p = tally_definitions__arena_array(d, len + 1, 1);
    if (p)
        memcpy(p, s, len);
    return p;
}

/* ------------------------------------------------------------------ */
/* Values the sections have in common                                  */

int tally_definitions__get_string(const tally_definitions__loader *l, const tally_yaml_node *v,
                                  const char *what, char **out)
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

int tally_definitions__new_table(size_t count, size_t **table, size_t *mask)
{
    size_t cap = 8;
    while (cap < count * 2)
        cap *= 2;
    *table = calloc(cap, sizeof **table);
    *mask = cap - 1;
    return *table ? 0 : tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
}

/* A year: a plain integer from 1000 to 9999. */
static int get_year(const tally_definitions__loader *l, const tally_yaml_node *v, int *out)
{
    static const char expected[] = N_("expected a year from 1000 to 9999, such as 2019");
    if (!tally_yaml__is_plain(v))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "%s", tally_error__tr(expected));
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

int tally_definitions__get_level(const tally_definitions__loader *l, const tally_yaml_node *v,
                                 const char **out, size_t *index)
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
/* Levels                                                              */

static int parse_levels(tally_definitions__loader *l, const tally_yaml_node *v)
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
        int rc = tally_definitions__get_string(l, item, "a level name", &name);
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
/* Poverty lines                                                       */

enum { P_LINES, P_MONITORING, P_COUNT };
static const char *const poverty_keys[P_COUNT] = { "lines", "monitoring_line" };

static int parse_poverty_lines(tally_definitions__loader *l, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, v,
            "expected a mapping of year to poverty line, such as { 2019: 3218 }");
    size_t count = v->count / 2;
    d->poverty_years = tally_definitions__arena_array(d, count, sizeof *d->poverty_years);
    d->poverty_lines = tally_definitions__arena_array(d, count, sizeof *d->poverty_lines);
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

static int parse_poverty(tally_definitions__loader *l, const tally_yaml_node *v)
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
/* Targets                                                             */

enum { G_REGION, G_INDICATOR, G_YEAR, G_TARGET, G_COUNT };
static const char *const target_keys[G_COUNT] = { "region", "indicator", "year", "target" };

static uint64_t target_hash(const tally_target_def *t)
{
    return tally_util__hash_bytes(t->region, strlen(t->region)) ^
           tally_util__hash_u64((uint64_t)t->indicator * 10000u + (uint64_t)t->year);
}

static int parse_target(tally_definitions__loader *l, const tally_yaml_node *m, size_t i)
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
    if (!(t->region = tally_definitions__arena_strndup(d, r->text, r->len)))
        return TALLY_ENOMEM;
    rc = tally_definitions__get_indicator(l, value_of[G_INDICATOR], &t->indicator);
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

static int parse_targets(tally_definitions__loader *l, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a list of targets, such as [{ region: "
                                "\"430600000000\", indicator: x, year: 2019, target: "
                                "100 }]");
    d->targets = tally_definitions__arena_array(d, v->count, sizeof *d->targets);
    if (!d->targets)
        return TALLY_ENOMEM;
    int rc = tally_definitions__new_table(v->count, &l->target_table, &l->target_mask);
    for (size_t k = v->child; k != TALLY_NONE && !rc; k = tally_yaml__node(&l->tree, k)->next) {
        rc = parse_target(l, tally_yaml__node(&l->tree, k), d->target_count);
        if (!rc)
            d->target_count++;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Columns of the records files that are not read                      */

/* `ignore_columns: [unit, remark]`: names of columns a records file may
 * carry beside the ones the reader knows; any other column is refused,
 * so that no column is dropped without a word. */
static int parse_ignore_columns(tally_definitions__loader *l, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a list of column names, such as [unit, remark]");
    d->ignore_columns = calloc(v->count ? v->count : 1, sizeof *d->ignore_columns);
    if (!d->ignore_columns)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    for (size_t c = v->child; c != TALLY_NONE; c = tally_yaml__node(&l->tree, c)->next) {
        const tally_yaml_node *item = tally_yaml__node(&l->tree, c);
        char *name = NULL;
        int rc = tally_definitions__get_string(l, item, "a column name", &name);
        if (rc)
            return rc;
        d->ignore_columns[d->ignore_count++] = name;
        if (item->len == 0)
            return tally_yaml__fail(&l->tree, TALLY_EINVAL, item,
                                    "an empty column name; expected a name");
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

static int load(tally_definitions__loader *l)
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
    enum { TOP_LEVELS, TOP_INDICATORS, TOP_CHECKS, TOP_POVERTY, TOP_TARGETS, TOP_IGNORE,
           TOP_CATEGORIES, TOP_COLUMNS, TOP_COUNT };
    static const char *const top_keys[TOP_COUNT] = { "levels", "indicators", "checks",
                                                     "poverty", "targets", "ignore_columns",
                                                     "categories", "columns" };
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
    if (!rc && value_of[TOP_CATEGORIES])
        rc = tally_definitions__parse_categories(l, value_of[TOP_CATEGORIES]);
    if (!rc)
        rc = tally_definitions__parse_indicators(l, value_of[TOP_INDICATORS]);
    if (!rc)
        rc = tally_definitions__compile_formulas(l);
    if (!rc)
        rc = tally_definitions__order_formulas(l);
    if (!rc && value_of[TOP_POVERTY])
        rc = parse_poverty(l, value_of[TOP_POVERTY]);
    if (!rc && value_of[TOP_CHECKS])
        rc = tally_definitions__parse_checks(l, value_of[TOP_CHECKS]);
    if (!rc)
        rc = tally_definitions__category_checks(l);
    if (!rc && value_of[TOP_TARGETS])
        rc = parse_targets(l, value_of[TOP_TARGETS]);
    if (!rc && value_of[TOP_IGNORE])
        rc = parse_ignore_columns(l, value_of[TOP_IGNORE]);
    if (!rc && value_of[TOP_COLUMNS])
        rc = tally_definitions__parse_columns(l, value_of[TOP_COLUMNS]);
    return rc;
}

static int from_memory(tally_definitions **out, const char *data, size_t size, const char *path)
{
    tally_definitions__loader l;
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
    for (size_t i = 0; i < d->ignore_count; i++)
        free(d->ignore_columns[i]);
    free(d->ignore_columns);
    for (size_t i = 0; i < sizeof d->column_headers / sizeof *d->column_headers; i++)
        free(d->column_headers[i]);
    for (size_t i = 0; i < d->count; i++) {
        tally_definitions__indicator *x = &d->ind[i];
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

TALLY_EXTERN(size_t) tally_definitions_ignore_column_count(const tally_definitions *d)
{
    return d ? d->ignore_count : 0;
}

TALLY_EXTERN(const char *) tally_definitions_ignore_column(const tally_definitions *d, size_t i)
{
    return d && i < d->ignore_count ? d->ignore_columns[i] : NULL;
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
        const tally_definitions__indicator *x = &d->ind[d->table[s] - 1];
        if (x->hash == h && x->id_len == len && memcmp(x->id, id, len) == 0) {
            *index = d->table[s] - 1;
            return 0;
        }
    }
    /* `x[sex=female, cause=illness]`, `x[cause=*]`: the slot's own id
     * spelt otherwise. */
    long slot = memchr(id, '[', len) ? tally_definitions__resolve_slot(d, id, len) : -1;
    if (slot >= 0) {
        *index = (size_t)slot;
        return 0;
    }
    return tally_error__set(TALLY_ENOTFOUND,
                            "unknown indicator '%.*s'; expected an id from the "
                            "definitions",
                            tally_yaml__shown(id, len), id);
}

/* Indicator i of d, or NULL when there is none. */
static const tally_definitions__indicator *at(const tally_definitions *d, size_t i)
{
    return d && i < d->count ? &d->ind[i] : NULL;
}

TALLY_EXTERN(const char *) tally_definitions_id(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
    return x ? x->id : NULL;
}

TALLY_EXTERN(const char *) tally_definitions_name(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
    return x ? x->name : NULL;
}

TALLY_EXTERN(const char *) tally_definitions_unit(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
    return x ? x->unit : NULL;
}

TALLY_EXTERN(int) tally_definitions_decimals(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
    return x ? x->decimals : -1;
}

TALLY_EXTERN(int) tally_definitions_aggregate(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
    return x ? x->aggregate : -1;
}

TALLY_EXTERN(int) tally_definitions_over_time(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
    return x ? x->over_time : -1;
}

int tally_definitions__stale_after(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
    return x ? x->stale_after : -1;
}

TALLY_EXTERN(int) tally_definitions_direction(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
    return x ? x->direction : -1;
}

int tally_definitions__whole(const tally_definitions *d, size_t i)
{
    return d && i < d->count ? d->ind[i].whole : 0;
}

TALLY_EXTERN(int) tally_definitions_exact(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
    return x ? x->exact : -1;
}

TALLY_EXTERN(const char *) tally_definitions_formula(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
    return x ? x->formula : NULL;
}

TALLY_EXTERN(double) tally_definitions_min(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
    return x ? x->min : NAN;
}

TALLY_EXTERN(double) tally_definitions_max(const tally_definitions *d, size_t i)
{
    const tally_definitions__indicator *x = at(d, i);
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
    const tally_definitions__indicator *x = at(d, i);
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
