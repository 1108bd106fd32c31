/* Inside the hierarchy module: the object's layout, and what its files
 * share (hierarchy.c: the object, its level names and queries;
 * hierarchy_codes.c: codes as text and finding a node by its code;
 * hierarchy_read.c: loading). Other modules use hierarchy.h, and never see
 * the layout.
 *
 * The lookup tables and the small helpers are static inline here:
 * loading calls them once a row, and a lookup once a call, so each file
 * that uses them keeps them in its own loops, as when they lived in one
 * file. Functions one file defines for another are tally_hierarchy__*.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TALLY_LIB_HIERARCHY_IMPL_H
#define TALLY_LIB_HIERARCHY_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hierarchy.h"
#include "tally/error.h"
#include "tally/hierarchy.h"
#include "util.h"

/* Memory: a national hierarchy has some 665,000 nodes, and everything kept
 * per node is paid for in every job, so the per-node arrays are as narrow as
 * the limits below allow (about 37 bytes a node in all, 13 of them the
 * names):
 * - indices, offsets and lines are 32-bit: at most MAX_NODES nodes,
 *   MAX_TEXT bytes of names and text codes, rows starting on lines up to
 *   MAX_LINE (larger inputs are refused with TALLY_ELIMIT);
 * - levels are 8-bit: at most MAX_LEVELS level names;
 * - a 12-digit code is kept as its number, in 5 bytes (code_lo, code_hi),
 *   not as 13 bytes of text; the text is written out only when
 *   tally_hierarchy_code asks for it (see "codes as text" below);
 * - a name given to several nodes (2 in 5 of the national table's names
 *   repeat one before them, such as 新村村委会) is kept once;
 * - lines are not stored when each node's line is the first node's line
 *   plus its index (a file in pre-order, one line a row: the usual case);
 * - parents are 32-bit too (NO_PARENT for a root); the size_t array that
 *   tally_hierarchy_parents() returns is written out on its first call,
 *   into address space reserved at load (see "wide parents" below);
 * - subtree ends are not kept: they follow from the parents, and are
 *   worked out the first time one is asked for (see "subtree ends"). */
#define MAX_NODES ((size_t)UINT32_MAX - 1) /* UINT32_MAX: "no node" in 32 bits */
#define NO_PARENT TALLY_HIERARCHY__ROOT
#define MAX_TEXT ((size_t)UINT32_MAX)
#define MAX_LINE ((unsigned long)UINT32_MAX)
#define MAX_LEVELS 255
#define LEVEL_UNSET 0xFF /* while loading: the level is the node's depth */

/* code_hi of a node whose code is kept as text (a 12-digit code's high
 * byte is at most 999999999999 >> 32 = 232). */
#define CODE_TEXT 0xFF

/* Codes as text: tally_hierarchy_code returns a string that lives as long
 * as the hierarchy, so a 12-digit code is written out once, into a block
 * of CODE_WIDTH bytes a node reserved when the hierarchy is loaded
 * (address space only: mmap'd pages cost memory once written), 4096
 * (1 << CODE_BLOCK_BITS) nodes at a time, the first time one of them is
 * asked for. Reserving at load means the first call cannot fail for want
 * of memory, and a caller that prints a few codes pays for a few blocks,
 * not 13 bytes a node. */
#define CODE_WIDTH 13
#define CODE_BLOCK_BITS 12

/* 12-digit codes: one 64-bit word a slot, (code + 1) in the low 40 bits
 * (codes are below 10^12 < 2^40; the + 1 makes a zeroed slot free) and the
 * node's index in the high 24 bits. A lookup reads one word: no second
 * miss to confirm the key. Hierarchies of more than 2^24 nodes keep the
 * index's bits from num_low_bits (24; lower in tests) up in num_high, one
 * byte a slot. */
#define KEY_BITS 40
#define KEY_MASK ((UINT64_C(1) << KEY_BITS) - 1)
#define NODE_LOW_BITS 24

