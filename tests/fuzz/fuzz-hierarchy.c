/* Fuzz target: the hierarchy CSV reader (tally_hierarchy_from_buffer).
 *
 * The input is read three times: with the default levels; with three level
 * names of its own (so that `level` cells that name no default level are
 * exercised too); and declared GB18030 (through iconv) with small limits
 * (8 fields a row, 64 bytes a field). Invariants checked on success: nodes in pre-order (every
 * parent index below its children's, every subtree one contiguous range
 * inside its parent's), every code found at its own index, levels strictly
 * below the parent's, source lines inside the input. On failure: a code,
 * a message, no object, and a line inside the input.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "fuzz.h"

static void check(const uint8_t *data, size_t size, const tally_hierarchy_options *opts)
{
    tally_hierarchy *h = (tally_hierarchy *)&h; /* must be overwritten */
    unsigned long lines = fuzz_line_count(data, size);
    int rc = tally_hierarchy_from_buffer(&h, (const char *)data, size, "hierarchy.csv", opts);
    if (rc) {
        fuzz_check_error(rc);
        FUZZ_CHECK(h == NULL);
        FUZZ_CHECK(tally_error_last()->line <= lines);
        return;
    }
    size_t n = tally_hierarchy_size(h);
    const size_t *parents = tally_hierarchy_parents(h);
    size_t nlevels = tally_hierarchy_level_count(h);
    FUZZ_CHECK(n == 0 || parents != NULL);
    size_t root_end = 0;
    for (size_t i = 0; i < n; i++) {
        size_t p = tally_hierarchy_parent(h, i);
        size_t end = tally_hierarchy_subtree_end(h, i);
        FUZZ_CHECK(p == parents[i]);
        FUZZ_CHECK(end > i && end <= n);
        if (p == TALLY_NONE) {
            FUZZ_CHECK(i == root_end); /* roots follow each other's subtrees */
            root_end = end;
        } else {
            FUZZ_CHECK(p < i);
            FUZZ_CHECK(end <= tally_hierarchy_subtree_end(h, p));
            FUZZ_CHECK(tally_hierarchy_level(h, i) > tally_hierarchy_level(h, p));
        }
        int level = tally_hierarchy_level(h, i);
        FUZZ_CHECK(level >= 0 && (size_t)level < nlevels);
        FUZZ_CHECK(tally_hierarchy_level_find(h, tally_hierarchy_level_name(h, level)) == level);
        const char *code = tally_hierarchy_code(h, i);
        FUZZ_CHECK(code && code[0]);
        FUZZ_CHECK(tally_hierarchy_name(h, i) != NULL);
        size_t found;
        FUZZ_CHECK(tally_hierarchy_find(h, code, strlen(code), &found) == 0);
        FUZZ_CHECK(found == i);
        unsigned long line = tally_hierarchy_line(h, i);
        FUZZ_CHECK(line >= 2 && line <= lines);
    }
    FUZZ_CHECK(root_end == n);
    FUZZ_CHECK(tally_hierarchy_code(h, n) == NULL);
    tally_hierarchy_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, NULL);
    static const char *const levels[] = { "region", "district", "unit" };
    tally_hierarchy_options opts = TALLY_HIERARCHY_OPTIONS_INIT;
    opts.level_names = levels;
    opts.level_count = 3;
    check(data, size, &opts);
    tally_hierarchy_options small = TALLY_HIERARCHY_OPTIONS_INIT;
    small.encoding = "gb18030";
    small.max_columns = 8;
    small.max_field_bytes = 64;
    check(data, size, &small);
    return 0;
}
