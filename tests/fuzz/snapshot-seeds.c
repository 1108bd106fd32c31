/* Writes the seed corpus of the snapshot fuzz target: real snapshots
 * (tally_snapshot_save_buffer) of small datasets over the hierarchy and
 * definitions of tests/fixtures.h, and a few damaged ones.
 *
 *   snapshot-seeds DIR           writes the seeds into DIR
 *   snapshot-seeds --check DIR   exits 1 unless DIR holds them byte for byte
 *
 * The check runs as the test fuzz-snapshot-seeds: when the snapshot format
 * changes, the committed seeds would only exercise the loader's refusals,
 * so the test fails until they are written again
 * (`build/tests/fuzz/snapshot-seeds tests/fuzz/corpus/snapshot`).
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <string.h>

#include "../fixtures.h"

typedef struct seed {
    char name[64];
    unsigned char *data;
    size_t size;
} seed;

static seed seeds[32];
static size_t nseeds;

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "snapshot-seeds: %s: %s\n", what, tally_error_last()->message);
    exit(1);
}

static void add(tally_dataset *ds, const char *code, const char *ind, const char *period, double v)
{
    if (tally_dataset_add(ds, code, ind, period, v))
        die("tally_dataset_add");
}

static seed *keep(const char *name, const void *data, size_t size)
{
    seed *s = &seeds[nseeds++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->data = malloc(size ? size : 1);
    if (!s->data)
        exit(1);
    memcpy(s->data, data, size);
    s->size = size;
    return s;
}

static seed *save(const char *name, const tally_dataset *ds)
{
    void *buf;
    size_t size;
    if (tally_snapshot_save_buffer(ds, &buf, &size))
        die("tally_snapshot_save_buffer");
    seed *s = keep(name, buf, size);
    tally_free(buf);
    return s;
}

/* Counts (whole numbers): every village and a reported city, an empty
 * cell filed, two years. */
static void counts(tally_dataset *ds)
{
    static const char *const villages[] = { "430602001001", "430602001002", "430626100201" };
    for (int k = 0; k < 3; k++) {
        add(ds, villages[k], "poor", "2019", 120 + 7 * k);
        add(ds, villages[k], "pop", "2019", 1500 + 100 * k);
        add(ds, villages[k], "poor", "2020", 60 + k);
    }
    add(ds, "430600000000", "poor", "2019", 400);
    add(ds, "430602001001", "exits", "2019", NAN); /* filed empty */
    add(ds, "430602001002", "exits", "2019", 12);
}

/* Whole numbers at a scale (amounts with decimals), negatives, the ends of
 * the 32-bit range, months and quarters. */
static void scaled(tally_dataset *ds)
{
    add(ds, "430602001001", "income", "2019", 8123.5);
    add(ds, "430602001002", "income", "2019", 7999.9);
    add(ds, "430626100201", "income", "2019", -12.25);
    add(ds, "430602001001", "lowest", "2019-Q1", 2147483647);
    add(ds, "430602001002", "lowest", "2019-Q1", -2147483648.0);
    add(ds, "430602001001", "highest", "2019-03", 0.001);
    add(ds, "430602001002", "highest", "2019-03", 1e-9);
    for (int m = 1; m <= 12; m++) {
        char period[8];
        snprintf(period, sizeof period, "2019-%02d", m);
        add(ds, "430626100201", "exits", period, m * 3);
    }
}

/* Columns that stay doubles: values no 32-bit number at any scale gives. */
static void doubles(tally_dataset *ds)
{
    add(ds, "430602001001", "reporting", "2019", 0.1 + 0.2);
    add(ds, "430602001002", "reporting", "2019", 1e300);
    add(ds, "430626100201", "reporting", "2019", -0.0);
    add(ds, "430602001001", "trained", "1000", 3e9);
    add(ds, "430602001002", "trained", "9999-12", 1.0 / 3.0);
    add(ds, "430626100201", "trained", "9999-12", NAN);
    add(ds, "430000000000", "rate", "2019-Q4", 12.345678901234567);
}

