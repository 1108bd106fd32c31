/* Administrative hierarchies: the object, its level names and its queries
 * (parents, levels, names, subtree ends), and the memo a finished
 * hierarchy keeps. Loading is in hierarchy_read.c, codes in
 * hierarchy_codes.c, the object's layout in hierarchy_impl.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/hierarchy.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "csv.h"
#include "tally/read.h"
#include "error.h"
#include "hierarchy.h"
#include "hierarchy_impl.h"
#include "tally/error.h"
#include "util.h"

/* ---- the object ---------------------------------------------------------- */

TALLY_EXTERN(void) tally_hierarchy_free(tally_hierarchy *h)
{
    if (!h)
        return;
    if (h->cache_map) {
        /* These point into the cache file's mapping. */
        munmap(h->cache_map, h->cache_map_size);
        h->parent = h->line = h->name_off = h->code_lo = NULL;
        h->level = h->code_hi = NULL;
        h->arena = NULL;
        h->num_slots = NULL;
        h->num_high = NULL;
        h->str_slots = NULL;
    }
    free(h->parent);
    free(h->subtree_end);
    free(h->level);
    free(h->line);
    free(h->name_off);
    free(h->code_lo);
    free(h->code_hi);
    free(h->arena);
    if (h->codes)
        munmap(h->codes, h->codes_size);
    free(h->codes_ready);
    if (h->wide)
        munmap(h->wide, h->wide_size);
    if (h->ends)
        munmap(h->ends, h->ends_size);
    if (h->lock_made)
        pthread_mutex_destroy(&h->lock);
    free(h->num_slots);
    free(h->num_high);
    free(h->str_slots);
    free(h->level_names);
    free(h);
}

/* ---- level names ---------------------------------------------------------- */

static const char *const default_levels[] = { "province", "city", "county", "town", "village" };

int tally_hierarchy__copy_levels(tally_hierarchy *h, const tally_hierarchy_options *opts)
{
    const char *const *names = default_levels;
    size_t count = sizeof default_levels / sizeof default_levels[0];
    /* The definitions' level names, borrowed for the copy below. */
    const char *from_definitions[MAX_LEVELS];
    if (opts) {
        if (opts->version == 0 || opts->version > TALLY_HIERARCHY_OPTIONS_VERSION)
            return tally_error__set(TALLY_EINVAL,
                                    "unsupported hierarchy options version %u; expected %d "
                                    "(start from TALLY_HIERARCHY_OPTIONS_INIT)",
                                    opts->version, TALLY_HIERARCHY_OPTIONS_VERSION);
        /* Only a version 3 struct has the field: an older one ends before
         * it. */
        const tally_definitions *d = opts->version >= 3 ? opts->definitions : NULL;
        if (d && (opts->level_names || opts->level_count))
            return tally_error__set(TALLY_EINVAL,
                                    "both level_names and definitions are given; expected "
                                    "one of them (the definitions' levels, or names of "
                                    "your own)");
        if (d && tally_definitions_level_count(d)) {
            count = tally_definitions_level_count(d);
            if (count > MAX_LEVELS)
                return tally_error__set(TALLY_ELIMIT,
                                        "the definitions declare %zu levels; a hierarchy has "
                                        "at most %d levels",
                                        count, MAX_LEVELS);
            for (size_t i = 0; i < count; i++)
                from_definitions[i] = tally_definitions_level_name(d, i);
            names = from_definitions;
        } else if (opts->level_names) {
            names = opts->level_names;
            count = opts->level_count;
            if (count == 0)
                return tally_error__set(TALLY_EINVAL,
                                        "%zu level names given; expected at least one",
                                        count);
            if (count > MAX_LEVELS)
                return tally_error__set(TALLY_ELIMIT,
                                        "%zu level names given; a hierarchy has at most %d "
                                        "levels",
                                        count, MAX_LEVELS);
        } else if (opts->level_count) {
            return tally_error__set(TALLY_EINVAL,
                                    "level_count is %zu but level_names is NULL; expected "
                                    "both or neither", opts->level_count);
        }
    }
    size_t text = 0;
    for (size_t i = 0; i < count; i++) {
        if (!names[i] || !names[i][0])
            return tally_error__set(TALLY_EINVAL, "level name %zu is %s; expected a name",
                                    i + 1, names[i] ? "empty" : "NULL");
        size_t len = strlen(names[i]);
        if (!tally_util__utf8_valid(names[i], len))
            return tally_error__set(TALLY_EINVAL, "level name %zu is not valid UTF-8", i + 1);
        for (size_t k = 0; k < i; k++)
            if (strcmp(names[k], names[i]) == 0)
                return tally_error__set(TALLY_EINVAL,
                                        "level name '%s' is given twice; expected distinct "
                                        "names", names[i]);
        text += len + 1;
    }
    size_t head = count * (sizeof(char *) + sizeof(size_t));
    char *block = malloc(head + text);
    if (!block)
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    h->level_names = (char **)(void *)block;
    h->level_lens = (size_t *)(void *)(block + count * sizeof(char *));
    char *p = block + head;
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(names[i]);
        memcpy(p, names[i], len + 1);
        h->level_names[i] = p;
        h->level_lens[i] = len;
        p += len + 1;
    }
    h->level_count = count;
    return 0;
}

