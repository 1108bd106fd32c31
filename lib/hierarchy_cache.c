/* Administrative hierarchies: cache files. A hierarchy is written as the
 * arrays it keeps (hierarchy_impl.h), code lookup table included, and
 * loaded by mapping the file and using them in place, after checking
 * every byte (XXH3) and the structure (docs/hierarchy-cache.md).
 *
 * Layout, version 1, little-endian; every section starts at a multiple of
 * 8 bytes (zero padding):
 *   header (struct cache_header, 176 bytes)
 *   num_slots   u64[num_cap]   12-digit code -> node (hierarchy_impl.h)
 *   parent      u32[n]
 *   name_off    u32[n]
 *   code_lo     u32[n]
 *   line        u32[n]         only with FLAG_LINES
 *   str_slots   u32[str_cap]
 *   level       u8[n]
 *   code_hi     u8[n]
 *   num_high    u8[num_cap]    only with FLAG_NUM_HIGH
 *   arena       arena_len bytes (names and text codes, each with a NUL)
 *   level names level_text bytes (each with a NUL)
 * body_hash is the XXH3 of every byte after the header; header_hash the
 * XXH3 of the header up to it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/hierarchy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "error.h"
#include "hierarchy.h"
#include "hierarchy_impl.h"
#include "output.h"
#include "tally/error.h"
#include "util.h"

#define CACHE_MAGIC "TALLYHIE"
#define CACHE_VERSION 1u
#define CACHE_BOM 0x01020304u
/* The CSV's bytes hashed at each end for the fingerprint. */
#define SAMPLE_BYTES 65536

#define FLAG_LINES 1u    /* the line array is stored */
#define FLAG_GB18030 2u  /* the CSV was read as GB18030 by "auto" */
#define FLAG_NUM_HIGH 4u /* num_high is stored */
#define FLAG_NUMERIC 8u  /* some code has 12 digits */
#define FLAGS_KNOWN 15u

struct cache_header {
    char magic[8];
    uint32_t version;
    uint32_t bom;
    uint64_t file_size;
    uint64_t n;
    /* The CSV it was made from, and the options it was read with. */
    uint64_t src_size;
    int64_t src_mtime_sec;
    int64_t src_mtime_nsec;
    uint64_t src_sample_hash;
    uint64_t options_hash;
    uint64_t line_base;
    uint64_t arena_len;
    uint64_t num_cap, num_count;
    uint64_t str_cap, str_count;
    uint32_t level_count;
    uint32_t level_text;
    uint32_t flags;
    uint32_t num_low_bits;
    /* The CSV's status change time and inode: any write to the file,
     * even one that puts its modification time back, changes the first;
     * a new file put in its place, the second. */
    int64_t src_ctime_sec;
    int64_t src_ctime_nsec;
    uint64_t src_ino;
    uint64_t body_hash;
    uint64_t header_hash;
};
_Static_assert(sizeof(struct cache_header) == 176, "the header is 176 bytes");

static uint64_t pad8(uint64_t x) { return (x + 7) & ~(uint64_t)7; }

/* Where each section starts, from the header's sizes: 0, or -1 when they
 * overflow. */
typedef struct layout {
    uint64_t num_slots, parent, name_off, code_lo, line, str_slots, level, code_hi, num_high,
        arena, levels, end;
} layout;

static int plan(const struct cache_header *hd, layout *L)
{
    uint64_t n = hd->n;
    if (n > MAX_NODES || hd->num_cap > ((uint64_t)1 << 40) || hd->str_cap > ((uint64_t)1 << 40) ||
        hd->arena_len > ((uint64_t)1 << 40) || hd->level_text > ((uint64_t)1 << 20))
        return -1;
    uint64_t at = sizeof(struct cache_header);
    L->num_slots = at;
    at += hd->num_cap * 8;
    L->parent = at;
    at += pad8(n * 4);
    L->name_off = at;
    at += pad8(n * 4);
    L->code_lo = at;
    at += pad8(n * 4);
    L->line = at;
    if (hd->flags & FLAG_LINES)
        at += pad8(n * 4);
    L->str_slots = at;
    at += pad8(hd->str_cap * 4);
    L->level = at;
    at += pad8(n);
    L->code_hi = at;
    at += pad8(n);
    L->num_high = at;
    if (hd->flags & FLAG_NUM_HIGH)
        at += pad8(hd->num_cap);
    L->arena = at;
    at += pad8(hd->arena_len);
    L->levels = at;
    at += pad8(hd->level_text);
    L->end = at;
    return 0;
}

