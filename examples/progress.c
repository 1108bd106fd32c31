/* tally progress: being written. */
#include <stdio.h>

#include "common.h"

int cmd_progress(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("tally progress: not available in this version\n", stderr);
    return EXIT_BAD;
}
