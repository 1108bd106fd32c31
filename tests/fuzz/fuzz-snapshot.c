/* Fuzz target: the snapshot loader (tally_snapshot_load_buffer), then a
 * save of what was loaded, a second load, and a rollup.
 *
 * The input is a snapshot loaded over the hierarchy and definitions of
 * tests/fixtures.h (the seeds in corpus/snapshot are real snapshots over
 * them, written by snapshot-seeds.c). A mutated snapshot almost never
 * keeps its checksums right, so each input is loaded twice: as it is, and,
 * when its columns fill it as the format lays them out, resealed (every
 * column's checksum and the trailer worked out again, as tests/test-snapshot.c
 * forges snapshots) and copied to an odd address. The second load reaches
 * what the checksums guard: values against bits, cell counts, periods,
 * order, duplicates. The hierarchy is made again for each input, so its
 * fingerprint is worked out on the first load and remembered after.
 * Invariants checked besides "no crash, no leak, no undefined behaviour,
 * no hang":
 *   - a failed load says what is wrong (code and message) and adds nothing;
 *   - a load that succeeds has every column of the file, node by node: a
 *     value where the valid bit is set, finite and bit for bit the stored
 *     double, or the stored 32-bit number divided by 10^scale; nothing
 *     elsewhere; the dataset's cell count is the header's;
 *   - loading the same snapshot again into that dataset fails with
 *     TALLY_EEXIST and changes nothing, unless it holds no cell;
 *   - saving what was loaded and loading that into a fresh dataset
 *     succeeds, and saving again gives the same bytes;
 *   - a rollup of what was loaded succeeds, every value finite or missing.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "../fixtures.h"
#include "fuzz.h"
#include "period.h"

/* Internal (lib/snapshot.c): XXH3-64 of `len` bytes. */
uint64_t tally_snapshot__checksum(const void *data, size_t len);

static const char name[] = "snapshot.tsnp";

/* Offsets of the format (tally/snapshot.h). */
enum { H_VERSION = 8, H_NODES = 24, H_COLS = 56, H_CELLS = 64, HEADER = 80, TRAILER = 8,
       C_INDICATOR = 0, C_PERIOD = 8, C_SUM = 24, C_FORM = 32, C_SCALE = 36, C_LO = 40,
       C_HI = 48 };
enum { F_DOUBLE = 0, F_INT32 = 1 };

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static size_t slots_of(size_t nodes, uint32_t form)
{
    return form == F_INT32 ? nodes + (nodes & 1) : nodes;
}

static size_t width_of(uint32_t form) { return form == F_INT32 ? 4 : 8; }

static size_t words_of(size_t nodes) { return (nodes + 63) / 64; }

/* Version 3 holds every node in every column, after a 40-byte header;
 * version 4 the range [lo, hi) its 56-byte header gives. */
static size_t col_header(const uint8_t *p) { return get32(p + H_VERSION) == 3 ? 40 : 56; }
static size_t col_lo(const uint8_t *p, const uint8_t *q)
{
    return col_header(p) == 40 ? 0 : (size_t)get64(q + C_LO);
}
static size_t col_len(const uint8_t *p, const uint8_t *q)
{
    return col_header(p) == 40 ? (size_t)get64(p + H_NODES)
                               : (size_t)(get64(q + C_HI) - get64(q + C_LO));
}

/* Where each column starts (at[0..ncols-1], malloc'ed) when the columns,
 * by their forms, fill the file from the header to the trailer exactly;
 * else 0 (*at NULL). */
