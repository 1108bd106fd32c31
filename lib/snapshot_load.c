/* Binary snapshots of a dataset: loading (the format is described in
 * tally/snapshot.h).
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
 * Checking reads every byte, so loading costs about what reading the file
 * from memory costs, and the whole numbers make the file (and so the load)
 * about half as large for counts: each chunk of values (16 KiB of doubles,
 * 8 KiB of whole numbers) is hashed (XXH3, faster than memory) and then
 * checked against its bits while it is in the first-level cache; the
 * pieces of the columns are shared with a second thread, each working from
 * its own end of the file; the file is mapped, not copied;
 * and the hierarchy's fingerprint is worked out once per hierarchy object
 * (tally_hierarchy__memo_*), not per load.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/snapshot.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "dataset.h"
#include "error.h"
#include "hierarchy.h"
#include "period.h"
#include "snapshot.h"
#include "util.h"

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

/* A column read from the snapshot, in fresh arrays (or in place), waiting
 * to be installed. */
typedef struct pending {
    tally_column col;
    size_t at;      /* the column's offset in the file */
    unsigned form;  /* FORM_DOUBLE or FORM_INT32 */
    size_t cells;   /* bits set in seen */
    int bits_ok;    /* valid within seen, nothing past the last node */
    /* The nodes [lo, hi) it holds (version 3: every node), len of them:
     * its arrays are read as len values from index 0 (col.lo and col.hi
     * are set, and the arrays made to point by node, when it is
     * installed); its pieces (value pieces, valid, seen) and the first of
     * its items (value pieces, bits) in the checking work. */
    size_t lo, hi, len, words, pieces, first_item;
} pending;

static void free_pending(pending *p, size_t n, int in_place)
{
    for (size_t i = 0; p && i < n && !in_place; i++) {
        free(p[i].col.values);
        free(p[i].col.ints);
        free(p[i].col.valid);
        free(p[i].col.seen);
    }
    free(p);
}

static int damaged(const char *name, const char *message)
{
    return tally_error__set_at(TALLY_EPARSE, name, 0, 0, NULL, 0, "%s", tally_error__tr(message));
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
 * relies on. `n` values from node `base` (a multiple of 64); the valid
 * bits are read from `valid`, the column's valid array as bytes (a buffer
 * may be unaligned).
 *
 * With a = |value| as an integer, a value is finite when a < SNAP_EXPO
 * (the exponent field all ones), infinite when a == SNAP_EXPO, NaN when
 * greater. The exact test is values_bad_exact. The vector forms look at
 * the high 32 bits only, which decide it unless they are exactly those of
 * infinity (an infinity, or a NaN with only low mantissa bits, which no
 * reader writes): so, 64 values at a time, the bits of "high < infinity's
 * high" must be the valid bits, and a chunk where some high half equals
 * infinity's is decided by the exact test. That is a comparison per value
 * on eight values at once, which keeps up with reading them from memory. */
#define SNAP_EXPO 0x7ff0000000000000ULL
#define SNAP_ABS 0x7fffffffffffffffULL
#define SNAP_EXPO_HIGH 0x7ff00000
#define SNAP_ABS_HIGH 0x7fffffff

static uint64_t values_bad_exact(const double *v, size_t base, size_t i, size_t n,
                                 const unsigned char *valid)
{
    uint64_t bad = 0;
    for (; i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        uint64_t a = u & SNAP_ABS;
        uint64_t bit = (rd64(valid + (base + i) / 64 * 8) >> ((base + i) % 64)) & 1;
        bad |= (uint64_t)((a < SNAP_EXPO) != bit) | (uint64_t)(a == SNAP_EXPO);
    }
    return bad;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SNAP_AVX2 1
/* Compiled for AVX2 and called only where the processor has it. Eight
 * high halves come from two loads in the order 0 1 4 5 2 3 6 7 (the
 * shuffle works within 128-bit lanes): the valid bits are put in the same
 * order, a swap of bits 2-3 with bits 4-5 in every byte. */
__attribute__((target("avx2"))) static uint64_t values_bad_avx2(const double *v, size_t base,
                                                               size_t n,
                                                               const unsigned char *valid)
{
    const __m256i abs = _mm256_set1_epi32(SNAP_ABS_HIGH), inf = _mm256_set1_epi32(SNAP_EXPO_HIGH);
    __m256i edge = _mm256_setzero_si256();
    uint64_t bad = 0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        uint64_t finite = 0;
        for (unsigned k = 0; k < 64; k += 8) {
            const float *f = (const float *)(const void *)(v + i + k);
            __m256 x = _mm256_shuffle_ps(_mm256_loadu_ps(f), _mm256_loadu_ps(f + 8), 0xdd);
            __m256i high = _mm256_and_si256(_mm256_castps_si256(x), abs);
            __m256i lt = _mm256_cmpgt_epi32(inf, high);
            finite |= (uint64_t)_mm256_movemask_ps(_mm256_castsi256_ps(lt)) << k;
            edge = _mm256_or_si256(edge, _mm256_cmpeq_epi32(high, inf));
        }
        uint64_t bits = rd64(valid + (base + i) / 64 * 8);
        bits = (bits & 0xc3c3c3c3c3c3c3c3ULL) | ((bits >> 2) & 0x0c0c0c0c0c0c0c0cULL) |
               ((bits << 2) & 0x3030303030303030ULL);
        bad |= finite ^ bits;
    }
    if (!_mm256_testz_si256(edge, edge))
        return values_bad_exact(v, base, 0, n, valid);
    return bad | values_bad_exact(v, base, i, n, valid);
}
#endif