/* Read from a records file, as the command line makes them. */
static void records(tally_dataset *ds)
{
    static const char csv[] = "region_code,period,poor,pop,income,reporting\n"
                              "430602001001,2019-06,10,200,5123.4,1\n"
                              "430602001002,2019-06,,180,4876.1,1\n"
                              "430626100201,2019-06,7,95,,1\n"
                              "430602001000,2019-06,17,380,,2\n";
    if (tally_dataset_read_buffer(ds, csv, sizeof csv - 1, "records.csv", NULL, NULL, NULL))
        die("tally_dataset_read_buffer");
}

static void make(void)
{
    fixture f;
    fixture_load(&f, NULL);
    save("empty.tsnp", f.ds);
    counts(f.ds);
    seed *c = save("counts.tsnp", f.ds);
    fixture_free(&f);

    void (*const fill[])(tally_dataset *) = { scaled, doubles, records };
    static const char *const names[] = { "scaled.tsnp", "doubles.tsnp", "records.tsnp" };
    for (size_t i = 0; i < 3; i++) {
        fixture_load(&f, NULL);
        fill[i](f.ds);
        save(names[i], f.ds);
        fixture_free(&f);
    }

    /* Everything at once. */
    fixture_load(&f, NULL);
    counts(f.ds);
    scaled(f.ds);
    doubles(f.ds);
    save("all.tsnp", f.ds);
    fixture_free(&f);

    /* Damaged: cut short, a value changed (the checksum no longer holds),
     * another format version. */
    keep("damaged-truncated.tsnp", c->data, c->size - 24);
    seed *s = keep("damaged-value.tsnp", c->data, c->size);
    s->data[80 + 40] ^= 1;
    s = keep("damaged-version.tsnp", c->data, c->size);
    s->data[8] = 2;

    /* Over another hierarchy (as many regions, one code different) and
     * over other definitions (another indicator id). */
    char other[sizeof fixture_hierarchy];
    memcpy(other, fixture_hierarchy, sizeof other);
    char *at = strstr(other, "430626100201");
    at[11] = '9';
    tally_hierarchy *h;
    tally_dataset *ds;
    if (tally_hierarchy_from_buffer(&h, other, sizeof other - 1, "other.csv", NULL) ||
        tally_definitions_from_buffer(&f.d, fixture_definitions, sizeof fixture_definitions - 1,
                                      "defs.yaml") ||
        tally_dataset_new(&ds, h, f.d))
        die("another hierarchy");
    add(ds, "430602001001", "poor", "2019", 5);
    save("other-hierarchy.tsnp", ds);
    tally_dataset_free(ds);
    tally_definitions_free(f.d);
    tally_hierarchy_free(h);

    char defs[sizeof fixture_definitions];
    memcpy(defs, fixture_definitions, sizeof defs);
    memcpy(strstr(defs, "id: trained"), "id: trainee", 11);
    fixture_load(&f, defs);
    add(f.ds, "430602001001", "poor", "2019", 5);
    save("other-definitions.tsnp", f.ds);
    fixture_free(&f);
}

int main(int argc, char **argv)
{
    int check = argc == 3 && strcmp(argv[1], "--check") == 0;
    if (argc != 2 && !check) {
        fprintf(stderr, "usage: snapshot-seeds [--check] DIR\n");
        return 2;
    }
    const char *dir = argv[argc - 1];
    make();
    int bad = 0;
    for (size_t i = 0; i < nseeds; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, seeds[i].name);
        if (check) {
            FILE *f = fopen(path, "rb");
            unsigned char *have = malloc(seeds[i].size + 1);
            size_t got = f && have ? fread(have, 1, seeds[i].size + 1, f) : 0;
            if (!f || got != seeds[i].size || memcmp(have, seeds[i].data, got) != 0) {
                fprintf(stderr, "%s: not what snapshot-seeds writes; write the seeds again: "
                                "snapshot-seeds %s\n", path, dir);
                bad = 1;
            }
            free(have);
            if (f)
                fclose(f);
        } else {
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(seeds[i].data, 1, seeds[i].size, f) != seeds[i].size ||
                fclose(f) != 0) {
                perror(path);
                return 1;
            }
        }
        free(seeds[i].data);
    }
    if (!bad)
        printf("%s %zu seeds in %s\n", check ? "checked" : "wrote", nseeds, dir);
    return bad;
}
