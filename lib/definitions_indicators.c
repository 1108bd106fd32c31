/* Indicator definitions: the `indicators:` list (each indicator's keys and
 * its `thresholds:`) and the formulas (compiled over indicator indices and
 * put in dependency order), with the helpers the checks share for naming
 * an indicator and placing a formula's error in the file.
 *
 * SPDX-License-Identifier: MIT
 */
#include "definitions_loader.h"
#include "definitions_categories.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util.h"
#include "yaml_tree.h"

/* ------------------------------------------------------------------ */
/* Thresholds                                                          */

enum { T_LEVEL, T_MAX, T_MIN, T_INCLUSIVE, T_OVERRIDES, T_COUNT };
static const char *const threshold_keys[T_COUNT] = { "level", "max", "min", "inclusive",
                                                     "overrides" };
enum { O_REGIONS, O_MAX, O_MIN, O_COUNT };
static const char *const override_keys[O_COUNT] = { "regions", "max", "min" };

/* Region code prefixes: a non-empty list of non-empty strings of digits. */
static int parse_prefixes(tally_definitions__loader *l, const tally_yaml_node *v,
                          tally_threshold_override *o)
{
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, v,
            "expected a list of region code prefixes, such as [\"51\", \"52\"]");
    if (v->count == 0)
        return tally_yaml__fail(
            &l->tree, TALLY_EINVAL, v,
            "an empty list of regions; expected at least one region code prefix");
    const char **prefixes = tally_definitions__arena_array(l->d, v->count, sizeof *prefixes);
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
        if (!(prefixes[o->prefix_count++] =
                  tally_definitions__arena_strndup(l->d, item->text, item->len)))
            return TALLY_ENOMEM;
    }
    o->prefixes = prefixes;
    return 0;
}

/* Exactly one of 'max' / 'min' among the keys of mapping m (`what` names
 * it): *is_max says which. */
static int one_side(const tally_definitions__loader *l, const tally_yaml_node *m, const char *what,
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

static int parse_override(tally_definitions__loader *l, const tally_yaml_node *m,
                          const tally_threshold *t, tally_threshold_override *o)
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
static int parse_threshold(tally_definitions__loader *l, const tally_yaml_node *m,
                           tally_threshold *t, unsigned long *first_line)
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
    rc = tally_definitions__get_level(l, value_of[T_LEVEL], &t->level, &level);
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
    tally_threshold_override *o = tally_definitions__arena_array(l->d, v->count, sizeof *o);
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

static int parse_thresholds(tally_definitions__loader *l, const tally_yaml_node *v,
                            tally_definitions__indicator *x)
{
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(
            &l->tree, TALLY_EPARSE, v,
            "expected a list of thresholds, such as [{ level: county, max: 2.0 }]");
    unsigned long first_line[TALLY_DEFINITIONS_MAX_LEVELS] = { 0 };
    tally_threshold *t = tally_definitions__arena_array(l->d, v->count, sizeof *t);
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

static int get_decimals(const tally_definitions__loader *l, const tally_yaml_node *v, int *out)
{
    static const char expected[] = N_("expected an integer from 0 to 15");
    if (!tally_yaml__is_plain(v))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "%s", tally_error__tr(expected));
    const char *s = v->text;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i++;
    }
    if (i == v->len)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "%s", tally_error__tr(expected));
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

/* stale_after: a whole number of months, 0 to 1200. */
static int get_stale_after(const tally_definitions__loader *l, const tally_yaml_node *v, int *out)
{
    double x;
    int rc = tally_yaml__get_number(&l->tree, v, "stale_after", &x);
    if (rc)
        return rc;
    if (!(x >= 0 && x <= 1200) || x != floor(x))
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, v,
                                "stale_after %.*s is not a whole number of months; expected 0 "
                                "to 1200",
                                tally_yaml__shown(v->text, v->len), v->text);
    *out = (int)x;
    return 0;
}

