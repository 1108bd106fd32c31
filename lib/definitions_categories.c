/* Categories: the `categories:` section, an indicator's `by:`, the slots an
 * indicator broken down by categories is expanded into, their lookup by
 * `poor_population[cause=illness]`, and the implicit checks of the
 * categories (see definitions_categories.h and docs/categories.md).
 *
 * A slot is an ordinary indicator: the dataset, the rollup and the writers
 * need nothing of their own for it, and a value of a category costs what a
 * plain value costs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "definitions_categories.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "definitions_loader.h"
#include "error.h"
#include "expr.h"
#include "util.h"
#include "yaml_tree.h"

/* ------------------------------------------------------------------ */
/* `categories:`                                                       */

enum { C_ID, C_NAME, C_EXCLUSIVE, C_OPTIONS, C_COUNT };
static const char *const category_keys[C_COUNT] = { "id", "name", "exclusive", "options" };
enum { OPT_ID, OPT_NAME, OPT_COUNT };
static const char *const option_keys[OPT_COUNT] = { "id", "name" };

static int same(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* An id of a category or an option: as an indicator's (letters, digits,
 * '_'), so that `x[cause=illness]` reads back unambiguously. */
static int get_id(tally_definitions__loader *l, const tally_yaml_node *v, const char *what,
                  const char **out)
{
    if (v->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(v))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "expected %s", what);
    int ok = v->len > 0 && !(v->text[0] >= '0' && v->text[0] <= '9');
    for (size_t i = 0; ok && i < v->len; i++) {
        char c = v->text[i];
        ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
             (c >= '0' && c <= '9');
    }
    if (!ok)
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, v,
                                "'%.*s' is not a valid id; expected %s of ASCII letters, digits "
                                "and '_', not starting with a digit",
                                tally_yaml__shown(v->text, v->len), v->text, what);
    *out = tally_definitions__arena_strndup(l->d, v->text, v->len);
    return *out ? 0 : TALLY_ENOMEM;
}

static int get_name(tally_definitions__loader *l, const tally_yaml_node *v, const char **out)
{
    if (v->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(v) || memchr(v->text, '\0', v->len))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "expected a display name");
    *out = tally_definitions__arena_strndup(l->d, v->text, v->len);
    return *out ? 0 : TALLY_ENOMEM;
}

static int parse_option(tally_definitions__loader *l, const tally_yaml_node *m,
                        tally_definitions__category *c, size_t o)
{
    const tally_yaml_node *id = m;
    const char *name = NULL;
    if (m->kind == TALLY_YAML_MAPPING) {
        const tally_yaml_node *value_of[OPT_COUNT], *key_of[OPT_COUNT];
        int rc = tally_yaml__read_keys(&l->tree, m, "in an option", option_keys, OPT_COUNT,
                                       value_of, key_of);
        if (rc)
            return rc;
        if (!value_of[OPT_ID])
            return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                    "an option without 'id'; expected { id: illness, name: 因病 }");
        id = value_of[OPT_ID];
        if (value_of[OPT_NAME] && (rc = get_name(l, value_of[OPT_NAME], &name)))
            return rc;
    }
    int rc = get_id(l, id, "an option id", &c->option_id[o]);
    if (rc)
        return rc;
    for (size_t k = 0; k < o; k++)
        if (strcmp(c->option_id[k], c->option_id[o]) == 0)
            return tally_yaml__fail(&l->tree, TALLY_EEXIST, id,
                                    "option '%s' given twice in category '%s'; expected "
                                    "distinct option ids",
                                    c->option_id[o], c->id);
    c->option_name[o] = name ? name : c->option_id[o];
    return 0;
}

