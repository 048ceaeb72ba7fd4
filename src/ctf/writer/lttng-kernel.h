/*
 * The field lists lttng-modules (2.8 and later) gives its scheduler, IRQ
 * and statedump events, for whatever writes LTTng-shaped kernel traces
 * from scratch: sonde-gen, and the writer's tests and benchmarks, which
 * check them against real lttng-modules metadata.  The kernel backend
 * builds its own from the running kernel's format files.
 */
#ifndef SONDE_CTF_WRITER_LTTNG_KERNEL_H
#define SONDE_CTF_WRITER_LTTNG_KERNEL_H

#include <stddef.h>

#include "sonde/ctf-writer.h"

struct sonde_lttng_kernel_event {
	const char *name;
	const struct sonde_ctfw_field *fields;
	size_t field_count;
};

/* The events, in a fixed order (sonde-gen numbers them in it). */
extern const struct sonde_lttng_kernel_event sonde_lttng_kernel_events[];
extern const size_t sonde_lttng_kernel_event_count;

/* One of them by name, or NULL. */
const struct sonde_lttng_kernel_event *
sonde_lttng_kernel_event(const char *name);

#endif
