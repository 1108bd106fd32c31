/* Binary snapshots of a dataset: the columns as they are in memory, with
 * the sizes and fingerprints of the hierarchy and definitions they belong
 * to, and checksums. The format is described in tally/snapshot.h.
 *
 * Loading checks the whole file before it changes the dataset: the header,
 * the size, the trailer's checksum (header and column headers), the
 * fingerprints, the column keys, then every column's checksum, bits and
 * values, and whether any of its cells is already in the dataset. Only
 * then are the columns installed, so a damaged or foreign snapshot leaves
 * the dataset as it was. A file is mapped private and writable and its
 * columns are used in place (nothing is copied; a later write copies one
 * page); a buffer is copied.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "dataset.h"
#include "error.h"
#include "period.h"
#include "util.h"

#define SNAP_MAGIC "TALLYSNP"
#define SNAP_BOM 0x01020304u
#define SNAP_HEADER 80
#define SNAP_COLUMN_HEADER 32
#define SNAP_TRAILER 8

/* ---- XXH64 (Yann Collet's xxHash, 64-bit, seed 0), streaming ----
 * A published checksum that runs at memory speed, so verifying a
 * snapshot costs little next to reading it, and other programs can check
 * a file with any xxHash implementation. */

static const uint64_t P1 = 0x9E3779B185EBCA87ULL, P2 = 0xC2B2AE3D27D4EB4FULL,
                      P3 = 0x165667B19E3779F9ULL, P4 = 0x85EBCA77C2B2AE63ULL,
                      P5 = 0x27D4EB2F165667C5ULL;

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian hosts only: checked before use */
    return v;
}

static inline uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t xxh_round(uint64_t acc, uint64_t in)
{
    acc += in * P2;
    acc = rotl64(acc, 31);
    return acc * P1;
}

static inline uint64_t xxh_merge(uint64_t acc, uint64_t v)
{
    acc ^= xxh_round(0, v);
    return acc * P1 + P4;
}

typedef struct xxh64 {
    uint64_t v[4];
    uint64_t total;
    unsigned char mem[32];
    size_t memsize;
} xxh64;

static void xxh64_init(xxh64 *s)
{
    s->v[0] = P1 + P2;
    s->v[1] = P2;
    s->v[2] = 0;
    s->v[3] = (uint64_t)0 - P1;
    s->total = 0;
    s->memsize = 0;
}

static void xxh64_update(xxh64 *s, const void *data, size_t len)
{
    const unsigned char *p = data, *end = p + len;
    s->total += len;
    if (s->memsize + len < 32) {
        if (len)
            memcpy(s->mem + s->memsize, p, len);
        s->memsize += len;
        return;
    }
    if (s->memsize) {
        size_t fill = 32 - s->memsize;
        memcpy(s->mem + s->memsize, p, fill);
        for (int i = 0; i < 4; i++)
            s->v[i] = xxh_round(s->v[i], rd64(s->mem + 8 * i));
        p += fill;
        s->memsize = 0;
    }
    uint64_t v0 = s->v[0], v1 = s->v[1], v2 = s->v[2], v3 = s->v[3];
    for (; end - p >= 32; p += 32) {
        v0 = xxh_round(v0, rd64(p));
        v1 = xxh_round(v1, rd64(p + 8));
        v2 = xxh_round(v2, rd64(p + 16));
        v3 = xxh_round(v3, rd64(p + 24));
    }
    s->v[0] = v0;
    s->v[1] = v1;
    s->v[2] = v2;
    s->v[3] = v3;
    if (p < end) {
        memcpy(s->mem, p, (size_t)(end - p));
        s->memsize = (size_t)(end - p);
    }
}

