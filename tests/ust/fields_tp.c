/* Defines the test provider's events (tests/ust). */
#define SONDE_TRACEPOINT_DEFINE
#include "fields_tp.h"