static int little_endian(void)
{
    const uint32_t x = 1;
    unsigned char b;
    memcpy(&b, &x, 1);
    return b == 1;
}

/* The options that change what a CSV loads as, besides the level names
 * (kept whole in the file): the encoding and the limits. */
static uint64_t options_hash(const tally_hierarchy_options *opts)
{
    char buf[256];
    const char *enc = "";
    size_t cols = 0, field = 0;
    if (opts && opts->version >= 2) {
        if (opts->encoding && strcasecmp(opts->encoding, "utf-8") &&
            strcasecmp(opts->encoding, "utf8"))
            enc = opts->encoding;
        cols = opts->max_columns;
        field = opts->max_field_bytes;
    }
    int len = snprintf(buf, sizeof buf, "%.200s|%zu|%zu", enc, cols, field);
    return XXH3_64bits(buf, len > 0 && (size_t)len < sizeof buf ? (size_t)len : 0);
}

/* The CSV's fingerprint: its size and time, and the XXH3 of its first and
 * last SAMPLE_BYTES. TALLY_EIO naming it when it cannot be read. */
static int source_print(const char *csv_path, struct cache_header *hd)
{
    int fd = open(csv_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tally_error__set_at(TALLY_EIO, csv_path, 0, 0, NULL, 0, "cannot open: %s",
                                   strerror(errno));
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return tally_error__set_at(TALLY_EIO, csv_path, 0, 0, NULL, 0, "cannot read: %s",
                                   strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return tally_error__set_at(TALLY_EIO, csv_path, 0, 0, NULL, 0,
                                   "cannot cache the hierarchy: not a regular file");
    }
    static const size_t both = 2 * SAMPLE_BYTES;
    unsigned char *buf = malloc(both);
    if (!buf) {
        close(fd);
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    }
    size_t size = (size_t)st.st_size;
    size_t first = size < SAMPLE_BYTES ? size : SAMPLE_BYTES;
    size_t last_at = size > SAMPLE_BYTES ? size - SAMPLE_BYTES : 0;
    size_t last = size - last_at;
    ssize_t r1 = pread(fd, buf, first, 0);
    ssize_t r2 = pread(fd, buf + first, last, (off_t)last_at);
    close(fd);
    if (r1 < 0 || r2 < 0 || (size_t)r1 != first || (size_t)r2 != last) {
        free(buf);
        return tally_error__set_at(TALLY_EIO, csv_path, 0, 0, NULL, 0, "cannot read: %s",
                                   r1 < 0 || r2 < 0 ? strerror(errno) : "the file changed");
    }
    hd->src_sample_hash = XXH3_64bits(buf, first + last);
    free(buf);
    hd->src_size = (uint64_t)st.st_size;
    hd->src_mtime_sec = (int64_t)st.st_mtim.tv_sec;
    hd->src_mtime_nsec = (int64_t)st.st_mtim.tv_nsec;
    hd->src_ctime_sec = (int64_t)st.st_ctim.tv_sec;
    hd->src_ctime_nsec = (int64_t)st.st_ctim.tv_nsec;
    hd->src_ino = (uint64_t)st.st_ino;
    return 0;
}

/* ---- writing ---------------------------------------------------------------- */

/* 1 when the file at path starts as a hierarchy cache does, 0 when it
 * exists and does not, -1 when there is no file (or it cannot be read:
 * then the writer's own open says why). */
static int is_ours(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    char magic[8];
    int ours = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
               pread(fd, magic, sizeof magic, 0) == (ssize_t)sizeof magic &&
               memcmp(magic, CACHE_MAGIC, sizeof magic) == 0;
    close(fd);
    return ours;
}

/* Hashes len bytes at p and their padding to 8, and writes them when o is
 * not NULL. 0, or -1 after a failed write (recorded in o). */
static int put(tally_output *o, XXH3_state_t *x, const void *p, uint64_t len)
{
    static const char zeros[8] = { 0 };
    uint64_t pad = pad8(len) - len;
    if (len)
        (void)XXH3_64bits_update(x, p, (size_t)len);
    if (pad)
        (void)XXH3_64bits_update(x, zeros, (size_t)pad);
    if (o && ((len && tally_output__write(o, p, (size_t)len)) ||
              (pad && tally_output__write(o, zeros, (size_t)pad))))
        return -1;
    return 0;
}

/* Every section after the header, in the order of the layout, hashed into
 * x (reset first) and written to o when o is not NULL. */
static int put_body(tally_output *o, XXH3_state_t *x, const tally_hierarchy *h,
                    const struct cache_header *hd, const char *names)
{
    size_t n = h->n;
    (void)XXH3_64bits_reset(x);
    return put(o, x, h->num_slots, hd->num_cap * 8) || put(o, x, h->parent, n * 4) ||
           put(o, x, h->name_off, n * 4) || put(o, x, h->code_lo, n * 4) ||
           (h->line && put(o, x, h->line, n * 4)) || put(o, x, h->str_slots, hd->str_cap * 4) ||
           put(o, x, h->level, n) || put(o, x, h->code_hi, n) ||
           (h->num_high && put(o, x, h->num_high, hd->num_cap)) ||
           put(o, x, h->arena, hd->arena_len) || put(o, x, names, hd->level_text);
}

TALLY_EXTERN(int) tally_hierarchy_cache_save(const tally_hierarchy *h, const char *cache_path,
                                             const char *csv_path,
                                             const tally_hierarchy_options *opts)
{
    if (!h || !cache_path || !csv_path)
        return tally_error__set(TALLY_EINVAL, "tally_hierarchy_cache_save: %s is NULL",
                                !h ? "the hierarchy" : !cache_path ? "cache_path" : "csv_path");
    if (!little_endian())
        return tally_error__set(TALLY_ENOTSUP,
                                "hierarchy caches are little-endian; this machine is not");
    if (is_ours(cache_path) == 0)
        return tally_error__set_at(TALLY_EEXIST, cache_path, 0, 0, NULL, 0,
                                   "is not a hierarchy cache; not replaced (move it away to "
                                   "cache the hierarchy there)");
    struct cache_header hd;
    memset(&hd, 0, sizeof hd);
    int rc = source_print(csv_path, &hd);
    if (rc)
        return rc;
    memcpy(hd.magic, CACHE_MAGIC, 8);
    hd.version = CACHE_VERSION;
    hd.bom = CACHE_BOM;
    hd.n = h->n;
    hd.options_hash = options_hash(opts);
    hd.line_base = h->line_base;
    hd.arena_len = h->arena_len;
    hd.num_cap = h->num_cap;
    hd.num_count = h->num_count;
    hd.str_cap = h->str_cap;
    hd.str_count = h->str_count;
    hd.level_count = (uint32_t)h->level_count;
    uint64_t text = 0;
    for (size_t i = 0; i < h->level_count; i++)
        text += h->level_lens[i] + 1;
    hd.level_text = (uint32_t)text;
    hd.flags = (h->line ? FLAG_LINES : 0) | (h->detected_encoding ? FLAG_GB18030 : 0) |
               (h->num_high ? FLAG_NUM_HIGH : 0) | (h->codes ? FLAG_NUMERIC : 0);
    hd.num_low_bits = h->num_low_bits;
    layout L;
    if (plan(&hd, &L))
        return tally_error__set(TALLY_ELIMIT, "the hierarchy is too large to cache");
    hd.file_size = L.end;

    char *names = malloc(text ? text : 1);
    XXH3_state_t *x = XXH3_createState();
    if (!names || !x) {
        free(names);
        XXH3_freeState(x);
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    }
    char *p = names;
    for (size_t i = 0; i < h->level_count; i++) {
        memcpy(p, h->level_names[i], h->level_lens[i] + 1);
        p += h->level_lens[i] + 1;
    }
    /* The body's hash first (it goes in the header), then the bytes. */
    put_body(NULL, x, h, &hd, names);
    hd.body_hash = XXH3_64bits_digest(x);
    hd.header_hash = XXH3_64bits(&hd, offsetof(struct cache_header, header_hash));
    tally_output o;
    rc = tally_output__open(&o, cache_path, "the hierarchy cache");
    if (!rc) {
        if (!tally_output__write(&o, &hd, sizeof hd))
            put_body(&o, x, h, &hd, names);
        rc = tally_output__close(&o);
    }
    free(names);
    XXH3_freeState(x);
    return rc;
}

/* ---- loading ---------------------------------------------------------------- */

static int damaged(const char *path, const char *what)
{
    return tally_error__set_at(TALLY_EPARSE, path, 0, 0, NULL, 0,
                               "damaged hierarchy cache: %s (delete it, or make it again "
                               "from the CSV)",
                               what);
}

static int stale(const char *path, const char *csv_path, const char *why)
{
    return tally_error__set_at(TALLY_EINVAL, path, 0, 0, NULL, 0,
                               "stale hierarchy cache: %s since it was made from %s", why,
                               csv_path);
}

/* The checks that make any file safe to use in place: every index in
 * range, every string ends inside the arena, the tree in pre-order with
 * levels going down. The bounds are taken in simple loops without branches
 * (the compiler vectorizes them), and only a file that fails one is
 * looked at again to say which. The lookup tables are checked as they
 * are read, lookup by lookup (hierarchy_codes.c). */
static int check_structure(const tally_hierarchy *h, const char *path)
{
    size_t n = h->n;
    if (n && (h->arena_len == 0 || h->arena[h->arena_len - 1] != '\0'))
        return damaged(path, "the names do not end with a NUL");
    uint32_t top_name = 0;
    uint8_t top_level = 0;
    unsigned bad_code = 0;
    uint32_t arena_len = (uint32_t)h->arena_len; /* <= MAX_TEXT, by plan() */
    for (size_t i = 0; i < n; i++) {
        top_name = h->name_off[i] > top_name ? h->name_off[i] : top_name;
        top_level = h->level[i] > top_level ? h->level[i] : top_level;
        /* A text code's offset inside the arena; a number's high byte at
         * most 232 (999999999999 >> 32), and then its low word at most
         * 999999999999 & 0xFFFFFFFF. */
        uint8_t hi = h->code_hi[i];
        uint32_t lo = h->code_lo[i];
        bad_code |= (unsigned)(hi == CODE_TEXT) & (unsigned)(lo >= arena_len);
        bad_code |= (unsigned)(hi != CODE_TEXT) & ((unsigned)(hi > 232) |
                                                   ((unsigned)(hi == 232) &
                                                    (unsigned)(lo > 0xD4A50FFFu)));
    }
    if (n && top_level >= h->level_count)
        return damaged(path, "a region's level is out of range");
    if (n && top_name >= h->arena_len)
        return damaged(path, "a region's name is out of range");
    if (bad_code)
        return damaged(path, "a region's code is out of range");
    /* Pre-order: the parent is on the path to the region before (a stack
     * of at most MAX_LEVELS regions, since levels go down). */
    uint32_t stack[MAX_LEVELS + 1];
    size_t depth = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t p = h->parent[i];
        if (p == NO_PARENT) {
            depth = 0;
        } else {
            while (depth && stack[depth - 1] != p)
                depth--;
            if (!depth)
                return damaged(path, "the regions are not in pre-order");
            if (h->level[i] <= h->level[p])
                return damaged(path, "a region's level is not below its parent's");
        }
        stack[depth++] = (uint32_t)i; /* depth <= level + 1 <= MAX_LEVELS */
    }
    /* The lookup tables are not read here: a lookup in a loaded cache
     * checks what it reads (tally_hierarchy__find_checked), so a job pays
     * for the slots it probes, not for 830,000 of them. */
    if (h->str_cap & (h->str_cap - 1))
        return damaged(path, "the text code table's size is not a power of two");
    return 0;
}