static uint64_t xxh64_digest(const xxh64 *s)
{
    uint64_t h;
    if (s->total >= 32) {
        h = rotl64(s->v[0], 1) + rotl64(s->v[1], 7) + rotl64(s->v[2], 12) + rotl64(s->v[3], 18);
        for (int i = 0; i < 4; i++)
            h = xxh_merge(h, s->v[i]);
    } else {
        h = s->v[2] + P5;
    }
    h += s->total;
    const unsigned char *p = s->mem, *end = p + s->memsize;
    for (; end - p >= 8; p += 8) {
        h ^= xxh_round(0, rd64(p));
        h = rotl64(h, 27) * P1 + P4;
    }
    if (end - p >= 4) {
        h ^= (uint64_t)rd32(p) * P1;
        h = rotl64(h, 23) * P2 + P3;
        p += 4;
    }
    for (; p < end; p++) {
        h ^= (uint64_t)*p * P5;
        h = rotl64(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

/* The checksum of a snapshot's first `len` bytes; for the tests, which
 * forge snapshots that are well sealed but wrong inside. */
uint64_t tally_snapshot__checksum(const void *data, size_t len);
uint64_t tally_snapshot__checksum(const void *data, size_t len)
{
    xxh64 s;
    xxh64_init(&s);
    xxh64_update(&s, data, len);
    return xxh64_digest(&s);
}

/* ---- fingerprints ---- */

/* Each string is folded in 8-byte words (its length in the last one) into
 * one of four lanes by position, so the multiplies of neighbouring strings
 * overlap. The rotation after each multiply carries high bits down, so a
 * change in any byte reaches every bit of the result. */
typedef const char *(*string_at)(const void *obj, size_t i);

/* Fingerprints are made of blocks of this many strings, hashed apart and
 * then combined in order, so a loader can work them out on several cores. */
#define FP_BLOCK 65536

/* One block, strings [begin, end). */
static uint64_t fingerprint_block(const void *obj, size_t begin, size_t end, string_at at)
{
    uint64_t lane[4] = { P1, P2, P3, P4 };
    for (size_t i = begin; i < end; i++) {
        const char *s = at(obj, i);
        size_t len = s ? strlen(s) : 0, k = 0;
        uint64_t h = lane[i & 3];
        for (; k + 8 <= len; k += 8) {
            uint64_t w;
            memcpy(&w, s + k, 8);
            h = rotl64((h ^ w) * P1, 29);
        }
        uint64_t tail = (uint64_t)len << 56; /* the last 0..7 bytes below the length */
        for (size_t j = 0; k + j < len; j++)
            tail |= (uint64_t)(unsigned char)s[k + j] << (8 * j);
        lane[i & 3] = rotl64((h ^ tail) * P2, 31);
    }
    uint64_t h = (uint64_t)(end - begin) * P5;
    for (int i = 0; i < 4; i++)
        h = xxh_merge(h, lane[i]);
    return h;
}

static uint64_t fingerprint_combine(size_t n, const uint64_t *blocks, size_t nblocks)
{
    uint64_t h = (uint64_t)n * P5;
    for (size_t b = 0; b < nblocks; b++)
        h = xxh_merge(h, blocks[b]);
    return tally_util__hash_u64(h);
}

static uint64_t fingerprint(const void *obj, size_t n, string_at at)
{
    uint64_t h = (uint64_t)n * P5;
    for (size_t b = 0; b * FP_BLOCK < n; b++)
        h = xxh_merge(h, fingerprint_block(obj, b * FP_BLOCK,
                                           n - b * FP_BLOCK < FP_BLOCK ? n : (b + 1) * FP_BLOCK, at));
    return tally_util__hash_u64(h);
}

static const char *code_at(const void *h, size_t i) { return tally_hierarchy_code(h, i); }
static const char *id_at(const void *d, size_t i) { return tally_definitions_id(d, i); }

/* The codes in pre-order: what ties a node index in the file to a region
 * (the parents do not change which region a value belongs to). */
static uint64_t hierarchy_fingerprint(const tally_hierarchy *h)
{
    return fingerprint(h, tally_hierarchy_size(h), code_at);
}

static uint64_t definitions_fingerprint(const tally_definitions *d)
{
    return fingerprint(d, tally_definitions_indicator_count(d), id_at);
}

static int little_endian(void)
{
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

TALLY_EXTERN(int) tally_snapshot_is(const void *data, size_t size)
{
    return data && size >= 8 && memcmp(data, SNAP_MAGIC, 8) == 0;
}

/* ---- saving ---- */

/* Where the bytes go: a file or a buffer. The header and the column
 * headers are hashed on the way (the trailer's checksum). */
typedef struct sink {
    FILE *f;
    unsigned char *buf;
    size_t pos;
    xxh64 hash;
    int failed;
} sink;

static void put_data(sink *s, const void *data, size_t len)
{
    if (s->buf) {
        memcpy(s->buf + s->pos, data, len);
        s->pos += len;
    } else if (!s->failed && len && fwrite(data, 1, len, s->f) != len) {
        s->failed = 1;
    }
}

static void put(sink *s, const void *data, size_t len)
{
    xxh64_update(&s->hash, data, len);
    put_data(s, data, len);
}

static void put64(sink *s, uint64_t v) { put(s, &v, 8); }

/* The checksum of a column's arrays, as they stand in the file. */
static uint64_t column_checksum(const tally_column *c, size_t nodes)
{
    size_t words = tally_bit__words(nodes);
    xxh64 h;
    xxh64_init(&h);
    xxh64_update(&h, c->values, nodes * 8);
    xxh64_update(&h, c->valid, words * 8);
    xxh64_update(&h, c->seen, words * 8);
    return xxh64_digest(&h);
}

static size_t popcount_words(const uint64_t *w, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (size_t)__builtin_popcountll(w[i]);
    return c;
}

static int column_order(const void *a, const void *b)
{
    const tally_column *x = *(const tally_column *const *)a, *y = *(const tally_column *const *)b;
    if (x->indicator != y->indicator)
        return x->indicator < y->indicator ? -1 : 1;
    return x->period < y->period ? -1 : x->period > y->period;
}

/* The columns sorted by (indicator, period): a snapshot's bytes do not
 * depend on the order the records came in, and a loader can refuse a
 * column given twice by checking the order. */
static const tally_column **sorted_columns(const tally_dataset *ds)
{
    size_t n = tally_dataset__column_count(ds);
    const tally_column **cols = malloc((n ? n : 1) * sizeof *cols);
    if (!cols)
        return NULL;
    for (size_t i = 0; i < n; i++)
        cols[i] = tally_dataset__column(ds, i);
    qsort(cols, n, sizeof *cols, column_order);
    return cols;
}

static size_t snapshot_size(size_t nodes, size_t ncols)
{
    size_t words = tally_bit__words(nodes);
    return SNAP_HEADER + ncols * (SNAP_COLUMN_HEADER + nodes * 8 + 2 * words * 8) + SNAP_TRAILER;
}

static void write_snapshot(sink *s, const tally_dataset *ds, const tally_column **cols)
{
    const tally_hierarchy *h = tally_dataset_hierarchy(ds);
    const tally_definitions *d = tally_dataset_definitions(ds);
    size_t nodes = tally_hierarchy_size(h), words = tally_bit__words(nodes);
    size_t ncols = tally_dataset__column_count(ds);
    unsigned char head[16];
    uint32_t version = TALLY_SNAPSHOT_VERSION, bom = SNAP_BOM;
    memcpy(head, SNAP_MAGIC, 8);
    memcpy(head + 8, &version, 4);
    memcpy(head + 12, &bom, 4);
    put(s, head, 16);
    put64(s, snapshot_size(nodes, ncols));
    put64(s, nodes);
    put64(s, hierarchy_fingerprint(h));
    put64(s, tally_definitions_indicator_count(d));
    put64(s, definitions_fingerprint(d));
    put64(s, ncols);
    put64(s, tally_dataset_value_count(ds));
    put64(s, 0);
    for (size_t i = 0; i < ncols; i++) {
        const tally_column *c = cols[i];
        put64(s, c->indicator);
        put64(s, (uint64_t)(int64_t)c->period);
        put64(s, popcount_words(c->seen, words));
        put64(s, column_checksum(c, nodes));
        put_data(s, c->values, nodes * 8);
        put_data(s, c->valid, words * 8);
        put_data(s, c->seen, words * 8);
    }
    uint64_t sum = xxh64_digest(&s->hash);
    put_data(s, &sum, 8);
}

static int check_saveable(const tally_dataset *ds, const char *what)
{
    if (!ds)
        return tally_error__set(TALLY_EINVAL, "%s: NULL argument", what);
    if (!little_endian())
        return tally_error__set(TALLY_ENOTSUP,
                                "snapshots are little-endian; this machine is big-endian");
    return 0;
}

TALLY_EXTERN(int) tally_dataset_save_buffer(const tally_dataset *ds, void **out, size_t *size)
{
    if (out)
        *out = NULL;
    if (size)
        *size = 0;
    if (!out || !size)
        return tally_error__set(TALLY_EINVAL, "tally_dataset_save_buffer: NULL argument");
    int rc = check_saveable(ds, "tally_dataset_save_buffer");
    if (rc)
        return rc;
    size_t n = snapshot_size(tally_hierarchy_size(tally_dataset_hierarchy(ds)),
                             tally_dataset__column_count(ds));
    const tally_column **cols = sorted_columns(ds);
    sink s = { NULL, malloc(n), 0, { { 0 }, 0, { 0 }, 0 }, 0 };
    if (!cols || !s.buf) {
        free(cols);
        free(s.buf);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a snapshot");
    }
    xxh64_init(&s.hash);
    write_snapshot(&s, ds, cols);
    free(cols);
    *out = s.buf;
    *size = n;
    return 0;
}

TALLY_EXTERN(int) tally_dataset_save(const tally_dataset *ds, const char *path)
{
    if (!path)
        return tally_error__set(TALLY_EINVAL, "tally_dataset_save: NULL argument");
    int rc = check_saveable(ds, "tally_dataset_save");
    if (rc)
        return rc;
    const tally_column **cols = sorted_columns(ds);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    if (!cols || !tmp) {
        free(cols);
        free(tmp);
        return tally_error__set(TALLY_ENOMEM, "out of memory writing a snapshot");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    sink s = { fopen(tmp, "wb"), NULL, 0, { { 0 }, 0, { 0 }, 0 }, 0 };
    if (!s.f) {
        rc = tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot write the snapshot: %s",
                                 strerror(errno));
        free(cols);
        free(tmp);
        return rc;
    }
    xxh64_init(&s.hash);
    write_snapshot(&s, ds, cols);
    free(cols);
    int err = s.failed || ferror(s.f) ? errno : 0;
    if (fclose(s.f) != 0 && !err)
        err = errno ? errno : EIO;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err || s.failed) {
        remove(tmp);
        free(tmp);
        return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot write the snapshot: %s",
                                   strerror(err ? err : EIO));
    }
    free(tmp);
    return 0;
}

/* ---- loading ---- */

/* A column read from the snapshot, in fresh arrays, waiting to be
 * installed. */
typedef struct pending {
    tally_column col;
    size_t cells;      /* bits set in seen */
    int sum_ok;        /* the arrays match their checksum */
    int content_ok;    /* bits and values agree */
} pending;

static void free_pending(pending *p, size_t n, int in_place)
{
    for (size_t i = 0; i < n && !in_place; i++) {
        free(p[i].col.values);
        free(p[i].col.valid);
        free(p[i].col.seen);
    }
    free(p);
}

static int damaged(const char *name, const char *message)
{
    return tally_error__set_at(TALLY_EPARSE, name, 0, 0, NULL, 0, "%s", message);
}

/* Checks a column's bits: `valid` lies within `seen`, and no bit is set
 * past the last node. */
static int bits_ok(const uint64_t *valid, const uint64_t *seen, size_t nodes)
{
    size_t words = tally_bit__words(nodes);
    uint64_t bad = 0;
    for (size_t w = 0; w < words; w++)
        bad |= valid[w] & ~seen[w];
    if (nodes % 64 && (seen[words - 1] >> (nodes % 64)))
        bad = 1;
    return !bad;
}

/* Nonzero when a value disagrees with its valid bit: a valid value must be
 * finite, every other one NaN, as the readers leave them and the rollup
 * relies on. `n` values from node `base` (a multiple of 64).
 * Adding to the masked bits carries the property into the sign bit: the
 * exponent bits plus 2^52 reach 2^63 only when they are all ones (not
 * finite); |u| + (2^52 - 1) reaches 2^63 only past infinity (NaN). */
#define SNAP_EXPO 0x7ff0000000000000ULL
#define SNAP_ABS 0x7fffffffffffffffULL
static uint64_t values_bad(const double *v, size_t base, size_t n, const uint64_t *valid)
{
    uint64_t bad = 0;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i expo = _mm_set1_epi64x((long long)SNAP_EXPO), abs = _mm_set1_epi64x((long long)SNAP_ABS);
    const __m128i one = _mm_set1_epi64x((long long)0x0010000000000000ULL);
    const __m128i mant = _mm_set1_epi64x((long long)0x000fffffffffffffULL);
    for (; i + 64 <= n; i += 64) {
        uint64_t nonfinite = 0, nan = 0;
        for (unsigned k = 0; k < 64; k += 2) {
            __m128i u = _mm_loadu_si128((const __m128i *)(const void *)(v + i + k));
            __m128i nf = _mm_add_epi64(_mm_and_si128(u, expo), one);
            __m128i na = _mm_add_epi64(_mm_and_si128(u, abs), mant);
            nonfinite |= (uint64_t)_mm_movemask_pd(_mm_castsi128_pd(nf)) << k;
            nan |= (uint64_t)_mm_movemask_pd(_mm_castsi128_pd(na)) << k;
        }
        uint64_t bits = valid[(base + i) / 64];
        bad |= (bits & nonfinite) | (~bits & ~nan);
    }
#endif
    for (; i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        uint64_t nonfinite = ((u & SNAP_EXPO) + 0x0010000000000000ULL) >> 63;
        uint64_t nan = ((u & SNAP_ABS) + 0x000fffffffffffffULL) >> 63;
        uint64_t bit = (valid[(base + i) / 64] >> ((base + i) % 64)) & 1;
        bad |= (bit & nonfinite) | ((bit ^ 1) & (nan ^ 1));
    }
    return bad;
}

/* The same for values used in place: hashed and checked a chunk at a time. */
static int hash_values(xxh64 *hash, const double *v, size_t nodes, const uint64_t *valid)
{
    enum { CHUNK = 4096 };
    uint64_t bad = 0;
    for (size_t base = 0; base < nodes; base += CHUNK) {
        size_t n = nodes - base < CHUNK ? nodes - base : CHUNK;
        xxh64_update(hash, v + base, n * 8);
        bad |= values_bad(v + base, base, n, valid);
    }
    return !bad;
}

/* Memory for a column's values. Fresh memory costs a page fault and a
 * cleared page per 4 KiB, which is most of a snapshot's loading time: a
 * national column (5 MiB) asks for transparent huge pages where the
 * system gives them on request, so it faults a few times instead of
 * thirteen hundred. free() releases it like any other. */
static double *alloc_values(size_t nodes)
{
    size_t bytes = nodes ? nodes * 8 : 8;
#if defined(MADV_HUGEPAGE)
    const size_t huge = (size_t)2 << 20;
    if (bytes >= huge) {
        void *mem = NULL;
        if (posix_memalign(&mem, huge, bytes) == 0) {
            madvise(mem, bytes & ~(huge - 1), MADV_HUGEPAGE); /* advice only */
            return mem;
        }
        return NULL;
    }
#endif
    return malloc(bytes);
}

/* Copies a column's values out of the snapshot, hashing them on the way
 * and checking them against the valid bits, a chunk at a time so that each
 * chunk is read from memory once and then worked on in the cache. */
static int copy_values(xxh64 *hash, double *dst, const unsigned char *src, size_t nodes,
                       const uint64_t *valid)
{
    enum { CHUNK = 4096 }; /* values: 32 KiB, a multiple of 64 */
    uint64_t bad = 0;
    for (size_t base = 0; base < nodes; base += CHUNK) {
        size_t n = nodes - base < CHUNK ? nodes - base : CHUNK;
        xxh64_update(hash, src + base * 8, n * 8);
        memcpy(dst + base, src + base * 8, n * 8);
        bad |= values_bad(dst + base, base, n, valid);
    }
    return !bad;
}

static int valid_period(int64_t key)
{
    if (key < 0 || key > INT32_MAX)
        return 0;
    int year = tally_period__year((int32_t)key);
    int sub = (int)(key % 32);
    return year >= 1000 && year <= 9999 && sub <= 16;
}

static int foreign_hierarchy(const char *name, uint64_t nodes, uint64_t fp,
                             const tally_hierarchy *h)
{
    return tally_error__set_at(
        TALLY_EINVAL, name, 0, 0, NULL, 0,
        "snapshot was made over another hierarchy (%llu regions, fingerprint %016llx); "
        "expected %zu regions, fingerprint %016llx (load it over the hierarchy it was made "
        "from)",
        (unsigned long long)nodes, (unsigned long long)fp, tally_hierarchy_size(h),
        (unsigned long long)hierarchy_fingerprint(h));
}

/* The work of checking a snapshot once its headers are read: every
 * column (checksum, bits, values; copied when not used in place) and every
 * block of the hierarchy's fingerprint. Items are taken in turn by the
 * calling thread and a helper, each writing only its own results. */
typedef struct load_job {
    const unsigned char *p;
    const tally_hierarchy *h;
    pending *cols;
    size_t ncols, nodes, words, per_col;
    int in_place;
    uint64_t *blocks; /* fingerprint of each block of FP_BLOCK codes */
    size_t nblocks;
    atomic_size_t next; /* the next item to take */
    atomic_size_t done; /* items finished */
    atomic_int refs;    /* the caller, and the helper while it runs */
} load_job;

static void check_one_column(const load_job *job, size_t i)
{
    pending *pc = &job->cols[i];
    tally_column *c = &pc->col;
    const unsigned char *q = job->p + SNAP_HEADER + i * job->per_col;
    const unsigned char *vals = q + SNAP_COLUMN_HEADER, *bits = vals + job->nodes * 8;
    xxh64 hash;
    xxh64_init(&hash);
    int values_ok;
    if (job->in_place) {
        values_ok = hash_values(&hash, c->values, job->nodes, c->valid);
    } else {
        /* The bits first, as the values are checked against them; the
         * hash still takes the bytes in file order. */
        memcpy(c->valid, bits, job->words * 8);
        memcpy(c->seen, bits + job->words * 8, job->words * 8);
        values_ok = copy_values(&hash, c->values, vals, job->nodes, c->valid);
    }
    xxh64_update(&hash, bits, 2 * job->words * 8);
    pc->sum_ok = xxh64_digest(&hash) == rd64(q + 24);
    pc->content_ok = values_ok && bits_ok(c->valid, c->seen, job->nodes);
    pc->cells = popcount_words(c->seen, job->words);
}

/* Takes items until none is left. */
static void load_work(load_job *job)
{
    for (;;) {
        size_t i = atomic_fetch_add(&job->next, 1);
        if (i < job->nblocks) {
            size_t begin = i * FP_BLOCK, end = begin + FP_BLOCK < job->nodes ? begin + FP_BLOCK : job->nodes;
            job->blocks[i] = fingerprint_block(job->h, begin, end, code_at);
        } else if (i < job->nblocks + job->ncols) {
            check_one_column(job, i - job->nblocks);
        } else {
            return;
        }
        atomic_fetch_add(&job->done, 1);
    }
}

static void release_job(load_job *job)
{
    if (atomic_fetch_sub(&job->refs, 1) == 1)
        free(job);
}

/* The helper is detached: on a busy machine it may start late, after the
 * caller has taken every item, and the caller does not wait for it then;
 * it only waits for items the helper took. Whoever is last frees the job. */
static void *load_helper(void *arg)
{
    load_work(arg);
    release_job(arg);
    return NULL;
}

/* The trailer's checksum: the header and the column headers, in order
 * (each column header holds the checksum of its arrays). */
static uint64_t meta_checksum(const unsigned char *p, size_t ncols, size_t per_col)
{
    xxh64 hash;
    xxh64_init(&hash);
    xxh64_update(&hash, p, SNAP_HEADER);
    for (size_t i = 0; i < ncols; i++)
        xxh64_update(&hash, p + SNAP_HEADER + i * per_col, SNAP_COLUMN_HEADER);
    return xxh64_digest(&hash);
}

/* Below this many bytes of columns a second thread costs more than it
 * saves. */
#define SNAP_THREAD_MIN ((size_t)1 << 20)

/* Loads a snapshot from `p`. With `map_len` nonzero, `p` is a private
 * read-write mapping of that length, 8-byte aligned: the columns are used
 * in place and the dataset takes the mapping over when it adopts any
 * (*taken = 1); else they are copied. */
static int load(tally_dataset *ds, const unsigned char *p, size_t size, const char *name,
                size_t map_len, int *taken)
{
    int in_place = map_len != 0;
    *taken = 0;
    const tally_hierarchy *h = tally_dataset_hierarchy(ds);
    const tally_definitions *d = tally_dataset_definitions(ds);
    if (!tally_snapshot_is(p, size))
        return tally_error__set_at(TALLY_EPARSE, name, 0, 0, NULL, 0,
                                   "not a tally snapshot (it does not start with \"TALLYSNP\")");
    if (size < SNAP_HEADER + SNAP_TRAILER)
        return tally_error__set_at(TALLY_EPARSE, name, 0, 0, NULL, 0,
                                   "truncated snapshot: %zu bytes, shorter than its header; "
                                   "the file is damaged", size);
    if (!little_endian())
        return tally_error__set_at(TALLY_ENOTSUP, name, 0, 0, NULL, 0,
                                   "snapshots are little-endian; this machine is big-endian");
    uint32_t version = rd32(p + 8), bom = rd32(p + 12);
    if (version != TALLY_SNAPSHOT_VERSION)
        return tally_error__set_at(TALLY_ENOTSUP, name, 0, 0, NULL, 0,
                                   "snapshot format version %lu; this library reads version %d "
                                   "(make the snapshot again with this version of tally)",
                                   (unsigned long)version, TALLY_SNAPSHOT_VERSION);
    if (bom != SNAP_BOM)
        return tally_error__set_at(TALLY_ENOTSUP, name, 0, 0, NULL, 0,
                                   "snapshot has byte order mark 0x%08lx; expected 0x%08lx "
                                   "(snapshots are little-endian)",
                                   (unsigned long)bom, (unsigned long)SNAP_BOM);
    uint64_t file_size = rd64(p + 16);
    if (file_size != size)
        return tally_error__set_at(TALLY_EPARSE, name, 0, 0, NULL, 0,
                                   "%s snapshot: %zu bytes, its header says %llu; the file is damaged",
                                   size < file_size ? "truncated" : "overlong", size,
                                   (unsigned long long)file_size);
    uint64_t nodes = rd64(p + 24), hfp = rd64(p + 32), nind = rd64(p + 40), dfp = rd64(p + 48);
    uint64_t ncols = rd64(p + 56), total_cells = rd64(p + 64);
    /* The layout by the file's own counts; then whether it is ours. */
    uint64_t room = size - SNAP_HEADER - SNAP_TRAILER;
    uint64_t per_col = nodes > room / 8 ? 0
                                         : SNAP_COLUMN_HEADER + nodes * 8 +
                                               2 * 8 * ((nodes + 63) / 64);
    if (rd64(p + 72) != 0 || (ncols && (!per_col || ncols > room / per_col)) ||
        ncols * per_col != room)
        return damaged(name, "bad snapshot: its column count, region count and size do "
                             "not add up; the file is damaged");
    if (meta_checksum(p, (size_t)ncols, (size_t)per_col) != rd64(p + size - SNAP_TRAILER))
        return damaged(name, "checksum mismatch: the file is damaged");
    size_t my_nodes = tally_hierarchy_size(h), my_nind = tally_definitions_indicator_count(d);
    uint64_t my_dfp = definitions_fingerprint(d);
    if (nodes != my_nodes || nind != my_nind || dfp != my_dfp) {
        if (nodes != my_nodes)
            return foreign_hierarchy(name, nodes, hfp, h);
        return tally_error__set_at(
            TALLY_EINVAL, name, 0, 0, NULL, 0,
            "snapshot was made over other definitions (%llu indicators, fingerprint %016llx); "
            "expected %zu indicators, fingerprint %016llx (the same indicator ids in the same "
            "order)",
            (unsigned long long)nind, (unsigned long long)dfp, my_nind,
            (unsigned long long)my_dfp);
    }
    size_t words = tally_bit__words(my_nodes);

    /* The column headers, in order, before any array is touched. */
    const char *why = NULL;
    for (size_t i = 0; i < ncols && !why; i++) {
        const unsigned char *q = p + SNAP_HEADER + i * per_col;
        uint64_t ind = rd64(q);
        int64_t key = (int64_t)rd64(q + 8);
        if (ind >= my_nind || !valid_period(key))
            why = "a column has an unknown indicator or a bad period";
        else if (i && (ind < rd64(q - per_col) ||
                       (ind == rd64(q - per_col) && key <= (int64_t)rd64(q - per_col + 8))))
            why = "columns are out of order or given twice";
    }
    if (why)
        return tally_error__set_at(TALLY_EPARSE, name, 0, 0, NULL, 0,
                                   "bad snapshot: %s; the file is damaged", why);

    load_job *jp = malloc(sizeof *jp);
    if (!jp)
        return tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
    jp->p = p;
    jp->h = h;
    jp->ncols = (size_t)ncols;
    jp->nodes = my_nodes;
    jp->words = words;
    jp->per_col = (size_t)per_col;
    jp->in_place = in_place;
    jp->nblocks = (my_nodes + FP_BLOCK - 1) / FP_BLOCK;
    jp->cols = calloc(ncols ? ncols : 1, sizeof *jp->cols);
    jp->blocks = calloc(jp->nblocks ? jp->nblocks : 1, sizeof *jp->blocks);
    pending *cols = jp->cols;
    int rc = 0;
    if (!cols || !jp->blocks)
        rc = tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
    for (size_t i = 0; i < ncols && !rc; i++) {
        const unsigned char *q = p + SNAP_HEADER + i * per_col;
        const unsigned char *bits = q + SNAP_COLUMN_HEADER + my_nodes * 8;
        tally_column *c = &cols[i].col;
        c->indicator = (size_t)rd64(q);
        c->period = (int32_t)rd64(q + 8);
        if (in_place) {
            /* Sections start at multiples of 8 in a page-aligned mapping. */
            c->values = (double *)(uintptr_t)(q + SNAP_COLUMN_HEADER);
            c->valid = (uint64_t *)(uintptr_t)bits;
            c->seen = (uint64_t *)(uintptr_t)(bits + words * 8);
            continue;
        }
        c->values = alloc_values(my_nodes);
        c->valid = malloc(words ? words * 8 : 1);
        c->seen = malloc(words ? words * 8 : 1);
        if (!c->values || !c->valid || !c->seen)
            rc = tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
    }
    if (rc) {
        if (cols)
            free_pending(cols, ncols, in_place);
        free(jp->blocks);
        free(jp);
        return rc;
    }
    /* Checking reads every byte of the columns and every code of the
     * hierarchy: the work is shared with a second thread when there is
     * enough of it. */
    atomic_init(&jp->next, 0);
    atomic_init(&jp->done, 0);
    atomic_init(&jp->refs, 1);
    size_t items = jp->nblocks + jp->ncols;
    if (ncols * per_col >= SNAP_THREAD_MIN) {
        pthread_t thread;
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) == 0) {
            atomic_store(&jp->refs, 2);
            if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
                pthread_create(&thread, &attr, load_helper, jp) != 0)
                atomic_store(&jp->refs, 1); /* no helper: all on this thread */
            pthread_attr_destroy(&attr);
        }
    }
    load_work(jp);
    while (atomic_load(&jp->done) < items)
        sched_yield(); /* an item the helper took is not finished yet */
    uint64_t fp = fingerprint_combine(my_nodes, jp->blocks, jp->nblocks);
    free(jp->blocks);
    release_job(jp);

    uint64_t sum_cells = 0;
    int sums_ok = 1;
    for (size_t i = 0; i < ncols; i++) {
        sums_ok &= cols[i].sum_ok;
        if (!why && !cols[i].content_ok)
            why = "a column's values disagree with its bits";
        if (!why && cols[i].cells != rd64(p + SNAP_HEADER + i * per_col + 16))
            why = "a column's cell count does not match its bits";
        sum_cells += cols[i].cells;
    }
    if (!sums_ok)
        rc = damaged(name, "checksum mismatch: the file is damaged");
    else if (fp != hfp)
        rc = foreign_hierarchy(name, nodes, hfp, h);
    else if (why || sum_cells != total_cells)
        rc = tally_error__set_at(TALLY_EPARSE, name, 0, 0, NULL, 0,
                                 "bad snapshot: %s; the file is damaged",
                                 why ? why : "the cell count does not match the columns");

    /* A cell already in the dataset is a duplicate, as in a records file:
     * find it before anything is added. */
    for (size_t i = 0; i < ncols && !rc; i++) {
        const tally_column *have = tally_dataset__find_column(ds, cols[i].col.indicator,
                                                              cols[i].col.period);
        for (size_t w = 0; have && w < words; w++) {
            uint64_t both = have->seen[w] & cols[i].col.seen[w];
            if (both) {
                size_t node = w * 64 + (size_t)__builtin_ctzll(both);
                char per[TALLY_PERIOD_TEXT_MAX];
                tally_period__format(cols[i].col.period, per);
                rc = tally_error__set_at(
                    TALLY_EEXIST, name, 0, 0, NULL, 0,
                    "duplicate value for region %s, indicator %s, period %s: it is both in the "
                    "dataset and in the snapshot; each is given once",
                    tally_hierarchy_code(h, node), tally_definitions_id(d, cols[i].col.indicator),
                    per);
                break;
            }
        }
    }
    if (rc) {
        free_pending(cols, ncols, in_place);
        return rc;
    }
    /* Columns used in place need the mapping to live as long as the
     * dataset: hand it over first, if any column will be adopted. */
    for (size_t i = 0; in_place && i < ncols && !*taken; i++) {
        if (tally_dataset__find_column(ds, cols[i].col.indicator, cols[i].col.period))
            continue;
        if (tally_dataset__adopt_map(ds, (void *)(uintptr_t)p, map_len)) {
            free_pending(cols, ncols, in_place);
            return tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
        }
        *taken = 1;
    }

    /* Install: a new column takes the arrays; an existing one gets the
     * snapshot's cells merged in (none of them is there yet). */
    for (size_t i = 0; i < ncols; i++) {
        pending *pc = &cols[i];
        tally_column *have = tally_dataset__column_mut(ds, pc->col.indicator, pc->col.period);
        if (!have) {
            rc = tally_dataset__adopt_column(ds, &pc->col, pc->cells);
            if (rc == 0) {
                pc->col.values = NULL;
                pc->col.valid = pc->col.seen = NULL;
                continue;
            }
            /* Only memory can fail here; the columns installed so far stay
             * (they are whole and checked), the rest are dropped. */
            rc = tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
            break;
        }
        for (size_t w = 0; w < words; w++) {
            uint64_t bits = pc->col.valid[w];
            have->seen[w] |= pc->col.seen[w];
            have->valid[w] |= bits;
            while (bits) {
                size_t node = w * 64 + (size_t)__builtin_ctzll(bits);
                have->values[node] = pc->col.values[node];
                bits &= bits - 1;
            }
        }
        tally_dataset__add_cells(ds, pc->cells);
    }
    free_pending(cols, ncols, in_place);
    return rc;
}

