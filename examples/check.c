/* tally check: being written. */
#include <stdio.h>

#include "common.h"

int cmd_check(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("tally check: not available in this version\n", stderr);
    return EXIT_BAD;
}