static size_t layout(const uint8_t *p, size_t size, size_t **at)
{
    *at = NULL;
    if (size < HEADER + TRAILER)
        return 0;
    uint64_t nodes = get64(p + H_NODES), ncols = get64(p + H_COLS);
    size_t end = size - TRAILER, pos = HEADER, COL_HEADER = col_header(p);
    if (ncols > (end - pos) / COL_HEADER || (ncols && COL_HEADER == 40 && nodes > end - pos))
        return 0;
    size_t *a = malloc((ncols ? ncols : 1) * sizeof *a);
    FUZZ_CHECK(a != NULL);
    for (size_t i = 0; i < ncols; i++) {
        if (end - pos < COL_HEADER)
            goto bad;
        uint32_t form = get32(p + pos + C_FORM);
        size_t len = col_len(p, p + pos);
        if (form > F_INT32 || (COL_HEADER == 56 && (get64(p + pos + C_LO) % 64 ||
                                                    get64(p + pos + C_LO) > get64(p + pos + C_HI) ||
                                                    get64(p + pos + C_HI) > nodes)))
            goto bad;
        size_t bytes = COL_HEADER + slots_of(len, form) * width_of(form) + 16 * words_of(len);
        if (bytes > end - pos)
            goto bad;
        a[i] = pos;
        pos += bytes;
    }
    if (pos != end)
        goto bad;
    *at = a;
    return ncols;
bad:
    free(a);
    return 0;
}

/* A column's checksum (tally/snapshot.h): XXH3 of the XXH3s of its value
 * slots in runs of 32,768, its valid array, its seen array. */