#if defined(__SSE2__)
/* Four high halves, in order, from two loads. */
static uint64_t values_bad_sse2(const double *v, size_t base, size_t n, const unsigned char *valid)
{
    const __m128i abs = _mm_set1_epi32(SNAP_ABS_HIGH), inf = _mm_set1_epi32(SNAP_EXPO_HIGH);
    __m128i edge = _mm_setzero_si128();
    uint64_t bad = 0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        uint64_t finite = 0;
        for (unsigned k = 0; k < 64; k += 4) {
            const float *f = (const float *)(const void *)(v + i + k);
            __m128 x = _mm_shuffle_ps(_mm_loadu_ps(f), _mm_loadu_ps(f + 4), 0xdd);
            __m128i high = _mm_and_si128(_mm_castps_si128(x), abs);
            __m128i lt = _mm_cmpgt_epi32(inf, high);
            finite |= (uint64_t)_mm_movemask_ps(_mm_castsi128_ps(lt)) << k;
            edge = _mm_or_si128(edge, _mm_cmpeq_epi32(high, inf));
        }
        bad |= finite ^ rd64(valid + (base + i) / 64 * 8);
    }
    if (_mm_movemask_epi8(edge))
        return values_bad_exact(v, base, 0, n, valid);
    return bad | values_bad_exact(v, base, i, n, valid);
}
#endif

static uint64_t values_bad(const double *v, size_t base, size_t n, const unsigned char *valid)
{
#if defined(SNAP_AVX2)
    if (__builtin_cpu_supports("avx2"))
        return values_bad_avx2(v, base, n, valid);
#endif
#if defined(__SSE2__)
    return values_bad_sse2(v, base, n, valid);
#else
    return values_bad_exact(v, base, 0, n, valid);
#endif
}

/* For the tests, which hold every form to the exact one: 1 when the `n`
 * values at `v` (from node 0) agree with the valid bits `valid`, else 0,
 * by the exact test (form 0), the SSE2 form (1) or the AVX2 form (2); -1
 * when this build or processor has not that form. */
int tally_snapshot__values_agree(const double *v, size_t n, const unsigned char *valid, int form);
int tally_snapshot__values_agree(const double *v, size_t n, const unsigned char *valid, int form)
{
    switch (form) {
    case 0: return !values_bad_exact(v, 0, 0, n, valid);
#if defined(__SSE2__)
    case 1: return !values_bad_sse2(v, 0, n, valid);
#endif
#if defined(SNAP_AVX2)
    case 2: return __builtin_cpu_supports("avx2") ? !values_bad_avx2(v, 0, n, valid) : -1;
#endif
    default: return -1;
    }
}

/* Nonzero when a column of whole numbers has a number where no value was
 * filed (there it holds 0, as the writer leaves it; so does the extra
 * slot, which has no bit). `n` slots from `base` (a multiple of 64), as
 * values_bad. Any 32-bit number is a value, so that is all there is to
 * check; the vector forms find the zeros eight or four at a time. */
static uint64_t ints_bad_exact(const int32_t *v, size_t base, size_t i, size_t n,
                               const unsigned char *valid)
{
    uint64_t bad = 0;
    for (; i < n; i++) {
        uint64_t bit = (rd64(valid + (base + i) / 64 * 8) >> ((base + i) % 64)) & 1;
        bad |= (uint64_t)(v[i] != 0) & ~bit;
    }
    return bad;
}

