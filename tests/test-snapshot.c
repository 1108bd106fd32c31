/* Tests binary snapshots: a round trip gives the same dataset cell for cell
 * and the same rollup bit for bit; snapshots merge like records files
 * (a cell given twice is a duplicate); a snapshot is refused over another
 * hierarchy or other definitions; and every damaged or forged snapshot
 * (every truncation, every flipped byte, well-sealed files with bad
 * contents) is a clean error that leaves the dataset as it was.
 *
 * SPDX-License-Identifier: MIT
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dataset.h"
#include "fixtures.h"
#include "hierarchy.h"
#include "tally/snapshot.h"

/* Internal (lib/snapshot.c, lib/snapshot_load.c): XXH3-64 of the first
 * len bytes; whether values agree with their valid bits by one form of the
 * check (0 exact, 1 SSE2, 2 AVX2; -1 when the form is not there). */
uint64_t tally_snapshot__checksum(const void *data, size_t len);
int tally_snapshot__values_agree(const double *v, size_t n, const unsigned char *valid, int form);
int tally_snapshot__ints_agree(const int32_t *v, size_t n, const unsigned char *valid, int form);

/* Offsets of the format (tally/snapshot.h). */
enum { H_VERSION = 8, H_BOM = 12, H_SIZE = 16, H_NODES = 24, H_COLS = 56, H_CELLS = 64,
       H_RESERVED = 72, HEADER = 80, COL_HEADER = 56, C_FORM = 32, C_SCALE = 36, C_LO = 40,
       C_HI = 48 };
/* A column's forms of values. */
enum { F_DOUBLE = 0, F_INT32 = 1 };

static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Slots of a column's values, their width, and a column's bytes: doubles
 * one per node; 32-bit whole numbers one per node, and one more when the
 * count is odd. */
static size_t slots_of(size_t nodes, unsigned form)
{
    return form == F_INT32 ? (nodes + 1) / 2 * 2 : nodes;
}
static size_t width_of(unsigned form) { return form == F_INT32 ? 4 : 8; }
static size_t col_size(size_t nodes, unsigned form)
{
    return COL_HEADER + slots_of(nodes, form) * width_of(form) + 16 * ((nodes + 63) / 64);
}

/* The nodes a column holds: its range [lo, hi) from its header. */
static size_t col_len(const unsigned char *q) { return get64(q + C_HI) - get64(q + C_LO); }

/* Where column i starts, found by walking the columns before it by their
 * ranges and forms; 0 when the file does not hold it whole. */
static size_t col_at(const unsigned char *buf, size_t size, size_t i)
{
    size_t at = HEADER;
    for (size_t k = 0; k <= i; k++) {
        if (at + COL_HEADER > size - 8 ||
            at + col_size(col_len(buf + at), get32(buf + at + C_FORM)) > size - 8)
            return 0;
        if (k < i)
            at += col_size(col_len(buf + at), get32(buf + at + C_FORM));
    }
    return at;
}

/* A column's checksum as tally/snapshot.h defines it, from the arrays
 * (contiguous after the column's header): XXH3 of the XXH3s of its pieces,
 * the values in runs of 32,768 slots, then the valid array, then the seen
 * array. */
static uint64_t column_sum(const unsigned char *arrays, size_t nodes, unsigned form)
{
    size_t words = (nodes + 63) / 64, slots = slots_of(nodes, form), w = width_of(form);
    size_t np = (slots + 32767) / 32768;
    uint64_t *h = malloc((np + 2) * 8);
    for (size_t k = 0; k < np; k++) {
        size_t n = slots - k * 32768 < 32768 ? slots - k * 32768 : 32768;
        h[k] = tally_snapshot__checksum(arrays + k * 32768 * w, n * w);
    }
    h[np] = tally_snapshot__checksum(arrays + slots * w, words * 8);
    h[np + 1] = tally_snapshot__checksum(arrays + slots * w + words * 8, words * 8);
    uint64_t sum = tally_snapshot__checksum(h, (np + 2) * 8);
    free(h);
    return sum;
}

/* The format's rule for a column's form (tally/snapshot.h), worked out
 * here another way: the smallest scale s in 0..9 at which every value is
 * k / 10^s, bit for bit, for a 32-bit k (the candidates k around
 * v * 10^s are tried); -1 when there is none (doubles). *k[node] gets the
 * numbers. */
