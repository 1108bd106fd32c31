/* Internal: the completion result, for its SVG chart (lib/progress_svg.c). */
#ifndef TALLY_LIB_PROGRESS_H
#define TALLY_LIB_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#include "tally/progress.h"

struct tally_progress {
    const tally_hierarchy *h;
    const tally_definitions *d;
    int year, month;
    size_t nodes, nk;
    size_t *inds; /* k -> indicator index */
    double time_progress;
    /* Per row (node * nk + k). */
    double *actual, *target, *completion, *gap, *pace;
    unsigned char *status;
    unsigned char *incomplete; /* the actual rests on incomplete coverage */
    size_t *rank;
};

#endif
