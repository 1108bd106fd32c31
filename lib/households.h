/* Internal: the household store, for the measures (lib/poverty.c), which
 * read the households of a year node by node. */
#ifndef TALLY_LIB_HOUSEHOLDS_H
#define TALLY_LIB_HOUSEHOLDS_H

#include <stddef.h>
#include <stdint.h>

#include "tally/households.h"

typedef struct tally_household {
    size_t node;
    size_t id; /* offset of the NUL-terminated id in ids */
    unsigned long line;
    double size, income, weight;
    uint32_t id_len;
    uint32_t path; /* index into paths, or NO_PATH (households.c) */
    int year;      /* 0: none */
} tally_household;

typedef struct tally_households__slot {
    uint64_t hash;
    size_t index; /* household index + 1; 0: empty */
} tally_households__slot;

struct tally_households {
    const tally_hierarchy *h;
    tally_household *items;
    size_t count, cap;
    char *ids;
    size_t ids_len, ids_cap;
    char **paths;
    size_t npaths, paths_cap;
    /* Open addressing on (id, year). A slot keeps the key's hash beside
     * the household index + 1 (0 = empty), so a probe touches the
     * household only when the hashes agree. */
    tally_households__slot *slots;
    size_t slots_cap; /* power of two, or 0 */
};

/* The year to measure: `asked` when it is not 0, else the households' only
 * one (0 when none has a year). TALLY_EINVAL, with the error recorded, for
 * an asked year outside 1000..9999 or households of several years. */
int tally_households__choose_year(const tally_households *hh, int asked, int *year);

#endif