#if defined(SNAP_AVX2)
__attribute__((target("avx2"))) static uint64_t ints_bad_avx2(const int32_t *v, size_t base,
                                                             size_t n,
                                                             const unsigned char *valid)
{
    const __m256i zero = _mm256_setzero_si256();
    uint64_t bad = 0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        uint64_t zeros = 0;
        for (unsigned k = 0; k < 64; k += 8) {
            __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(v + i + k));
            __m256i z = _mm256_cmpeq_epi32(x, zero);
            zeros |= (uint64_t)(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(z)) << k;
        }
        bad |= ~zeros & ~rd64(valid + (base + i) / 64 * 8);
    }
    return bad | ints_bad_exact(v, base, i, n, valid);
}
#endif

#if defined(__SSE2__)
static uint64_t ints_bad_sse2(const int32_t *v, size_t base, size_t n, const unsigned char *valid)
{
    const __m128i zero = _mm_setzero_si128();
    uint64_t bad = 0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        uint64_t zeros = 0;
        for (unsigned k = 0; k < 64; k += 4) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(v + i + k));
            __m128i z = _mm_cmpeq_epi32(x, zero);
            zeros |= (uint64_t)(unsigned)_mm_movemask_ps(_mm_castsi128_ps(z)) << k;
        }
        bad |= ~zeros & ~rd64(valid + (base + i) / 64 * 8);
    }
    return bad | ints_bad_exact(v, base, i, n, valid);
}
#endif

static uint64_t ints_bad(const int32_t *v, size_t base, size_t n, const unsigned char *valid)
{
#if defined(SNAP_AVX2)
    if (__builtin_cpu_supports("avx2"))
        return ints_bad_avx2(v, base, n, valid);
#endif
#if defined(__SSE2__)
    return ints_bad_sse2(v, base, n, valid);
#else
    return ints_bad_exact(v, base, 0, n, valid);
#endif
}

/* For the tests, as tally_snapshot__values_agree: 1 when the `n` whole
 * numbers at `v` are 0 wherever `valid` has no bit, else 0, by the exact
 * test (form 0), SSE2 (1) or AVX2 (2); -1 when that form is not here. */
int tally_snapshot__ints_agree(const int32_t *v, size_t n, const unsigned char *valid, int form);
int tally_snapshot__ints_agree(const int32_t *v, size_t n, const unsigned char *valid, int form)
{
    switch (form) {
    case 0: return !ints_bad_exact(v, 0, 0, n, valid);
#if defined(__SSE2__)
    case 1: return !ints_bad_sse2(v, 0, n, valid);
#endif
#if defined(SNAP_AVX2)
    case 2: return __builtin_cpu_supports("avx2") ? !ints_bad_avx2(v, 0, n, valid) : -1;
#endif
    default: return -1;
    }
}

/* Memory for a column's values. Fresh memory costs a page fault and a
 * cleared page per 4 KiB, which is most of loading a copied snapshot: a
 * national column (5 MiB) asks for transparent huge pages where the
 * system gives them on request, so it faults a few times instead of
 * thirteen hundred. free() releases it like any other. */
