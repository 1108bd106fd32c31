/* Binary snapshots of a dataset: what saving (snapshot_save.c) and loading
 * (snapshot_load.c) share. A snapshot holds the columns in the form they
 * are used in (doubles, or 32-bit whole numbers where every value is one at
 * some scale), with the sizes and fingerprints of the hierarchy and
 * definitions they belong to, and checksums. The format is described in
 * tally/snapshot.h, its constants in snapshot.h; here are the checksum,
 * the fingerprints and the count of a column's cells.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tally/snapshot.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "error.h"
#include "hierarchy.h"
#include "snapshot.h"
#include "util.h"

uint64_t tally_snapshot__checksum(const void *data, size_t len)
{
    return XXH3_64bits(len ? data : "", len);
}

TALLY_EXTERN(int) tally_snapshot_is(const void *data, size_t size)
{
    return data && size >= 8 && memcmp(data, SNAP_MAGIC, 8) == 0;
}

/* ---- fingerprints ---- */

/* A fingerprint hashes a list of strings (codes, indicator ids) in blocks
 * of FP_BLOCK, as a stream of records: a string of exactly 12 ASCII digits
 * (a division code) is 'N' and its value as a little-endian u64; any other
 * is 'T', its bytes and a NUL. So no two lists give the same stream, and a
 * hierarchy that keeps 12-digit codes as numbers gives them without
 * writing out their text. The records are gathered into a small buffer:
 * hashing each apart costs more than the hash of the whole run. */
typedef struct fp_stream {
    XXH3_state_t *st;
    size_t used;
    unsigned char stage[4096];
} fp_stream;

static void fp_room(fp_stream *fs, size_t n)
{
    if (sizeof fs->stage - fs->used < n) {
        XXH3_64bits_update(fs->st, fs->stage, fs->used);
        fs->used = 0;
    }
}

static void fp_number(fp_stream *fs, uint64_t v)
{
    fp_room(fs, 9);
    fs->stage[fs->used] = 'N';
    memcpy(fs->stage + fs->used + 1, &v, 8); /* little-endian hosts only */
    fs->used += 9;
}

/* The value of s when it is exactly 12 ASCII digits. */
static int code12(const char *s, size_t len, uint64_t *v)
{
    if (len != 12)
        return 0;
    uint64_t x = 0;
    for (size_t k = 0; k < 12; k++) {
        if (s[k] < '0' || s[k] > '9')
            return 0;
        x = x * 10 + (uint64_t)(s[k] - '0');
    }
    *v = x;
    return 1;
}

static void fp_string(fp_stream *fs, const char *s)
{
    if (!s)
        s = "";
    size_t len = strlen(s);
    uint64_t v;
    if (code12(s, len, &v)) {
        fp_number(fs, v);
        return;
    }
    fp_room(fs, 1);
    fs->stage[fs->used++] = 'T';
    if (len + 1 > sizeof fs->stage) {
        XXH3_64bits_update(fs->st, fs->stage, fs->used);
        XXH3_64bits_update(fs->st, s, len + 1);
        fs->used = 0;
        return;
    }
    size_t n = len + 1;
    fp_room(fs, n);
    unsigned char *d = fs->stage + fs->used;
    /* Short strings by two fixed-size moves that overlap, within the
     * string, rather than a call per string. */
    if (n >= 8 && n <= 16) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else {
        memcpy(d, s, n);
    }
    fs->used += n;
}

/* Puts string i of obj into the stream. */
typedef void (*string_put)(fp_stream *fs, const void *obj, size_t i);

static void put_code(fp_stream *fs, const void *h, size_t i)
{
    /* tally_hierarchy_code would write out the text of every code it is
     * asked for (it keeps 12-digit ones as numbers). */
    uint64_t v;
    if (tally_hierarchy__code_number(h, i, &v)) {
        fp_number(fs, v);
    } else {
        char buf[TALLY_HIERARCHY__CODE_BUF];
        fp_string(fs, tally_hierarchy__code_text(h, i, buf));
    }
}

static void put_id(fp_stream *fs, const void *d, size_t i)
{
    fp_string(fs, tally_definitions_id(d, i));
}

/* XXH3-64 of the records of strings [begin, end). 0, or TALLY_ENOMEM (the
 * hash state is allocated). */
static int fingerprint_block(const void *obj, size_t begin, size_t end, string_put put,
                             uint64_t *out)
{
    fp_stream fs;
    fs.st = XXH3_createState();
    fs.used = 0;
    if (!fs.st || XXH3_64bits_reset(fs.st) == XXH_ERROR) {
        XXH3_freeState(fs.st);
        return TALLY_ENOMEM;
    }
    for (size_t i = begin; i < end; i++)
        put(&fs, obj, i);
    XXH3_64bits_update(fs.st, fs.stage, fs.used);
    *out = XXH3_64bits_digest(fs.st);
    XXH3_freeState(fs.st);
    return 0;
}

/* The fingerprint: XXH3-64 of the blocks' hashes, in order. */
uint64_t tally_snapshot__fingerprint_combine(const uint64_t *blocks, size_t nblocks)
{
    return XXH3_64bits(nblocks ? (const void *)blocks : "", nblocks * 8);
}

static int fingerprint(const void *obj, size_t n, string_put put, uint64_t *out)
{
    size_t nblocks = fp_blocks(n);
    uint64_t one, *blocks = nblocks > 1 ? malloc(nblocks * sizeof *blocks) : &one;
    if (!blocks)
        return TALLY_ENOMEM;
    int rc = 0;
    for (size_t b = 0; b < nblocks && !rc; b++) {
        size_t begin = b * FP_BLOCK, end = n - begin < FP_BLOCK ? n : begin + FP_BLOCK;
        rc = fingerprint_block(obj, begin, end, put, &blocks[b]);
    }
    if (!rc)
        *out = tally_snapshot__fingerprint_combine(blocks, nblocks);
    if (blocks != &one)
        free(blocks);
    return rc;
}

/* The codes in pre-order: what ties a node index in the file to a region
 * (the parents do not change which region a value belongs to). Worked out
 * once per hierarchy object; a finished hierarchy does not change. */
int tally_snapshot__hierarchy_fingerprint(const tally_hierarchy *h, uint64_t *out)
{
    if (tally_hierarchy__memo_get(h, out))
        return 0;
    int rc = fingerprint(h, tally_hierarchy_size(h), put_code, out);
    if (!rc)
        tally_hierarchy__memo_set(h, *out);
    return rc;
}

/* Block [begin, end) of the hierarchy's fingerprint, for the loader, which
 * works the blocks out along with the columns when the fingerprint is not
 * known yet. */
int tally_snapshot__hierarchy_block(const tally_hierarchy *h, size_t begin, size_t end,
                                    uint64_t *out)
{
    return fingerprint_block(h, begin, end, put_code, out);
}

int tally_snapshot__definitions_fingerprint(const tally_definitions *d, uint64_t *out)
{
    return fingerprint(d, tally_definitions_indicator_count(d), put_id, out);
}

/* ---- counting bits ---- */

static size_t popcount_plain(const uint64_t *w, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (size_t)__builtin_popcountll(w[i]);
    return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The same with the processor's instruction (the portable build calls a
 * library routine per word). */
__attribute__((target("popcnt"))) static size_t popcount_hw(const uint64_t *w, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (size_t)__builtin_popcountll(w[i]);
    return c;
}
#endif

size_t tally_snapshot__popcount_words(const uint64_t *w, size_t n)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (__builtin_cpu_supports("popcnt"))
        return popcount_hw(w, n);
#endif
    return popcount_plain(w, n);
}

