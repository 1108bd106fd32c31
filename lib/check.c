/* check: being written. */
#include "error.h"
