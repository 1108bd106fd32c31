/* Internal: the partial's fields, shared by partial.c (records, bytes,
 * merges) and partial_households.c. The structs below are what the bytes
 * hold, laid out without padding. */
#ifndef TALLY_LIB_PARTIAL_H
#define TALLY_LIB_PARTIAL_H

#include <stdint.h>

#include "tally/partial.h"

/* One reported cell; value NaN: the cell was filed empty. 24 bytes. */
typedef struct tally_partial__cell {
    uint32_t node, indicator;
    int32_t period;
    uint32_t source;
    double value;
} tally_partial__cell;

/* A cell given again by another part: the one dropped, and the part whose
 * value was kept. */
typedef struct tally_partial__dup {
    tally_partial__cell cell;
    uint32_t kept_source, pad;
} tally_partial__dup;

/* One household; its id is ids[id .. id + id_len], NUL-terminated; pw
 * is its person weight (weight * size), which is all the measures keep.
 * 48 bytes. */
typedef struct tally_partial__household {
    uint32_t source, node;
    uint64_t index; /* its place in its part */
    double pw, income;
    int32_t year;
    uint32_t id_len;
    uint64_t id;
} tally_partial__household;

struct tally_partial {
    tally_partial_kind kind;
    const tally_hierarchy *h;
    const tally_definitions *d; /* NULL for households */
    uint64_t h_print, d_print;  /* hashes of the codes and of the ids */
    tally_partial__cell *cells; /* sorted by (indicator, period, node) */
    size_t ncells;
    tally_partial__dup *dups; /* sorted by cell, then source */
    size_t ndups;
    tally_partial__household *hh; /* sorted by (source, index) */
    size_t nhh, hh_cap;
    char *ids;
    size_t ids_len, ids_cap;
};

/* An empty partial; 0 or TALLY_ENOMEM (recorded). */
int tally_partial__new(tally_partial **out, tally_partial_kind kind, const tally_hierarchy *h,
                       const tally_definitions *d);
/* The households' merge (partial_households.c); kinds and prints checked. */
int tally_partial__merge_households(tally_partial *into, const tally_partial *other);

#endif