struct tally_hierarchy {
    size_t n;
    const char *detected_encoding; /* "GB18030" when "auto" read the file so */
    uint32_t *parent;      /* pre-order index of the parent, NO_PARENT for roots */
    uint32_t *subtree_end; /* while loading only: name hashes, then depths */
    uint8_t *level;
    uint32_t *line;        /* NULL: node i is on line line_base + i */
    unsigned long line_base;
    uint32_t *name_off;    /* name at arena + name_off[i] (shared by equal names) */
    /* A 12-digit code: its low 32 bits in code_lo, the rest in code_hi.
     * Any other code: CODE_TEXT in code_hi, its text at arena + code_lo. */
    uint32_t *code_lo;
    uint8_t *code_hi;
    char *arena;           /* names and text codes, each with a NUL */
    size_t arena_len, arena_cap;

    /* 12-digit codes: open addressing, linear probing (see KEY_BITS). */
    uint64_t *num_slots;
    uint8_t *num_high; /* NULL when every index fits in the slot */
    unsigned num_low_bits;
    size_t num_cap, num_count;

    /* Other codes: node index + 1 (0 = free), compared through the arena. */
    uint32_t *str_slots;
    size_t str_cap, str_count;

    /* One block: level_count pointers, level_count lengths, then the text. */
    char **level_names;
    size_t *level_lens;
    size_t level_count;

    /* tally_hierarchy__memo_*: the value is stored before the flag is
     * raised (release), and read after the flag is seen (acquire), so a
     * reader that sees the flag sees a value some writer stored. A finished
     * hierarchy is otherwise read-only and shared between threads, hence
     * atomics rather than plain fields. */
    _Atomic uint64_t memo_value;
    atomic_int memo_set;

    /* 12-digit codes as text (CODE_WIDTH bytes a node; NULL when no code
     * has 12 digits): block b (nodes b << CODE_BLOCK_BITS on) is written
     * under `lock`, then codes_ready[b] raised (release); a reader that
     * sees the flag (acquire) sees the text. */
    char *codes;
    size_t codes_size;
    atomic_uchar *codes_ready;
    pthread_mutex_t lock; /* writing codes or wide parents out */
    int lock_made;

    /* Wide parents: parent as size_t (TALLY_NONE for roots), for
     * tally_hierarchy_parents; reserved at load (address space only),
     * written under `lock` on the first call, then wide_ready raised
     * (release). */
    size_t *wide;
    size_t wide_size;
    atomic_int wide_ready;

    /* Subtree ends: one past the last node of each node's subtree, worked
     * out from the parents on the first tally_hierarchy_subtree_end (the
     * library's own passes seldom need them: a rollup and its writing do
     * not), into a reserve made at load, as the wide parents are. */
    uint32_t *ends;
    size_t ends_size;
    atomic_int ends_ready;

    /* Loaded from a cache file (hierarchy_cache.c): the per-node arrays,
     * the arena and the lookup tables point into this read-only mapping
     * and are not freed one by one. NULL for a hierarchy read from CSV. */
    void *cache_map;
    size_t cache_map_size;
};

/* 1 and *v when node (or, while loading, row) i has a 12-digit code. */
static inline int code_number(const tally_hierarchy *h, size_t i, uint64_t *v)
{
    if (h->code_hi[i] == CODE_TEXT)
        return 0;
    *v = (uint64_t)h->code_hi[i] << 32 | h->code_lo[i];
    return 1;
}

/* Line of node i (pre-order), or of row i while loading. */
static inline unsigned long row_line(const tally_hierarchy *h, size_t i)
{
    return h->line ? h->line[i] : h->line_base + i;
}

/* The index of the level named by the len bytes at s, or -1. */
static inline int level_of(const tally_hierarchy *h, const char *s, size_t len)
{
    for (size_t i = 0; i < h->level_count; i++)
        if (h->level_lens[i] == len && memcmp(h->level_names[i], s, len) == 0)
            return (int)i;
    return -1;
}

/* Bytes of s worth printing in a message: at most 64, cut on a UTF-8
 * character boundary. */