/* 0 when the file's level names are the ones opts asks for (copied into h
 * by tally_hierarchy__copy_levels), else 1. */
static int levels_differ(const tally_hierarchy *h, const char *text, uint64_t len,
                         uint32_t count)
{
    if (count != h->level_count)
        return 1;
    uint64_t at = 0;
    for (size_t i = 0; i < h->level_count; i++) {
        size_t l = h->level_lens[i];
        if (at + l + 1 > len || memcmp(text + at, h->level_names[i], l + 1))
            return 1;
        at += l + 1;
    }
    return at != len;
}

TALLY_EXTERN(int) tally_hierarchy_cache_load(tally_hierarchy **out, const char *cache_path,
                                             const char *csv_path,
                                             const tally_hierarchy_options *opts)
{
    if (!out)
        return tally_error__set(TALLY_EINVAL, "tally_hierarchy_cache_load: out is NULL");
    *out = NULL;
    if (!cache_path || !csv_path)
        return tally_error__set(TALLY_EINVAL, "tally_hierarchy_cache_load: %s is NULL",
                                !cache_path ? "cache_path" : "csv_path");
    int fd = open(cache_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tally_error__set_at(TALLY_EIO, cache_path, 0, 0, NULL, 0, "cannot open: %s",
                                   strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return tally_error__set_at(TALLY_EIO, cache_path, 0, 0, NULL, 0,
                                   "cannot load: not a regular file");
    }
    size_t size = (size_t)st.st_size;
    struct cache_header hd;
    if (size < sizeof hd) {
        char magic[8];
        int other = size >= 8 && pread(fd, magic, 8, 0) == 8 && memcmp(magic, CACHE_MAGIC, 8);
        close(fd);
        return damaged(cache_path, other ? "not a hierarchy cache"
                                         : "truncated: shorter than its header");
    }
    /* MAP_POPULATE: the whole file is read by the checksum anyway, and one
     * call maps it faster than a fault a page. */
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return tally_error__set_at(TALLY_EIO, cache_path, 0, 0, NULL, 0, "cannot map: %s",
                                   strerror(errno));
    const unsigned char *b = map;
    memcpy(&hd, b, sizeof hd);
    int rc = 0;
    layout L;
    tally_hierarchy *h = NULL;
    struct cache_header src;
    if (memcmp(hd.magic, CACHE_MAGIC, 8)) {
        rc = damaged(cache_path, "not a hierarchy cache");
    } else if (!little_endian() || hd.bom != CACHE_BOM) {
        rc = tally_error__set_at(TALLY_ENOTSUP, cache_path, 0, 0, NULL, 0,
                                 "hierarchy cache of another byte order");
    } else if (hd.version != CACHE_VERSION) {
        rc = tally_error__set_at(TALLY_ENOTSUP, cache_path, 0, 0, NULL, 0,
                                 "hierarchy cache format version %u; this library reads "
                                 "version %u",
                                 hd.version, CACHE_VERSION);
    } else if (XXH3_64bits(&hd, offsetof(struct cache_header, header_hash)) != hd.header_hash) {
        rc = damaged(cache_path, "the header's checksum does not match");
    } else if (hd.file_size != size) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: %zu bytes, its header says %llu",
                 size < hd.file_size ? "truncated" : "too long", size,
                 (unsigned long long)hd.file_size);
        rc = damaged(cache_path, msg);
    } else if ((hd.flags & ~FLAGS_KNOWN) || hd.level_count == 0 ||
               hd.level_count > MAX_LEVELS || plan(&hd, &L) || L.end != size ||
               ((hd.flags & FLAG_NUM_HIGH) && (hd.num_low_bits == 0 ||
                                                hd.num_low_bits > NODE_LOW_BITS)) ||
               (!(hd.flags & FLAG_NUM_HIGH) && hd.num_low_bits != NODE_LOW_BITS &&
                hd.num_cap) ||
               (hd.n && !(hd.flags & FLAG_NUM_HIGH) && ((hd.n - 1) >> NODE_LOW_BITS))) {
        rc = damaged(cache_path, "its sizes do not fit together");
    } else if (XXH3_64bits(b + sizeof hd, size - sizeof hd) != hd.body_hash) {
        rc = damaged(cache_path, "checksum mismatch");
    } else if ((rc = source_print(csv_path, &src)) != 0) {
        /* rc and the error are the CSV's */
    } else if (src.src_size != hd.src_size || src.src_mtime_sec != hd.src_mtime_sec ||
               src.src_mtime_nsec != hd.src_mtime_nsec || src.src_ctime_sec != hd.src_ctime_sec ||
               src.src_ctime_nsec != hd.src_ctime_nsec || src.src_ino != hd.src_ino ||
               src.src_sample_hash != hd.src_sample_hash) {
        rc = stale(cache_path, csv_path, "the CSV has changed");
    } else if (options_hash(opts) != hd.options_hash) {
        rc = stale(cache_path, csv_path, "other options (encoding, limits) were given");
    }
    if (!rc) {
        h = calloc(1, sizeof *h);
        if (!h)
            rc = tally_error__set(TALLY_ENOMEM, "out of memory");
    }
    if (!rc) {
        atomic_init(&h->memo_value, 0);
        atomic_init(&h->memo_set, 0);
        h->cache_map = map;
        h->cache_map_size = size;
        map = NULL; /* h's now */
        rc = tally_hierarchy__copy_levels(h, opts);
        if (!rc && levels_differ(h, (const char *)b + L.levels, hd.level_text, hd.level_count))
            rc = stale(cache_path, csv_path, "other level names were given");
    }
    if (!rc) {
        h->n = (size_t)hd.n;
        h->detected_encoding = hd.flags & FLAG_GB18030 ? "GB18030" : NULL;
        h->num_slots = (uint64_t *)(void *)(b + L.num_slots);
        h->parent = (uint32_t *)(void *)(b + L.parent);
        h->name_off = (uint32_t *)(void *)(b + L.name_off);
        h->code_lo = (uint32_t *)(void *)(b + L.code_lo);
        h->line = hd.flags & FLAG_LINES ? (uint32_t *)(void *)(b + L.line) : NULL;
        h->line_base = (unsigned long)hd.line_base;
        h->str_slots = hd.str_cap ? (uint32_t *)(void *)(b + L.str_slots) : NULL;
        h->level = (uint8_t *)(b + L.level);
        h->code_hi = (uint8_t *)(b + L.code_hi);
        h->num_high = hd.flags & FLAG_NUM_HIGH ? (uint8_t *)(b + L.num_high) : NULL;
        h->num_low_bits = hd.num_low_bits;
        h->num_cap = (size_t)hd.num_cap;
        h->num_count = (size_t)hd.num_count;
        h->str_cap = (size_t)hd.str_cap;
        h->str_count = (size_t)hd.str_count;
        if (!hd.num_cap)
            h->num_slots = NULL;
        h->arena = (char *)(b + L.arena);
        h->arena_len = h->arena_cap = (size_t)hd.arena_len;
        rc = check_structure(h, cache_path);
    }
    if (!rc) {
        int numeric = 0;
        for (size_t i = 0; i < h->n && !numeric; i++)
            numeric = h->code_hi[i] != CODE_TEXT;
        if (numeric != !!(hd.flags & FLAG_NUMERIC))
            rc = damaged(cache_path, "its flags do not match its codes");
        else
            rc = tally_hierarchy__reserve_lazy(h, numeric, cache_path);
    }
    if (rc) {
        if (map)
            munmap(map, size);
        tally_hierarchy_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

/* ---- beside the CSV --------------------------------------------------------- */

TALLY_EXTERN(int) tally_hierarchy_from_file_cached(tally_hierarchy **out, const char *path,
                                                   const tally_hierarchy_options *opts,
                                                   unsigned flags, int *state)
{
    if (state)
        *state = TALLY_HIERARCHY_CACHE_NONE;
    if (!out)
        return tally_error__set(TALLY_EINVAL, "tally_hierarchy_from_file_cached: out is NULL");
    *out = NULL;
    if (!path)
        return tally_error__set(TALLY_EINVAL, "tally_hierarchy_from_file_cached: path is NULL");
    struct stat st;
    if (stat(path, &st) || !S_ISREG(st.st_mode))
        return tally_hierarchy_from_file(out, path, opts);
    size_t len = strlen(path);
    char *cache = malloc(len + sizeof TALLY_HIERARCHY_CACHE_SUFFIX);
    if (!cache)
        return tally_error__set(TALLY_ENOMEM, "out of memory");
    memcpy(cache, path, len);
    memcpy(cache + len, TALLY_HIERARCHY_CACHE_SUFFIX, sizeof TALLY_HIERARCHY_CACHE_SUFFIX);
    int ours = is_ours(cache);
    int make = (flags & TALLY_HIERARCHY_CACHE_MAKE) != 0;
    if (ours == 1) {
        int rc = tally_hierarchy_cache_load(out, cache, path, opts);
        if (rc == 0 || (rc == TALLY_EPARSE && !make) ||
            (rc != TALLY_EPARSE && rc != TALLY_EINVAL && rc != TALLY_ENOTSUP)) {
            if (!rc && state)
                *state = TALLY_HIERARCHY_CACHE_USED;
            free(cache);
            return rc;
        }
        make = 1; /* stale, of another version, or damaged with MAKE: made again */
    }
    int rc = tally_hierarchy_from_file(out, path, opts);
    if (rc || !make || ours == 0) {
        if (!rc && ours == 0 && make) {
            /* Asked for, and a file of someone else's is in the way. */
            tally_hierarchy_free(*out);
            *out = NULL;
            rc = tally_error__set_at(TALLY_EEXIST, cache, 0, 0, NULL, 0,
                                     "is not a hierarchy cache; not replaced (move it away "
                                     "to cache the hierarchy there)");
        }
        free(cache);
        return rc;
    }
    rc = tally_hierarchy_cache_save(*out, cache, path, opts);
    if (rc == 0) {
        if (state)
            *state = TALLY_HIERARCHY_CACHE_WRITTEN;
    } else if (flags & TALLY_HIERARCHY_CACHE_MAKE) {
        tally_hierarchy_free(*out);
        *out = NULL;
    } else {
        rc = 0; /* a cache that cannot be written is no error unless asked for */
        tally_error_clear();
    }
    free(cache);
    return rc;
}
