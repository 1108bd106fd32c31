/* SPDX-License-Identifier: MIT */
#include "tally/version.h"

TALLY_EXTERN(const char *) tally_version(void) { return TALLY_VERSION_STRING; }