TALLY_EXTERN(int) tally_dataset_load_buffer(tally_dataset *ds, const void *data, size_t size,
                                            const char *name)
{
    if (!ds || (!data && size))
        return tally_error__set(TALLY_EINVAL, "tally_dataset_load_buffer: NULL argument");
    int taken;
    return load(ds, data ? data : "", size, name ? name : "<buffer>", 0, &taken);
}

TALLY_EXTERN(int) tally_dataset_load(tally_dataset *ds, const char *path)
{
    if (!ds || !path)
        return tally_error__set(TALLY_EINVAL, "tally_dataset_load: NULL argument");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tally_error__set_at(TALLY_EIO, path, 0, 0, NULL, 0, "cannot open: %s",
                                   strerror(errno));
    struct stat st;
    void *map = MAP_FAILED;
    size_t len = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        /* Private and writable: the columns are used from the page cache
         * as they are, and a later write to one (a CSV read into the same
         * dataset) copies just that page. */
        len = (size_t)st.st_size;
        map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    }
    close(fd);
    int rc, taken = 0;
    if (map != MAP_FAILED) {
        madvise(map, len, MADV_WILLNEED); /* advice only */
        rc = load(ds, map, len, path, len, &taken);
        if (!taken)
            munmap(map, len);
        return rc;
    }
    /* Not a regular file (a pipe), empty, or not mappable: read it. */
    tally_mapped m;
    rc = tally_util__map_file(&m, path);
    if (rc)
        return rc;
    rc = load(ds, (const unsigned char *)m.data, m.size, path, 0, &taken);
    tally_util__unmap(&m);
    return rc;
}
