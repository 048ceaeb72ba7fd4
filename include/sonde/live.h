/*
 * libsonde-live: reads traces live from a relay daemon (sonde-relayd or
 * lttng-relayd) over the LTTng live viewer protocol.
 *
 * A client attaches to every relay session of one tracing session (one
 * per domain: kernel, user space), follows their streams and metadata as
 * they appear, fetches packets and decodes them with libsonde-ctf.  Its
 * messages come out in timestamp order across all streams: a message is
 * returned only once every other stream has either data after it or a
 * live beacon saying it has nothing before it (the rule babeltrace2
 * follows).  Nothing is printed: `sonde view net://...` is one user, a
 * top-like viewer or an analysis can be another.
 */
#ifndef SONDE_LIVE_H
#define SONDE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde/ctf.h"
#include "sonde/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* net://RELAY[:PORT][/host/HOSTNAME/SESSION] (also net4://, net6://). */
struct sonde_live_url {
	char relay[256];        /* host name or address, without brackets */
	uint16_t port;          /* 5344 unless given */
	char hostname[256];     /* traced host; empty: the URL lists sessions */
	char session[256];
};

/* Whether `text` is a live URL at all (starts with net://, net4://, net6://). */
bool sonde_live_is_url(const char *text);
int sonde_live_url_parse(const char *text, struct sonde_live_url *out,
			 struct sonde_error *err);

/* One tracing session as a relay lists it: entries of the same host and
 * name (its domains) merged, streams summed, clients the maximum. */
struct sonde_live_session_info {
	char hostname[256];
	char name[256];
	uint32_t live_timer;    /* us; 0: not live */
	uint32_t streams;
	uint32_t clients;
};

/* The relay's sessions, in its order; *out is malloc'd. */
int sonde_live_list(const struct sonde_live_url *url,
		    struct sonde_live_session_info **out, size_t *count,
		    struct sonde_error *err);

struct sonde_live_opts {
	bool from_now;          /* only packets that arrive after attaching
	                           (babeltrace2's default); else everything
	                           the relay still has */
	int io_timeout_ms;      /* a relay silent this long is an error;
	                           0: 10 s */
};

struct sonde_live_client;

/* Connects and attaches to every relay session of url's session; fails if
 * there is none, or if one refuses (another viewer on lttng-relayd). */
int sonde_live_open(const struct sonde_live_url *url,
		    const struct sonde_live_opts *opts,
		    struct sonde_live_client **out, struct sonde_error *err);

/* sonde_live_next(): nothing can be returned yet; ask again later. */
#define SONDE_LIVE_AGAIN 2

/*
 * The next message in timestamp order: 1 and *msg (valid until the next
 * call), SONDE_LIVE_AGAIN when some stream has no data yet (call again
 * after a short sleep; babeltrace2 waits 100 ms), 0 when the session was
 * destroyed and everything was read, or a negative status.
 */
int sonde_live_next(struct sonde_live_client *c,
		    const struct sonde_ctf_msg **msg, struct sonde_error *err);

/* The traces read so far, for printers; grows as traces appear. */
struct sonde_ctf_trace_set *sonde_live_trace_set(struct sonde_live_client *c);
/* Changes whenever a trace is added or its metadata changes: printers
 * refresh then (sonde_view_printer_refresh). */
uint64_t sonde_live_generation(const struct sonde_live_client *c);

/* Detaches (best effort) and frees; NULL is accepted. */
void sonde_live_close(struct sonde_live_client *c);

#ifdef __cplusplus
}
#endif

#endif /* SONDE_LIVE_H */