static int rule_scale(const double *v, const uint64_t *valid, size_t nodes, int32_t *k)
{
    static const double p10[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
    for (int sc = 0; sc <= 9; sc++) {
        int all = 1;
        for (size_t node = 0; node < nodes && all; node++) {
            k[node] = 0;
            if (!((valid[node / 64] >> (node % 64)) & 1))
                continue;
            double guess = floor(v[node] * p10[sc]);
            int found = 0;
            for (int d = -1; d <= 2 && !found && fabs(guess) < 4294967296.0; d++) {
                double c = guess + d;
                if (c < -2147483648.0 || c > 2147483647.0)
                    continue;
                double back = c / p10[sc];
                if (memcmp(&back, &v[node], 8) == 0) {
                    k[node] = (int32_t)c;
                    found = 1;
                }
            }
            all = found;
        }
        if (all)
            return sc;
    }
    return -1;
}

/* A fingerprint as tally/snapshot.h defines it: XXH3 of the XXH3s of
 * blocks of 65,536 strings, each block hashed as its strings' records one
 * after the other: 'N' and the value (u64, little-endian) for 12 ASCII
 * digits, else 'T', the bytes and a NUL. */
static int twelve_digits(const char *s)
{
    if (strlen(s) != 12)
        return 0;
    for (int k = 0; k < 12; k++)
        if (s[k] < '0' || s[k] > '9')
            return 0;
    return 1;
}

static uint64_t fingerprint_of(const char *const *str, size_t n)
{
    size_t nblocks = (n + 65535) / 65536;
    uint64_t *b = malloc((nblocks ? nblocks : 1) * 8);
    for (size_t k = 0; k < nblocks; k++) {
        size_t begin = k * 65536, end = n - begin < 65536 ? n : begin + 65536, len = 0;
        for (size_t i = begin; i < end; i++)
            len += twelve_digits(str[i]) ? 9 : strlen(str[i]) + 2;
        unsigned char *text = malloc(len), *q = text;
        for (size_t i = begin; i < end; i++) {
            if (twelve_digits(str[i])) {
                uint64_t v = strtoull(str[i], NULL, 10);
                *q++ = 'N';
                for (int byte = 0; byte < 8; byte++)
                    *q++ = (unsigned char)(v >> (8 * byte));
            } else {
                *q++ = 'T';
                memcpy(q, str[i], strlen(str[i]) + 1);
                q += strlen(str[i]) + 1;
            }
        }
        assert_int_equal(q - text, len);
        b[k] = tally_snapshot__checksum(text, len);
        free(text);
    }
    uint64_t fp = tally_snapshot__checksum(b, nblocks * 8);
    free(b);
    return fp;
}

static uint64_t hierarchy_fp(const tally_hierarchy *h)
{
    size_t n = tally_hierarchy_size(h);
    const char **codes = malloc(n * sizeof *codes);
    for (size_t i = 0; i < n; i++)
        codes[i] = tally_hierarchy_code(h, i);
    uint64_t fp = fingerprint_of(codes, n);
    free(codes);
    return fp;
}

static uint64_t definitions_fp(const tally_definitions *d)
{
    size_t n = tally_definitions_indicator_count(d);
    const char **ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = tally_definitions_id(d, i);
    uint64_t fp = fingerprint_of(ids, n);
    free(ids);
    return fp;
}

/* Seals a forged snapshot: correct checksums over wrong contents. Each
 * column's arrays (contiguous after its header) have their checksum in
 * the header's last field, when `columns`; the trailer is the checksum of
 * the header and the column headers, one after the other. */
static void reseal_as(unsigned char *buf, size_t size, int columns)
{
    size_t ncols = get64(buf + H_COLS);
    if (ncols > size / COL_HEADER || (ncols && !col_at(buf, size, ncols - 1)) ||
        (ncols && col_at(buf, size, ncols - 1) +
                      col_size(col_len(buf + col_at(buf, size, ncols - 1)),
                               get32(buf + col_at(buf, size, ncols - 1) + C_FORM)) !=
                  size - 8) ||
        (!ncols && size != HEADER + 8))
        ncols = 0; /* a forged layout: the loader stops before the sums */
    unsigned char *meta = malloc(HEADER + ncols * COL_HEADER);
    memcpy(meta, buf, HEADER);
    for (size_t i = 0; i < ncols; i++) {
        unsigned char *q = buf + col_at(buf, size, i);
        if (columns)
            put64(q + 24, column_sum(q + COL_HEADER, col_len(q), get32(q + C_FORM)));
        memcpy(meta + HEADER + i * COL_HEADER, q, COL_HEADER);
    }
    put64(buf + size - 8, tally_snapshot__checksum(meta, HEADER + ncols * COL_HEADER));
    free(meta);
}

static void reseal(unsigned char *buf, size_t size) { reseal_as(buf, size, 1); }

static void add(fixture *f, const char *code, const char *ind, const char *period, double v)
{
    if (tally_dataset_add(f->ds, code, ind, period, v))
        fail_msg("add %s %s %s: %s", code, ind, period, tally_error_last()->message);
}

/* A dataset with values, empty cells, several periods and indicators,
 * values at every level (a reported city), in an order that is not the
 * snapshot's. */
static void fill(fixture *f)
{
    add(f, "430626100201", "pop", "2019-08", 1200);
    add(f, "430602001001", "poor", "2019-08", 35);
    add(f, "430602001002", "poor", "2019-08", 12.5);
    add(f, "430626100201", "poor", "2019-08", NAN); /* filed empty */
    add(f, "430602001001", "pop", "2019-08", 800);
    add(f, "430602001002", "pop", "2019-08", 640);
    add(f, "430600000000", "poor", "2019-08", 50);
    add(f, "430602001001", "exits", "2019-07", 3);
    add(f, "430602001001", "exits", "2019-08", 4);
    add(f, "430626100201", "exits", "2019-Q3", -0.0);
    add(f, "430602001002", "income", "2019", 1e-300);
    add(f, "430602001002", "rate", "2019-08", 1.953125);
}

/* Cell for cell: the same columns, the same bits, and every value the
 * same double, bit for bit (in whichever form each dataset holds it). */
static void assert_same_dataset(const tally_dataset *a, const tally_dataset *b)
{
    size_t nodes = tally_hierarchy_size(tally_dataset_hierarchy(a));
    assert_int_equal(tally_dataset_value_count(a), tally_dataset_value_count(b));
    assert_int_equal(tally_dataset__column_count(a), tally_dataset__column_count(b));
    for (size_t i = 0; i < tally_dataset__column_count(a); i++) {
        const tally_column *x = tally_dataset__column(a, i);
        const tally_column *y = tally_dataset__find_column(b, x->indicator, x->period);
        assert_non_null(y);
        /* Each column holds its own range of nodes: compared node by node. */
        for (size_t node = 0; node < nodes; node++) {
            if (tally_column__seen(x, node) != tally_column__seen(y, node) ||
                tally_column__has(x, node) != tally_column__has(y, node))
                fail_msg("column %zu, node %zu: filed in one dataset only", i, node);
            if (!tally_column__has(x, node))
                continue;
            double u = tally_column__get(x, node), v = tally_column__get(y, node);
            if (memcmp(&u, &v, 8) != 0)
                fail_msg("column %zu, node %zu: %.17g and %.17g", i, node, u, v);
        }
    }
}

/* f's snapshot in memory; the caller frees it with tally_free. */
static void *save(const fixture *f, size_t *size)
{
    void *buf;
    if (tally_snapshot_save_buffer(f->ds, &buf, size))
        fail_msg("save: %s", tally_error_last()->message);
    return buf;
}

/* Saving f gives exactly the `size` bytes at `buf`. */
static void assert_saves_as(const fixture *f, const unsigned char *buf, size_t size)
{
    size_t size2;
    unsigned char *buf2 = save(f, &size2);
    assert_int_equal(size, size2);
    assert_memory_equal(buf, buf2, size);
    tally_free(buf2);
}

static void test_snapshot__xxh3_matches_the_reference(void **state)
{
    (void)state;
    /* XXH3-64 (seed 0) of "" (the published value), "a", "abc" and the 100
     * bytes 0..99, as printed by `xxhsum -H3` (Debian's xxhash). */
    assert_true(tally_snapshot__checksum("", 0) == 0x2D06800538D394C2ULL);
    assert_true(tally_snapshot__checksum("a", 1) == 0xE6C632B61E964E1FULL);
    assert_true(tally_snapshot__checksum("abc", 3) == 0x78AF5F94892F3950ULL);
    unsigned char b[100];
    for (int i = 0; i < 100; i++)
        b[i] = (unsigned char)i;
    assert_true(tally_snapshot__checksum(b, 100) == 0x004E4F921A64BD1CULL);
}

/* Every field of a snapshot, worked out here from the format's description
 * (tally/snapshot.h) and compared with what the library wrote. */
static void check_format(const tally_dataset *ds, const unsigned char *buf, size_t size)
{
    const tally_hierarchy *h = tally_dataset_hierarchy(ds);
    const tally_definitions *d = tally_dataset_definitions(ds);
    size_t nodes = tally_hierarchy_size(h), ncols = tally_dataset__column_count(ds);
    assert_memory_equal(buf, "TALLYSNP", 8);
    assert_int_equal(get64(buf + H_VERSION) & 0xffffffffu, 4);
    assert_int_equal(get64(buf + H_VERSION) >> 32, 0x01020304u);
    assert_int_equal(get64(buf + H_SIZE), size);
    assert_int_equal(get64(buf + H_NODES), nodes);
    assert_true(get64(buf + 32) == hierarchy_fp(h));
    assert_int_equal(get64(buf + 40), tally_definitions_indicator_count(d));
    assert_true(get64(buf + 48) == definitions_fp(d));
    assert_int_equal(get64(buf + H_COLS), ncols);
    assert_int_equal(get64(buf + H_CELLS), tally_dataset_value_count(ds));
    assert_int_equal(get64(buf + H_RESERVED), 0);
    unsigned char *meta = malloc(HEADER + ncols * COL_HEADER);
    int32_t *k = malloc((nodes + 1) * sizeof *k);
    memcpy(meta, buf, HEADER);
    size_t at = HEADER;
    for (size_t i = 0; i < ncols; i++) {
        const unsigned char *q = buf + at;
        /* The dataset's column with this key: its form by the rule, its
         * values and bits as stored. */
        const tally_column *c = tally_dataset__find_column(ds, get64(q), (int32_t)get64(q + 8));
        assert_non_null(c);
        if (i)
            assert_true(get64(q) > get64(meta + HEADER + (i - 1) * COL_HEADER) ||
                        (get64(q) == get64(meta + HEADER + (i - 1) * COL_HEADER) &&
                         get64(q + 8) > get64(meta + HEADER + (i - 1) * COL_HEADER + 8)));
        /* Its range, and its arrays over it (lo a multiple of 64). */
        size_t lo = get64(q + C_LO), len = col_len(q), words = (len + 63) / 64;
        assert_int_equal(lo, c->lo);
        assert_int_equal(get64(q + C_HI), c->hi);
        assert_int_equal(lo % 64, 0);
        assert_true(c->hi <= nodes);
        const uint64_t *valid = c->valid + lo / 64, *seen = c->seen + lo / 64;
        size_t cells = 0;
        for (size_t w = 0; w < words; w++)
            cells += (size_t)__builtin_popcountll(seen[w]);
        assert_int_equal(get64(q + 16), cells);
        int sc = rule_scale(c->values + lo, valid, len, k);
        unsigned form = sc < 0 ? F_DOUBLE : F_INT32;
        assert_int_equal(get32(q + C_FORM), form);
        assert_int_equal(get32(q + C_SCALE), sc < 0 ? 0 : sc);
        const unsigned char *vals = q + COL_HEADER;
        if (form == F_INT32) {
            for (size_t j = 0; j < slots_of(len, form); j++)
                assert_int_equal((int32_t)get32(vals + j * 4), j < len ? k[j] : 0);
        } else {
            assert_memory_equal(vals, c->values + lo, len * 8);
        }
        const unsigned char *bits = vals + slots_of(len, form) * width_of(form);
        assert_memory_equal(bits, valid, words * 8);
        assert_memory_equal(bits + words * 8, seen, words * 8);
        assert_true(get64(q + 24) == column_sum(q + COL_HEADER, len, form));
        memcpy(meta + HEADER + i * COL_HEADER, q, COL_HEADER);
        at += col_size(len, form);
    }
    assert_int_equal(size, at + 8);
    free(k);
    uint64_t trailer = tally_snapshot__checksum(meta, HEADER + ncols * COL_HEADER);
    assert_true(get64(buf + size - 8) == trailer);
    free(meta);
    /* The fingerprint is kept with the hierarchy object. */
    uint64_t memo;
    assert_int_equal(tally_hierarchy__memo_get(h, &memo), 1);
    assert_true(memo == get64(buf + 32));
}

static void test_snapshot__format_is_as_documented(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    fill(&f);
    uint64_t memo;
    assert_int_equal(tally_hierarchy__memo_get(f.h, &memo), 0); /* not worked out yet */
    size_t size;
    unsigned char *buf = save(&f, &size);
    check_format(f.ds, buf, size);
    tally_free(buf);
    fixture_free(&f);
}

/* Codes of every length the fingerprint treats its own way (up to 7
 * bytes, 8 to 16 with the NUL, longer, longer than its 4 KiB buffer). */
static void test_snapshot__fingerprint_takes_codes_of_any_length(void **state)
{
    (void)state;
    size_t cap = 20000, n = 0;
    char *text = malloc(cap);
    n += (size_t)sprintf(text + n, "code,name,level,parent_code\nP,p,province,\n");
    static const size_t lens[] = { 1, 2, 3, 6, 7, 8, 11, 15, 16, 17, 40, 4095, 4096, 5000, 3 };
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        for (size_t j = 0; j < lens[k]; j++)
            text[n++] = (char)('a' + (k + j) % 26);
        n += (size_t)sprintf(text + n, ",c%zu,city,P\n", k);
    }
    /* And 12-digit codes among them, and 12 characters that are not all
     * digits. */
    n += (size_t)sprintf(text + n, "110000000000,d,city,P\n000000000042,e,city,P\n"
                                   "11000000000x,f,city,P\n");
    tally_hierarchy *h;
    tally_definitions *d;
    tally_dataset *ds;
    assert_int_equal(tally_hierarchy_from_buffer(&h, text, n, "long.csv", NULL), 0);
    assert_int_equal(tally_hierarchy_size(h), 19);
    assert_int_equal(tally_definitions_from_buffer(&d, fixture_definitions,
                                                   strlen(fixture_definitions), "d.yaml"), 0);
    assert_int_equal(tally_dataset_new(&ds, h, d), 0);
    assert_int_equal(tally_dataset_add(ds, "P", "poor", "2020-01", 1), 0);
    void *buf;
    size_t size;
    assert_int_equal(tally_snapshot_save_buffer(ds, &buf, &size), 0);
    check_format(ds, buf, size);
    tally_free(buf);
    tally_dataset_free(ds);
    tally_definitions_free(d);
    tally_hierarchy_free(h);
    free(text);
}

/* The value check (valid values finite, every other one NaN) in each of
 * its forms, against the rule itself (isfinite, isnan): one odd value at a
 * time at every position of 200 values (three words of 64, then 8), with
 * its bit either way, alone and beside a NaN whose high half is that of
 * infinity (which sends the vector forms to the exact one). */
