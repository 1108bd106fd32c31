/* Internal: a YAML document read into a tree of nodes that keep their place
 * in the source, and the lookups that read it with messages at
 * path:line:column. Knows nothing of what the document is for.
 *
 * Every function that fails records the error (tally_error__set_at, with
 * the tree's path, the node's 1-based line and column and its text) and
 * returns its code. */
#ifndef TALLY_LIB_YAML_TREE_H
#define TALLY_LIB_YAML_TREE_H

#include <stddef.h>

#include "error.h"

/* Nesting deeper than this is refused while the input is read, before it
 * costs memory. */
#define TALLY_YAML_MAX_DEPTH 64

enum { TALLY_YAML_SCALAR, TALLY_YAML_SEQUENCE, TALLY_YAML_MAPPING };

typedef struct tally_yaml_node {
    int kind;
    int style;                  /* yaml_scalar_style_t, for scalars */
    unsigned long line, column; /* 1-based start */
    unsigned long end_line;     /* 1-based line of the end mark */
    char *text;                 /* scalar value, NUL-terminated (owned) */
    size_t len;
    size_t child; /* first child, or TALLY_NONE */
    size_t next;  /* next sibling, or TALLY_NONE */
    size_t count; /* children; a mapping alternates keys and values */
} tally_yaml_node;

typedef struct tally_yaml_tree {
    const char *path; /* for messages */
    const char *src;  /* the source, borrowed; after a BOM */
    size_t size;
    tally_yaml_node *nodes;
    size_t node_count, node_cap;
    size_t root; /* TALLY_NONE for an empty document */
} tally_yaml_tree;

/* Reads the one YAML document in [src, src + size) into *t (whose previous
 * contents are ignored). src (UTF-8, a BOM skipped) and path are borrowed
 * and must outlive t. Aliases and anchors are refused where they are
 * written (TALLY_EPARSE), as are a second document and malformed YAML;
 * nesting deeper than TALLY_YAML_MAX_DEPTH is TALLY_ELIMIT. Free *t with
 * tally_yaml__free whatever this returns. */
int tally_yaml__read(tally_yaml_tree *t, const char *path, const char *src, size_t size);

/* Frees the nodes of t (not t itself). */
void tally_yaml__free(tally_yaml_tree *t);

/* Node i of t (borrowed). */
static inline const tally_yaml_node *tally_yaml__node(const tally_yaml_tree *t, size_t i)
{
    return &t->nodes[i];
}

/* A plain empty, ~ or null scalar. */
int tally_yaml__is_null(const tally_yaml_node *n);

/* A plain (unquoted) scalar: numbers and booleans in quotes are strings in
 * YAML, and accepting them would hide a mistake. */
int tally_yaml__is_plain(const tally_yaml_node *v);

/* A scalar whose text is exactly `name`. */
int tally_yaml__key_is(const tally_yaml_node *k, const char *name);

/* ---- Messages ---- */

/* How many bytes of `text` to quote in a message: at most 60, cut on a
 * character boundary, so a long value does not drown the message. */
int tally_yaml__shown(const char *text, size_t len);

/* Records an error at node n with its text (a scalar's value, or the source
 * line from a collection's start). Returns code. */
int tally_yaml__fail(const tally_yaml_tree *t, int code, const tally_yaml_node *n,
                     const char *fmt, ...) TALLY_PRINTF(4, 5);

/* Levenshtein distance, capped: small inputs only (keys and words). */
size_t tally_yaml__distance(const char *a, size_t na, const char *b, size_t nb);

/* " (did you mean 'x'?)" when one word of `words` is within two edits of
 * n's text, else "". Written into buf. */
const char *tally_yaml__suggest(const tally_yaml_node *n, const char *const *words, size_t count,
                                char *buf, size_t size);

/* "a, b, c" from words, into buf. */
const char *tally_yaml__word_list(const char *const *words, size_t count, char *buf, size_t size);

/* Where byte `off` of scalar n's value is in the file. Exact for plain and
 * block scalars and for quoted scalars on one line; a quoted scalar over
 * several lines gives its start. Linear in the source: for messages. */
void tally_yaml__scalar_position(const tally_yaml_tree *t, const tally_yaml_node *n, size_t off,
                                 unsigned long *line, unsigned long *column);

/* ---- Keys of a mapping ---- */

/* 0 when key k is a non-null scalar, else TALLY_EPARSE. */
int tally_yaml__expect_key(const tally_yaml_tree *t, const tally_yaml_node *k);

/* 0 when no key before `key` in mapping m is the same, else TALLY_EEXIST
 * at `key`, naming the line of the first. The keys before it have all been
 * accepted as known and distinct, so this scan is short whatever the
 * input. */
int tally_yaml__check_duplicate_key(const tally_yaml_tree *t, const tally_yaml_node *m,
                                    const tally_yaml_node *key);

/* Reads the keys of mapping m (`where`, such as "in a check", places it in
 * messages): each must be one of `keys` and given once. value_of[k] /
 * key_of[k] get the nodes of key k, NULL when absent. */
int tally_yaml__read_keys(const tally_yaml_tree *t, const tally_yaml_node *m, const char *where,
                          const char *const *keys, size_t count,
                          const tally_yaml_node **value_of, const tally_yaml_node **key_of);

/* ---- Values ---- */

/* One of `words` (a plain or quoted scalar) for key `key`: *out gets its
 * index. Unknown words are TALLY_EINVAL: the type is right, the value is
 * not acceptable. */
int tally_yaml__get_word(const tally_yaml_tree *t, const tally_yaml_node *v, const char *key,
                         const char *const *words, size_t count, int *out);

/* true / false (YAML 1.2 core booleans, plain). */
int tally_yaml__get_bool(const tally_yaml_tree *t, const tally_yaml_node *v, int *out);

/* A plain finite number for key `key`. */
int tally_yaml__get_number(const tally_yaml_tree *t, const tally_yaml_node *v, const char *key,
                           double *out);

/* A number for `key` that is at least `lower` (more than it when `strict`). */
int tally_yaml__get_number_above(const tally_yaml_tree *t, const tally_yaml_node *v,
                                 const char *key, double lower, int strict, double *out);

#endif
