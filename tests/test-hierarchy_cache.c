/* Tests for the hierarchy cache (include/tally/hierarchy.h,
 * lib/hierarchy_cache.c): a cache loads as the CSV does in every
 * accessor; a stale cache is refused and made again; a damaged, truncated
 * or forged one is refused or read within bounds; a file that is not a
 * cache is never replaced.
 *
 * The reference for every accessor is the CSV read by
 * tally_hierarchy_from_file (tested on its own in test-hierarchy.c); a few
 * values are also checked against the inputs by hand.
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <xxhash.h>

#include "hierarchy.h"
#include "tally/error.h"
#include "tally/hierarchy.h"

/* Twelve-digit codes given out of pre-order (the county before its
 * province), a second root, a text code, a name given twice, and a name
 * over two lines (a quoted line break), so that lines are stored.
 * Pre-order, by hand (line of the row's start):
 *   0 430000000000 湖南省      province  line 3
 *   1   430600000000 岳阳市    city      line 4
 *   2     430626000000 平江县  county    line 2
 *   3       X-1 新村           town      line 5
 *   4 110000000000 北京\n市    province  line 6
 *   5   110101000000 新村      county    line 8 */
static const char csv_mixed[] =
    "code,name,level,parent_code\n"
    "430626000000,平江县,county,430600000000\n"
    "430000000000,湖南省,province,\n"
    "430600000000,岳阳市,city,430000000000\n"
    "X-1,\"新村\",town,430626000000\n"
    "110000000000,\"北京\n市\",province,\n"
    "110101000000,新村,county,110000000000\n";

/* In pre-order, one line a row (lines not stored). */
static const char csv_plain[] =
    "code,name,level,parent_code\n"
    "430000000000,湖南省,province,\n"
    "430600000000,岳阳市,city,430000000000\n"
    "430626000000,平江县,county,430600000000\n"
    "430626100000,镇B,town,430626000000\n"
    "430626100201,村3,village,430626100000\n";

typedef struct dir {
    char path[64];
    char csv[128];
    char cache[160];
} dir;

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void make_dir(dir *d, const char *csv)
{
    strcpy(d->path, "/tmp/tally-hcache-XXXXXX");
    assert_non_null(mkdtemp(d->path));
    snprintf(d->csv, sizeof d->csv, "%s/h.csv", d->path);
    snprintf(d->cache, sizeof d->cache, "%s/h.csv.tallyh", d->path);
    write_file(d->csv, csv, strlen(csv));
}

static void remove_dir(dir *d)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
    assert_int_equal(system(cmd), 0);
}

static tally_hierarchy *from_csv(const char *path, const tally_hierarchy_options *o)
{
    tally_hierarchy *h = NULL;
    int rc = tally_hierarchy_from_file(&h, path, o);
    if (rc)
        print_error("%s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    return h;
}

/* a and b the same in every accessor. */
static void assert_same(const tally_hierarchy *a, const tally_hierarchy *b)
{
    size_t n = tally_hierarchy_size(a);
    assert_int_equal(tally_hierarchy_size(b), n);
    assert_int_equal(tally_hierarchy_level_count(b), tally_hierarchy_level_count(a));
    for (size_t k = 0; k < tally_hierarchy_level_count(a); k++) {
        assert_string_equal(tally_hierarchy_level_name(b, (int)k),
                            tally_hierarchy_level_name(a, (int)k));
        assert_int_equal(tally_hierarchy_level_find(b, tally_hierarchy_level_name(a, (int)k)),
                         (int)k);
    }
    /* Equal names, not pointers: the same literal in two files need not be
     * one object (it is not under ASan). */
    const char *ea = tally_hierarchy_detected_encoding(a), *eb = tally_hierarchy_detected_encoding(b);
    assert_int_equal(ea == NULL, eb == NULL);
    if (ea)
        assert_string_equal(eb, ea);
    const size_t *pa = tally_hierarchy_parents(a), *pb = tally_hierarchy_parents(b);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(tally_hierarchy_code(b, i), tally_hierarchy_code(a, i));
        assert_string_equal(tally_hierarchy_name(b, i), tally_hierarchy_name(a, i));
        assert_int_equal(tally_hierarchy_level(b, i), tally_hierarchy_level(a, i));
        assert_int_equal(tally_hierarchy_parent(b, i), tally_hierarchy_parent(a, i));
        assert_int_equal(pb[i], pa[i]);
        assert_int_equal(tally_hierarchy_subtree_end(b, i), tally_hierarchy_subtree_end(a, i));
        assert_int_equal(tally_hierarchy_line(b, i), tally_hierarchy_line(a, i));
        const char *c = tally_hierarchy_code(a, i);
        size_t at = TALLY_NONE;
        assert_int_equal(tally_hierarchy_find(b, c, strlen(c), &at), 0);
        assert_int_equal(at, i);
    }
    size_t at;
    assert_int_equal(tally_hierarchy_find(b, "999999999999", 12, &at), TALLY_ENOTFOUND);
    assert_int_equal(tally_hierarchy_find(b, "X-2", 3, &at), TALLY_ENOTFOUND);
    assert_null(tally_hierarchy_code(b, n));
}

