/*
 * A recording session's stream to a relay daemon (`sonde create --live
 * -U net://...`): the kernel session's output hook, feeding
 * libsonde-producer.  Streams are announced to the relay as they first
 * produce something (the metadata, a CPU's first packet or idle beacon).
 * A relay that fails stops the streaming, not the recording: the trace is
 * still written locally, and the first error is reported on close.
 */
#ifndef SONDE_SESSION_RELAY_OUTPUT_H
#define SONDE_SESSION_RELAY_OUTPUT_H

#include <stdint.h>
#include <time.h>

#include "kernel/kernel.h"
#include "sonde/error.h"

struct relay_output_config {
	const char *relay;        /* host */
	uint16_t control_port, data_port;
	const char *session_name;
	uint32_t live_timer_us;   /* 0: streaming without live viewing */
	time_t created;
};

struct relay_output;

int relay_output_open(const struct relay_output_config *cfg,
		      struct relay_output **out, struct sonde_error *err);
const struct sonde_kernel_output_hook *relay_output_hook(struct relay_output *r);
/* Once the kernel session is gone (no more hook calls): lets the relay
 * finish the trace, closes and frees; returns the first streaming error. */
int relay_output_close(struct relay_output *r, struct sonde_error *err);

#endif /* SONDE_SESSION_RELAY_OUTPUT_H */
