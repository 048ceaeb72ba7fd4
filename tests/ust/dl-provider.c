/* The shared library of dl-app: defines its provider and fires it. */
#define SONDE_TRACEPOINT_DEFINE
#include "dl_tp.h"

__attribute__((visibility("default"))) void dl_provider_fire(int round);

void dl_provider_fire(int round)
{
	sonde_tracepoint(dlprov, hit, round, "library");
}
