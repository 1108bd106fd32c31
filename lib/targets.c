/* targets: being written. */
#include "error.h"