static void test_snapshot__every_form_of_the_value_check_follows_the_rule(void **state)
{
    (void)state;
    enum { N = 200 };
    static const uint64_t odd[] = {
        0x0000000000000000ULL, 0x8000000000000000ULL, /* +0, -0 */
        0x3ff8000000000000ULL, 0xc0c3880000000000ULL, /* 1.5, -10000 */
        0x7fefffffffffffffULL, 0xffefffffffffffffULL, /* +-DBL_MAX */
        0x0000000000000001ULL, 0x000fffffffffffffULL, /* subnormals */
        0x7fefffff00000000ULL, 0x7fe0000000000001ULL, /* near the top */
        0x7ff0000000000000ULL, 0xfff0000000000000ULL, /* +-infinity */
        0x7ff8000000000000ULL, 0xfff8000000000000ULL, /* quiet NaNs */
        0x7ff0000000000001ULL, 0xfff0000080000000ULL, /* NaNs: low bits only */
        0x7ff0000100000000ULL, 0x7fffffffffffffffULL, /* other NaNs */
    };
    const size_t nodd = sizeof odd / sizeof odd[0];
    double v[N];
    unsigned char valid[32];
    memset(valid, 0, sizeof valid);
    for (size_t i = 0; i < N; i++) {
        if (i % 3) {
            valid[i / 8] |= (unsigned char)(1u << (i % 8));
            v[i] = (double)i * 1.25 - 100;
        } else {
            v[i] = NAN;
        }
    }
    const uint64_t edge_nan = 0x7ff0000000000002ULL;
    int forms = 0;
    for (int form = 0; form < 3; form++) {
        if (tally_snapshot__values_agree(v, N, valid, form) < 0)
            continue; /* not on this machine */
        forms++;
        assert_int_equal(tally_snapshot__values_agree(v, N, valid, form), 1);
        for (int with_edge = 0; with_edge < 2; with_edge++) {
            size_t edge_at = 99; /* 99 % 3 == 0: no value filed */
            double keep_edge = v[edge_at];
            if (with_edge)
                memcpy(&v[edge_at], &edge_nan, 8);
            for (size_t p = 0; p < N; p++) {
                if (with_edge && p == edge_at)
                    continue;
                double keep = v[p];
                for (int flip = 0; flip < 2; flip++) {
                    valid[p / 8] ^= (unsigned char)(flip << (p % 8));
                    int bit = (valid[p / 8] >> (p % 8)) & 1;
                    for (size_t k = 0; k < nodd; k++) {
                        memcpy(&v[p], &odd[k], 8);
                        int expected = bit ? isfinite(v[p]) != 0 : isnan(v[p]) != 0;
                        if (tally_snapshot__values_agree(v, N, valid, form) != expected)
                            fail_msg("form %d, position %zu, bit %d, value %016llx%s: expected %d",
                                     form, p, bit, (unsigned long long)odd[k],
                                     with_edge ? " (beside an edge NaN)" : "", expected);
                    }
                    valid[p / 8] ^= (unsigned char)(flip << (p % 8));
                }
                v[p] = keep;
            }
            v[edge_at] = keep_edge;
        }
        /* Every length from 0 to N: the tail is checked too. */
        for (size_t n = 0; n <= N; n++) {
            assert_int_equal(tally_snapshot__values_agree(v, n, valid, form), 1);
            if (n) {
                double keep = v[n - 1];
                v[n - 1] = (n - 1) % 3 ? INFINITY : 7;
                assert_int_equal(tally_snapshot__values_agree(v, n, valid, form), 0);
                v[n - 1] = keep;
            }
        }
    }
#if defined(__x86_64__)
    assert_true(forms >= 2); /* the exact form and SSE2 at least */
#else
    assert_true(forms >= 1);
#endif
}

/* Which columns are written as whole numbers, and at which scale: cases
 * worked out by hand from the rule (tally/snapshot.h), each written,
 * checked field by field, read back value for value, and written again
 * to the same bytes. */