static int parse_category(tally_definitions__loader *l, const tally_yaml_node *m, size_t i)
{
    tally_definitions *d = l->d;
    tally_definitions__category *c = &d->categories[i];
    if (m->kind != TALLY_YAML_MAPPING)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "expected a category: a mapping with id, name, exclusive and "
                                "options");
    const tally_yaml_node *value_of[C_COUNT], *key_of[C_COUNT];
    int rc = tally_yaml__read_keys(&l->tree, m, "in a category", category_keys, C_COUNT, value_of,
                                   key_of);
    if (rc)
        return rc;
    if (!value_of[C_ID])
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "a category without 'id'; expected an 'id' key");
    if (!value_of[C_OPTIONS])
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "a category without 'options'; expected a list of options");
    if ((rc = get_id(l, value_of[C_ID], "a category id", &c->id)))
        return rc;
    c->id_len = value_of[C_ID]->len;
    c->line = value_of[C_ID]->line;
    for (size_t k = 0; k < i; k++)
        if (strcmp(d->categories[k].id, c->id) == 0)
            return tally_yaml__fail(&l->tree, TALLY_EEXIST, value_of[C_ID],
                                    "category id '%s' given twice (first at line %lu); expected "
                                    "unique ids",
                                    c->id, d->categories[k].line);
    c->name = c->id;
    if (value_of[C_NAME] && (rc = get_name(l, value_of[C_NAME], &c->name)))
        return rc;
    if (value_of[C_EXCLUSIVE] &&
        (rc = tally_yaml__get_bool(&l->tree, value_of[C_EXCLUSIVE], &c->exclusive)))
        return rc;
    const tally_yaml_node *v = value_of[C_OPTIONS];
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a list of options, such as [{ id: illness, name: 因病 }]");
    if (v->count == 0)
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, v,
                                "an empty list of options; expected at least one");
    if (v->count > 1000)
        return tally_yaml__fail(&l->tree, TALLY_ELIMIT, v, "%zu options; expected at most 1000",
                                v->count);
    c->option_id = tally_definitions__arena_array(d, v->count, sizeof *c->option_id);
    c->option_name = tally_definitions__arena_array(d, v->count, sizeof *c->option_name);
    if (!c->option_id || !c->option_name)
        return TALLY_ENOMEM;
    for (size_t k = v->child; k != TALLY_NONE; k = tally_yaml__node(&l->tree, k)->next) {
        if ((rc = parse_option(l, tally_yaml__node(&l->tree, k), c, c->option_count)))
            return rc;
        c->option_count++;
    }
    return 0;
}

int tally_definitions__parse_categories(tally_definitions__loader *l, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a list of categories, such as [{ id: cause, options: "
                                "[illness, disability] }]");
    d->categories = tally_definitions__arena_array(d, v->count, sizeof *d->categories);
    if (!d->categories)
        return TALLY_ENOMEM;
    for (size_t k = v->child; k != TALLY_NONE; k = tally_yaml__node(&l->tree, k)->next) {
        int rc = parse_category(l, tally_yaml__node(&l->tree, k), d->category_count);
        if (rc)
            return rc;
        d->category_count++;
    }
    return 0;
}

long tally_definitions__find_category(const tally_definitions *d, const char *s, size_t len)
{
    for (size_t c = 0; d && c < d->category_count; c++)
        if (same(d->categories[c].id, d->categories[c].id_len, s, len))
            return (long)c;
    return -1;
}

long tally_definitions__find_option(const tally_definitions *d, size_t c, const char *s,
                                    size_t len)
{
    const tally_definitions__category *k = &d->categories[c];
    for (size_t o = 0; o < k->option_count; o++)
        if (strlen(k->option_id[o]) == len && memcmp(k->option_id[o], s, len) == 0)
            return (long)o;
    return -1;
}

/* ------------------------------------------------------------------ */
/* `by:` and the slots                                                 */

int tally_definitions__parse_by(tally_definitions__loader *l, const tally_yaml_node *v,
                                tally_definitions__indicator *x)
{
    const tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_SEQUENCE || v->count == 0)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a non-empty list of category ids, such as [cause]");
    if (v->count > TALLY_DEFINITIONS__MAX_BY)
        return tally_yaml__fail(&l->tree, TALLY_ELIMIT, v,
                                "%zu categories; expected at most %d", v->count,
                                TALLY_DEFINITIONS__MAX_BY);
    size_t slots = 1;
    for (size_t k = v->child; k != TALLY_NONE; k = tally_yaml__node(&l->tree, k)->next) {
        const tally_yaml_node *item = tally_yaml__node(&l->tree, k);
        if (item->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(item))
            return tally_yaml__fail(&l->tree, TALLY_EPARSE, item, "expected a category id");
        long c = tally_definitions__find_category(d, item->text, item->len);
        if (c < 0) {
            char list[512] = "";
            size_t used = 0;
            for (size_t j = 0; j < d->category_count && used < sizeof list; j++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                         d->categories[j].id);
            return tally_yaml__fail(&l->tree, TALLY_ENOTFOUND, item,
                                    "unknown category '%.*s'; expected %s%s",
                                    tally_yaml__shown(item->text, item->len), item->text,
                                    d->category_count ? "one of " : "a category declared in "
                                                                    "'categories:'",
                                    list);
        }
        for (size_t j = 0; j < x->by_count; j++)
            if (x->by[j] == (size_t)c)
                return tally_yaml__fail(&l->tree, TALLY_EEXIST, item,
                                        "category '%s' given twice in 'by'; expected distinct "
                                        "categories",
                                        d->categories[c].id);
        x->by[x->by_count++] = (size_t)c;
        slots *= d->categories[c].option_count + 1;
        if (slots - 1 > TALLY_DEFINITIONS__MAX_SLOTS)
            return tally_yaml__fail(&l->tree, TALLY_ELIMIT, v,
                                    "more than %d option combinations; expected fewer",
                                    TALLY_DEFINITIONS__MAX_SLOTS);
    }
    x->slot_count = slots - 1;
    return 0;
}