static tally_hierarchy *saved_and_loaded(const dir *d, const tally_hierarchy *h,
                                         const tally_hierarchy_options *o)
{
    int rc = tally_hierarchy_cache_save(h, d->cache, d->csv, o);
    if (rc)
        print_error("%s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    tally_hierarchy *c = NULL;
    rc = tally_hierarchy_cache_load(&c, d->cache, d->csv, o);
    if (rc)
        print_error("%s\n", tally_error_last()->message);
    assert_int_equal(rc, 0);
    return c;
}

static void test_cache__round_trip_mixed(void **state)
{
    (void)state;
    dir d;
    make_dir(&d, csv_mixed);
    tally_hierarchy *h = from_csv(d.csv, NULL);
    tally_hierarchy *c = saved_and_loaded(&d, h, NULL);
    assert_same(h, c);
    /* By hand (the table above): pre-order, lines, shared names. */
    assert_int_equal(tally_hierarchy_size(c), 6);
    assert_string_equal(tally_hierarchy_code(c, 2), "430626000000");
    assert_int_equal(tally_hierarchy_line(c, 2), 2);
    assert_string_equal(tally_hierarchy_code(c, 3), "X-1");
    assert_int_equal(tally_hierarchy_parent(c, 3), 2);
    assert_string_equal(tally_hierarchy_name(c, 4), "北京\n市");
    assert_int_equal(tally_hierarchy_line(c, 5), 8);
    assert_string_equal(tally_hierarchy_name(c, 5), "新村");
    assert_int_equal(tally_hierarchy_subtree_end(c, 0), 4);
    assert_int_equal(tally_hierarchy_parent(c, 4), TALLY_NONE);
    tally_hierarchy_free(c);
    tally_hierarchy_free(h);
    remove_dir(&d);
}

static void test_cache__round_trip_levels_and_encoding(void **state)
{
    (void)state;
    dir d;
    /* GB18030 bytes of 湖南 (BA FE C4 CF), read with "auto". */
    static const char gb[] = "code,name,level,parent_code\n"
                             "a,\xBA\xFE\xC4\xCF,top,\n";
    static const char *levels[] = { "top" };
    make_dir(&d, gb);
    tally_hierarchy_options o = TALLY_HIERARCHY_OPTIONS_INIT;
    o.encoding = "auto";
    o.level_names = levels;
    o.level_count = 1;
    tally_hierarchy *h = from_csv(d.csv, &o);
    assert_non_null(tally_hierarchy_detected_encoding(h));
    tally_hierarchy *c = saved_and_loaded(&d, h, &o);
    assert_same(h, c);
    assert_string_equal(tally_hierarchy_name(c, 0), "湖南");
    assert_string_equal(tally_hierarchy_detected_encoding(c), "GB18030");
    tally_hierarchy_free(c);
    /* Other level names, or another encoding: stale. */
    static const char *other[] = { "root" };
    tally_hierarchy_options o2 = o;
    o2.level_names = other;
    assert_int_equal(tally_hierarchy_cache_load(&c, d.cache, d.csv, &o2), TALLY_EINVAL);
    assert_non_null(strstr(tally_error_last()->message, "stale"));
    assert_non_null(strstr(tally_error_last()->message, "level names"));
    o2 = o;
    o2.encoding = "gb18030";
    assert_int_equal(tally_hierarchy_cache_load(&c, d.cache, d.csv, &o2), TALLY_EINVAL);
    assert_null(c);
    tally_hierarchy_free(h);
    remove_dir(&d);
}

static void test_cache__stale_when_the_csv_changes(void **state)
{
    (void)state;
    dir d;
    make_dir(&d, csv_plain);
    tally_hierarchy *h = from_csv(d.csv, NULL);
    assert_int_equal(tally_hierarchy_cache_save(h, d.cache, d.csv, NULL), 0);
    tally_hierarchy_free(h);
    struct stat st;
    assert_int_equal(stat(d.csv, &st), 0);

    /* Same size, same time, one name changed (村3 -> 村4): the hash of
     * the file's ends sees it. */
    char *text = strdup(csv_plain);
    char *at = strstr(text, "村3");
    at[3] = '4';
    write_file(d.csv, text, strlen(text));
    struct timespec times[2] = { st.st_atim, st.st_mtim };
    assert_int_equal(utimensat(AT_FDCWD, d.csv, times, 0), 0);
    tally_hierarchy *c = (tally_hierarchy *)1;
    assert_int_equal(tally_hierarchy_cache_load(&c, d.cache, d.csv, NULL), TALLY_EINVAL);
    assert_null(c);
    const tally_error *e = tally_error_last();
    assert_non_null(strstr(e->message, "stale hierarchy cache: the CSV has changed"));
    assert_string_equal(e->path, d.cache);

    /* Beside the CSV, a stale cache is made again, and then used. */
    int how = -1;
    assert_int_equal(tally_hierarchy_from_file_cached(&c, d.csv, NULL, 0, &how), 0);
    assert_int_equal(how, TALLY_HIERARCHY_CACHE_WRITTEN);
    assert_string_equal(tally_hierarchy_name(c, 4), "村4");
    tally_hierarchy_free(c);
    assert_int_equal(tally_hierarchy_from_file_cached(&c, d.csv, NULL, 0, &how), 0);
    assert_int_equal(how, TALLY_HIERARCHY_CACHE_USED);
    assert_string_equal(tally_hierarchy_name(c, 4), "村4");
    tally_hierarchy_free(c);

    /* A row more: another size. */
    write_file(d.csv, csv_mixed, strlen(csv_mixed));
    assert_int_equal(tally_hierarchy_cache_load(&c, d.cache, d.csv, NULL), TALLY_EINVAL);
    free(text);
    remove_dir(&d);
}

static void test_cache__round_trip_empty(void **state)
{
    (void)state;
    dir d;
    make_dir(&d, "code,name,level,parent_code\n");
    tally_hierarchy *h = from_csv(d.csv, NULL);
    assert_int_equal(tally_hierarchy_size(h), 0);
    tally_hierarchy *c = saved_and_loaded(&d, h, NULL);
    assert_int_equal(tally_hierarchy_size(c), 0);
    assert_int_equal(tally_hierarchy_level_count(c), 5);
    size_t at;
    assert_int_equal(tally_hierarchy_find(c, "430000000000", 12, &at), TALLY_ENOTFOUND);
    assert_non_null(tally_hierarchy_parents(c));
    tally_hierarchy_free(c);
    tally_hierarchy_free(h);
    remove_dir(&d);
}

static void test_cache__made_only_when_asked(void **state)
{
    (void)state;
    dir d;
    make_dir(&d, csv_plain);
    tally_hierarchy *c;
    int how = -1;
    assert_int_equal(tally_hierarchy_from_file_cached(&c, d.csv, NULL, 0, &how), 0);
    assert_int_equal(how, TALLY_HIERARCHY_CACHE_NONE);
    assert_int_equal(access(d.cache, F_OK), -1);
    tally_hierarchy_free(c);
    assert_int_equal(
        tally_hierarchy_from_file_cached(&c, d.csv, NULL, TALLY_HIERARCHY_CACHE_MAKE, &how), 0);
    assert_int_equal(how, TALLY_HIERARCHY_CACHE_WRITTEN);
    assert_int_equal(access(d.cache, F_OK), 0);
    tally_hierarchy *h = from_csv(d.csv, NULL);
    assert_same(h, c);
    tally_hierarchy_free(h);
    tally_hierarchy_free(c);
    remove_dir(&d);
}

static void test_cache__never_replaces_another_file(void **state)
{
    (void)state;
    dir d;
    make_dir(&d, csv_plain);
    static const char mine[] = "my notes, not a cache\n";
    write_file(d.cache, mine, strlen(mine));
    tally_hierarchy *c;
    int how = -1;
    /* Not asked: the CSV is read, the file left alone. */
    assert_int_equal(tally_hierarchy_from_file_cached(&c, d.csv, NULL, 0, &how), 0);
    assert_int_equal(how, TALLY_HIERARCHY_CACHE_NONE);
    assert_int_equal(tally_hierarchy_size(c), 5);
    /* Asked: refused, the file still left alone. */
    assert_int_equal(tally_hierarchy_cache_save(c, d.cache, d.csv, NULL), TALLY_EEXIST);
    assert_non_null(strstr(tally_error_last()->message, "is not a hierarchy cache; not replaced"));
    tally_hierarchy_free(c);
    assert_int_equal(
        tally_hierarchy_from_file_cached(&c, d.csv, NULL, TALLY_HIERARCHY_CACHE_MAKE, &how),
        TALLY_EEXIST);
    assert_null(c);
    size_t len;
    char *now = read_all(d.cache, &len);
    assert_int_equal(len, strlen(mine));
    assert_memory_equal(now, mine, len);
    free(now);
    remove_dir(&d);
}

/* Loads the cache file `bytes` (len) over d's CSV: the return code, the
 * message in the last error. */
static int load_bytes(const dir *d, const void *bytes, size_t len)
{
    write_file(d->cache, bytes, len);
    tally_hierarchy *c = (tally_hierarchy *)1;
    int rc = tally_hierarchy_cache_load(&c, d->cache, d->csv, NULL);
    if (rc)
        assert_null(c);
    else
        tally_hierarchy_free(c);
    return rc;
}

/* Offsets of the format (lib/hierarchy_cache.c). */
enum { H_N = 24, H_NUM_CAP = 88, H_NUM_COUNT = 96, H_STR_CAP = 104, H_BODY = 160,
       H_HEADER_SUM = 168, HEADER = 176 };

static void reseal(unsigned char *b, size_t len)
{
    uint64_t body = XXH3_64bits(b + HEADER, len - HEADER);
    memcpy(b + H_BODY, &body, 8);
    uint64_t head = XXH3_64bits(b, H_HEADER_SUM);
    memcpy(b + H_HEADER_SUM, &head, 8);
}

static void test_cache__damage_refused(void **state)
{
    (void)state;
    dir d;
    make_dir(&d, csv_plain);
    tally_hierarchy *h = from_csv(d.csv, NULL);
    assert_int_equal(tally_hierarchy_cache_save(h, d.cache, d.csv, NULL), 0);
    tally_hierarchy_free(h);
    size_t len;
    unsigned char *good = read_all(d.cache, &len);
    unsigned char *b = malloc(len);
    assert_int_equal(load_bytes(&d, good, len), 0);

    /* A bit flipped in every byte, one byte at a time: refused, never
     * loaded. */
    for (size_t i = 0; i < len; i++) {
        int bit = (int)(i % 8);
        {
            memcpy(b, good, len);
            b[i] ^= (unsigned char)(1u << bit);
            int rc = load_bytes(&d, b, len);
            if (rc != TALLY_EPARSE && rc != TALLY_ENOTSUP)
                print_error("byte %zu bit %d: %d\n", i, bit, rc);
            assert_true(rc == TALLY_EPARSE || rc == TALLY_ENOTSUP);
        }
    }
    /* Every truncation. */
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(load_bytes(&d, good, cut), TALLY_EPARSE);
        assert_non_null(strstr(tally_error_last()->message, "damaged hierarchy cache"));
    }
    assert_non_null(strstr(tally_error_last()->message, "truncated"));
    memcpy(b, good, len);
    b[len - 1] ^= 1;
    assert_int_equal(load_bytes(&d, b, len), TALLY_EPARSE);
    assert_non_null(strstr(tally_error_last()->message, "checksum mismatch"));

    /* Forged: checksums worked out again over wrong contents, as anyone
     * can. The town (node 3) made a child of the village (4), which comes
     * after it: not pre-order. */
    uint64_t n;
    memcpy(&n, good + H_N, 8);
    assert_int_equal(n, 5);
    /* parent u32[n] follows num_slots u64[num_cap]. */
    uint64_t num_cap;
    memcpy(&num_cap, good + H_NUM_CAP, 8);
    size_t parent_at = HEADER + num_cap * 8;
    memcpy(b, good, len);
    uint32_t p = 4;
    memcpy(b + parent_at + 3 * 4, &p, 4);
    reseal(b, len);
    assert_int_equal(load_bytes(&d, b, len), TALLY_EPARSE);
    assert_non_null(strstr(tally_error_last()->message, "pre-order"));
    /* The village (4) given the county's level, under its town. The
     * level array follows parent, name_off, code_lo (no lines here) and
     * the text code table. */
    memcpy(b, good, len);
    size_t level_at = parent_at + 3 * ((n * 4 + 7) & ~(size_t)7);
    uint64_t str_cap;
    memcpy(&str_cap, good + H_STR_CAP, 8);
    level_at += (str_cap * 4 + 7) & ~(size_t)7;
    assert_int_equal(b[level_at + 4], 4); /* village, by hand */
    b[level_at + 4] = 2;
    reseal(b, len);
    assert_int_equal(load_bytes(&d, b, len), TALLY_EPARSE);
    assert_non_null(strstr(tally_error_last()->message, "level is not below"));
    /* A level past the level names. */
    memcpy(b, good, len);
    b[level_at + 4] = 9;
    reseal(b, len);
    assert_int_equal(load_bytes(&d, b, len), TALLY_EPARSE);
    assert_non_null(strstr(tally_error_last()->message, "level is out of range"));
    /* A name offset past the arena. */
    memcpy(b, good, len);
    uint32_t far = 1u << 30;
    memcpy(b + parent_at + ((n * 4 + 7) & ~(size_t)7), &far, 4);
    reseal(b, len);
    assert_int_equal(load_bytes(&d, b, len), TALLY_EPARSE);
    assert_non_null(strstr(tally_error_last()->message, "name is out of range"));
    /* A code table with no free slot, and a slot naming a region past
     * the hierarchy: the file loads (the tables are checked as lookups
     * read them), a lookup of a code that is not there ends, and the
     * slot's region is not found. By hand: the 5 codes of csv_plain in a
     * table of num_cap slots; every free slot gets code 7 -> region 0,
     * and the first of them code 8 -> region 1000. */
    memcpy(b, good, len);
    int first = 1;
    for (size_t j = 0; j < num_cap; j++) {
        uint64_t s;
        memcpy(&s, b + HEADER + j * 8, 8);
        if (!s) {
            s = first ? (1 + 8) | (UINT64_C(1000) << 40) : 1 + 7;
            first = 0;
            memcpy(b + HEADER + j * 8, &s, 8);
        }
    }
    memcpy(b + H_NUM_COUNT, &num_cap, 8);
    reseal(b, len);
    write_file(d.cache, b, len);
    tally_hierarchy *f = NULL;
    assert_int_equal(tally_hierarchy_cache_load(&f, d.cache, d.csv, NULL), 0);
    size_t at;
    assert_int_equal(tally_hierarchy_find(f, "999999999999", 12, &at), TALLY_ENOTFOUND);
    assert_int_equal(tally_hierarchy_find(f, "000000000008", 12, &at), TALLY_ENOTFOUND);
    assert_int_equal(tally_hierarchy_find(f, "000000000007", 12, &at), 0);
    assert_int_equal(at, 0);
    assert_int_equal(tally_hierarchy_find(f, "430626100201", 12, &at), 0);
    assert_int_equal(at, 4);
    tally_hierarchy_free(f);
    /* Another format version: ENOTSUP, which the loader beside the CSV
     * makes again. */
    memcpy(b, good, len);
    b[8] = 2;
    reseal(b, len);
    assert_int_equal(load_bytes(&d, b, len), TALLY_ENOTSUP);
    assert_non_null(strstr(tally_error_last()->message, "format version 2"));
    tally_hierarchy *c;
    int how;
    assert_int_equal(tally_hierarchy_from_file_cached(&c, d.csv, NULL, 0, &how), 0);
    assert_int_equal(how, TALLY_HIERARCHY_CACHE_WRITTEN);
    tally_hierarchy_free(c);
    /* A damaged cache beside the CSV is an error, unless asked to make it. */
    memcpy(b, good, len);
    b[len - 1] ^= 1;
    write_file(d.cache, b, len);
    assert_int_equal(tally_hierarchy_from_file_cached(&c, d.csv, NULL, 0, &how), TALLY_EPARSE);
    assert_string_equal(tally_error_last()->path, d.cache);
    assert_int_equal(
        tally_hierarchy_from_file_cached(&c, d.csv, NULL, TALLY_HIERARCHY_CACHE_MAKE, &how), 0);
    assert_int_equal(how, TALLY_HIERARCHY_CACHE_WRITTEN);
    tally_hierarchy_free(c);
    assert_int_equal(tally_hierarchy_from_file_cached(&c, d.csv, NULL, 0, &how), 0);
    assert_int_equal(how, TALLY_HIERARCHY_CACHE_USED);
    tally_hierarchy_free(c);
    free(b);
    free(good);
    remove_dir(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache__round_trip_mixed),
        cmocka_unit_test(test_cache__round_trip_levels_and_encoding),
        cmocka_unit_test(test_cache__stale_when_the_csv_changes),
        cmocka_unit_test(test_cache__round_trip_empty),
        cmocka_unit_test(test_cache__made_only_when_asked),
        cmocka_unit_test(test_cache__never_replaces_another_file),
        cmocka_unit_test(test_cache__damage_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
