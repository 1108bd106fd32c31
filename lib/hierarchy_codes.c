/* Administrative hierarchies: region codes. A 12-digit code is kept as its
 * number and written out as text only when tally_hierarchy_code asks for
 * it; a node is found by its code through the lookup tables
 * (hierarchy_impl.h); and the library's own passes read codes without
 * their text (hierarchy.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/hierarchy.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "hierarchy.h"
#include "hierarchy_impl.h"
#include "tally/error.h"
#include "util.h"

/* ---- codes as text ------------------------------------------------------- */

/* The 12 digits of v (< 10^12) at out, then a NUL. */
static void put_code12(char *out, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    for (int k = 10; k >= 0; k -= 2) {
        memcpy(out + k, pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    out[12] = '\0';
}

/* Node i's code as text: in the arena, or written into buf (CODE_WIDTH
 * bytes). */
static const char *code_at(const tally_hierarchy *h, size_t i, char *buf)
{
    uint64_t v;
    if (!code_number(h, i, &v))
        return h->arena + h->code_lo[i];
    put_code12(buf, v);
    return buf;
}

/* Node i's 12-digit code as text, in h->codes: its block is written out
 * first if no caller has done so. The hierarchy is shared between threads:
 * the writing is under `lock`, and a block's flag is raised after its
 * text is written (see codes_ready). The fields written were allocated
 * writable with the hierarchy, so writing through a cast-away const is
 * well defined. */
static const char *code_kept(const tally_hierarchy *h, size_t i)
{
    tally_hierarchy *m = (tally_hierarchy *)h;
    size_t b = i >> CODE_BLOCK_BITS;
    if (!atomic_load_explicit(&m->codes_ready[b], memory_order_acquire)) {
        pthread_mutex_lock(&m->lock);
        if (!atomic_load_explicit(&m->codes_ready[b], memory_order_relaxed)) {
            size_t end = (b + 1) << CODE_BLOCK_BITS;
            if (end > h->n)
                end = h->n;
            for (size_t k = b << CODE_BLOCK_BITS; k < end; k++) {
                uint64_t kv;
                if (code_number(h, k, &kv))
                    put_code12(m->codes + k * CODE_WIDTH, kv);
            }
            atomic_store_explicit(&m->codes_ready[b], 1, memory_order_release);
        }
        pthread_mutex_unlock(&m->lock);
    }
    return h->codes + i * CODE_WIDTH;
}

TALLY_EXTERN(const char *) tally_hierarchy_code(const tally_hierarchy *h, size_t i)
{
    if (!h || i >= h->n)
        return NULL;
    if (h->code_hi[i] == CODE_TEXT)
        return h->arena + h->code_lo[i];
    return code_kept(h, i);
}

/* ---- finding a node by its code ------------------------------------------ */

/* Lookups in tables read from a cache file (hierarchy_cache.c), which the
 * loader does not scan: what a probe reads is checked here. At most one
 * pass over a table (a table without a free slot ends), a region index
 * past the hierarchy is not found, and a text slot must name a region
 * whose code is text, so that its offset in the arena was checked. A
 * forged table may then find nothing, or another region, never read out
 * of bounds. */
static size_t num_find_checked(const tally_hierarchy *h, uint64_t code)
{
    size_t cap = h->num_cap;
    if (!cap)
        return TALLY_NONE;
    size_t j = home64(tally_util__hash_u64(code), cap);
    for (size_t probes = 0; probes < cap; probes++) {
        uint64_t s = h->num_slots[j];
        if (!s)
            return TALLY_NONE;
        if ((s & KEY_MASK) == code + 1) {
            size_t node = slot_node(h, j, s);
            return node < h->n ? node : TALLY_NONE;
        }
        if (++j == cap)
            j = 0;
    }
    return TALLY_NONE;
}

static size_t str_find_checked(const tally_hierarchy *h, const char *s, size_t len)
{
    if (!h->str_cap)
        return TALLY_NONE;
    size_t mask = h->str_cap - 1;
    size_t j = (size_t)tally_util__hash_bytes(s, len) & mask;
    for (size_t probes = 0; probes < h->str_cap; probes++) {
        uint32_t v = h->str_slots[j];
        if (!v)
            return TALLY_NONE;
        if (v <= h->n && h->code_hi[v - 1] == CODE_TEXT && code_equals(h, v - 1, s, len))
            return v - 1;
        j = (j + 1) & mask;
    }
    return TALLY_NONE;
}

static size_t find_code(const tally_hierarchy *h, const char *s, size_t len)
{
    uint64_t v;
    int number = tally_util__code12(s, len, &v);
    if (h->cache_map)
        return number ? num_find_checked(h, v) : str_find_checked(h, s, len);
    if (number)
        return num_find(h, v);
    return str_find(h, s, len);
}

TALLY_EXTERN(int) tally_hierarchy_find(const tally_hierarchy *h, const char *code, size_t len,
                                       size_t *index)
{
    if (index)
        *index = TALLY_NONE;
    if (!h || !index || (!code && len))
        return tally_error__set(TALLY_EINVAL, "tally_hierarchy_find: %s is NULL",
                                !h ? "the hierarchy" : !index ? "index" : "code");
    if (!code)
        code = "";
    size_t i = find_code(h, code, len);
    if (i == TALLY_NONE)
        return tally_error__set_at(TALLY_ENOTFOUND, NULL, 0, 0, code, len,
                                   "unknown region code '%.*s'", shown(code, len), code);
    *index = i;
    return 0;
}

/* ---- codes without their text ---------------------------------------------- */

const char *tally_hierarchy__code_text(const tally_hierarchy *h, size_t i, char *buf)
{
    return h && i < h->n ? code_at(h, i, buf) : NULL;
}

int tally_hierarchy__code_number(const tally_hierarchy *h, size_t i, uint64_t *v)
{
    uint64_t x;
    if (!h || i >= h->n || !code_number(h, i, &x))
        return 0;
    if (v)
        *v = x;
    return 1;
}

int tally_hierarchy__code_is(const tally_hierarchy *h, size_t i, const char *s, size_t len)
{
    if (!h || i >= h->n || (!s && len))
        return 0;
    uint64_t have, want;
    if (code_number(h, i, &have))
        return tally_util__code12(s, len, &want) && want == have;
    return code_equals(h, i, s ? s : "", len);
}

size_t tally_hierarchy__code_blocks_written(const tally_hierarchy *h)
{
    if (!h || !h->codes)
        return 0;
    tally_hierarchy *m = (tally_hierarchy *)h;
    size_t written = 0;
    for (size_t b = 0; b <= (h->n - 1) >> CODE_BLOCK_BITS; b++)
        written += atomic_load_explicit(&m->codes_ready[b], memory_order_acquire);
    return written;
}