size_t tally_definitions__slots_needed(const tally_definitions__loader *l,
                                       const tally_yaml_node *v)
{
    const tally_definitions *d = l->d;
    size_t total = 0;
    if (!d->category_count || v->kind != TALLY_YAML_SEQUENCE)
        return 0;
    for (size_t c = v->child; c != TALLY_NONE; c = tally_yaml__node(&l->tree, c)->next) {
        const tally_yaml_node *m = tally_yaml__node(&l->tree, c);
        if (m->kind != TALLY_YAML_MAPPING)
            continue;
        for (size_t k = m->child; k != TALLY_NONE;
             k = tally_yaml__node(&l->tree, tally_yaml__node(&l->tree, k)->next)->next) {
            const tally_yaml_node *key = tally_yaml__node(&l->tree, k),
                                  *by = tally_yaml__node(&l->tree, key->next);
            if (!tally_yaml__key_is(key, "by") || by->kind != TALLY_YAML_SEQUENCE)
                continue;
            size_t slots = 1, n = 0;
            for (size_t b = by->child; b != TALLY_NONE && n < TALLY_DEFINITIONS__MAX_BY;
                 b = tally_yaml__node(&l->tree, b)->next, n++) {
                const tally_yaml_node *item = tally_yaml__node(&l->tree, b);
                long cat = item->kind == TALLY_YAML_SCALAR
                               ? tally_definitions__find_category(d, item->text, item->len)
                               : -1;
                if (cat >= 0)
                    slots *= d->categories[cat].option_count + 1;
                if (slots > TALLY_DEFINITIONS__MAX_SLOTS + 1)
                    slots = TALLY_DEFINITIONS__MAX_SLOTS + 1;
            }
            total += slots - 1;
        }
    }
    return total;
}

/* The option combination of slot number m (0: the total) of x. */
static void options_of(const tally_definitions *d, const tally_definitions__indicator *x, size_t m,
                       int *opt)
{
    for (size_t j = 0; j < x->by_count; j++) {
        size_t radix = d->categories[x->by[j]].option_count + 1;
        opt[j] = (int)(m % radix) - 1;
        m /= radix;
    }
}

static size_t slot_number(const tally_definitions *d, const tally_definitions__indicator *x,
                          const int *opt)
{
    size_t m = 0, stride = 1;
    for (size_t j = 0; j < x->by_count; j++) {
        m += (size_t)(opt[j] + 1) * stride;
        stride *= d->categories[x->by[j]].option_count + 1;
    }
    return m;
}

/* "base[cat=opt,...]" (the options that are not totals), or the name with
 * the option names "建档立卡贫困人口（因病，女）"; malloc'd. */
