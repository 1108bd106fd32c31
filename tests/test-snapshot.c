/* Tests binary snapshots: a round trip gives the same dataset cell for cell
 * and the same rollup bit for bit; snapshots merge like records files
 * (a cell given twice is a duplicate); a snapshot is refused over another
 * hierarchy or other definitions; and every damaged or forged snapshot
 * (every truncation, every flipped byte, well-sealed files with bad
 * contents) is a clean error that leaves the dataset as it was.
 *
 * SPDX-License-Identifier: MIT
 */
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
#include "tally/snapshot.h"

/* Internal (lib/snapshot.c): XXH64 of the first len bytes. */
uint64_t tally_snapshot__checksum(const void *data, size_t len);

/* Offsets of the format (tally/snapshot.h). */
enum { H_VERSION = 8, H_BOM = 12, H_SIZE = 16, H_NODES = 24, H_COLS = 56, H_CELLS = 64,
       H_RESERVED = 72, HEADER = 80, COL_HEADER = 32 };

static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Seals a forged snapshot: correct checksums over wrong contents. Each
 * column's arrays (contiguous after its header) have their checksum in
 * the header's last field, when `columns`; the trailer is the checksum of
 * the header and the column headers, one after the other. */
static void reseal_as(unsigned char *buf, size_t size, int columns)
{
    size_t nodes = get64(buf + H_NODES), ncols = get64(buf + H_COLS);
    size_t per_col = COL_HEADER + nodes * 8 + 16 * ((nodes + 63) / 64);
    if (HEADER + ncols * per_col + 8 != size)
        ncols = 0; /* a forged layout: the loader stops before the sums */
    unsigned char *meta = malloc(HEADER + ncols * COL_HEADER);
    memcpy(meta, buf, HEADER);
    for (size_t i = 0; i < ncols; i++) {
        unsigned char *q = buf + HEADER + i * per_col;
        if (columns)
            put64(q + 24, tally_snapshot__checksum(q + COL_HEADER, per_col - COL_HEADER));
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

/* Cell for cell: the same columns with the same bytes. */
static void assert_same_dataset(const tally_dataset *a, const tally_dataset *b)
{
    size_t nodes = tally_hierarchy_size(tally_dataset_hierarchy(a));
    assert_int_equal(tally_dataset_value_count(a), tally_dataset_value_count(b));
    assert_int_equal(tally_dataset__column_count(a), tally_dataset__column_count(b));
    for (size_t i = 0; i < tally_dataset__column_count(a); i++) {
        const tally_column *x = tally_dataset__column(a, i);
        const tally_column *y = tally_dataset__find_column(b, x->indicator, x->period);
        assert_non_null(y);
        assert_memory_equal(x->values, y->values, nodes * sizeof(double));
        assert_memory_equal(x->valid, y->valid, tally_bit__words(nodes) * 8);
        assert_memory_equal(x->seen, y->seen, tally_bit__words(nodes) * 8);
    }
}

static void *save(const fixture *f, size_t *size)
{
    void *buf;
    if (tally_dataset_save_buffer(f->ds, &buf, size))
        fail_msg("save: %s", tally_error_last()->message);
    return buf;
}

static void test_snapshot__xxh64_matches_the_reference(void **state)
{
    (void)state;
    /* Published XXH64 (seed 0) values for "", "a", "abc"; the 100 bytes
     * 0..99 from a separate whole-buffer implementation in Python, checked
     * against the same three. */
    assert_true(tally_snapshot__checksum("", 0) == 0xEF46DB3751D8E999ULL);
    assert_true(tally_snapshot__checksum("a", 1) == 0xD24EC4F1A98C6E5BULL);
    assert_true(tally_snapshot__checksum("abc", 3) == 0x44BC2CF5AD770999ULL);
    unsigned char b[100];
    for (int i = 0; i < 100; i++)
        b[i] = (unsigned char)i;
    assert_true(tally_snapshot__checksum(b, 100) == 0x6AC1E58032166597ULL);
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
    /* 7 columns over 9 nodes: 80 + 7 * (32 + 9 * 8 + 8 + 8) + 8. */
    assert_int_equal(tally_dataset__column_count(f.ds), 7);
    assert_int_equal(size, 80 + 7 * (32 + 9 * 8 + 16) + 8);
    assert_int_equal(tally_dataset_load_buffer(g.ds, buf, size, "x.snap"), 0);
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
    size_t size2;
    unsigned char *buf2 = save(&g, &size2);
    assert_int_equal(size, size2);
    assert_memory_equal(buf, buf2, size);
    free(buf2);
    free(buf);
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
    assert_int_equal(tally_dataset_save(f.ds, path), 0);
    assert_int_equal(tally_dataset_load(g.ds, path), 0);
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
    assert_int_equal(tally_dataset_load_buffer(a.ds, buf, size, "b.snap"), 0);
    assert_int_equal(tally_dataset_value_count(a.ds), 3);
    double v;
    int present;
    assert_int_equal(tally_dataset_reported(a.ds, V1, N_POOR, "2019-08", &v, &present), 0);
    assert_true(present && v == 35);
    assert_int_equal(tally_dataset_reported(a.ds, V2, N_POOR, "2019-08", &v, &present), 0);
    assert_true(present && v == 12);
    /* Again: every cell is now a duplicate; nothing changes. */
    assert_int_equal(tally_dataset_load_buffer(a.ds, buf, size, "b.snap"), TALLY_EEXIST);
    assert_string_equal(tally_error_last()->message,
                        "b.snap: duplicate value for region 430602001002, indicator poor, "
                        "period 2019-08: it is both in the dataset and in the snapshot; each "
                        "is given once");
    assert_int_equal(tally_dataset_value_count(a.ds), 3);
    assert_int_equal(tally_dataset__column_count(a.ds), 2);
    free(buf);
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
    assert_int_equal(tally_dataset_load_buffer(ds2, buf, size, "x.snap"), TALLY_EINVAL);
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
    assert_int_equal(tally_dataset_load_buffer(ds2, buf, size, "x.snap"), TALLY_EINVAL);
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
    assert_int_equal(tally_dataset_load_buffer(ds2, buf, size, "x.snap"), TALLY_EINVAL);
    assert_non_null(strstr(tally_error_last()->message,
                           "x.snap: snapshot was made over other definitions (10 indicators, "
                           "fingerprint "));
    assert_int_equal(tally_dataset_value_count(ds2), 0);
    tally_dataset_free(ds2);
    tally_definitions_free(d2);
    free(buf);
    fixture_free(&f);
}

/* Loads `buf` into a fresh dataset; it must fail, and add nothing. */
static int load_fails(const fixture *f, const void *buf, size_t size)
{
    tally_dataset *ds;
    assert_int_equal(tally_dataset_new(&ds, f->h, f->d), 0);
    int rc = tally_dataset_load_buffer(ds, buf, size, "bad.snap");
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
    assert_int_equal(tally_dataset_load_buffer(ds, buf, size, "good.snap"), 0);
    tally_dataset_free(ds);
    free(buf);
    fixture_free(&f);
}

static void expect_forged(const fixture *f, unsigned char *buf, size_t size, int code,
                          const char *message)
{
    reseal(buf, size);
    assert_int_equal(load_fails(f, buf, size), code);
    assert_string_equal(tally_error_last()->message, message);
}

static void test_snapshot__well_sealed_but_wrong_contents_are_refused(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    fill(&f);
    size_t size;
    unsigned char *good = save(&f, &size), *buf = malloc(size);
    const size_t per_col = COL_HEADER + 9 * 8 + 16;
    /* Column 0 is (poor, 2019-08): indicator 0 sorts first. */
    unsigned char *col0 = buf + HEADER, *vals0 = col0 + COL_HEADER;
    unsigned char *valid0 = vals0 + 9 * 8, *seen0 = valid0 + 8;
    const char *bad_bits = "bad.snap: bad snapshot: a column's values disagree with its bits; "
                           "the file is damaged";
    memcpy(buf, good, size);
    assert_int_equal(get64(col0), N_POOR);

    memcpy(buf, good, size);
    buf[H_VERSION] = 2;
    expect_forged(&f, buf, size, TALLY_ENOTSUP,
                  "bad.snap: snapshot format version 2; this library reads version 1 (make "
                  "the snapshot again with this version of tally)");
    memcpy(buf, good, size);
    uint32_t be = 0x04030201u;
    memcpy(buf + H_BOM, &be, 4);
    expect_forged(&f, buf, size, TALLY_ENOTSUP,
                  "bad.snap: snapshot has byte order mark 0x04030201; expected 0x01020304 "
                  "(snapshots are little-endian)");
    memcpy(buf, good, size);
    put64(buf + H_COLS, 6);
    expect_forged(&f, buf, size, TALLY_EPARSE,
                  "bad.snap: bad snapshot: its column count, region count and size do not add "
                  "up; the file is damaged");
    memcpy(buf, good, size);
    put64(buf + H_NODES, 10);
    expect_forged(&f, buf, size, TALLY_EPARSE,
                  "bad.snap: bad snapshot: its column count, region count and size do not add "
                  "up; the file is damaged");
    memcpy(buf, good, size);
    put64(buf + H_RESERVED, 1);
    expect_forged(&f, buf, size, TALLY_EPARSE,
                  "bad.snap: bad snapshot: its column count, region count and size do not add "
                  "up; the file is damaged");
    memcpy(buf, good, size);
    put64(buf + H_CELLS, 13);
    expect_forged(&f, buf, size, TALLY_EPARSE,
                  "bad.snap: bad snapshot: the cell count does not match the columns; the file "
                  "is damaged");

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
    /* Columns swapped: out of order. */
    memcpy(buf, good, size);
    memcpy(buf + HEADER, good + HEADER + per_col, per_col);
    memcpy(buf + HEADER + per_col, good + HEADER, per_col);
    expect_forged(&f, buf, size, TALLY_EPARSE,
                  "bad.snap: bad snapshot: columns are out of order or given twice; the file "
                  "is damaged");
    /* The same column twice. */
    memcpy(buf, good, size);
    memcpy(buf + HEADER + per_col, good + HEADER, per_col);
    expect_forged(&f, buf, size, TALLY_EPARSE,
                  "bad.snap: bad snapshot: columns are out of order or given twice; the file "
                  "is damaged");

    /* Bits and values. V1 (node 4) filed 35; V3 (node 8) filed empty. */
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
    double x = NAN;
    memcpy(buf, good, size);
    memcpy(vals0 + V1 * 8, &x, 8); /* a valid value that is NaN */
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_bits);
    x = INFINITY;
    memcpy(buf, good, size);
    memcpy(vals0 + V1 * 8, &x, 8);
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_bits);
    x = 7;
    memcpy(buf, good, size);
    memcpy(vals0 + V3 * 8, &x, 8); /* a number where the cell was empty */
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_bits);
    x = -INFINITY;
    memcpy(buf, good, size);
    memcpy(vals0 + PROV * 8, &x, 8); /* not even filed */
    expect_forged(&f, buf, size, TALLY_EPARSE, bad_bits);

    /* Any NaN will do where nothing was filed. */
    memcpy(buf, good, size);
    uint64_t other_nan = 0xfff0000000000001ULL;
    memcpy(vals0 + PROV * 8, &other_nan, 8);
    reseal(buf, size);
    tally_dataset *ds;
    assert_int_equal(tally_dataset_new(&ds, f.h, f.d), 0);
    assert_int_equal(tally_dataset_load_buffer(ds, buf, size, "ok.snap"), 0);
    tally_dataset_free(ds);

    /* Not a snapshot at all. */
    assert_int_equal(load_fails(&f, "region_code,indicator,period,value\n", 35), TALLY_EPARSE);
    free(buf);
    free(good);
    fixture_free(&f);
}

