/*
 * dlopen/dlclose with tracepoints: records itself (in-process session),
 * opens a library that defines a provider, fires its event, closes it,
 * opens it again (its events register anew and keep their id) and fires
 * again; also fires a provider of its own.  usage: dl-app OUTPUT LIBRARY
 */
#include <dlfcn.h>
#include <stdio.h>

#include "fields_tp.h"
#include "sonde/ust.h"

int main(int argc, char **argv)
{
	struct sonde_ust_local_config cfg = { .trace_name = "dl-app" };
	struct sonde_ust_local *s = NULL;
	struct sonde_error err = { 0 };
	int round;

	if (argc != 3)
		return 2;
	cfg.output = argv[1];
	if (sonde_ust_local_start(&cfg, &s, &err)) {
		fprintf(stderr, "dl-app: %s\n", err.msg);
		return 1;
	}
	for (round = 1; round <= 2; round++) {
		void *lib = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
		void (*fire)(int);

		if (!lib) {
			fprintf(stderr, "dl-app: %s\n", dlerror());
			return 1;
		}
		*(void **)&fire = dlsym(lib, "dl_provider_fire");
		if (!fire)
			return 1;
		fire(round);
		sonde_tracepoint(fields, seq, 0, (uint32_t)round);
		dlclose(lib);
	}
	/* The library is gone: its events are unregistered. */
	sonde_tracepoint(fields, seq, 0, 3);
	if (sonde_ust_local_stop(s, NULL, &err)) {
		fprintf(stderr, "dl-app: %s\n", err.msg);
		return 1;
	}
	return 0;
}