enum {
    K_ID, K_NAME, K_UNIT, K_AGGREGATE, K_OVER_TIME, K_DECIMALS, K_DIRECTION, K_EXACT,
    K_FORMULA, K_MIN, K_MAX, K_THRESHOLDS, K_STALE_AFTER, K_DERIVE, K_OF, K_BY, K_COUNT
};
static const char *const indicator_keys[K_COUNT] = {
    "id", "name", "unit", "aggregate", "over_time", "decimals", "direction", "exact",
    "formula", "min", "max", "thresholds", "stale_after", "derive", "of", "by"
};
static const char *const derive_words[] = { "increment" };
static const char *const aggregate_words[] = { "sum", "mean", "min", "max", "count" };
static const char *const over_time_words[] = { "flow", "cumulative", "stock" };
static const char *const direction_words[] = { "higher_is_better", "lower_is_better" };

/* Words an id may not be: the formula language would read them as
 * operators or function calls. */
static const char *const reserved_words[] = { "and", "or", "not", "abs", "min", "max", "round",
                                              "pow", "sqrt", "ln", "exp", "if", "is_missing",
                                              "coalesce" };

int tally_definitions__check_id(const tally_definitions__loader *l, const tally_yaml_node *v)
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
static int insert_id(const tally_definitions__loader *l, size_t i, const tally_yaml_node *id_node)
{
    tally_definitions *d = l->d;
    tally_definitions__indicator *x = &d->ind[i];
    x->hash = tally_util__hash_bytes(x->id, x->id_len);
    size_t s = (size_t)x->hash & d->mask;
    for (; d->table[s]; s = (s + 1) & d->mask) {
        const tally_definitions__indicator *y = &d->ind[d->table[s] - 1];
        if (y->hash == x->hash && y->id_len == x->id_len && memcmp(y->id, x->id, x->id_len) == 0)
            return tally_yaml__fail(
                &l->tree, TALLY_EEXIST, id_node,
                "indicator id '%s' given twice (first at line %lu); expected unique ids", x->id,
                y->line);
    }
    d->table[s] = i + 1;
    return 0;
}