static char *slot_text(const tally_definitions *d, const tally_definitions__indicator *x,
                       const int *opt, int names)
{
    size_t len = strlen(names ? x->name : x->id) + 8;
    for (size_t j = 0; j < x->by_count; j++) {
        const tally_definitions__category *c = &d->categories[x->by[j]];
        if (opt[j] >= 0)
            len += strlen(c->id) + strlen(names ? c->option_name[opt[j]] : c->option_id[opt[j]]) +
                   4;
    }
    char *s = malloc(len);
    if (!s)
        return NULL;
    size_t used = (size_t)snprintf(s, len, "%s%s", names ? x->name : x->id, names ? "（" : "[");
    int first = 1;
    for (size_t j = 0; j < x->by_count; j++) {
        const tally_definitions__category *c = &d->categories[x->by[j]];
        if (opt[j] < 0)
            continue;
        if (names)
            used += (size_t)snprintf(s + used, len - used, "%s%s", first ? "" : "，",
                                     c->option_name[opt[j]]);
        else
            used += (size_t)snprintf(s + used, len - used, "%s%s=%s", first ? "" : ",", c->id,
                                     c->option_id[opt[j]]);
        first = 0;
    }
    snprintf(s + used, len - used, "%s", names ? "）" : "]");
    return s;
}

int tally_definitions__expand(tally_definitions__loader *l, size_t i)
{
    tally_definitions *d = l->d;
    const tally_definitions__indicator *x = &d->ind[i];
    for (size_t m = 1; m <= x->slot_count; m++) {
        size_t s = d->count++;
        tally_definitions__indicator *y = &d->ind[s];
        x = &d->ind[i];
        l->formula_node[s] = TALLY_NONE;
        *y = *x;
        y->base_plus1 = i + 1;
        y->slot_count = 0;
        y->thresholds = NULL;
        y->threshold_count = 0;
        options_of(d, x, m, y->opt);
        y->id = slot_text(d, x, y->opt, 0);
        y->name = slot_text(d, x, y->opt, 1);
        y->unit = tally_util__strndup(x->unit, strlen(x->unit));
        if (!y->id || !y->name || !y->unit)
            return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
        y->id_len = strlen(y->id);
        y->hash = tally_util__hash_bytes(y->id, y->id_len);
        size_t t = (size_t)y->hash & d->mask;
        while (d->table[t])
            t = (t + 1) & d->mask;
        d->table[t] = s + 1;
    }
    for (size_t j = 0; j < TALLY_DEFINITIONS__MAX_BY; j++)
        d->ind[i].opt[j] = -1;
    return 0;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

static void trim(const char **s, size_t *len)
{
    while (*len && is_space(**s))
        (*s)++, (*len)--;
    while (*len && is_space((*s)[*len - 1]))
        (*len)--;
}

long tally_definitions__resolve_slot(const tally_definitions *d, const char *name, size_t len)
{
    const char *open = memchr(name, '[', len);
    if (!open || name[len - 1] != ']')
        return -1;
    const char *b = name;
    size_t blen = (size_t)(open - name);
    trim(&b, &blen);
    if (memchr(b, '[', blen))
        return -1;
    long base = tally_definitions__resolve((void *)d, b, blen);
    if (base < 0 || d->ind[base].base_plus1)
        return -1;
    const tally_definitions__indicator *x = &d->ind[base];
    int opt[TALLY_DEFINITIONS__MAX_BY], seen[TALLY_DEFINITIONS__MAX_BY] = { 0 };
    for (size_t j = 0; j < TALLY_DEFINITIONS__MAX_BY; j++)
        opt[j] = -1;
    const char *p = open + 1, *end = name + len - 1;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (!eq)
            return -1;
        const char *k = p, *v = eq + 1;
        size_t klen = (size_t)(eq - p), vlen = (size_t)(stop - v);
        trim(&k, &klen);
        trim(&v, &vlen);
        long c = tally_definitions__find_category(d, k, klen);
        long j = c < 0 ? -1 : tally_definitions__by_position(d, (size_t)base, (size_t)c);
        if (j < 0 || seen[j])
            return -1;
        seen[j] = 1;
        if (!(vlen == 1 && v[0] == '*')) {
            long o = tally_definitions__find_option(d, (size_t)c, v, vlen);
            if (o < 0)
                return -1;
            opt[j] = (int)o;
        }
        p = stop + 1;
    }
    return base + (long)slot_number(d, x, opt);
}