static void test_snapshot__whole_numbers_where_every_value_is_one(void **state)
{
    (void)state;
    static const char *const nodes[] = { "430602001001", "430602001002", "430626100201",
                                         "430600000000" };
    static const struct {
        double v[4];
        size_t n;
        int scale; /* -1: doubles */
    } cases[] = {
        { { 1, 2, 3 }, 3, 0 },
        { { 0.5 }, 1, 1 },
        { { 1187.84, 605.29 }, 2, 2 },
        { { -7.5, 12 }, 2, 1 },
        { { 3, 0.25 }, 2, 2 },            /* the scale grows at the second value */
        { { 0.001, 5 }, 2, 3 },
        { { 1e-9 }, 1, 9 },
        { { 1e-10 }, 1, -1 },              /* scale 10 is past the largest */
        { { 2147483647, -2147483648.0 }, 2, 0 },
        { { 2147483648.0 }, 1, -1 },       /* past 32 bits */
        { { -2147483649.0 }, 1, -1 },
        { { 214748364.7 }, 1, 1 },
        { { 214748364.7, 0.01 }, 2, -1 },  /* scale 2 fits the second, not the first */
        { { 0.0 }, 1, 0 },
        { { -0.0 }, 1, -1 },               /* would come back +0 */
        { { 0.1 + 0.2 }, 1, -1 },          /* 0.30000000000000004 */
        { { 1e300 }, 1, -1 },
        { { NAN, NAN }, 2, 0 },            /* empty cells only */
        { { NAN, 4.5 }, 2, 1 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fixture f, g;
        fixture_load(&f, NULL);
        fixture_load(&g, NULL);
        for (size_t i = 0; i < cases[k].n; i++)
            add(&f, nodes[i], "poor", "2019-08", cases[k].v[i]);
        size_t size;
        unsigned char *buf = save(&f, &size);
        check_format(f.ds, buf, size);
        const unsigned char *col = buf + HEADER;
        if (cases[k].scale < 0) {
            if (get32(col + C_FORM) != F_DOUBLE)
                fail_msg("case %zu: expected doubles", k);
            assert_int_equal(size, HEADER + col_size(9, F_DOUBLE) + 8);
        } else {
            if (get32(col + C_FORM) != F_INT32 || (int)get32(col + C_SCALE) != cases[k].scale)
                fail_msg("case %zu: expected whole numbers at scale %d, got form %u scale %u", k,
                         cases[k].scale, get32(col + C_FORM), get32(col + C_SCALE));
            assert_int_equal(size, HEADER + col_size(9, F_INT32) + 8);
        }
        assert_int_equal(tally_snapshot_load_buffer(g.ds, buf, size, "x.snap"), 0);
        assert_same_dataset(f.ds, g.ds);
        for (size_t i = 0; i < cases[k].n; i++) {
            size_t node;
            double v;
            int present;
            assert_int_equal(tally_hierarchy_find(f.h, nodes[i], 12, &node), 0);
            assert_int_equal(tally_dataset_reported(g.ds, node, N_POOR, "2019-08", &v, &present),
                             0);
            assert_int_equal(present, !isnan(cases[k].v[i]));
            if (present && memcmp(&v, &cases[k].v[i], 8) != 0)
                fail_msg("case %zu, value %zu: %.17g read back as %.17g", k, i, cases[k].v[i], v);
        }
        assert_saves_as(&g, buf, size);
        tally_free(buf);
        fixture_free(&g);
        fixture_free(&f);
    }
}

/* The check of whole numbers (0 wherever no value was filed) in each of
 * its forms against the rule itself: one number at a time at every
 * position of 200 (three words of 64, then 8), with its bit either way. */
static void test_snapshot__every_form_of_the_whole_number_check_follows_the_rule(void **state)
{
    (void)state;
    enum { N = 200 };
    static const int32_t odd[] = { 0, 1, -1, INT32_MIN, INT32_MAX, 65536 };
    const size_t nodd = sizeof odd / sizeof odd[0];
    int32_t v[N];
    unsigned char valid[32];
    memset(valid, 0, sizeof valid);
    for (size_t i = 0; i < N; i++) {
        v[i] = 0;
        if (i % 3) {
            valid[i / 8] |= (unsigned char)(1u << (i % 8));
            v[i] = (int32_t)(i * 7919) - 500;
        }
    }
    int forms = 0;
    for (int form = 0; form < 3; form++) {
        if (tally_snapshot__ints_agree(v, N, valid, form) < 0)
            continue;
        forms++;
        assert_int_equal(tally_snapshot__ints_agree(v, N, valid, form), 1);
        for (size_t p = 0; p < N; p++) {
            int32_t keep = v[p];
            for (int flip = 0; flip < 2; flip++) {
                valid[p / 8] ^= (unsigned char)(flip << (p % 8));
                int bit = (valid[p / 8] >> (p % 8)) & 1;
                for (size_t k = 0; k < nodd; k++) {
                    v[p] = odd[k];
                    int expected = bit || odd[k] == 0;
                    if (tally_snapshot__ints_agree(v, N, valid, form) != expected)
                        fail_msg("form %d, position %zu, bit %d, number %d: expected %d", form, p,
                                 bit, odd[k], expected);
                }
                valid[p / 8] ^= (unsigned char)(flip << (p % 8));
            }
            v[p] = keep;
        }
        for (size_t n = 0; n <= N; n++) {
            assert_int_equal(tally_snapshot__ints_agree(v, n, valid, form), 1);
            if (n && (n - 1) % 3 == 0) {
                v[n - 1] = 9;
                assert_int_equal(tally_snapshot__ints_agree(v, n, valid, form), 0);
                v[n - 1] = 0;
            }
        }
    }
#if defined(__x86_64__)
    assert_true(forms >= 2);
#else
    assert_true(forms >= 1);
#endif
}

/* A dataset loaded from a snapshot, its columns whole numbers (mapped or
 * copied), takes more values from a records file, from tally_dataset_add
 * and from another snapshot, into those columns and new ones: it ends
 * cell for cell as the dataset given everything as records and values,
 * and rolls up to the same numbers bit for bit. */
static void test_snapshot__whole_number_columns_take_more_values(void **state)
{
    (void)state;
    static const char more[] = "region_code,indicator,period,value\n"
                               "430626000000,poor,2019-08,7.25\n" /* into (poor, 2019-08) */
                               "430602001002,exits,2019-07,\n"    /* an empty cell */
                               "430602001001,trained,2019-08,11\n"; /* a new column */
    for (int mapped = 0; mapped < 2; mapped++) {
        fixture f, g, want;
        fixture_load(&f, NULL);
        fixture_load(&g, NULL);
        fixture_load(&want, NULL);
        fill(&f);
        fill(&want);
        /* Another snapshot: a cell of (pop, 2019-08), whole numbers in g. */
        fixture other;
        fixture_load(&other, NULL);
        add(&other, "430602001000", "pop", "2019-08", 1440);
        size_t osize;
        unsigned char *obuf = save(&other, &osize);

        size_t size;
        unsigned char *buf = save(&f, &size);
        char path[] = "/tmp/tally-snapshot-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, buf, size), (ssize_t)size);
        close(fd);
        if (mapped)
            assert_int_equal(tally_snapshot_load(g.ds, path), 0);
        else
            assert_int_equal(tally_snapshot_load_buffer(g.ds, buf, size, "x.snap"), 0);
        unlink(path);
        const tally_column *poor = tally_dataset__find_column(g.ds, N_POOR, 2019 * 32 + 8);
        assert_non_null(poor);
        assert_non_null(poor->ints); /* held as whole numbers */
        assert_null(poor->values);

        /* Each way in turn, first into columns still of whole numbers. */
        assert_int_equal(tally_snapshot_load_buffer(g.ds, obuf, osize, "other.snap"), 0);
        add(&want, "430602001000", "pop", "2019-08", 1440);
        assert_same_dataset(want.ds, g.ds);
        assert_non_null(poor->ints); /* the other columns stay as they were */
        add(&g, "430626100201", "rate", "2019-08", 0.125);
        add(&want, "430626100201", "rate", "2019-08", 0.125);
        assert_same_dataset(want.ds, g.ds);
        assert_int_equal(tally_dataset_read_buffer(g.ds, more, sizeof more - 1, "more.csv", NULL,
                                                   NULL, NULL),
                         0);
        assert_int_equal(tally_dataset_read_buffer(want.ds, more, sizeof more - 1, "more.csv",
                                                   NULL, NULL, NULL),
                         0);
        assert_same_dataset(want.ds, g.ds);
        assert_int_equal(tally_dataset_value_count(g.ds), 12 + 3 + 1 + 1);

        tally_result *ra, *rb;
        assert_int_equal(tally_rollup(&ra, want.ds, NULL), 0);
        assert_int_equal(tally_rollup(&rb, g.ds, NULL), 0);
        size_t np = tally_result_period_count(ra);
        assert_int_equal(np, tally_result_period_count(rb));
        for (size_t p = 0; p < np; p++)
            for (size_t i = 0; i < tally_definitions_indicator_count(f.d); i++)
                assert_memory_equal(tally_result_column(ra, i, p), tally_result_column(rb, i, p),
                                    9 * sizeof(double));
        /* The first county's poor: its villages' 35 + 12.5. */
        size_t p08;
        assert_int_equal(tally_result_period_find(rb, "2019-08", &p08), 0);
        assert_true(tally_result_column(rb, N_POOR, p08)[YLQ] == 47.5);
        tally_result_free(ra);
        tally_result_free(rb);
        tally_free(buf);
        tally_free(obuf);
        fixture_free(&other);
        fixture_free(&want);
        fixture_free(&g);
        fixture_free(&f);
    }
}

static void test_snapshot__round_trip_is_cell_for_cell(void **state)
{
    (void)state;
    fixture f, g;
    fixture_load(&f, NULL);
    fixture_load(&g, NULL);
    fill(&f);
    size_t size;
    unsigned char *buf = save(&f, &size);
    assert_true(tally_snapshot_is(buf, size));
    assert_false(tally_snapshot_is("region_code,", 12));
    /* 7 columns over 9 nodes, five of whole numbers (10 slots of 4 bytes)
     * and two of doubles (-0 and 1e-300): 80 + 5 * (56 + 10 * 4 + 8 + 8)
     * + 2 * (56 + 9 * 8 + 8 + 8) + 8. */
    assert_int_equal(tally_dataset__column_count(f.ds), 7);
    assert_int_equal(size, 80 + 5 * (56 + 10 * 4 + 16) + 2 * (56 + 9 * 8 + 16) + 8);
    assert_int_equal(tally_snapshot_load_buffer(g.ds, buf, size, "x.snap"), 0);
    assert_same_dataset(f.ds, g.ds);
    /* The values as they were added (by hand, above). */
    double v;
    int present;
    assert_int_equal(tally_dataset_reported(g.ds, V2, N_POOR, "2019-08", &v, &present), 0);
    assert_int_equal(present, 1);
    assert_true(v == 12.5);
    assert_int_equal(tally_dataset_reported(g.ds, V3, N_POOR, "2019-08", &v, &present), 0);
    assert_int_equal(present, 0); /* filed empty */
    assert_int_equal(tally_dataset_reported(g.ds, CITY, N_POOR, "2019-08", &v, &present), 0);
    assert_true(present && v == 50);
    assert_int_equal(tally_dataset_reported(g.ds, V3, N_EXITS, "2019-Q3", &v, &present), 0);
    assert_true(present && v == 0 && signbit(v));
    assert_int_equal(tally_dataset_reported(g.ds, V2, N_INCOME, "2019", &v, &present), 0);
    assert_true(present && v == 1e-300);
    assert_int_equal(tally_dataset_value_count(g.ds), 12);
    /* The empty cell counts as filed: filing it again is a duplicate. */
    assert_int_equal(tally_dataset_add(g.ds, "430626100201", "poor", "2019-08", 1), TALLY_EEXIST);
    /* Saving again gives the same bytes (columns are sorted). */
    assert_saves_as(&g, buf, size);
    tally_free(buf);
    fixture_free(&g);
    fixture_free(&f);
}

static void test_snapshot__file_round_trip_and_rollup_bit_for_bit(void **state)
{
    (void)state;
    fixture f, g;
    fixture_load(&f, NULL);
    fixture_load(&g, NULL);
    fill(&f);
    char path[] = "/tmp/tally-snapshot-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(tally_snapshot_save(f.ds, path), 0);
    assert_int_equal(tally_snapshot_load(g.ds, path), 0);
    unlink(path); /* the mapping stays valid */
    assert_same_dataset(f.ds, g.ds);

    tally_result *ra, *rb;
    assert_int_equal(tally_rollup(&ra, f.ds, NULL), 0);
    assert_int_equal(tally_rollup(&rb, g.ds, NULL), 0);
    size_t np = tally_result_period_count(ra);
    assert_int_equal(np, tally_result_period_count(rb));
    assert_true(np >= 4); /* 2019-07, 2019-08, 2019-Q3, 2019 at least */
    size_t nind = tally_definitions_indicator_count(f.d);
    for (size_t p = 0; p < np; p++) {
        assert_string_equal(tally_result_period(ra, p), tally_result_period(rb, p));
        for (size_t i = 0; i < nind; i++)
            assert_memory_equal(tally_result_column(ra, i, p), tally_result_column(rb, i, p),
                                9 * sizeof(double));
    }
    /* The city's poor at 2019-08 is its villages' sum: 35 + 12.5 (village
     * 3 filed it empty), and the mapped dataset agrees. */
    size_t p08;
    assert_int_equal(tally_result_period_find(rb, "2019-08", &p08), 0);
    assert_true(tally_result_column(rb, N_POOR, p08)[CITY] == 47.5);
    tally_result_free(ra);
    tally_result_free(rb);

    /* A column used in place takes more values (copy on write). */
    add(&g, "430602001002", "exits", "2019-08", 9);
    add(&g, "430602001001", "rate", "2019-08", 4.25);
    double v;
    int present;
    assert_int_equal(tally_dataset_reported(g.ds, V2, N_EXITS, "2019-08", &v, &present), 0);
    assert_true(present && v == 9);
    assert_int_equal(tally_dataset_reported(g.ds, V1, N_RATE, "2019-08", &v, &present), 0);
    assert_true(present && v == 4.25);
    assert_int_equal(tally_dataset_value_count(g.ds), 14);
    fixture_free(&g);
    fixture_free(&f);
}

static void test_snapshot__merges_like_records_and_refuses_duplicates(void **state)
{
    (void)state;
    fixture a, b;
    fixture_load(&a, NULL);
    fixture_load(&b, NULL);
    add(&a, "430602001001", "poor", "2019-08", 35);
    add(&b, "430602001002", "poor", "2019-08", 12); /* same column, other cell */
    add(&b, "430602001001", "pop", "2019-08", 800); /* new column */
    size_t size;
    unsigned char *buf = save(&b, &size);
    assert_int_equal(tally_snapshot_load_buffer(a.ds, buf, size, "b.snap"), 0);
    assert_int_equal(tally_dataset_value_count(a.ds), 3);
    double v;
    int present;
    assert_int_equal(tally_dataset_reported(a.ds, V1, N_POOR, "2019-08", &v, &present), 0);
    assert_true(present && v == 35);
    assert_int_equal(tally_dataset_reported(a.ds, V2, N_POOR, "2019-08", &v, &present), 0);
    assert_true(present && v == 12);
    /* Again: every cell is now a duplicate; nothing changes. */
    assert_int_equal(tally_snapshot_load_buffer(a.ds, buf, size, "b.snap"), TALLY_EEXIST);
    assert_string_equal(tally_error_last()->message,
                        "b.snap: duplicate value for region 430602001002, indicator poor, "
                        "period 2019-08: it is both in the dataset and in the snapshot; each "
                        "is given once");
    assert_int_equal(tally_dataset_value_count(a.ds), 3);
    assert_int_equal(tally_dataset__column_count(a.ds), 2);
    tally_free(buf);
    fixture_free(&b);
    fixture_free(&a);
}

static void test_snapshot__refused_over_another_hierarchy_or_definitions(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    fill(&f);
    size_t size;
    unsigned char *buf = save(&f, &size);

    /* Same size, one village code changed. */
    char other[sizeof fixture_hierarchy];
    memcpy(other, fixture_hierarchy, sizeof other);
    char *p = strstr(other, "430626100201,");
    memcpy(p, "430626100202", 12);
    tally_hierarchy *h2;
    tally_dataset *ds2;
    assert_int_equal(tally_hierarchy_from_buffer(&h2, other, strlen(other), "h2.csv", NULL), 0);
    assert_int_equal(tally_dataset_new(&ds2, h2, f.d), 0);
    assert_int_equal(tally_snapshot_load_buffer(ds2, buf, size, "x.snap"), TALLY_EINVAL);
    const char *msg = tally_error_last()->message;
    assert_non_null(strstr(msg, "x.snap: snapshot was made over another hierarchy (9 regions, "
                                "fingerprint "));
    assert_non_null(strstr(msg, "expected 9 regions, fingerprint "));
    assert_int_equal(tally_dataset_value_count(ds2), 0);
    tally_dataset_free(ds2);
    tally_hierarchy_free(h2);

    /* One region fewer. */
    char *last = strstr(other, "430626100202,");
    *last = '\0';
    assert_int_equal(tally_hierarchy_from_buffer(&h2, other, strlen(other), "h3.csv", NULL), 0);
    assert_int_equal(tally_dataset_new(&ds2, h2, f.d), 0);
    assert_int_equal(tally_snapshot_load_buffer(ds2, buf, size, "x.snap"), TALLY_EINVAL);
    assert_non_null(strstr(tally_error_last()->message,
                           "another hierarchy (9 regions, fingerprint "));
    assert_non_null(strstr(tally_error_last()->message, "expected 8 regions"));
    tally_dataset_free(ds2);
    tally_hierarchy_free(h2);

    /* The same indicators, two of them swapped. */
    const char *defs = "indicators:\n  - id: exits\n  - id: poor\n  - id: pop\n"
                       "  - id: trained\n  - id: income\n  - id: lowest\n  - id: highest\n"
                       "  - id: reporting\n  - id: rate\n    formula: poor / pop * 100\n"
                       "  - id: rate2\n    formula: rate * 2\n";
    tally_definitions *d2;
    assert_int_equal(tally_definitions_from_buffer(&d2, defs, strlen(defs), "d2.yaml"), 0);
    assert_int_equal(tally_dataset_new(&ds2, f.h, d2), 0);
    assert_int_equal(tally_snapshot_load_buffer(ds2, buf, size, "x.snap"), TALLY_EINVAL);
    assert_non_null(strstr(tally_error_last()->message,
                           "x.snap: snapshot was made over other definitions (10 indicators, "
                           "fingerprint "));
    assert_int_equal(tally_dataset_value_count(ds2), 0);
    tally_dataset_free(ds2);
    tally_definitions_free(d2);
    tally_free(buf);
    fixture_free(&f);
}

/* Loads `buf` into a fresh dataset; it must fail, and add nothing. */
static int load_fails(const fixture *f, const void *buf, size_t size)
{
    tally_dataset *ds;
    assert_int_equal(tally_dataset_new(&ds, f->h, f->d), 0);
    int rc = tally_snapshot_load_buffer(ds, buf, size, "bad.snap");
    assert_true(rc < 0);
    assert_int_equal(tally_dataset_value_count(ds), 0);
    assert_int_equal(tally_dataset__column_count(ds), 0);
    tally_dataset_free(ds);
    return rc;
}

static void test_snapshot__every_truncation_and_flipped_byte_is_an_error(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    fill(&f);
    size_t size;
    unsigned char *buf = save(&f, &size);
    /* Each length in a buffer of its own, so the sanitizers see any read
     * past it. */
    for (size_t len = 0; len < size; len++) {
        unsigned char *cut = malloc(len ? len : 1);
        memcpy(cut, buf, len);
        int rc = load_fails(&f, cut, len);
        assert_int_equal(rc, TALLY_EPARSE);
        const char *msg = tally_error_last()->message;
        if (len < 8)
            assert_string_equal(msg, "bad.snap: not a tally snapshot (it does not start with "
                                     "\"TALLYSNP\")");
        else if (len < 88)
            assert_non_null(strstr(msg, "shorter than its header; the file is damaged"));
        else
            assert_non_null(strstr(msg, "bad.snap: truncated snapshot: "));
        free(cut);
    }
    for (size_t i = 0; i < size; i++) {
        for (int m = 0; m < 3; m++) {
            static const unsigned char masks[3] = { 0x01, 0x80, 0xff };
            buf[i] ^= masks[m];
            int rc = load_fails(&f, buf, size);
            buf[i] ^= masks[m];
            if (i >= 8 && i < 16) /* version or byte order */
                assert_int_equal(rc, TALLY_ENOTSUP);
            else
                assert_int_equal(rc, TALLY_EPARSE);
        }
    }
    /* Unchanged, it still loads. */
    tally_dataset *ds;
    assert_int_equal(tally_dataset_new(&ds, f.h, f.d), 0);
    assert_int_equal(tally_snapshot_load_buffer(ds, buf, size, "good.snap"), 0);
    tally_dataset_free(ds);
    tally_free(buf);
    fixture_free(&f);
}

static void expect_forged(const fixture *f, unsigned char *buf, size_t size, int code,
                          const char *message)
{
    reseal(buf, size);
    assert_int_equal(load_fails(f, buf, size), code);
    assert_string_equal(tally_error_last()->message, message);
}

/* A forged layout: refused as damaged, by one of two messages depending
 * on what the misplaced headers hold. */
static void expect_layout_refused(const fixture *f, unsigned char *buf, size_t size,
                                  const char *one, const char *other)
{
    reseal(buf, size);
    assert_int_equal(load_fails(f, buf, size), TALLY_EPARSE);
    const char *msg = tally_error_last()->message;
    if (strcmp(msg, one) != 0 && strcmp(msg, other) != 0)
        fail_msg("unexpected message: %s", msg);
}

static void test_snapshot__well_sealed_but_wrong_contents_are_refused(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    fill(&f);
    size_t size;
    unsigned char *good = save(&f, &size), *buf = malloc(size);
    assert_non_null(buf);
    /* The columns in order (fill): 0 (poor, 2019-08) whole numbers at
     * scale 1; 1 and 2 (exits, 2019-07 and -08) whole numbers; 3 (exits,
     * 2019-Q3) doubles (-0 is not a whole number); 4 (pop); 5 (income,
     * 2019) doubles; 6 (rate). Whole numbers over 9 nodes take 10 slots. */
    size_t at[7];
    for (size_t i = 0; i < 7; i++)
        at[i] = col_at(good, size, i);
    assert_int_equal(at[1] - at[0], COL_HEADER + 10 * 4 + 16);
    assert_int_equal(at[4] - at[3], COL_HEADER + 9 * 8 + 16);
    assert_int_equal(at[6] + COL_HEADER + 10 * 4 + 16 + 8, size);
    unsigned char *col0 = buf + at[0], *vals0 = col0 + COL_HEADER;
    unsigned char *valid0 = vals0 + 10 * 4, *seen0 = valid0 + 8;
    unsigned char *col3 = buf + at[3], *vals3 = col3 + COL_HEADER;
    const char *bad_bits = "bad.snap: bad snapshot: a column's values disagree with its bits; "
                           "the file is damaged";
    const char *add_up = "bad.snap: bad snapshot: its column count, region count and size do "
                         "not add up; the file is damaged";
    const char *bad_form = "bad.snap: bad snapshot: a column's values are in an unknown form; "
                           "the file is damaged";
    memcpy(buf, good, size);
    assert_int_equal(get64(col0), N_POOR);
    assert_int_equal(get32(col0 + C_FORM), F_INT32);
    assert_int_equal(get32(col0 + C_SCALE), 1);
    assert_int_equal(get64(col3), N_EXITS);
    assert_int_equal(get32(col3 + C_FORM), F_DOUBLE);

    memcpy(buf, good, size);
    buf[H_VERSION] = 5;
    expect_forged(&f, buf, size, TALLY_ENOTSUP,
                  "bad.snap: snapshot format version 5; this library reads version 4 (make "
                  "the snapshot again with this version of tally)");
    /* Snapshots in the earlier formats (every column as doubles; XXH64). */
    for (unsigned char v = 1; v <= 2; v++) {
        memcpy(buf, good, size);
        buf[H_VERSION] = v;
        char msg[200];
        snprintf(msg, sizeof msg,
                 "bad.snap: snapshot format version %u; this library reads version 4 (make "
                 "the snapshot again with this version of tally)",
                 v);
        expect_forged(&f, buf, size, TALLY_ENOTSUP, msg);
    }
    memcpy(buf, good, size);
    uint32_t be = 0x04030201u;
    memcpy(buf + H_BOM, &be, 4);
    expect_forged(&f, buf, size, TALLY_ENOTSUP,
                  "bad.snap: snapshot has byte order mark 0x04030201; expected 0x01020304 "
                  "(snapshots are little-endian)");
    memcpy(buf, good, size);
    put64(buf + H_COLS, 6);
    expect_forged(&f, buf, size, TALLY_EPARSE, add_up);
    memcpy(buf, good, size);
    put64(buf + H_COLS, 8);
    expect_forged(&f, buf, size, TALLY_EPARSE, add_up);
    /* A column of 10 nodes: it grows by 4 or 8 bytes, so the headers
     * after it are read from the wrong places. */
    memcpy(buf, good, size);
    put64(col0 + C_HI, 10);
    expect_layout_refused(&f, buf, size, add_up, bad_form);
    /* A range that does not start at a multiple of 64, or ends past the
     * last node. */
    memcpy(buf, good, size);
    put64(col0 + C_LO, 1);
    expect_forged(&f, buf, size, TALLY_EPARSE, add_up);
    memcpy(buf, good, size);
    put64(col0 + C_LO, 64);
    put64(col0 + C_HI, 73);
    expect_forged(&f, buf, size, TALLY_EPARSE, add_up);
    /* 10 nodes in the header: the columns are laid out by their ranges,
     * so it is a snapshot of another hierarchy. */
    memcpy(buf, good, size);
    put64(buf + H_NODES, 10);
    reseal(buf, size);
    assert_int_equal(load_fails(&f, buf, size), TALLY_EINVAL);
    memcpy(buf, good, size);
    put64(buf + H_RESERVED, 1);
    expect_forged(&f, buf, size, TALLY_EPARSE, add_up);
    memcpy(buf, good, size);
    put64(buf + H_CELLS, 13);
    expect_forged(&f, buf, size, TALLY_EPARSE,
                  "bad.snap: bad snapshot: the cell count does not match the columns; the file "
                  "is damaged");

    /* Forms: unknown ones, a scale past 9 or on doubles, and a column
     * said to be of the other form (its size is then wrong). */
    memcpy(buf, good, size);
    put32(col0 + C_FORM, 2);
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_form);
    memcpy(buf, good, size);
    put32(col0 + C_SCALE, 10);
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_form);
    memcpy(buf, good, size);
    put32(col3 + C_SCALE, 1);
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_form);
    memcpy(buf, good, size);
    put32(col0 + C_FORM, F_DOUBLE); /* doubles at scale 1 */
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_form);
    memcpy(buf, good, size);
    put32(buf + at[1] + C_FORM, F_DOUBLE);
    expect_layout_refused(&f, buf, size, add_up, bad_form);
    memcpy(buf, good, size);
    put32(buf + at[6] + C_FORM, F_DOUBLE); /* the last column overruns the file */
    put32(buf + at[6] + C_SCALE, 0);
    expect_forged(&f, buf, size, TALLY_EPARSE, add_up);
    memcpy(buf, good, size);
    put32(col3 + C_FORM, F_INT32);
    expect_layout_refused(&f, buf, size, add_up, bad_form);
    /* A scale changed on a well-sealed column changes every value: it
     * loads (nothing says which scale is meant), as 3.5 instead of 35. */
    memcpy(buf, good, size);
    put32(col0 + C_SCALE, 2);
    reseal(buf, size);
    tally_dataset *ds;
    double v;
    int present;
    assert_int_equal(tally_dataset_new(&ds, f.h, f.d), 0);
    assert_int_equal(tally_snapshot_load_buffer(ds, buf, size, "ok.snap"), 0);
    assert_int_equal(tally_dataset_reported(ds, V1, N_POOR, "2019-08", &v, &present), 0);
    assert_true(present && v == 3.5);
    tally_dataset_free(ds);

    const char *bad_key = "bad.snap: bad snapshot: a column has an unknown indicator or a bad "
                          "period; the file is damaged";
    memcpy(buf, good, size);
    put64(col0, 10); /* 10 indicators: 0..9 */
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_key);
    memcpy(buf, good, size);
    put64(col0 + 8, 2019 * 32 + 17); /* sub-period 17 does not exist */
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_key);
    memcpy(buf, good, size);
    put64(col0 + 8, (uint64_t)-1);
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_key);
    /* A column whose arrays do not match their checksum, in a file whose
     * headers do. */
    memcpy(buf, good, size);
    put64(col0 + 24, get64(col0 + 24) ^ 1);
    reseal_as(buf, size, 0);
    assert_int_equal(load_fails(&f, buf, size), TALLY_EPARSE);
    assert_string_equal(tally_error_last()->message,
                        "bad.snap: checksum mismatch: the file is damaged");
    memcpy(buf, good, size);
    put64(col0 + 16, get64(col0 + 16) + 1);
    expect_forged(&f, buf, size, TALLY_EPARSE,
                  "bad.snap: bad snapshot: a column's cell count does not match its bits; the "
                  "file is damaged");
    /* Columns 1 and 2 (the same size) swapped: out of order. (Byte by
     * byte: GCC's bounds warning misjudges these copies in the sanitized
     * build.) */
    size_t len1 = at[2] - at[1];
    assert_int_equal(at[3] - at[2], len1);
    memcpy(buf, good, size);
    for (size_t k = 0; k < len1; k++) {
        buf[at[1] + k] = good[at[2] + k];
        buf[at[2] + k] = good[at[1] + k];
    }
    expect_forged(&f, buf, size, TALLY_EPARSE,
                  "bad.snap: bad snapshot: columns are out of order or given twice; the file "
                  "is damaged");
    /* The same column twice. */
    memcpy(buf, good, size);
    for (size_t k = 0; k < len1; k++)
        buf[at[2] + k] = good[at[1] + k];
    expect_forged(&f, buf, size, TALLY_EPARSE,
                  "bad.snap: bad snapshot: columns are out of order or given twice; the file "
                  "is damaged");

    /* Bits. V1 (node 4) filed 35; V3 (node 8) filed empty. */
    memcpy(buf, good, size);
    assert_true(get64(valid0) == ((1u << V1) | (1u << V2) | (1u << CITY)));
    assert_true(get64(seen0) == ((1u << V1) | (1u << V2) | (1u << CITY) | (1u << V3)));
    put64(valid0, get64(valid0) | (1u << PROV)); /* valid, not filed */
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_bits);
    memcpy(buf, good, size);
    put64(seen0, get64(seen0) | ((uint64_t)1 << 9)); /* past the last node */
    put64(col0 + 16, get64(col0 + 16) + 1);
    put64(buf + H_CELLS, get64(buf + H_CELLS) + 1);
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_bits);

    /* Whole numbers: 0 where nothing was filed, in the extra slot too;
     * any number where a value was. */
    assert_int_equal((int32_t)get32(vals0 + V1 * 4), 350);
    static const struct {
        size_t slot;
        uint32_t number;
    } not_zero[] = { { V3, 7 }, { PROV, 1 }, { PROV, 0x80000000u }, { 9, 1 }, { 9, 0xffffffffu } };
    for (size_t k = 0; k < sizeof not_zero / sizeof not_zero[0]; k++) {
        memcpy(buf, good, size);
        put32(vals0 + not_zero[k].slot * 4, not_zero[k].number);
        expect_forged(&f, buf, size, TALLY_EPARSE, bad_bits);
    }
    static const uint32_t any[] = { 0, 0x80000000u, 0x7fffffffu, 0xffffffffu };
    for (size_t k = 0; k < sizeof any / sizeof any[0]; k++) {
        memcpy(buf, good, size);
        put32(vals0 + V1 * 4, any[k]);
        reseal(buf, size);
        assert_int_equal(tally_dataset_new(&ds, f.h, f.d), 0);
        assert_int_equal(tally_snapshot_load_buffer(ds, buf, size, "ok.snap"), 0);
        assert_int_equal(tally_dataset_reported(ds, V1, N_POOR, "2019-08", &v, &present), 0);
        assert_true(present && v == (double)(int32_t)any[k] / 10);
        tally_dataset_free(ds);
    }

    /* Doubles: V3 filed -0 in column 3; nothing else is filed there. */
    double x = NAN;
    memcpy(buf, good, size);
    memcpy(vals3 + V3 * 8, &x, 8); /* a valid value that is NaN */
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_bits);
    x = INFINITY;
    memcpy(buf, good, size);
    memcpy(vals3 + V3 * 8, &x, 8);
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_bits);
    x = 7;
    memcpy(buf, good, size);
    memcpy(vals3 + V1 * 8, &x, 8); /* a number where nothing was filed */
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_bits);
    x = -INFINITY;
    memcpy(buf, good, size);
    memcpy(vals3 + PROV * 8, &x, 8);
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_bits);

    /* Any NaN will do where nothing was filed. */
    memcpy(buf, good, size);
    uint64_t other_nan = 0xfff0000000000001ULL;
    memcpy(vals3 + PROV * 8, &other_nan, 8);
    reseal(buf, size);
    assert_int_equal(tally_dataset_new(&ds, f.h, f.d), 0);
    assert_int_equal(tally_snapshot_load_buffer(ds, buf, size, "ok.snap"), 0);
    tally_dataset_free(ds);

    /* Not a snapshot at all. */
    assert_int_equal(load_fails(&f, "region_code,indicator,period,value\n", 35), TALLY_EPARSE);
    free(buf);
    tally_free(good);
    fixture_free(&f);
}