/* "province, city, ..." for messages, shortened to fit. */
void tally_hierarchy__level_list(const tally_hierarchy *h, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < h->level_count; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", h->level_names[i]);
        if (n < 0 || (size_t)n >= size - used) {
            if (size >= 4)
                memcpy(buf + size - 4, "...", 4);
            return;
        }
        used += (size_t)n;
    }
}

/* ---- queries -------------------------------------------------------------- */

TALLY_EXTERN(size_t) tally_hierarchy_size(const tally_hierarchy *h) { return h ? h->n : 0; }

TALLY_EXTERN(const char *) tally_hierarchy_detected_encoding(const tally_hierarchy *h)
{
    return h ? h->detected_encoding : NULL;
}

TALLY_EXTERN(const char *) tally_hierarchy_name(const tally_hierarchy *h, size_t i)
{
    return h && i < h->n ? h->arena + h->name_off[i] : NULL;
}

TALLY_EXTERN(int) tally_hierarchy_level(const tally_hierarchy *h, size_t i)
{
    return h && i < h->n ? (int)h->level[i] : -1;
}

TALLY_EXTERN(size_t) tally_hierarchy_parent(const tally_hierarchy *h, size_t i)
{
    return h && i < h->n && h->parent[i] != NO_PARENT ? h->parent[i] : TALLY_NONE;
}

/* Runs fill(m) once per hierarchy, under the lock, then raises *ready
 * (release): a thread that sees it raised (acquire) sees what fill wrote.
 * The fields written were reserved writable at load, so writing through
 * a cast-away const is well defined. */
static void write_once(const tally_hierarchy *h, atomic_int *ready,
                       void (*fill)(tally_hierarchy *m))
{
    tally_hierarchy *m = (tally_hierarchy *)h;
    if (atomic_load_explicit(ready, memory_order_acquire))
        return;
    pthread_mutex_lock(&m->lock);
    if (!atomic_load_explicit(ready, memory_order_relaxed)) {
        fill(m);
        atomic_store_explicit(ready, 1, memory_order_release);
    }
    pthread_mutex_unlock(&m->lock);
}

/* Children follow their parent in pre-order, so one backward pass
 * carries each subtree's end up to its parent. */
static void fill_ends(tally_hierarchy *m)
{
    uint32_t *e = m->ends;
    for (size_t i = 0; i < m->n; i++)
        e[i] = (uint32_t)(i + 1);
    for (size_t i = m->n; i-- > 0;) {
        uint32_t p = m->parent[i];
        if (p != NO_PARENT && e[i] > e[p])
            e[p] = e[i];
    }
}

static void fill_wide(tally_hierarchy *m)
{
    for (size_t i = 0; i < m->n; i++)
        m->wide[i] = m->parent[i] == NO_PARENT ? TALLY_NONE : m->parent[i];
}

TALLY_EXTERN(size_t) tally_hierarchy_subtree_end(const tally_hierarchy *h, size_t i)
{
    if (!h || i >= h->n)
        return TALLY_NONE;
    write_once(h, &((tally_hierarchy *)h)->ends_ready, fill_ends);
    return h->ends[i];
}

const uint8_t *tally_hierarchy__levels(const tally_hierarchy *h)
{
    return h ? h->level : NULL;
}

TALLY_EXTERN(unsigned long) tally_hierarchy_line(const tally_hierarchy *h, size_t i)
{
    return h && i < h->n ? row_line(h, i) : 0;
}

const uint32_t *tally_hierarchy__parents(const tally_hierarchy *h)
{
    return h ? h->parent : NULL;
}

TALLY_EXTERN(const size_t *) tally_hierarchy_parents(const tally_hierarchy *h)
{
    static const size_t none[1] = { TALLY_NONE };
    if (!h)
        return NULL;
    if (!h->n)
        return none;
    write_once(h, &((tally_hierarchy *)h)->wide_ready, fill_wide);
    return h->wide;
}

TALLY_EXTERN(size_t) tally_hierarchy_level_count(const tally_hierarchy *h)
{
    return h ? h->level_count : 0;
}

TALLY_EXTERN(const char *) tally_hierarchy_level_name(const tally_hierarchy *h, int level)
{
    return h && level >= 0 && (size_t)level < h->level_count ? h->level_names[level] : NULL;
}

TALLY_EXTERN(int) tally_hierarchy_level_find(const tally_hierarchy *h, const char *name)
{
    if (!h || !name)
        return -1;
    return level_of(h, name, strlen(name));
}

/* ---- memo ------------------------------------------------------------------ */

int tally_hierarchy__memo_get(const tally_hierarchy *h, uint64_t *v)
{
    /* The fields are atomic and the object was allocated writable (calloc
     * in tally_hierarchy_from_buffer), so reading through a cast-away const
     * is well defined. */
    tally_hierarchy *m = (tally_hierarchy *)h;
    if (!m || !atomic_load_explicit(&m->memo_set, memory_order_acquire))
        return 0;
    if (v)
        *v = atomic_load_explicit(&m->memo_value, memory_order_relaxed);
    return 1;
}

void tally_hierarchy__memo_set(const tally_hierarchy *h, uint64_t v)
{
    tally_hierarchy *m = (tally_hierarchy *)h;
    if (!m)
        return;
    atomic_store_explicit(&m->memo_value, v, memory_order_relaxed);
    atomic_store_explicit(&m->memo_set, 1, memory_order_release);
}
