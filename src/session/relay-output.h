/*
 * One domain of a recording session streamed to a relay daemon (`sonde
 * create [--live] -U net://...`): one relay session, as one
 * lttng-consumerd per domain makes, holding the domain's traces — `kernel`
 * for the kernel session (its output hook), or one trace per user-space
 * buffer set (`ust/uid/UID/64-bit`, `ust/pid/NAME-PID-DATE`, each with
 * its own metadata) — feeding libsonde-producer.  Streams are announced
 * to the relay as they first produce something (the metadata, a CPU's
 * first packet or idle beacon).  A relay that fails stops the streaming,
 * not the recording: the traces are still written locally, and the first
 * error is reported on close.
 *
 * A snapshot session's relay output (config.snapshot) carries one
 * snapshot: connected when `snapshot record` asks for it, it sends the
 * snapshot written locally and is closed.
 */
#ifndef SONDE_SESSION_RELAY_OUTPUT_H
#define SONDE_SESSION_RELAY_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "kernel/kernel.h"
#include "sonde/error.h"
#include "ust/trace.h"

struct relay_output_config {
	const char *relay; /* host */
	uint16_t control_port, data_port;
	const char *session_name;
	uint32_t live_timer_us; /* 0: streaming without live viewing */
	time_t created;
	bool snapshot;
};

struct relay_output;

int relay_output_open(const struct relay_output_config *cfg,
		      struct relay_output **out, struct sonde_error *err);
/*
 * The same without waiting: a thread connects (a relay that does not
 * answer takes up to the 10 s connection timeout) and then writes to
 * `notify_fd` (an eventfd; duplicated, so the caller may close it at any
 * time).  relay_output_ready() says how it went.
 */
int relay_output_start(const struct relay_output_config *cfg, int notify_fd,
		       struct relay_output **out, struct sonde_error *err);
/* 0: connected; RELAY_OUTPUT_PENDING: still connecting; < 0: it failed
 * (err says why; close it). */
#define RELAY_OUTPUT_PENDING 1
int relay_output_ready(struct relay_output *r, struct sonde_error *err);
/* A failed connection old enough to be dropped and tried anew (the
 * requests that waited for it have had its error). */
bool relay_output_failed_long_ago(struct relay_output *r);
/* The kernel session's hook: the trace `kernel`, streams channel0_N. */
const struct sonde_kernel_output_hook *
relay_output_hook(struct relay_output *r);
/* A user-space trace's hook: the trace `path` (relative to the session's
 * directory), streams `<channel>_N`.  Valid until relay_output_close(). */
int relay_output_ust_trace(struct relay_output *r, const char *path,
			   const char *channel,
			   const struct sonde_ust_output_hook **hook,
			   struct sonde_error *err);
/* A snapshot output, connected: sends the traces under `dir` as the
 * relay snapshot (trace chunk) `name` and finishes it; `relay_path` gets
 * where the relay put it (relative to its output directory).  Then only
 * good for relay_output_close(). */
int relay_output_send_snapshot(struct relay_output *r, uint64_t chunk_id,
			       const char *name, const char *dir,
			       char *relay_path, size_t size,
			       struct sonde_error *err);
/* The trace of `hook` is complete (its program exited) and no longer
 * calls the hook: its streams are closed on the relay (live viewers get
 * HUP once they read them to the end) and the hook is freed. */
int relay_output_ust_trace_end(struct relay_output *r,
			       const struct sonde_ust_output_hook *hook,
			       struct sonde_error *err);
/* Once nothing calls the hooks any more: lets the relay finish the
 * traces, closes and frees; returns the first streaming error.  A
 * connection still in progress is abandoned (its thread frees it). */
int relay_output_close(struct relay_output *r, struct sonde_error *err);

#endif /* SONDE_SESSION_RELAY_OUTPUT_H */