static void test_snapshot__file_errors(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    assert_int_equal(tally_snapshot_load(f.ds, "/nonexistent/x.snap"), TALLY_EIO);
    assert_string_equal(tally_error_last()->message,
                        "/nonexistent/x.snap: cannot open: No such file or directory");
    assert_int_equal(tally_snapshot_save(f.ds, "/nonexistent/x.snap"), TALLY_EIO);
    assert_string_equal(tally_error_last()->message,
                        "/nonexistent/x.snap: cannot write the snapshot: No such file or "
                        "directory");
    /* An empty file is not a snapshot. */
    char path[] = "/tmp/tally-snapshot-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(tally_snapshot_load(f.ds, path), TALLY_EPARSE);
    unlink(path);
    /* An empty dataset saves and loads. */
    assert_int_equal(tally_snapshot_save(f.ds, path), 0);
    tally_dataset *ds;
    assert_int_equal(tally_dataset_new(&ds, f.h, f.d), 0);
    assert_int_equal(tally_snapshot_load(ds, path), 0);
    assert_int_equal(tally_dataset_value_count(ds), 0);
    tally_dataset_free(ds);
    unlink(path);
    fixture_free(&f);
}

/* A hierarchy of 70,103 regions (more than one block of the fingerprint,
 * and columns big enough to be checked on two threads): 1 province, city
 * and county, 100 towns of 700 villages each. `bump` changes the code of
 * the last village. */