/* ------------------------------------------------------------------ */
/* Implicit checks                                                     */

/* Appends a rule check with id `id` and rule `text` to c[*n]. */
static int add_rule(tally_definitions__loader *l, tally_check_def *c, size_t *n, const char *id,
                    const char *text, const tally_definitions__indicator *x)
{
    tally_definitions *d = l->d;
    tally_check_def *k = &c[*n];
    memset(k, 0, sizeof *k);
    k->id = tally_definitions__arena_strndup(d, id, strlen(id));
    k->rule_text = tally_definitions__arena_strndup(d, text, strlen(text));
    if (!k->id || !k->rule_text)
        return TALLY_ENOMEM;
    k->kind = TALLY_CHECK_RULE;
    k->severity = TALLY_SEVERITY_ERROR;
    k->threshold = NAN;
    k->jump_max_ratio = NAN;
    k->line = x->line;
    k->column = x->column;
    size_t off = 0;
    tally_expr *e = NULL;
    int rc = tally_expr__compile(&e, k->rule_text, strlen(k->rule_text),
                                 tally_definitions__resolve, d, &off);
    if (rc)
        return tally_error__set_at(rc, l->tree.path, x->line, x->column, NULL, 0,
                                   "the check of '%s' does not compile: %s", id,
                                   tally_error__reason());
    k->rule = e;
    (*n)++;
    return 0;
}