static int parse_indicator(tally_definitions__loader *l, const tally_yaml_node *m, size_t i)
{
    tally_definitions__indicator *x = &l->d->ind[i];
    x->min = x->max = NAN;
    x->stale_after = -1;
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
                "over_time, decimals, direction, exact, formula, min, max, thresholds, "
                "stale_after, derive, of, by",
                tally_yaml__shown(key->text, key->len), key->text,
                tally_yaml__suggest(key, indicator_keys, K_COUNT, hint, sizeof hint));
        }
        key_of[which] = key;
        value_of[which] = v;
        switch (which) {
        case K_ID:
            rc = tally_definitions__get_string(l, v, "an indicator id", &x->id);
            if (!rc)
                rc = tally_definitions__check_id(l, v);
            x->id_len = v->len;
            x->line = v->line;
            x->column = v->column;
            break;
        case K_NAME: rc = tally_definitions__get_string(l, v, "a display name", &x->name); break;
        case K_UNIT:
            rc = tally_definitions__get_string(l, v, "a unit (\"\" for none)", &x->unit);
            break;
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
            rc = tally_definitions__get_string(l, v, "a formula", &x->formula);
            x->formula_len = v->len;
            l->formula_node[i] = key->next;
            break;
        case K_MIN: rc = tally_yaml__get_number(&l->tree, v, "min", &x->min); break;
        case K_MAX: rc = tally_yaml__get_number(&l->tree, v, "max", &x->max); break;
        case K_THRESHOLDS: rc = parse_thresholds(l, v, x); break;
        case K_STALE_AFTER: rc = get_stale_after(l, v, &x->stale_after); break;
        case K_DERIVE: {
            int which_derive = 0;
            rc = tally_yaml__get_word(&l->tree, v, "derive", derive_words, 1, &which_derive);
            break;
        }
        case K_BY: rc = tally_definitions__parse_by(l, v, x); break;
        case K_OF:
            if (v->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(v))
                rc = tally_yaml__fail(&l->tree, TALLY_EPARSE, v,
                                      "expected the id of a cumulative indicator");
            break;
        }
        if (rc)
            return rc;
    }

    if (!value_of[K_ID])
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "an indicator without 'id'; expected an 'id' key");
    if (!!value_of[K_DERIVE] != !!value_of[K_OF])
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, m,
                                "'%s' without '%s'; expected derive: increment with of: and "
                                "the id of a cumulative indicator",
                                value_of[K_DERIVE] ? "derive" : "of",
                                value_of[K_DERIVE] ? "of" : "derive");
    if (value_of[K_DERIVE]) {
        static const int clash[] = { K_FORMULA, K_AGGREGATE, K_OVER_TIME, K_STALE_AFTER };
        for (size_t k = 0; k < sizeof clash / sizeof *clash; k++)
            if (key_of[clash[k]])
                return tally_yaml__fail(&l->tree, TALLY_EINVAL, key_of[clash[k]],
                                        "a derived indicator takes its aggregation and time "
                                        "rule from the indicator it derives from; remove '%s'",
                                        key_of[clash[k]]->text);
        /* `of` is resolved once every indicator is read: keep its node. */
        l->formula_node[i] = key_of[K_OF]->next;
        x->derive_of = (size_t)-1;
        x->over_time = TALLY_OVER_TIME_FLOW;
    }
    if (key_of[K_BY] && (x->formula || x->derive_of))
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, key_of[K_BY],
                                "'by' on a %s indicator; expected it on a reported indicator "
                                "(a formula reads options as x[cause=illness])",
                                x->derive_of ? "derived" : "formula");
    if (x->formula && !x->derive_of) {
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

    if (value_of[K_STALE_AFTER] && ((x->formula && !x->derive_of) || x->over_time == TALLY_OVER_TIME_FLOW))
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, key_of[K_STALE_AFTER],
                                "stale_after applies to a level carried forward; expected "
                                "'over_time: stock' or 'over_time: cumulative' with it");
    if (!x->name && !(x->name = tally_util__strndup(x->id, x->id_len)))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    if (!x->unit && !(x->unit = tally_util__strndup("", 0)))
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    if (!value_of[K_DECIMALS])
        x->decimals = x->formula ? 2 : 0;
    if (!value_of[K_EXACT])
        x->exact = x->decimals == 0 && !x->formula;
    /* Only a written `exact: true` refuses fractions: the default
     * exactness of decimals 0 is about printing, and data that never said
     * its values were counts keep being read as before. */
    x->whole = value_of[K_EXACT] && x->exact && x->decimals == 0 && !x->formula;
    if (x->formula) {
        x->aggregate = TALLY_AGGREGATE_FORMULA;
        /* Reported values of a formula indicator (a rate filed by a county)
         * are levels, not increments: a longer period takes the latest. */
        x->over_time = TALLY_OVER_TIME_STOCK;
    }
    return insert_id(l, i, value_of[K_ID]);
}

int tally_definitions__parse_indicators(tally_definitions__loader *l, const tally_yaml_node *v)
{
    tally_definitions *d = l->d;
    if (v->kind != TALLY_YAML_SEQUENCE)
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "expected a list of indicators");
    if (v->count == 0)
        return tally_yaml__fail(&l->tree, TALLY_EINVAL, v,
                                "an empty list of indicators; expected at least one");
    /* Room for the slots of the indicators broken down by categories,
     * which follow each such indicator. */
    size_t total = v->count + tally_definitions__slots_needed(l, v);
    size_t cap = 8;
    while (cap < total * 2)
        cap *= 2;
    d->ind = calloc(total, sizeof *d->ind);
    d->table = calloc(cap, sizeof *d->table);
    l->formula_node = malloc(total * sizeof *l->formula_node);
    if (!d->ind || !d->table || !l->formula_node)
        return tally_error__set(TALLY_ENOMEM, "out of memory reading definitions");
    d->mask = cap - 1;
    for (size_t c = v->child; c != TALLY_NONE; c = tally_yaml__node(&l->tree, c)->next) {
        size_t i = d->count++;
        l->formula_node[i] = TALLY_NONE;
        int rc = parse_indicator(l, tally_yaml__node(&l->tree, c), i);
        if (!rc)
            rc = tally_definitions__expand(l, i);
        if (rc)
            return rc;
    }
    /* `derive: increment, of: x`: x must be a cumulative indicator read
     * from the records. The derived one adds up as x does. */
    for (size_t i = 0; i < d->count; i++) {
        tally_definitions__indicator *x = &d->ind[i];
        if (!x->derive_of)
            continue;
        const tally_yaml_node *of = tally_yaml__node(&l->tree, l->formula_node[i]);
        l->formula_node[i] = TALLY_NONE;
        long src = tally_definitions__resolve(d, of->text, of->len);
        if (src < 0)
            return tally_yaml__fail(&l->tree, TALLY_ENOTFOUND, of,
                                    "unknown indicator '%.*s'; expected the id of a cumulative "
                                    "indicator defined in the file",
                                    tally_yaml__shown(of->text, of->len), of->text);
        const tally_definitions__indicator *y = &d->ind[src];
        if (y->formula || y->derive_of || y->over_time != TALLY_OVER_TIME_CUMULATIVE)
            return tally_yaml__fail(&l->tree, TALLY_EINVAL, of,
                                    "'%s' is not a reported cumulative indicator; expected one "
                                    "with 'over_time: cumulative' (a year-to-date figure)",
                                    y->id);
        x->derive_of = (size_t)src + 1;
        x->aggregate = y->aggregate;
    }
    return 0;
}