static char *big_hierarchy(int bump, size_t *len)
{
    size_t cap = 80 + 70103 * 16, n = 0;
    char *s = malloc(cap);
    n += (size_t)sprintf(s + n, "code,name\n110000000000,p\n110100000000,c\n110101000000,x\n");
    for (int t = 1; t <= 100; t++) {
        n += (size_t)sprintf(s + n, "110101%03d000,t\n", t);
        for (int v = 1; v <= 700; v++)
            n += (size_t)sprintf(s + n, "110101%03d%03d,v\n", t,
                                 bump && t == 100 && v == 700 ? 701 : v);
    }
    *len = n;
    return s;
}

/* Writes `size` bytes to a temporary file and loads it (mapped, used in
 * place) into a fresh dataset; returns the code. With `ok`, it must load;
 * else nothing may have been added. */
static int load_file(const tally_hierarchy *h, const tally_definitions *d,
                     const unsigned char *bytes, size_t size, int ok)
{
    char path[] = "/tmp/tally-snapshot-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, size), (ssize_t)size);
    close(fd);
    tally_dataset *ds;
    assert_int_equal(tally_dataset_new(&ds, h, d), 0);
    int rc = tally_snapshot_load(ds, path);
    unlink(path);
    if (!ok)
        assert_int_equal(tally_dataset_value_count(ds), 0);
    tally_dataset_free(ds);
    return rc;
}