static uint64_t column_sum(const uint8_t *arrays, size_t nodes, uint32_t form)
{
    size_t slots = slots_of(nodes, form), w = width_of(form), words = words_of(nodes);
    size_t np = (slots + 32767) / 32768;
    uint64_t *h = malloc((np + 2) * 8);
    FUZZ_CHECK(h != NULL);
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

/* Works every checksum out again; 0 when the columns do not fill `p`. */
static int reseal(uint8_t *p, size_t size)
{
    size_t *at;
    size_t ncols = layout(p, size, &at);
    if (!at)
        return 0;
    size_t COL_HEADER = col_header(p);
    uint8_t *meta = malloc(HEADER + ncols * COL_HEADER);
    FUZZ_CHECK(meta != NULL);
    memcpy(meta, p, HEADER);
    for (size_t i = 0; i < ncols; i++) {
        uint8_t *q = p + at[i];
        uint64_t sum = column_sum(q + COL_HEADER, col_len(p, q), get32(q + C_FORM));
        memcpy(q + C_SUM, &sum, 8);
        memcpy(meta + HEADER + i * COL_HEADER, q, COL_HEADER);
    }
    uint64_t trailer = tally_snapshot__checksum(meta, HEADER + ncols * COL_HEADER);
    memcpy(p + size - TRAILER, &trailer, 8);
    free(meta);
    free(at);
    return 1;
}

/* Every column of the loaded snapshot `p` is in `ds`, node by node. */
static void check_values(const tally_dataset *ds, const uint8_t *p, size_t size)
{
    static const double p10[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
    size_t *at;
    size_t ncols = layout(p, size, &at);
    FUZZ_CHECK(at != NULL);
    size_t nodes = tally_hierarchy_size(tally_dataset_hierarchy(ds));
    FUZZ_CHECK(get64(p + H_NODES) == nodes);
    FUZZ_CHECK(tally_dataset_value_count(ds) == get64(p + H_CELLS));
    for (size_t i = 0; i < ncols; i++) {
        const uint8_t *q = p + at[i];
        size_t ind = (size_t)get64(q + C_INDICATOR);
        uint32_t form = get32(q + C_FORM), scale = get32(q + C_SCALE);
        FUZZ_CHECK(form == F_DOUBLE ? scale == 0 : scale <= 9);
        char period[TALLY_PERIOD_TEXT_MAX];
        tally_period__format((int32_t)get64(q + C_PERIOD), period);
        /* Node n of the range is lo + n; every node outside it has nothing
         * from this column. */
        size_t lo = col_lo(p, q), len = col_len(p, q);
        const uint8_t *vals = q + col_header(p);
        const uint8_t *valid = vals + slots_of(len, form) * width_of(form);
        for (size_t node = 0; node < nodes; node++) {
            double v;
            int present;
            FUZZ_CHECK(tally_dataset_reported(ds, node, ind, period, &v, &present) == 0);
            size_t n = node - lo;
            int bit = n < len ? (int)((get64(valid + n / 64 * 8) >> (n % 64)) & 1) : 0;
            FUZZ_CHECK(present == bit);
            if (!present)
                continue;
            double want;
            if (form == F_INT32)
                want = (double)(int32_t)get32(vals + 4 * n) / p10[scale];
            else
                memcpy(&want, vals + 8 * n, 8);
            FUZZ_CHECK(isfinite(v));
            FUZZ_CHECK(memcmp(&v, &want, 8) == 0);
        }
    }
    free(at);
}

static void check_rollup(const tally_dataset *ds)
{
    tally_rollup_options ro = TALLY_ROLLUP_OPTIONS_INIT;
    tally_result *r;
    int rc = tally_rollup(&r, ds, &ro);
    if (rc) {
        fuzz_check_error(rc);
        return;
    }
    size_t nodes = tally_hierarchy_size(tally_result_hierarchy(r));
    size_t inds = tally_definitions_indicator_count(tally_result_definitions(r));
    for (size_t p = 0; p < tally_result_period_count(r); p++) {
        for (size_t i = 0; i < inds; i++) {
            const double *col = tally_result_column(r, i, p);
            FUZZ_CHECK(col != NULL);
            for (size_t n = 0; n < nodes; n++)
                FUZZ_CHECK(isnan(col[n]) || isfinite(col[n]));
        }
    }
    tally_result_free(r);
}

/* Loads `p` into a fresh dataset over h and d and checks what came of it. */
static void check_load(const tally_hierarchy *h, const tally_definitions *d, const uint8_t *p,
                       size_t size)
{
    tally_dataset *ds;
    FUZZ_CHECK(tally_dataset_new(&ds, h, d) == 0);
    int rc = tally_snapshot_load_buffer(ds, p, size, name);
    if (rc) {
        fuzz_check_error(rc);
        FUZZ_CHECK(tally_error_last()->path && strcmp(tally_error_last()->path, name) == 0);
        FUZZ_CHECK(tally_dataset_value_count(ds) == 0);
        tally_dataset_free(ds);
        return;
    }
    check_values(ds, p, size);

    /* The same cells again are duplicates. */
    size_t cells = tally_dataset_value_count(ds);
    rc = tally_snapshot_load_buffer(ds, p, size, name);
    if (cells) {
        FUZZ_CHECK(rc == TALLY_EEXIST);
        fuzz_check_error(rc);
        FUZZ_CHECK(tally_dataset_value_count(ds) == cells);
    } else {
        FUZZ_CHECK(rc == 0);
    }

    /* Saved and loaded again: the same snapshot. */
    void *s1, *s2;
    size_t n1, n2;
    FUZZ_CHECK(tally_snapshot_save_buffer(ds, &s1, &n1) == 0);
    tally_dataset *ds2;
    FUZZ_CHECK(tally_dataset_new(&ds2, h, d) == 0);
    rc = tally_snapshot_load_buffer(ds2, s1, n1, "saved.tsnp");
    if (rc)
        fprintf(stderr, "reloading the saved snapshot: %s\n", tally_error_last()->message);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(tally_dataset_value_count(ds2) == cells);
    check_values(ds2, s1, n1);
    FUZZ_CHECK(tally_snapshot_save_buffer(ds2, &s2, &n2) == 0);
    FUZZ_CHECK(n1 == n2 && memcmp(s1, s2, n1) == 0);
    tally_free(s1);
    tally_free(s2);
    tally_dataset_free(ds2);

    check_rollup(ds);
    tally_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tally_definitions *d; /* loaded once */
    if (!d)
        FUZZ_CHECK(tally_definitions_from_buffer(&d, fixture_definitions,
                                                 sizeof fixture_definitions - 1,
                                                 "defs.yaml") == 0);
    tally_hierarchy *h;
    FUZZ_CHECK(tally_hierarchy_from_buffer(&h, fixture_hierarchy, sizeof fixture_hierarchy - 1,
                                           "hierarchy.csv", NULL) == 0);

    check_load(h, d, data, size);

    /* Resealed, at an odd address. */
    uint8_t *copy = malloc(size + 1);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy + 1, data, size);
    if (reseal(copy + 1, size) && memcmp(copy + 1, data, size) != 0)
        check_load(h, d, copy + 1, size);
    free(copy);

    tally_hierarchy_free(h);
    return 0;
}