static void *alloc_values(size_t bytes)
{
    bytes = bytes ? bytes : 8;
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

static int valid_period(int64_t key)
{
    /* Records are dated by months, quarters and years; a half or a range is
     * only ever asked for, so no column of a dataset has one. */
    if (key < 0 || key > INT32_MAX || tally_period__is_range((int32_t)key))
        return 0;
    int year = tally_period__year((int32_t)key);
    int sub = (int)(key % 32);
    return year >= 1000 && year <= 9999 && sub <= 16;
}

static int foreign_hierarchy(const char *name, uint64_t nodes, uint64_t fp,
                             const tally_hierarchy *h)
{
    uint64_t mine = 0;
    if (tally_snapshot__hierarchy_fingerprint(h, &mine))
        return tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
    return tally_error__set_at(
        TALLY_EINVAL, name, 0, 0, NULL, 0,
        "snapshot was made over another hierarchy (%llu regions, fingerprint %016llx); "
        "expected %zu regions, fingerprint %016llx (load it over the hierarchy it was made "
        "from)",
        (unsigned long long)nodes, (unsigned long long)fp, tally_hierarchy_size(h),
        (unsigned long long)mine);
}

/* The work of checking a snapshot once its headers are read: the blocks
 * of the hierarchy's fingerprint when it is not known yet, then every
 * piece of every column (hashed, values checked against the valid bits,
 * copied when not used in place), a column's bits being one item. Items
 * are taken by the calling thread and a helper (load_work), each writing
 * only its own items' results. */
typedef struct load_job {
    const unsigned char *p;
    const tally_hierarchy *h;
    pending *cols;
    size_t ncols, nodes;
    size_t head;      /* bytes of a column header (the format version's) */
    size_t pieces;    /* room for sums per column: value pieces, valid, seen */
    size_t *item_col; /* the column of each item after the blocks */
    size_t items;     /* blocks, then each column's value pieces and bits */
    int in_place;
    uint64_t *sums;   /* each piece's hash, column after column */
    unsigned char *bad; /* per value piece: a value disagrees with its bit */
    uint64_t *blocks; /* the fingerprint's blocks, when it is worked out */
    size_t nblocks;
    atomic_int nomem;   /* a block's hash state could not be allocated */
    atomic_uchar *taken; /* per item: taken by a thread */
    atomic_size_t done; /* items finished */
    atomic_int refs;    /* the caller, and the helper while it runs */
} load_job;

/* Values per chunk of a piece: 16 KiB, hashed (streaming; which brings
 * them from memory) and then checked while in the first-level cache, so no
 * value is read from memory twice. Not part of the format. */
#define SNAP_CHUNK ((size_t)2048)

/* `st`: this thread's hash state, or NULL when none could be allocated
 * (the piece is then hashed whole, and checked after). */
static void check_value_piece(const load_job *job, XXH3_state_t *st, size_t col, size_t k)
{
    const pending *pc = &job->cols[col];
    const tally_column *c = &pc->col;
    int ints = pc->form == FORM_INT32;
    size_t w = value_width(pc->form), slots = value_slots(pc->len, pc->form);
    const unsigned char *vals = job->p + pc->at + job->head;
    const unsigned char *valid = vals + slots * w;
    size_t begin = k * SNAP_PIECE;
    size_t n = slots - begin < SNAP_PIECE ? slots - begin : SNAP_PIECE;
    const unsigned char *src = vals + begin * w;
    unsigned char *dst = (unsigned char *)(ints ? (void *)c->ints : (void *)c->values) + begin * w;
    uint64_t bad = 0, sum;
    if (st && XXH3_64bits_reset(st) != XXH_ERROR) {
        for (size_t off = 0; off < n; off += SNAP_CHUNK) {
            size_t m = n - off < SNAP_CHUNK ? n - off : SNAP_CHUNK;
            unsigned char *at = dst + off * w;
            if (!job->in_place)
                memcpy(at, src + off * w, m * w);
            XXH3_64bits_update(st, at, m * w);
            bad |= ints ? ints_bad((const int32_t *)(void *)at, begin + off, m, valid)
                        : values_bad((const double *)(void *)at, begin + off, m, valid);
        }
        sum = XXH3_64bits_digest(st);
    } else {
        if (!job->in_place)
            memcpy(dst, src, n * w);
        sum = tally_snapshot__checksum(src, n * w);
        bad = ints ? ints_bad((const int32_t *)(void *)dst, begin, n, valid)
                   : values_bad((const double *)(void *)dst, begin, n, valid);
    }
    job->sums[col * job->pieces + k] = sum;
    job->bad[col * job->pieces + k] = bad != 0;
}

static void check_bits(const load_job *job, size_t col)
{
    pending *pc = &job->cols[col];
    const unsigned char *bits = job->p + pc->at + job->head +
                                value_slots(pc->len, pc->form) * value_width(pc->form);
    size_t len = pc->words * 8, np = pc->pieces - 2;
    if (!job->in_place) {
        memcpy(pc->col.valid, bits, len);
        memcpy(pc->col.seen, bits + len, len);
    }
    job->sums[col * job->pieces + np] = tally_snapshot__checksum(bits, len);
    job->sums[col * job->pieces + np + 1] = tally_snapshot__checksum(bits + len, len);
    pc->bits_ok = bits_ok(pc->col.valid, pc->col.seen, pc->len);
    pc->cells = tally_snapshot__popcount_words(pc->col.seen, pc->words);
}

/* Takes items until none is left: the caller from the first, the helper
 * from the last, so that each reads its own end of the file. (Taking them
 * in turn has both fault in pages of the same page table, and wait for
 * each other's lock.) The items one takes are contiguous, so the first
 * item found taken is where the other's begin. */
static void load_work(load_job *job, int from_last)
{
    /* The columns are the caller's: read only for an item taken (a helper
     * that starts late finds every item taken, the columns maybe gone). */
    size_t items = job->items;
    XXH3_state_t *st = XXH3_createState();
    for (size_t n = 0; n < items; n++) {
        size_t i = from_last ? items - 1 - n : n;
        if (atomic_exchange(&job->taken[i], 1))
            break;
        if (i < job->nblocks) {
            size_t begin = i * FP_BLOCK;
            size_t end = job->nodes - begin < FP_BLOCK ? job->nodes : begin + FP_BLOCK;
            if (tally_snapshot__hierarchy_block(job->h, begin, end, &job->blocks[i]))
                atomic_store(&job->nomem, 1);
        } else {
            size_t col = job->item_col[i - job->nblocks];
            size_t k = i - job->nblocks - job->cols[col].first_item;
            if (k + 2 < job->cols[col].pieces)
                check_value_piece(job, st, col, k);
            else
                check_bits(job, col);
        }
        atomic_fetch_add(&job->done, 1);
    }
    XXH3_freeState(st);
}

static void release_job(load_job *job)
{
    if (atomic_fetch_sub(&job->refs, 1) == 1) {
        free(job->sums);
        free(job->item_col);
        free(job->bad);
        free(job->blocks);
        free((void *)job->taken);
        free(job);
    }
}

/* The helper is detached: on a busy machine it may start late, after the
 * caller has taken every item, and the caller does not wait for it then;
 * it only waits for items the helper took. Whoever is last frees the job
 * (not the columns, which the caller owns). */
static void *load_helper(void *arg)
{
    load_work(arg, 1);
    release_job(arg);
    return NULL;
}

/* The trailer's checksum: the header and the column headers, in order
 * (each column header holds the checksum of its arrays). 0 or
 * TALLY_ENOMEM. */
static int meta_checksum(const unsigned char *p, size_t ncols, const size_t *at, size_t head,
                         uint64_t *out)
{
    XXH3_state_t *st = XXH3_createState();
    if (!st || XXH3_64bits_reset(st) == XXH_ERROR) {
        XXH3_freeState(st);
        return TALLY_ENOMEM;
    }
    XXH3_64bits_update(st, p, SNAP_HEADER);
    for (size_t i = 0; i < ncols; i++)
        XXH3_64bits_update(st, p + at[i], head);
    *out = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return 0;
}

/* Below this many bytes of columns a second thread costs more than it
 * saves. */
#define SNAP_THREAD_MIN ((size_t)1 << 20)

/* Loads a snapshot from `p`. With `map_len` nonzero, `p` is a private
 * read-write mapping of that length, 8-byte aligned: the columns are used
 * in place and the dataset takes the mapping over when it adopts any
 * (*taken = 1); else they are copied. */
static int load_columns(tally_dataset *ds, const unsigned char *p, size_t size, const char *name,
                        size_t map_len, int *taken, const size_t *at, size_t head);

/* The node range [*lo, *hi) of the column whose header is at q: version
 * 3 (head SNAP_COLUMN_HEADER_V3) holds every node; version 4 gives it,
 * lo a multiple of 64. 0, or 1 when it is not a range of the nodes. */
static int column_range(const unsigned char *q, size_t head, uint64_t nodes, uint64_t *lo,
                        uint64_t *hi)
{
    if (head == SNAP_COLUMN_HEADER_V3) {
        *lo = 0;
        *hi = nodes;
        return 0;
    }
    *lo = rd64(q + 40);
    *hi = rd64(q + 48);
    return *lo % 64 != 0 || *lo > *hi || *hi > nodes;
}

static int load(tally_dataset *ds, const unsigned char *p, size_t size, const char *name,
                size_t map_len, int *taken)
{
    *taken = 0;
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
    if (version != TALLY_SNAPSHOT_VERSION && version != 3)
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
                                   "%s snapshot: %zu bytes, its header says %llu; the file "
                                   "is damaged",
                                   size < file_size ? "truncated" : "overlong", size,
                                   (unsigned long long)file_size);
    /* The layout by the file's own counts: each column's form gives its
     * size, and the columns fill the file exactly. */
    uint64_t nodes = rd64(p + 24), ncols = rd64(p + 56);
    uint64_t room = size - SNAP_HEADER - SNAP_TRAILER, end = size - SNAP_TRAILER;
    /* Version 3 holds every node in every column; version 4 each
     * column's range, of no node at the least. */
    size_t head = version == 3 ? SNAP_COLUMN_HEADER_V3 : SNAP_COLUMN_HEADER;
    uint64_t least = version != 3          ? head
                     : nodes > room / 4    ? 0
                                           : column_bytes_after(head, (size_t)nodes, FORM_INT32);
    const char *add_up = N_("bad snapshot: its column count, region count and size do not add "
                         "up; the file is damaged");
    if (rd64(p + 72) != 0 || (ncols && (!least || ncols > room / least)))
        return damaged(name, add_up);
    size_t *at = malloc((ncols ? ncols : 1) * sizeof *at);
    if (!at)
        return tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
    const char *why = NULL;
    uint64_t pos = SNAP_HEADER;
    for (size_t i = 0; i < ncols && !why; i++) {
        if (end - pos < head) {
            why = add_up;
            break;
        }
        uint32_t form = rd32(p + pos + 32), scale = rd32(p + pos + 36);
        uint64_t lo, hi;
        if (form > FORM_INT32 || scale > (form == FORM_INT32 ? TALLY_COLUMN_MAX_SCALE : 0)) {
            why = N_("bad snapshot: a column's values are in an unknown form; the file is damaged");
            break;
        }
        if (column_range(p + pos, head, nodes, &lo, &hi) ||
            column_bytes_after(head, (size_t)(hi - lo), form) > end - pos) {
            why = add_up;
            break;
        }
        at[i] = (size_t)pos;
        pos += column_bytes_after(head, (size_t)(hi - lo), form);
    }
    if (!why && pos != end)
        why = add_up;
    int rc = why ? damaged(name, why) : load_columns(ds, p, size, name, map_len, taken, at, head);
    free(at);
    return rc;
}

