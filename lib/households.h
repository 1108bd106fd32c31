/* Internal: the household store, for the measures (lib/poverty.c), which
 * read the households of a year node by node.
 *
 * The store keeps what the measures need in arrays of their own, and what
 * only a duplicate's message needs (the first household's id, file and
 * line) packed: about 24 bytes a household, plus its id after front
 * coding and an 8-byte slot of the id index at 2/3 to 3/4 load. */
#ifndef TALLY_LIB_HOUSEHOLDS_H
#define TALLY_LIB_HOUSEHOLDS_H

#include <stddef.h>
#include <stdint.h>

#include "tally/households.h"

/* Ids are front coded in blocks of this many households: each id is the
 * number of leading bytes it shares with the id before it in its block,
 * its length past them and those bytes (two varints and the bytes); the
 * first id of a block shares none, so an id is found in at most this many
 * steps. */
#define TALLY_HOUSEHOLDS__ID_BLOCK 16
/* Lines are kept as steps from the household before (a byte; 255: the
 * line is in `far`), with the line of every this many households. */
#define TALLY_HOUSEHOLDS__LINE_BLOCK 64

/* A line that is not a small step from the household before. */
typedef struct tally_households__far_line {
    size_t index;
    unsigned long line;
} tally_households__far_line;

/* From household `first` on (up to the next run), households come from
 * paths[path], or from tally_households_add when path is UINT32_MAX. */
typedef struct tally_households__run {
    size_t first;
    uint32_t path;
} tally_households__run;

struct tally_households {
    const tally_hierarchy *h;
    size_t count, cap;
    /* Per household, in the order accepted. */
    double *income;   /* income per capita */
    double *pw;       /* person weight: weight * size */
    uint32_t *node;   /* the region filed under */
    uint16_t *year;   /* 0: none */
    uint8_t *line_step;
    unsigned long *line_base; /* per TALLY_HOUSEHOLDS__LINE_BLOCK households */
    unsigned long last_line;  /* the last household's */
    tally_households__far_line *far;
    size_t nfar, far_cap;
    tally_households__run *runs;
    size_t nruns, runs_cap;
    /* Front-coded ids, and where each block of them starts. */
    unsigned char *ids;
    size_t ids_len, ids_cap;
    size_t *id_block;
    /* The last id stored (its block's front coding starts from it). */
    char *last_id;
    size_t last_len, last_cap;
    /* An id decoded for a comparison. */
    char *id_buf;
    size_t id_buf_cap;
    char **paths;
    size_t npaths, paths_cap;
    /* Open addressing on (id, year): a slot is the key hash's high 32 bits
     * beside the household index + 1 (0: empty), placed by its low 32
     * bits; a probe decodes a household's id only when the 32 bits agree. */
    uint64_t *slots;
    size_t slots_cap; /* any size (the place is (low32 * cap) >> 32), or 0 */
};

/* Household i's id (decoded into the store's scratch buffer, valid until
 * the next call on the store; not for two threads at once): its length,
 * or SIZE_MAX out of memory. */
size_t tally_households__id(const tally_households *hh, size_t i, const char **out);

/* A household given by its person weight (weight * size) rather than its
 * size and weight, as partials keep it (lib/partial_households.c). The
 * errors of tally_households_add: TALLY_EEXIST for an (id, year) given
 * before, TALLY_EINVAL for a bad income, person weight or year. */
int tally_households__add_weighted(tally_households *hh, const char *household_id, size_t node,
                                   double pw, double income_per_capita, int year);

/* The year to measure: `asked` when it is not 0, else the households' only
 * one (0 when none has a year). TALLY_EINVAL, with the error recorded, for
 * an asked year outside 1000..9999 or households of several years. */
int tally_households__choose_year(const tally_households *hh, int asked, int *year);

/* tally_households_read_buffer with `threads` threads (1: the serial
 * read) in pieces of about `piece` bytes (0: the default, and then an
 * input under two pieces is read by one thread; else any input is cut, so
 * that tests can cut a small one). The result is the serial read's.
 * *ahead (when not NULL): the rows stored as other threads read them
 * ahead (0: the read was serial). */
int tally_households__read_buffer_threads(tally_households *hh, const char *data, size_t size,
                                          const char *name, const tally_read_options *opts,
                                          tally_rejects *rejects, tally_read_stats *stats,
                                          size_t threads, size_t piece, size_t *ahead);

#endif
