/* Fuzz target: the hierarchy cache loader (tally_hierarchy_cache_load).
 *
 * The input is a cache file over the hierarchy CSV of tests/fixtures.h,
 * written once to a directory of its own with a fixed modification time
 * (the seeds in corpus/hierarchy_cache were made from it). A mutated cache almost never keeps its checksums
 * right, and the CSV written for the run has a status change time and an
 * inode of its own, so each input is loaded twice: as it is, and resealed
 * (the CSV's size, times and inode put in the header, the body's and the
 * header's checksums worked out again, at the offsets of
 * lib/hierarchy_cache.c), which reaches the structure checks.
 * Invariants checked besides "no crash, no leak, no undefined behaviour,
 * no hang":
 *   - a failed load says what is wrong (code and message) and gives no
 *     object;
 *   - a load that succeeds gives a hierarchy in pre-order: every parent
 *     below its child, every subtree inside its parent's, levels going
 *     down, every level and code and name there; every code lookup ends
 *     (it may find another region in a forged table, never loops).
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "../fixtures.h"
#include "fuzz.h"

enum { H_SIZE = 32, H_MTIME = 40, H_CTIME = 136, H_INO = 152, H_BODY = 160, H_HEADER_SUM = 168,
       HEADER = 176 };

static char csv_path[64], cache_path[96];

static void setup(void)
{
    if (csv_path[0])
        return;
    char dir[] = "/tmp/tally-fuzz-hcache-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    snprintf(csv_path, sizeof csv_path, "%s/h.csv", dir);
    snprintf(cache_path, sizeof cache_path, "%s/h.csv.tallyh", dir);
    FILE *f = fopen(csv_path, "wb");
    if (!f || fwrite(fixture_hierarchy, 1, sizeof fixture_hierarchy - 1, f) !=
                  sizeof fixture_hierarchy - 1 || fclose(f))
        abort();
    /* 2001-09-09 01:46:40 UTC: the time the seeds were made against. */
    struct timespec t[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    if (utimensat(AT_FDCWD, csv_path, t, 0))
        abort();
}

static void check(const uint8_t *data, size_t size)
{
    FILE *f = fopen(cache_path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
        abort();
    tally_hierarchy *h = (tally_hierarchy *)&h; /* must be overwritten */
    int rc = tally_hierarchy_cache_load(&h, cache_path, csv_path, NULL);
    if (rc) {
        fuzz_check_error(rc);
        FUZZ_CHECK(h == NULL);
        return;
    }
    size_t n = tally_hierarchy_size(h);
    size_t nlevels = tally_hierarchy_level_count(h);
    const size_t *parents = tally_hierarchy_parents(h);
    size_t root_end = 0;
    for (size_t i = 0; i < n; i++) {
        size_t p = tally_hierarchy_parent(h, i);
        size_t end = tally_hierarchy_subtree_end(h, i);
        FUZZ_CHECK(p == parents[i]);
        FUZZ_CHECK(end > i && end <= n);
        if (p == TALLY_NONE) {
            FUZZ_CHECK(i == root_end);
            root_end = end;
        } else {
            FUZZ_CHECK(p < i);
            FUZZ_CHECK(end <= tally_hierarchy_subtree_end(h, p));
            FUZZ_CHECK(tally_hierarchy_level(h, i) > tally_hierarchy_level(h, p));
        }
        int level = tally_hierarchy_level(h, i);
        FUZZ_CHECK(level >= 0 && (size_t)level < nlevels);
        const char *code = tally_hierarchy_code(h, i);
        FUZZ_CHECK(code != NULL);
        FUZZ_CHECK(tally_hierarchy_name(h, i) != NULL);
        size_t found;
        (void)tally_hierarchy_find(h, code, strlen(code), &found);
        FUZZ_CHECK(found == TALLY_NONE || found < n);
    }
    FUZZ_CHECK(root_end == n);
    /* A code that is not there: the lookup ends (a table with no free
     * slot would loop). */
    size_t none;
    FUZZ_CHECK(tally_hierarchy_find(h, "999999999999", 12, &none) == TALLY_ENOTFOUND);
    FUZZ_CHECK(tally_hierarchy_find(h, "no such code", 12, &none) == TALLY_ENOTFOUND);
    tally_hierarchy_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    check(data, size);
    if (size < HEADER)
        return 0;
    uint8_t *b = malloc(size);
    if (!b)
        abort();
    memcpy(b, data, size);
    struct stat st;
    if (stat(csv_path, &st))
        abort();
    int64_t t[2];
    uint64_t v = (uint64_t)st.st_size;
    memcpy(b + H_SIZE, &v, 8);
    t[0] = (int64_t)st.st_mtim.tv_sec;
    t[1] = (int64_t)st.st_mtim.tv_nsec;
    memcpy(b + H_MTIME, t, 16);
    t[0] = (int64_t)st.st_ctim.tv_sec;
    t[1] = (int64_t)st.st_ctim.tv_nsec;
    memcpy(b + H_CTIME, t, 16);
    v = (uint64_t)st.st_ino;
    memcpy(b + H_INO, &v, 8);
    uint64_t body = XXH3_64bits(b + HEADER, size - HEADER);
    memcpy(b + H_BODY, &body, 8);
    uint64_t head = XXH3_64bits(b, H_HEADER_SUM);
    memcpy(b + H_HEADER_SUM, &head, 8);
    check(b, size);
    free(b);
    return 0;
}