static void test_snapshot__large_round_trip_on_two_threads(void **state)
{
    (void)state;
    size_t len;
    char *text = big_hierarchy(0, &len);
    tally_hierarchy *h;
    tally_definitions *d;
    tally_dataset *a, *b, *c;
    assert_int_equal(tally_hierarchy_from_buffer(&h, text, len, "big.csv", NULL), 0);
    assert_int_equal(tally_hierarchy_size(h), 70103);
    assert_int_equal(tally_definitions_from_buffer(&d, fixture_definitions,
                                                   strlen(fixture_definitions), "d.yaml"), 0);
    assert_int_equal(tally_dataset_new(&a, h, d), 0);
    /* Village k of town t files poor = t * 1000 + k, pop = k / 2 when k
     * is odd and an empty pop when k is a multiple of 10 (both whole
     * numbers in a snapshot, pop at scale 1), and income = k / 3 (doubles). */
    char code[16];
    for (int t = 1; t <= 100; t++)
        for (int k = 1; k <= 700; k++) {
            sprintf(code, "110101%03d%03d", t, k);
            assert_int_equal(tally_dataset_add(a, code, "poor", "2020-06", t * 1000 + k), 0);
            assert_int_equal(tally_dataset_add(a, code, "income", "2020-06", k / 3.0), 0);
            if (k % 2)
                assert_int_equal(tally_dataset_add(a, code, "pop", "2020-06", k * 0.5), 0);
            else if (k % 10 == 0)
                assert_int_equal(tally_dataset_add(a, code, "pop", "2020-06", NAN), 0);
        }
    char path[] = "/tmp/tally-snapshot-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(tally_snapshot_save(a, path), 0);
    assert_int_equal(tally_dataset_new(&b, h, d), 0);
    assert_int_equal(tally_snapshot_load(b, path), 0); /* in place */
    assert_same_dataset(a, b);
    /* 70,000 poor + 35,000 pop + 7,000 empty pop + 70,000 income. */
    assert_int_equal(tally_dataset_value_count(b), 182000);
    double v;
    int present;
    size_t node;
    assert_int_equal(tally_hierarchy_find(h, "110101042613", 12, &node), 0);
    assert_int_equal(tally_dataset_reported(b, node, N_POOR, "2020-06", &v, &present), 0);
    assert_true(present && v == 42613);
    assert_int_equal(tally_dataset_reported(b, node, N_POP, "2020-06", &v, &present), 0);
    assert_true(present && v == 306.5);

    void *buf;
    size_t size;
    assert_int_equal(tally_snapshot_save_buffer(a, &buf, &size), 0);
    /* Two blocks of the fingerprint, three pieces of values per column. */
    check_format(a, buf, size);
    assert_int_equal(tally_dataset_new(&c, h, d), 0);
    assert_int_equal(tally_snapshot_load_buffer(c, buf, size, "big.snap"), 0); /* copied */
    assert_same_dataset(a, c);
    tally_dataset_free(c);

    /* A fresh hierarchy object over the same regions: its fingerprint is
     * worked out during the load, beside the columns, and kept. */
    tally_hierarchy *h3;
    assert_int_equal(tally_hierarchy_from_buffer(&h3, text, len, "big3.csv", NULL), 0);
    uint64_t memo;
    assert_int_equal(tally_hierarchy__memo_get(h3, &memo), 0);
    assert_int_equal(tally_dataset_new(&c, h3, d), 0);
    assert_int_equal(tally_snapshot_load(c, path), 0);
    assert_int_equal(tally_dataset_value_count(c), 182000);
    assert_int_equal(tally_hierarchy__memo_get(h3, &memo), 1);
    assert_true(memo == get64((const unsigned char *)buf + 32));
    tally_dataset_free(c);
    tally_hierarchy_free(h3);

    /* One bit flipped in each piece of the second column (pop, whole
     * numbers) and the third (income, doubles): in the middle of the
     * values (piece 2 of 3), in the last piece, in pop's extra slot, in
     * the valid bits and in the seen bits. Each is a damaged file, whether
     * copied or mapped. */
    unsigned char *bytes = buf;
    size_t col1 = col_at(bytes, size, 1), col2 = col_at(bytes, size, 2);
    assert_int_equal(get32(bytes + col1 + C_FORM), F_INT32);
    assert_int_equal(get32(bytes + col1 + C_SCALE), 1);
    assert_int_equal(get32(bytes + col2 + C_FORM), F_DOUBLE);
    assert_int_equal(col2 - col1, col_size(70103, F_INT32));
    const size_t flips[] = {
        col1 + COL_HEADER + 4 * 50000 + 3, col1 + COL_HEADER + 4 * 70102 + 3,
        col1 + COL_HEADER + 4 * 70103 + 1, col1 + COL_HEADER + 4 * 70104 + 100, col2 - 1,
        col2 + COL_HEADER + 8 * 50000 + 3, col2 + COL_HEADER + 8 * 70102 + 7,
        col2 + COL_HEADER + 8 * 70103 + 100, size - 9,
    };
    for (size_t k = 0; k < sizeof flips / sizeof flips[0]; k++) {
        bytes[flips[k]] ^= 0x10;
        assert_int_equal(tally_dataset_new(&c, h, d), 0);
        assert_int_equal(tally_snapshot_load_buffer(c, buf, size, "big.snap"), TALLY_EPARSE);
        assert_string_equal(tally_error_last()->message,
                            "big.snap: checksum mismatch: the file is damaged");
        assert_int_equal(tally_dataset_value_count(c), 0);
        tally_dataset_free(c);
        assert_int_equal(load_file(h, d, bytes, size, 0), TALLY_EPARSE);
        assert_non_null(strstr(tally_error_last()->message,
                               ": checksum mismatch: the file is damaged"));
        bytes[flips[k]] ^= 0x10;
    }

    /* Well sealed, wrong values where the check works 64 values at a
     * time: column 0 is (poor, 2020-06), whole numbers, and column 2
     * (income, 2020-06), doubles, both filed by every village and by no
     * town. */
    size_t town50, village50_7;
    assert_int_equal(tally_hierarchy_find(h, "110101050000", 12, &town50), 0);
    assert_int_equal(tally_hierarchy_find(h, "110101050007", 12, &village50_7), 0);
    static const struct {
        int town;
        uint32_t number;
        int ok;
    } forged_ints[] = {
        { 1, 5, 0 },           /* a town has 5, filed nowhere */
        { 1, 0x80000000u, 0 }, /* or the least number */
        { 1, 0, 1 },           /* 0 is what is there */
        { 0, 0x80000000u, 1 }, /* a village may have any number */
        { 0, 0, 1 },
    };
    for (size_t k = 0; k < sizeof forged_ints / sizeof forged_ints[0]; k++) {
        size_t cell_at = HEADER + COL_HEADER + 4 * (forged_ints[k].town ? town50 : village50_7);
        uint32_t keep = get32(bytes + cell_at);
        put32(bytes + cell_at, forged_ints[k].number);
        reseal(bytes, size);
        assert_int_equal(tally_dataset_new(&c, h, d), 0);
        int rc = tally_snapshot_load_buffer(c, buf, size, "big.snap");
        assert_int_equal(rc, forged_ints[k].ok ? 0 : TALLY_EPARSE);
        if (!forged_ints[k].ok)
            assert_string_equal(tally_error_last()->message,
                                "big.snap: bad snapshot: a column's values disagree with its "
                                "bits; the file is damaged");
        tally_dataset_free(c);
        assert_int_equal(load_file(h, d, bytes, size, forged_ints[k].ok),
                         forged_ints[k].ok ? 0 : TALLY_EPARSE);
        put32(bytes + cell_at, keep);
    }
    static const struct {
        int town;
        uint64_t value;
        int ok;
    } forged[] = {
        { 0, 0x7ff0000000000000ULL, 0 }, /* a village's value is infinite */
        { 0, 0xfff8000000000000ULL, 0 }, /* NaN */
        { 0, 0x7ff0000000000001ULL, 0 }, /* NaN (low bits only) */
        { 1, 0x4014000000000000ULL, 0 }, /* a town has 5, filed nowhere */
        { 1, 0xfff0000000000000ULL, 0 }, /* -infinity */
        { 1, 0x7ff0000000000001ULL, 1 }, /* any NaN will do there */
        { 1, 0xfff0000000000001ULL, 1 },
        { 0, 0x8000000000000000ULL, 1 }, /* -0 is a value */
        { 0, 0x7fefffffffffffffULL, 1 }, /* so is DBL_MAX */
    };
    for (size_t k = 0; k < sizeof forged / sizeof forged[0]; k++) {
        size_t at = forged[k].town ? town50 : village50_7;
        unsigned char *cell = bytes + col2 + COL_HEADER + 8 * at;
        unsigned char keep[8];
        memcpy(keep, cell, 8);
        memcpy(cell, &forged[k].value, 8);
        reseal(bytes, size);
        assert_int_equal(tally_dataset_new(&c, h, d), 0);
        int rc = tally_snapshot_load_buffer(c, buf, size, "big.snap");
        if (forged[k].ok) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, TALLY_EPARSE);
            assert_string_equal(tally_error_last()->message,
                                "big.snap: bad snapshot: a column's values disagree with its "
                                "bits; the file is damaged");
            assert_int_equal(tally_dataset_value_count(c), 0);
        }
        tally_dataset_free(c);
        assert_int_equal(load_file(h, d, bytes, size, forged[k].ok),
                         forged[k].ok ? 0 : TALLY_EPARSE);
        memcpy(cell, keep, 8);
    }
    reseal(bytes, size);
    assert_int_equal(tally_dataset_new(&c, h, d), 0);
    assert_int_equal(tally_snapshot_load_buffer(c, buf, size, "big.snap"), 0);
    assert_same_dataset(a, c);
    tally_dataset_free(c);
    tally_free(buf);

    /* The same size, the last village's code changed: in the second block
     * of the fingerprint. */
    free(text);
    text = big_hierarchy(1, &len);
    tally_hierarchy *h2;
    assert_int_equal(tally_hierarchy_from_buffer(&h2, text, len, "big2.csv", NULL), 0);
    assert_int_equal(tally_dataset_new(&c, h2, d), 0);
    assert_int_equal(tally_snapshot_load(c, path), TALLY_EINVAL);
    assert_non_null(strstr(tally_error_last()->message,
                           "snapshot was made over another hierarchy (70103 regions"));
    assert_int_equal(tally_dataset_value_count(c), 0);
    tally_dataset_free(c);
    tally_hierarchy_free(h2);
    unlink(path);
    free(text);
    tally_dataset_free(b);
    tally_dataset_free(a);
    tally_definitions_free(d);
    tally_hierarchy_free(h);
}