/* The rest of load, once the columns' offsets `at` are known. */
static int load_columns(tally_dataset *ds, const unsigned char *p, size_t size, const char *name,
                        size_t map_len, int *taken, const size_t *at, size_t head)
{
    int in_place = map_len != 0;
    const tally_hierarchy *h = tally_dataset_hierarchy(ds);
    const tally_definitions *d = tally_dataset_definitions(ds);
    uint64_t nodes = rd64(p + 24), hfp = rd64(p + 32), nind = rd64(p + 40), dfp = rd64(p + 48);
    uint64_t ncols = rd64(p + 56), total_cells = rd64(p + 64);
    uint64_t meta;
    if (meta_checksum(p, (size_t)ncols, at, head, &meta))
        return tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
    if (meta != rd64(p + size - SNAP_TRAILER))
        return damaged(name, "checksum mismatch: the file is damaged");
    size_t my_nodes = tally_hierarchy_size(h), my_nind = tally_definitions_indicator_count(d);
    uint64_t my_dfp;
    if (tally_snapshot__definitions_fingerprint(d, &my_dfp))
        return tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
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
    /* The column headers, in order, before any array is touched. */
    const char *why = NULL;
    for (size_t i = 0; i < ncols && !why; i++) {
        const unsigned char *q = p + at[i], *prev = i ? p + at[i - 1] : NULL;
        uint64_t ind = rd64(q);
        int64_t key = (int64_t)rd64(q + 8);
        if (ind >= my_nind || !valid_period(key))
            why = N_("a column has an unknown indicator or a bad period");
        else if (i && (ind < rd64(prev) || (ind == rd64(prev) && key <= (int64_t)rd64(prev + 8))))
            why = N_("columns are out of order or given twice");
    }
    if (why)
        return tally_error__set_at(TALLY_EPARSE, name, 0, 0, NULL, 0,
                                   "bad snapshot: %s; the file is damaged", tally_error__tr(why));

    /* The hierarchy's fingerprint is known after the first snapshot saved
     * or loaded over it; else its blocks are worked out with the columns. */
    uint64_t fp = 0;
    int fp_known = tally_hierarchy__memo_get(h, &fp);
    load_job *jp = calloc(1, sizeof *jp);
    if (!jp)
        return tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
    jp->p = p;
    jp->h = h;
    jp->ncols = (size_t)ncols;
    jp->nodes = my_nodes;
    jp->head = head;
    jp->pieces = value_pieces(my_nodes) + 2;
    jp->in_place = in_place;
    jp->nblocks = fp_known ? 0 : fp_blocks(my_nodes);
    jp->cols = calloc(ncols ? ncols : 1, sizeof *jp->cols);
    jp->sums = malloc((ncols ? ncols : 1) * jp->pieces * sizeof *jp->sums);
    jp->bad = calloc((ncols ? ncols : 1) * jp->pieces, 1);
    jp->blocks = malloc((jp->nblocks ? jp->nblocks : 1) * sizeof *jp->blocks);
    /* The columns' ranges, pieces and items (value pieces, then bits). */
    size_t items = 0;
    for (size_t i = 0; jp->cols && i < ncols; i++) {
        pending *pc = &jp->cols[i];
        uint64_t lo, hi;
        column_range(p + at[i], head, nodes, &lo, &hi); /* checked by load */
        pc->lo = (size_t)lo;
        pc->hi = (size_t)hi;
        pc->len = pc->hi - pc->lo;
        pc->words = tally_bit__words(pc->len);
        pc->pieces = value_pieces(pc->len) + 2;
        pc->first_item = items;
        items += pc->pieces - 1;
    }
    jp->item_col = malloc((items ? items : 1) * sizeof *jp->item_col);
    for (size_t i = 0; jp->cols && jp->item_col && i < ncols; i++)
        for (size_t k = 0; k + 1 < jp->cols[i].pieces; k++)
            jp->item_col[jp->cols[i].first_item + k] = i;
    items += jp->nblocks;
    jp->items = items;
    jp->taken = malloc((items ? items : 1) * sizeof *jp->taken);
    for (size_t i = 0; jp->taken && i < items; i++)
        atomic_init(&jp->taken[i], 0);
    pending *cols = jp->cols;
    int rc = 0;
    if (!cols || !jp->sums || !jp->bad || !jp->blocks || !jp->taken || !jp->item_col)
        rc = tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
    size_t bytes_total = 0;
    for (size_t i = 0; i < ncols && !rc; i++) {
        const unsigned char *q = p + at[i];
        unsigned form = rd32(q + 32);
        size_t len = cols[i].len, cwords = cols[i].words;
        size_t vbytes = value_slots(len, form) * value_width(form);
        const unsigned char *bits = q + head + vbytes;
        tally_column *c = &cols[i].col;
        cols[i].at = at[i];
        cols[i].form = form;
        bytes_total += column_bytes_after(head, len, form);
        c->indicator = (size_t)rd64(q);
        c->period = (int32_t)rd64(q + 8);
        c->scale = (int)rd32(q + 36);
        c->lo = 0; /* read from index 0 until it is installed */
        c->hi = len;
        if (in_place) {
            /* Sections start at multiples of 8 in a page-aligned mapping. */
            if (form == FORM_INT32)
                c->ints = (int32_t *)(uintptr_t)(q + head);
            else
                c->values = (double *)(uintptr_t)(q + head);
            c->valid = (uint64_t *)(uintptr_t)bits;
            c->seen = (uint64_t *)(uintptr_t)(bits + cwords * 8);
            continue;
        }
        if (form == FORM_INT32)
            c->ints = alloc_values(vbytes);
        else
            c->values = alloc_values(vbytes);
        c->valid = malloc(cwords ? cwords * 8 : 1);
        c->seen = malloc(cwords ? cwords * 8 : 1);
        if (!(c->ints || c->values) || !c->valid || !c->seen)
            rc = tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
    }
    if (rc) {
        free_pending(cols, (size_t)ncols, in_place);
        jp->cols = NULL;
        atomic_init(&jp->refs, 1);
        release_job(jp);
        return rc;
    }
    /* Checking reads every byte of the columns (and, the first time, every
     * code of the hierarchy): the work is shared with a second thread when
     * there is enough of it. */
    atomic_init(&jp->nomem, 0);
    atomic_init(&jp->done, 0);
    atomic_init(&jp->refs, 1);
    if (bytes_total >= SNAP_THREAD_MIN) {
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
    load_work(jp, 0);
    while (atomic_load(&jp->done) < items)
        sched_yield(); /* an item the helper took is not finished yet */

    int sums_ok = 1, nomem = atomic_load(&jp->nomem);
    uint64_t sum_cells = 0;
    for (size_t i = 0; i < ncols; i++) {
        const uint64_t *s = jp->sums + i * jp->pieces;
        const unsigned char *bad = jp->bad + i * jp->pieces;
        sums_ok &= tally_snapshot__checksum(s, cols[i].pieces * 8) ==
                   rd64(p + at[i] + 24);
        int values_ok = 1;
        for (size_t k = 0; k + 2 < cols[i].pieces; k++)
            values_ok &= !bad[k];
        if (!why && (!values_ok || !cols[i].bits_ok))
            why = N_("a column's values disagree with its bits");
        if (!why && cols[i].cells != rd64(p + at[i] + 16))
            why = N_("a column's cell count does not match its bits");
        sum_cells += cols[i].cells;
    }
    if (!fp_known && !nomem) {
        fp = tally_snapshot__fingerprint_combine(jp->blocks, jp->nblocks);
        tally_hierarchy__memo_set(h, fp);
    }
    release_job(jp);

    if (nomem)
        rc = tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
    else if (!sums_ok)
        rc = damaged(name, "checksum mismatch: the file is damaged");
    else if (fp != hfp)
        rc = foreign_hierarchy(name, nodes, hfp, h);
    else if (why || sum_cells != total_cells)
        rc = tally_error__set_at(TALLY_EPARSE, name, 0, 0, NULL, 0,
                                 "bad snapshot: %s; the file is damaged",
                                 tally_error__tr(why ? why : N_("the cell count does not match the columns")));

    /* A cell already in the dataset is a duplicate, as in a records file:
     * find it before anything is added. */
    for (size_t i = 0; i < ncols && !rc; i++) {
        const tally_column *have = tally_dataset__find_column(ds, cols[i].col.indicator,
                                                              cols[i].col.period);
        for (size_t k = 0; have && k < cols[i].words; k++) {
            size_t w = cols[i].lo / 64 + k;
            uint64_t both = tally_column__word_lo(have) <= w && w < tally_column__word_hi(have)
                                ? have->seen[w] & cols[i].col.seen[k]
                                : 0;
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
        free_pending(cols, (size_t)ncols, in_place);
        return rc;
    }
    /* Columns used in place need the mapping to live as long as the
     * dataset: hand it over first, if any column will be adopted. */
    for (size_t i = 0; in_place && i < ncols && !*taken; i++) {
        if (tally_dataset__find_column(ds, cols[i].col.indicator, cols[i].col.period))
            continue;
        if (tally_dataset__adopt_map(ds, (void *)(uintptr_t)p, map_len)) {
            free_pending(cols, (size_t)ncols, in_place);
            return tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
        }
        *taken = 1;
    }

    /* Install: a new column takes the arrays; an existing one gets the
     * snapshot's cells merged in (none of them is there yet). */
    for (size_t i = 0; i < ncols; i++) {
        pending *pc = &cols[i];
        tally_column *have = tally_dataset__column_mut(ds, pc->col.indicator, pc->col.period);
        /* The column as the dataset holds it: its arrays by node. */
        tally_column byn = pc->col;
        byn.lo = pc->lo;
        byn.hi = pc->hi;
        if (byn.values)
            byn.values -= pc->lo;
        if (byn.ints)
            byn.ints -= pc->lo;
        byn.valid -= pc->lo / 64;
        byn.seen -= pc->lo / 64;
        if (!pc->len)
            continue; /* a column of no node: nothing filed */
        if (!have) {
            rc = tally_dataset__adopt_column(ds, &byn, pc->cells);
            if (rc == 0) {
                pc->col.values = NULL;
                pc->col.ints = NULL;
                pc->col.valid = pc->col.seen = NULL;
                continue;
            }
            /* Only memory can fail here; the columns installed so far stay
             * (they are whole and checked), the rest are dropped. */
            rc = tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
            break;
        }
        /* Cells are written as doubles, into a column of every node. */
        if (tally_dataset__widen_column(ds, have) ||
            tally_dataset__cover_range(ds, have, pc->lo, pc->hi)) {
            rc = tally_error__set(TALLY_ENOMEM, "out of memory loading a snapshot");
            break;
        }
        for (size_t w = pc->lo / 64; w < tally_column__word_hi(&byn); w++) {
            uint64_t bits = byn.valid[w];
            have->seen[w] |= byn.seen[w];
            have->valid[w] |= bits;
            while (bits) {
                size_t node = w * 64 + (size_t)__builtin_ctzll(bits);
                have->values[node] = tally_column__get(&byn, node);
                bits &= bits - 1;
            }
        }
        tally_dataset__add_cells(ds, pc->cells);
    }
    free_pending(cols, (size_t)ncols, in_place);
    return rc;
}

TALLY_EXTERN(int) tally_snapshot_load_buffer(tally_dataset *ds, const void *data, size_t size,
                                             const char *name)
{
    if (!ds || (!data && size))
        return tally_error__set(TALLY_EINVAL, "tally_snapshot_load_buffer: NULL argument");
    int taken;
    return load(ds, data ? data : "", size, name ? name : "<buffer>", 0, &taken);
}

TALLY_EXTERN(int) tally_snapshot_load(tally_dataset *ds, const char *path)
{
    if (!ds || !path)
        return tally_error__set(TALLY_EINVAL, "tally_snapshot_load: NULL argument");
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
        /* No MADV_WILLNEED: a file in the page cache would pay for the
         * advice, and one that is not is read ahead by the faults. */
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
