/* tally poverty: being written. */
#include <stdio.h>

#include "common.h"

int cmd_poverty(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("tally poverty: not available in this version\n", stderr);
    return EXIT_BAD;
}
