/* Internal: what the files that read a definitions file share, and nothing
 * the rest of the library needs (that is definitions.h):
 *
 *   definitions.c              the object, its arena, loading, levels,
 *                              poverty lines, targets, the accessors;
 *   definitions_indicators.c   indicators, their thresholds, formulas;
 *   definitions_checks.c       the `checks:` section;
 *   definitions_categories.c   `categories:`, an indicator's `by:` and the
 *                              slots it is expanded into.
 *
 * Each reader takes the loader, records an error at the offending node
 * (tally_yaml__fail) and returns its code; 0 on success. */
#ifndef TALLY_LIB_DEFINITIONS_LOADER_H
#define TALLY_LIB_DEFINITIONS_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "definitions.h"
#include "definitions_categories.h"
#include "yaml_tree.h"

/* ------------------------------------------------------------------ */
/* The definitions object                                              */

/* Categories an indicator may be broken down by at once, and slots (option
 * combinations) one indicator may have. */
#define TALLY_DEFINITIONS__MAX_SLOTS 65535

typedef struct tally_definitions__indicator {
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
    int stale_after; /* months; -1: not given */
    int whole; /* `exact: true` written, decimals 0: a value must be whole */
    double min, max; /* NaN: not given */
    unsigned long line, column; /* of the id value, 1-based */
    tally_expr *program;
    size_t derive_of; /* `derive: increment` of this indicator + 1; 0: not derived */
    tally_threshold *thresholds; /* in the arena */
    size_t threshold_count;
    /* Categories (definitions_categories.c). A declared indicator with
     * `by:` is followed in d->ind by its slots: slot base + m holds the
     * option indices o_j (-1: the total) with m = sum (o_j + 1) * stride_j,
     * stride_0 = 1, stride_j = stride_(j-1) * (options of by_(j-1) + 1). */
    size_t by[TALLY_DEFINITIONS__MAX_BY]; /* category indices, as written */
    size_t by_count;
    size_t slot_count; /* slots after a declared indicator */
    size_t base_plus1; /* a slot: its declared indicator + 1; 0: declared */
    int opt[TALLY_DEFINITIONS__MAX_BY]; /* a slot: option per by_j, -1 total */
} tally_definitions__indicator;

typedef struct tally_definitions__category {
    const char *id, *name; /* in the arena */
    size_t id_len;
    int exclusive;
    const char **option_id, **option_name; /* in the arena */
    size_t option_count;
    unsigned long line;
} tally_definitions__category;

struct tally_definitions {
    char **levels;
    size_t level_count;
    tally_definitions__indicator *ind;
    size_t count;
    /* Open addressing over ids: slot holds index + 1, 0 is empty. The table
     * is at most half full, so a miss ends after a probe or two. */
    size_t *table;
    size_t mask;
    size_t *order; /* formula indicators, dependency order */
    size_t order_count;
    struct tally_definitions__arena_block *arena; /* see definitions.c */
    int *poverty_years; /* with poverty_lines: `poverty: lines:`, file order */
    double *poverty_lines;
    size_t poverty_count;
    double monitoring_line; /* NaN: not given */
    tally_check_def *checks;
    size_t check_count;
    tally_target_def *targets;
    size_t target_count;
    char **ignore_columns; /* `ignore_columns:`, file order */
    size_t ignore_count;
    tally_definitions__category *categories; /* `categories:`, in the arena */
    size_t category_count;
    char *column_headers[5]; /* `columns:`, by tally_columns__records_keys; NULL: not given */
};

/* `count` zeroed elements of `size` bytes from d's arena; NULL (and
 * TALLY_ENOMEM recorded) when memory runs out. Never freed one by one:
 * they live as long as d. */
void *tally_definitions__arena_array(tally_definitions *d, size_t count, size_t size);

/* A NUL-terminated copy of len bytes of s in d's arena; NULL as above. */
char *tally_definitions__arena_strndup(tally_definitions *d, const char *s, size_t len);

/* ------------------------------------------------------------------ */
/* Reading a file                                                      */

typedef struct tally_definitions__loader {
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
} tally_definitions__loader;

/* `columns:` (definitions_columns.c): the header names given to the
 * records columns, at most one each. */