static inline int shown(const char *s, size_t len)
{
    if (len <= 64)
        return (int)len;
    size_t n = 64;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

/* ---- lookup tables ------------------------------------------------------ */

/* The text codes' table: the smallest power of two that holds `count`
 * keys at load <= 0.7 (past that, linear probing's chains grow fast). */
static inline size_t table_size(size_t count)
{
    size_t cap = 64;
    while (cap / 10 * 7 < count && cap <= SIZE_MAX / 32)
        cap *= 2;
    return cap;
}

/* The 12-digit codes' table (and the names' while loading) is not held to
 * powers of two: `count` keys in count * 5/4 slots, load 0.8, where a
 * power of two leaves a national hierarchy at 0.63 and 1.7 MB of empty
 * slots. A key's home slot is its hash scaled to the table (home64,
 * home32): a multiplication, no division. At load 0.8 a lookup that finds
 * its key reads 3 slots on average, 24 bytes, mostly one cache line. */
static inline size_t num_table_size(size_t count)
{
    if (count > (SIZE_MAX - 64) / 5 * 4)
        return SIZE_MAX; /* refused by the allocation */
    size_t cap = count + count / 4 + 1;
    return cap < 64 ? 64 : cap;
}

static inline size_t home64(uint64_t hash, size_t cap)
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 wide;
    return (size_t)(((wide)hash * (uint64_t)cap) >> 64);
#else /* the high half of hash * cap, from 32-bit halves */
    uint64_t a = hash >> 32, b = hash & 0xffffffffu;
    uint64_t c = (uint64_t)cap >> 32, d = (uint64_t)cap & 0xffffffffu;
    uint64_t ad = a * d, bc = b * c;
    uint64_t mid = ((b * d) >> 32) + (ad & 0xffffffffu) + (bc & 0xffffffffu);
    return (size_t)(a * c + (ad >> 32) + (bc >> 32) + (mid >> 32));
#endif
}

/* For 32-bit hashes: tables of up to 2^32 slots use all of them; past
 * that (3 billion names) only the first 2^32 are home slots. */
static inline size_t home32(uint32_t hash, size_t cap)
{
    uint64_t c = cap > UINT32_MAX ? UINT32_MAX : (uint64_t)cap;
    return (size_t)(((uint64_t)hash * c) >> 32);
}

static inline size_t slot_node(const tally_hierarchy *h, size_t j, uint64_t slot)
{
    size_t node = (size_t)(slot >> KEY_BITS);
    if (h->num_high)
        node |= (size_t)h->num_high[j] << h->num_low_bits;
    return node;
}

static inline void slot_put(tally_hierarchy *h, size_t j, uint64_t code, size_t node)
{
    uint64_t low = node;
    if (h->num_high) {
        low = node & ((UINT64_C(1) << h->num_low_bits) - 1);
        h->num_high[j] = (uint8_t)(node >> h->num_low_bits);
    }
    h->num_slots[j] = (code + 1) | (low << KEY_BITS);
}

/* An empty table of cap slots (num_table_size) for indices below `nodes`
 * (at most 2^(low_bits + 8)). Called once, before the first insert: the
 * loader knows how many codes there are. */
static inline int num_alloc(tally_hierarchy *h, size_t cap, size_t nodes, unsigned low_bits)
{
    if (cap > SIZE_MAX / sizeof *h->num_slots)
        return TALLY_ENOMEM;
    /* All or nothing: num_cap != 0 says the table is ready. */
    uint64_t *slots = calloc(cap, sizeof *slots);
    uint8_t *high = nodes > (size_t)1 << low_bits ? calloc(cap, 1) : NULL;
    if (!slots || (nodes > (size_t)1 << low_bits && !high)) {
        free(slots);
        free(high);
        return TALLY_ENOMEM;
    }
    /* Every page is written to (loading fills the table to some 60%, in
     * random order): faulted in by one call, they cost about half (4 ms
     * less for the national table). */
    tally_util__prefault(slots, cap * sizeof *slots);
    h->num_slots = slots;
    h->num_high = high;
    h->num_cap = cap;
    h->num_low_bits = low_bits;
    return 0;
}

