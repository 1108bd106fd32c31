/* Indicator definitions: the `checks:` section (see definitions.h for its
 * form). Each check is read into a tally_check_def in the definitions'
 * arena; a rule is compiled over indicator indices here, so a mistake in it
 * is reported at its place in the file.
 *
 * SPDX-License-Identifier: MIT
 */
#include "definitions_loader.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util.h"
#include "yaml_tree.h"

/* A non-empty list of distinct indicator ids for check key `key`; only
 * reported (not formula) indicators when `reported_only`. */
static int parse_id_list(tally_definitions__loader *l, const tally_yaml_node *v, const char *key,
                         int reported_only, tally_check_def *c)
{
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a list of indicator ids for '%s'", key);
    if (v->count == 0)
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, v,
                                "an empty list for '%s'; expected at least one "
                                "indicator id",
                                key);
    size_t *ids = tally_definitions__arena_array(l->d, v->count, sizeof *ids);
    if (!ids)
        return TALLY_ENOMEM;
    c->indicators = ids;
    l->list++;
    for (size_t k = v->child; k != TALLY_NONE; k = tally_yaml__node(&l->tree, k)->next) {
        const tally_yaml_node *item = tally_yaml__node(&l->tree, k);
        size_t i;
        int rc = tally_definitions__get_indicator(l, item, &i);
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

static int parse_tolerance(const tally_definitions__loader *l, const tally_yaml_node *v,
                           tally_check_def *c)
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

static int parse_jump(const tally_definitions__loader *l, const tally_yaml_node *v,
                      tally_check_def *c)
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

static int parse_rule(tally_definitions__loader *l, const tally_yaml_node *v, tally_check_def *c)
{
    if (v->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(v))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "expected a rule, such as poor <= population");
    if (memchr(v->text, '\0', v->len))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                "a NUL character; expected a rule without NUL");
    if (!(c->rule_text = tally_definitions__arena_strndup(l->d, v->text, v->len)))
        return TALLY_ENOMEM;
    tally_expr *e = NULL;
    size_t off = 0;
    /* Every indicator is defined by now: prev(x) and lag(x, n) read x of
     * an earlier period as x + n * (the number of indicators). */
    long stride = (long)tally_definitions_indicator_count(l->d);
    int rc = tally_expr__compile_lagged(&e, v->text, v->len, tally_definitions__resolve, l->d,
                                        stride ? stride : 1, &off);
    if (rc == TALLY_ENOMEM)
        return rc;
    if (rc)
        return tally_definitions__expr_error(l, rc, v, v->text, v->len, off, "rule");
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
static int insert_check_id(tally_definitions__loader *l, size_t i, const tally_yaml_node *v)
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

static int parse_check(tally_definitions__loader *l, const tally_yaml_node *m, size_t i)
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
            rc = tally_definitions__check_id(l, v);
            if (rc)
                return rc;
            if (!(c->id = tally_definitions__arena_strndup(l->d, v->text, v->len)))
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
        case C_LEVEL: rc = tally_definitions__get_level(l, v, &c->level, &level); break;
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

int tally_definitions__parse_checks(tally_definitions__loader *l, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "expected a list of checks");
    d->checks = tally_definitions__arena_array(d, v->count, sizeof *d->checks);
    if (!d->checks)
        return TALLY_ENOMEM;
    l->seen = calloc(d->count, sizeof *l->seen);
    l->seen_line = calloc(d->count, sizeof *l->seen_line);
    if (!l->seen || !l->seen_line)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    int rc = tally_definitions__new_table(v->count, &l->check_table, &l->check_mask);
    for (size_t k = v->child; k != TALLY_NONE && !rc; k = tally_yaml__node(&l->tree, k)->next) {
        /* Counted before parsing: tally_definitions_free frees the rule of
         * a check that fails after its rule compiled. */
        rc = parse_check(l, tally_yaml__node(&l->tree, k), d->check_count++);
    }
    return rc;
}