/* A column is stored over the range of nodes it holds (version 4): a
 * snapshot of one town's villages on a large hierarchy holds them, not
 * every region, and loads back cell for cell, copied, mapped, and merged
 * into a column that holds another town. A snapshot of version 3 (every
 * column over every node) still loads. */
static void test_snapshot__columns_hold_their_ranges_and_version_3_loads(void **state)
{
    (void)state;
    size_t len;
    char *text = big_hierarchy(0, &len);
    tally_hierarchy *h;
    tally_definitions *d;
    assert_int_equal(tally_hierarchy_from_buffer(&h, text, len, "big.csv", NULL), 0);
    assert_int_equal(tally_definitions_from_buffer(&d, fixture_definitions,
                                                   strlen(fixture_definitions), "d.yaml"), 0);
    tally_dataset *a, *b, *c;
    assert_int_equal(tally_dataset_new(&a, h, d), 0);
    char code[16];
    for (int k = 1; k <= 700; k++) {
        sprintf(code, "110101042%03d", k);
        assert_int_equal(tally_dataset_add(a, code, "poor", "2020-06", k), 0);
        assert_int_equal(tally_dataset_add(a, code, "income", "2020-06", k / 3.0), 0);
    }
    void *buf;
    size_t size;
    assert_int_equal(tally_snapshot_save_buffer(a, &buf, &size), 0);
    check_format(a, buf, size);
    /* Town 42 is node 3 + 41 * 701 = 28744, its villages 28745 .. 29444. A
     * column made for the first and grown (at least doubled) as the others
     * came holds [28736, 29760): 1024 nodes, within twice the 700 filed
     * rounded out to multiples of 64. So 1024 whole numbers (poor) and
     * 1024 doubles (income), and 16 words of each bit set, against 70,103
     * nodes a column in version 3. */
    size_t col0 = col_at(buf, size, 0), col1 = col_at(buf, size, 1);
    const unsigned char *bytes = buf;
    assert_int_equal(get64(bytes + col0 + C_LO), 28736);
    assert_int_equal(get64(bytes + col0 + C_HI), 29760);
    assert_int_equal(get64(bytes + col1 + C_LO), 28736);
    assert_int_equal(get64(bytes + col1 + C_HI), 29760);
    assert_int_equal(size,
                     80 + (56 + 1024 * 4 + 2 * 16 * 8) + (56 + 1024 * 8 + 2 * 16 * 8) + 8);
    assert_int_equal(col1 - col0, 56 + 1024 * 4 + 2 * 16 * 8);
    assert_int_equal(tally_dataset_new(&b, h, d), 0);
    assert_int_equal(tally_snapshot_load_buffer(b, buf, size, "town.snap"), 0);
    assert_same_dataset(a, b);
    tally_dataset_free(b);
    assert_int_equal(load_file(h, d, buf, size, 1), 0);

    /* Merged into a dataset whose poor column holds town 7's villages. */
    assert_int_equal(tally_dataset_new(&c, h, d), 0);
    assert_int_equal(tally_dataset_add(c, "110101007001", "poor", "2020-06", 7001), 0);
    assert_int_equal(tally_snapshot_load_buffer(c, buf, size, "town.snap"), 0);
    assert_int_equal(tally_dataset_value_count(c), 1401);
    double v;
    int present;
    size_t node;
    assert_int_equal(tally_hierarchy_find(h, "110101007001", 12, &node), 0);
    assert_int_equal(tally_dataset_reported(c, node, N_POOR, "2020-06", &v, &present), 0);
    assert_true(present && v == 7001);
    assert_int_equal(tally_hierarchy_find(h, "110101042613", 12, &node), 0);
    assert_int_equal(tally_dataset_reported(c, node, N_POOR, "2020-06", &v, &present), 0);
    assert_true(present && v == 613);
    assert_int_equal(tally_dataset_reported(c, node, N_INCOME, "2020-06", &v, &present), 0);
    assert_true(present && v == 613 / 3.0);
    tally_dataset_free(c);
    tally_free(buf);
    tally_dataset_free(a);
    tally_definitions_free(d);
    tally_hierarchy_free(h);
    free(text);

    /* Version 3, made by hand from a version 4 snapshot whose columns hold
     * every node (the fixture's 9): the same arrays after 40-byte column
     * headers (no range), and the trailer over those. */
    fixture f, g;
    fixture_load(&f, NULL);
    fixture_load(&g, NULL);
    fill(&f);
    unsigned char *v4 = save(&f, &size);
    size_t ncols = get64(v4 + H_COLS), size3 = size - ncols * 16;
    unsigned char *v3 = malloc(size3), *meta = malloc(HEADER + ncols * 40);
    memcpy(v3, v4, HEADER);
    put32(v3 + H_VERSION, 3);
    put64(v3 + H_SIZE, size3);
    memcpy(meta, v3, HEADER);
    size_t out = HEADER;
    for (size_t i = 0; i < ncols; i++) {
        const unsigned char *q = v4 + col_at(v4, size, i);
        assert_int_equal(get64(q + C_LO), 0);
        assert_int_equal(get64(q + C_HI), 9);
        size_t body = col_size(9, get32(q + C_FORM)) - COL_HEADER;
        memcpy(v3 + out, q, 40);
        memcpy(meta + HEADER + i * 40, q, 40);
        memcpy(v3 + out + 40, q + COL_HEADER, body);
        out += 40 + body;
    }
    assert_int_equal(out + 8, size3);
    put64(v3 + out, tally_snapshot__checksum(meta, HEADER + ncols * 40));
    assert_int_equal(tally_snapshot_load_buffer(g.ds, v3, size3, "v3.snap"), 0);
    assert_same_dataset(f.ds, g.ds);
    /* Saved again, it is version 4, byte for byte what f saves. */
    assert_saves_as(&g, v4, size);
    free(meta);
    free(v3);
    tally_free(v4);
    fixture_free(&f);
    fixture_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot__xxh3_matches_the_reference),
        cmocka_unit_test(test_snapshot__format_is_as_documented),
        cmocka_unit_test(test_snapshot__fingerprint_takes_codes_of_any_length),
        cmocka_unit_test(test_snapshot__every_form_of_the_value_check_follows_the_rule),
        cmocka_unit_test(test_snapshot__whole_numbers_where_every_value_is_one),
        cmocka_unit_test(test_snapshot__every_form_of_the_whole_number_check_follows_the_rule),
        cmocka_unit_test(test_snapshot__whole_number_columns_take_more_values),
        cmocka_unit_test(test_snapshot__round_trip_is_cell_for_cell),
        cmocka_unit_test(test_snapshot__file_round_trip_and_rollup_bit_for_bit),
        cmocka_unit_test(test_snapshot__merges_like_records_and_refuses_duplicates),
        cmocka_unit_test(test_snapshot__refused_over_another_hierarchy_or_definitions),
        cmocka_unit_test(test_snapshot__every_truncation_and_flipped_byte_is_an_error),
        cmocka_unit_test(test_snapshot__well_sealed_but_wrong_contents_are_refused),
        cmocka_unit_test(test_snapshot__file_errors),
        cmocka_unit_test(test_snapshot__large_round_trip_on_two_threads),
        cmocka_unit_test(test_snapshot__columns_hold_their_ranges_and_version_3_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