static inline size_t num_find(const tally_hierarchy *h, uint64_t code)
{
    if (!h->num_cap)
        return TALLY_NONE;
    size_t cap = h->num_cap;
    size_t j = home64(tally_util__hash_u64(code), cap);
    for (;;) {
        uint64_t s = h->num_slots[j];
        if (!s)
            return TALLY_NONE;
        if ((s & KEY_MASK) == code + 1)
            return slot_node(h, j, s);
        if (++j == cap)
            j = 0;
    }
}

/* Inserts code -> idx (hash: tally_util__hash_u64(code)) into a table
 * sized for it; returns the existing node when the code is already there
 * (and inserts nothing), else TALLY_NONE. */
static inline size_t num_insert(tally_hierarchy *h, uint64_t code, uint64_t hash, size_t idx)
{
    size_t cap = h->num_cap;
    size_t j = home64(hash, cap);
    for (;;) {
        uint64_t s = h->num_slots[j];
        if (!s)
            break;
        if ((s & KEY_MASK) == code + 1)
            return slot_node(h, j, s);
        if (++j == cap)
            j = 0;
    }
    slot_put(h, j, code, idx);
    h->num_count++;
    return TALLY_NONE;
}

/* 1 when node idx's code, kept as text, is exactly the len bytes at s.
 * Stops at the stored string's NUL, so it never reads past it. */
static inline int code_equals(const tally_hierarchy *h, size_t idx, const char *s, size_t len)
{
    const char *c = h->arena + h->code_lo[idx];
    for (size_t i = 0; i < len; i++)
        if (c[i] == '\0' || c[i] != s[i])
            return 0;
    return c[len] == '\0';
}

/* An empty table of cap slots (a power of two); once, as num_alloc. */
static inline int str_alloc(tally_hierarchy *h, size_t cap)
{
    if (cap > SIZE_MAX / sizeof *h->str_slots)
        return TALLY_ENOMEM;
    h->str_slots = calloc(cap, sizeof *h->str_slots);
    if (!h->str_slots)
        return TALLY_ENOMEM;
    h->str_cap = cap;
    return 0;
}

static inline size_t str_find(const tally_hierarchy *h, const char *s, size_t len)
{
    if (!h->str_cap)
        return TALLY_NONE;
    size_t mask = h->str_cap - 1;
    size_t j = (size_t)tally_util__hash_bytes(s, len) & mask;
    for (;;) {
        uint32_t v = h->str_slots[j];
        if (!v)
            return TALLY_NONE;
        if (code_equals(h, v - 1, s, len))
            return v - 1;
        j = (j + 1) & mask;
    }
}

/* Same contract as num_insert (hash: tally_util__hash_bytes(s, len)); node
 * idx's code must already be in the arena (the table compares through
 * it). */
static inline size_t str_insert(tally_hierarchy *h, const char *s, size_t len, uint64_t hash,
                                size_t idx)
{
    size_t mask = h->str_cap - 1;
    size_t j = (size_t)hash & mask;
    for (;;) {
        uint32_t v = h->str_slots[j];
        if (!v)
            break;
        if (code_equals(h, v - 1, s, len))
            return v - 1;
        j = (j + 1) & mask;
    }
    h->str_slots[j] = (uint32_t)(idx + 1); /* idx < MAX_NODES */
    h->str_count++;
    return TALLY_NONE;
}

/* ---- level names (hierarchy.c) ---------------------------------------- */

/* Checks `opts` (its version and level names; NULL or no names: the
 * default levels) and copies the level names into h: 0, or TALLY_EINVAL /
 * TALLY_ELIMIT / TALLY_ENOMEM with the last error set. */
int tally_hierarchy__copy_levels(tally_hierarchy *h, const tally_hierarchy_options *opts);

/* Reserves what is written out on demand (hierarchy_read.c): the wide
 * parents, the subtree ends, and, when `numeric` (some code has 12
 * digits), the text of the 12-digit codes (see CODE_WIDTH); makes the
 * lock that guards the writing. h->n is set. 0, or TALLY_ENOMEM naming
 * `name`. */
int tally_hierarchy__reserve_lazy(tally_hierarchy *h, int numeric, const char *name);

/* "province, city, ..." for messages, shortened to fit `size` bytes. */
void tally_hierarchy__level_list(const tally_hierarchy *h, char *buf, size_t size);

#endif
