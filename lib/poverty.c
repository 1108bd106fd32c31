/* poverty: being written. */
#include "error.h"