static void test_snapshot__file_errors(void **state)
{
    (void)state;
    fixture f;
    fixture_load(&f, NULL);
    assert_int_equal(tally_dataset_load(f.ds, "/nonexistent/x.snap"), TALLY_EIO);
    assert_string_equal(tally_error_last()->message,
                        "/nonexistent/x.snap: cannot open: No such file or directory");
    assert_int_equal(tally_dataset_save(f.ds, "/nonexistent/x.snap"), TALLY_EIO);
    assert_string_equal(tally_error_last()->message,
                        "/nonexistent/x.snap: cannot write the snapshot: No such file or "
                        "directory");
    /* An empty file is not a snapshot. */
    char path[] = "/tmp/tally-snapshot-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(tally_dataset_load(f.ds, path), TALLY_EPARSE);
    unlink(path);
    /* An empty dataset saves and loads. */
    assert_int_equal(tally_dataset_save(f.ds, path), 0);
    tally_dataset *ds;
    assert_int_equal(tally_dataset_new(&ds, f.h, f.d), 0);
    assert_int_equal(tally_dataset_load(ds, path), 0);
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
    /* Village k of town t files poor = t * 1000 + k, pop when k is odd,
     * and an empty pop when k is a multiple of 10. */
    char code[16];
    for (int t = 1; t <= 100; t++)
        for (int k = 1; k <= 700; k++) {
            sprintf(code, "110101%03d%03d", t, k);
            assert_int_equal(tally_dataset_add(a, code, "poor", "2020-06", t * 1000 + k), 0);
            if (k % 2)
                assert_int_equal(tally_dataset_add(a, code, "pop", "2020-06", k * 0.5), 0);
            else if (k % 10 == 0)
                assert_int_equal(tally_dataset_add(a, code, "pop", "2020-06", NAN), 0);
        }
    char path[] = "/tmp/tally-snapshot-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(tally_dataset_save(a, path), 0);
    assert_int_equal(tally_dataset_new(&b, h, d), 0);
    assert_int_equal(tally_dataset_load(b, path), 0); /* in place */
    assert_same_dataset(a, b);
    /* 70,000 poor + 35,000 pop + 7,000 empty pop. */
    assert_int_equal(tally_dataset_value_count(b), 112000);
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
    assert_int_equal(tally_dataset_save_buffer(a, &buf, &size), 0);
    assert_int_equal(tally_dataset_new(&c, h, d), 0);
    assert_int_equal(tally_dataset_load_buffer(c, buf, size, "big.snap"), 0); /* copied */
    assert_same_dataset(a, c);
    tally_dataset_free(c);
    /* One bit flipped in the middle of the second column's values. */
    unsigned char *bytes = buf;
    size_t per_col = COL_HEADER + 70103 * 8 + 16 * ((70103 + 63) / 64);
    bytes[HEADER + per_col + COL_HEADER + 8 * 50000 + 3] ^= 0x10;
    assert_int_equal(tally_dataset_new(&c, h, d), 0);
    assert_int_equal(tally_dataset_load_buffer(c, buf, size, "big.snap"), TALLY_EPARSE);
    assert_string_equal(tally_error_last()->message,
                        "big.snap: checksum mismatch: the file is damaged");
    assert_int_equal(tally_dataset_value_count(c), 0);
    tally_dataset_free(c);
    free(buf);

    /* The same size, the last village's code changed: in the second block
     * of the fingerprint. */
    free(text);
    text = big_hierarchy(1, &len);
    tally_hierarchy *h2;
    assert_int_equal(tally_hierarchy_from_buffer(&h2, text, len, "big2.csv", NULL), 0);
    assert_int_equal(tally_dataset_new(&c, h2, d), 0);
    assert_int_equal(tally_dataset_load(c, path), TALLY_EINVAL);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot__xxh64_matches_the_reference),
        cmocka_unit_test(test_snapshot__round_trip_is_cell_for_cell),
        cmocka_unit_test(test_snapshot__file_round_trip_and_rollup_bit_for_bit),
        cmocka_unit_test(test_snapshot__merges_like_records_and_refuses_duplicates),
        cmocka_unit_test(test_snapshot__refused_over_another_hierarchy_or_definitions),
        cmocka_unit_test(test_snapshot__every_truncation_and_flipped_byte_is_an_error),
        cmocka_unit_test(test_snapshot__well_sealed_but_wrong_contents_are_refused),
        cmocka_unit_test(test_snapshot__file_errors),
        cmocka_unit_test(test_snapshot__large_round_trip_on_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