int tally_definitions__category_checks(tally_definitions__loader *l)
{
    tally_definitions *d = l->d;
    size_t extra = 0;
    for (size_t i = 0; i < d->count; i++) {
        const tally_definitions__indicator *x = &d->ind[i];
        for (size_t j = 0; j < x->by_count && !x->base_plus1; j++) {
            const tally_definitions__category *c = &d->categories[x->by[j]];
            extra += c->exclusive ? 1 : c->option_count;
        }
    }
    if (!extra)
        return 0;
    tally_check_def *checks =
        tally_definitions__arena_array(d, d->check_count + extra, sizeof *checks);
    if (!checks)
        return TALLY_ENOMEM;
    if (d->check_count)
        memcpy(checks, d->checks, d->check_count * sizeof *checks);
    size_t n = d->check_count;
    int rc = 0;
    /* Only the totals of the other categories: the cross-classified cells
     * are checked through the margins' own rules where they are reported. */
    for (size_t i = 0; i < d->count && !rc; i++) {
        const tally_definitions__indicator *x = &d->ind[i];
        if (x->base_plus1)
            continue;
        for (size_t j = 0; j < x->by_count && !rc; j++) {
            const tally_definitions__category *c = &d->categories[x->by[j]];
            char id[256];
            snprintf(id, sizeof id, "%s_by_%s", x->id, c->id);
            size_t len = strlen(x->id) + 16;
            for (size_t o = 0; o < c->option_count; o++)
                len += strlen(x->id) + strlen(c->id) + strlen(c->option_id[o]) + 8;
            char *text = malloc(len);
            if (!text)
                return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
            if (c->exclusive) {
                size_t used = (size_t)snprintf(text, len, "%s ==", x->id);
                for (size_t o = 0; o < c->option_count; o++)
                    used += (size_t)snprintf(text + used, len - used, "%s %s[%s=%s]",
                                             o ? " +" : "", x->id, c->id, c->option_id[o]);
                rc = add_rule(l, checks, &n, id, text, x);
            } else {
                for (size_t o = 0; o < c->option_count && !rc; o++) {
                    snprintf(id, sizeof id, "%s_by_%s_%s", x->id, c->id, c->option_id[o]);
                    snprintf(text, len, "%s[%s=%s] <= %s", x->id, c->id, c->option_id[o], x->id);
                    rc = add_rule(l, checks, &n, id, text, x);
                }
            }
            free(text);
        }
    }
    d->checks = checks;
    d->check_count = n;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */

size_t tally_definitions__base(const tally_definitions *d, size_t i)
{
    return d->ind[i].base_plus1 ? d->ind[i].base_plus1 - 1 : i;
}

size_t tally_definitions__by_count(const tally_definitions *d, size_t i)
{
    return d->ind[tally_definitions__base(d, i)].by_count;
}

size_t tally_definitions__by(const tally_definitions *d, size_t i, size_t j)
{
    return d->ind[tally_definitions__base(d, i)].by[j];
}

int tally_definitions__slot_option(const tally_definitions *d, size_t i, size_t j)
{
    return d->ind[i].base_plus1 ? d->ind[i].opt[j] : -1;
}

size_t tally_definitions__slot_at(const tally_definitions *d, size_t base, const int *opt)
{
    return base + slot_number(d, &d->ind[base], opt);
}

long tally_definitions__by_position(const tally_definitions *d, size_t i, size_t c)
{
    const tally_definitions__indicator *x = &d->ind[tally_definitions__base(d, i)];
    for (size_t j = 0; j < x->by_count; j++)
        if (x->by[j] == c)
            return (long)j;
    return -1;
}

TALLY_EXTERN(size_t) tally_definitions_category_count(const tally_definitions *d)
{
    return d ? d->category_count : 0;
}

static const tally_definitions__category *category(const tally_definitions *d, size_t c)
{
    return d && c < d->category_count ? &d->categories[c] : NULL;
}

TALLY_EXTERN(const char *) tally_definitions_category_id(const tally_definitions *d, size_t c)
{
    const tally_definitions__category *k = category(d, c);
    return k ? k->id : NULL;
}

TALLY_EXTERN(const char *) tally_definitions_category_name(const tally_definitions *d, size_t c)
{
    const tally_definitions__category *k = category(d, c);
    return k ? k->name : NULL;
}

TALLY_EXTERN(int) tally_definitions_category_exclusive(const tally_definitions *d, size_t c)
{
    const tally_definitions__category *k = category(d, c);
    return k ? k->exclusive : -1;
}

TALLY_EXTERN(size_t) tally_definitions_option_count(const tally_definitions *d, size_t c)
{
    const tally_definitions__category *k = category(d, c);
    return k ? k->option_count : 0;
}

TALLY_EXTERN(const char *) tally_definitions_option_id(const tally_definitions *d, size_t c,
                                                       size_t o)
{
    const tally_definitions__category *k = category(d, c);
    return k && o < k->option_count ? k->option_id[o] : NULL;
}

TALLY_EXTERN(const char *) tally_definitions_option_name(const tally_definitions *d, size_t c,
                                                         size_t o)
{
    const tally_definitions__category *k = category(d, c);
    return k && o < k->option_count ? k->option_name[o] : NULL;
}

TALLY_EXTERN(size_t) tally_definitions_base(const tally_definitions *d, size_t i)
{
    return d && i < d->count ? tally_definitions__base(d, i) : TALLY_NONE;
}

TALLY_EXTERN(int) tally_definitions_option(const tally_definitions *d, size_t i, size_t c)
{
    if (!d || i >= d->count || c >= d->category_count)
        return -2;
    long j = tally_definitions__by_position(d, i, c);
    return j < 0 ? -1 : tally_definitions__slot_option(d, i, (size_t)j);
}

TALLY_EXTERN(int) tally_definitions_slot(const tally_definitions *d, size_t base, size_t c,
                                         int option, size_t *index)
{
    if (index)
        *index = TALLY_NONE;
    if (!d || !index || base >= d->count || d->ind[base].base_plus1 || c >= d->category_count ||
        option < -1 || (option >= 0 && (size_t)option >= d->categories[c].option_count))
        return tally_error__set(TALLY_EINVAL, "tally_definitions_slot: an argument is out of "
                                              "range; expected a declared indicator, a category "
                                              "and one of its options (or -1)");
    long j = tally_definitions__by_position(d, base, c);
    if (j < 0)
        return tally_error__set(TALLY_ENOTFOUND,
                                "indicator '%s' is not broken down by category '%s'; expected "
                                "'%s' in its 'by'",
                                d->ind[base].id, d->categories[c].id, d->categories[c].id);
    int opt[TALLY_DEFINITIONS__MAX_BY] = { -1, -1, -1, -1 };
    opt[j] = option;
    *index = tally_definitions__slot_at(d, base, opt);
    return 0;
}