size_t tally_definitions__derive_of(const tally_definitions *d, size_t i)
{
    return i < d->count && d->ind[i].derive_of ? d->ind[i].derive_of - 1 : TALLY_NONE;
}

/* ------------------------------------------------------------------ */
/* Formulas                                                            */

long tally_definitions__resolve(void *ctx, const char *name, size_t len)
{
    const tally_definitions *d = ctx;
    if (memchr(name, '[', len))
        return tally_definitions__resolve_slot(d, name, len);
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

const char *tally_definitions__suggest_indicator(const tally_definitions__loader *l,
                                                 const char *text, size_t len, char *buf,
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

int tally_definitions__expr_error(const tally_definitions__loader *l, int rc,
                                  const tally_yaml_node *n, const char *src, size_t len, size_t off,
                                  const char *what)
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
        tally_definitions__suggest_indicator(l, src + off, id_len, hint, sizeof hint);
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

int tally_definitions__compile_formulas(tally_definitions__loader *l)
{
    tally_definitions *d = l->d;
    for (size_t i = 0; i < d->count; i++) {
        tally_definitions__indicator *x = &d->ind[i];
        if (!x->formula)
            continue;
        size_t off = 0;
        int rc = tally_expr__compile(&x->program, x->formula, x->formula_len,
                                     tally_definitions__resolve, d, &off);
        if (!rc)
            continue;
        if (rc == TALLY_ENOMEM)
            return rc;
        return tally_definitions__expr_error(l, rc, tally_yaml__node(&l->tree, l->formula_node[i]),
                                             x->formula, x->formula_len, off, "formula");
    }
    return 0;
}

/* Orders formula indicators so each follows the formulas it reads (a
 * depth-first search with an explicit stack: a long chain of formulas must
 * not exhaust the C stack). A cycle is TALLY_ECYCLE at the formula of its
 * member that comes first in the file. */
int tally_definitions__order_formulas(tally_definitions__loader *l)
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
                const tally_definitions__indicator *y =
                    &d->ind[stack[from + (first - from + k) % len]];
                used += (size_t)snprintf(path + used, sizeof path - used, "%s%s",
                                         k ? " -> " : "", y->id);
            }
            const tally_definitions__indicator *y = &d->ind[stack[first]];
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

int tally_definitions__get_indicator(const tally_definitions__loader *l, const tally_yaml_node *v,
                                     size_t *out)
{
    if (v->kind != TALLY_YAML_SCALAR || tally_yaml__is_null(v))
        return tally_yaml__fail(&l->tree, TALLY_EPARSE, v, "expected an indicator id");
    long i = tally_definitions__resolve(l->d, v->text, v->len);
    if (i < 0) {
        char hint[96];
        return tally_yaml__fail(
            &l->tree, TALLY_ENOTFOUND, v,
            "unknown indicator '%.*s'%s; expected an id from "
            "'indicators'",
            tally_yaml__shown(v->text, v->len), v->text,
            tally_definitions__suggest_indicator(l, v->text, v->len, hint, sizeof hint));
    }
    *out = (size_t)i;
    return 0;
}