int tally_definitions__parse_columns(tally_definitions__loader *l, const tally_yaml_node *v);

/* ---- Values the sections have in common (definitions.c) ---- */

/* A string value: any non-null scalar (plain `123` is the text "123").
 * *out (malloc'd, freed first) gets a copy; `what` names it in messages. */
int tally_definitions__get_string(const tally_definitions__loader *l, const tally_yaml_node *v,
                                  const char *what, char **out);

/* A level name: one of `levels:`, or of the default levels when the file
 * has none. *out gets the stored name (borrowed from d or static), *index
 * its position. */
int tally_definitions__get_level(const tally_definitions__loader *l, const tally_yaml_node *v,
                                 const char **out, size_t *index);

/* A hash table of `count` * 2 slots or more, for duplicate detection
 * (*table: calloc'd, the caller frees it). */
int tally_definitions__new_table(size_t count, size_t **table, size_t *mask);

/* ---- Indicators and formulas (definitions_indicators.c) ---- */

/* The `indicators:` list, with each indicator's thresholds; fills d->ind,
 * d->table and l->formula_node. */
int tally_definitions__parse_indicators(tally_definitions__loader *l, const tally_yaml_node *v);

/* Compiles every formula (after parse_indicators), and orders the formula
 * indicators so that each follows the formulas it reads (d->order); a cycle
 * is TALLY_ECYCLE. */
int tally_definitions__compile_formulas(tally_definitions__loader *l);
int tally_definitions__order_formulas(tally_definitions__loader *l);

/* An id (of an indicator or a check): ASCII letters, digits and '_', not
 * starting with a digit, and not a word of the formula language. */
int tally_definitions__check_id(const tally_definitions__loader *l, const tally_yaml_node *v);

/* The index of the indicator with id [name, name + len) in the
 * definitions `ctx`, or -1: a tally_expr name resolver. */
long tally_definitions__resolve(void *ctx, const char *name, size_t len);

/* " (did you mean 'x'?)" when an indicator id is within two edits of
 * text, else "". Error path only: a linear scan. */
const char *tally_definitions__suggest_indicator(const tally_definitions__loader *l,
                                                 const char *text, size_t len, char *buf,
                                                 size_t size);

/* Re-raises the expression engine's last error (code rc, at byte `off` of
 * `src`, the value of scalar n) with its place in the file. `what` is
 * "formula" or "rule". */
int tally_definitions__expr_error(const tally_definitions__loader *l, int rc,
                                  const tally_yaml_node *n, const char *src, size_t len,
                                  size_t off, const char *what);

/* An indicator id that must be in the definitions: its index. */
int tally_definitions__get_indicator(const tally_definitions__loader *l, const tally_yaml_node *v,
                                     size_t *out);

/* ---- Categories (definitions_categories.c) ---- */

/* The `categories:` list (before the indicators): fills d->categories. */
int tally_definitions__parse_categories(tally_definitions__loader *l, const tally_yaml_node *v);

/* An indicator's `by:` value: fills x->by. */
int tally_definitions__parse_by(tally_definitions__loader *l, const tally_yaml_node *v,
                                tally_definitions__indicator *x);

/* The slots the `indicators:` list v will need beyond its own entries (an
 * upper bound, read before the list is parsed). */
size_t tally_definitions__slots_needed(const tally_definitions__loader *l,
                                       const tally_yaml_node *v);

/* Appends the slots of declared indicator i (just parsed, the last in
 * d->ind) and puts their ids in the id table. */
int tally_definitions__expand(tally_definitions__loader *l, size_t i);

/* The index of `base[cat=opt,...]` ([name, name + len) holds a '['), or
 * -1: options in any order, `*` for a total. */
long tally_definitions__resolve_slot(const tally_definitions *d, const char *name, size_t len);

/* Appends the implicit checks of the categories: an exclusive category's
 * total equals the sum of its options, a non-exclusive one's options do
 * not exceed the total. After the `checks:` section. */
int tally_definitions__category_checks(tally_definitions__loader *l);

/* ---- Checks (definitions_checks.c) ---- */

/* The `checks:` list (after the indicators and levels): fills d->checks. */
int tally_definitions__parse_checks(tally_definitions__loader *l, const tally_yaml_node *v);

#endif
