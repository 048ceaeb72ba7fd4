/*
 * libsonde-view: printers of decoded CTF events.
 *
 * A printer turns the messages of a merge iterator into text: the
 * babeltrace 1.5 `text` format (byte for byte), JSON lines for programs, or
 * nothing (`dummy`, to measure decoding).  Output is buffered in memory and
 * written with one write(2) per ~64 KiB; warnings babeltrace prints on
 * stderr (discarded events, lost packets, unknown enum values) go to the
 * printer's warning descriptor, after flushing the output so the two stay
 * in order on a terminal.
 *
 * The printer is reused by everything that shows events: `sonde view`, the
 * live viewer and the analyses' debugging output.
 */
#ifndef SONDE_VIEW_H
#define SONDE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde/ctf.h"
#include "sonde/error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sonde_view_format {
	SONDE_VIEW_TEXT = 0,
	SONDE_VIEW_JSON,
	SONDE_VIEW_DUMMY,
};

/* Which field names are printed (babeltrace's -n). */
enum {
	SONDE_VIEW_NAMES_PAYLOAD = 1u << 0,
	SONDE_VIEW_NAMES_CONTEXT = 1u << 1,
	SONDE_VIEW_NAMES_HEADER  = 1u << 2,
	SONDE_VIEW_NAMES_SCOPE   = 1u << 3,
	SONDE_VIEW_NAMES_DEFAULT = SONDE_VIEW_NAMES_PAYLOAD |
				   SONDE_VIEW_NAMES_CONTEXT,
};

/* Which per-event header fields are printed (babeltrace's -f). */
enum {
	SONDE_VIEW_FIELD_TRACE    = 1u << 0,  /* trace path */
	SONDE_VIEW_FIELD_HOSTNAME = 1u << 1,
	SONDE_VIEW_FIELD_DOMAIN   = 1u << 2,
	SONDE_VIEW_FIELD_PROCNAME = 1u << 3,
	SONDE_VIEW_FIELD_VPID     = 1u << 4,
	SONDE_VIEW_FIELD_LOGLEVEL = 1u << 5,
	SONDE_VIEW_FIELD_EMF      = 1u << 6,
	SONDE_VIEW_FIELD_CALLSITE = 1u << 7,
	SONDE_VIEW_FIELD_ALL      = 1u << 8,  /* -f all: all of the above, and
						 the delta even with --no-delta */
	SONDE_VIEW_FIELD_DEFAULT  = SONDE_VIEW_FIELD_HOSTNAME |
				    SONDE_VIEW_FIELD_PROCNAME |
				    SONDE_VIEW_FIELD_VPID,
};

struct sonde_view_opts {
	enum sonde_view_format format;
	unsigned names;          /* SONDE_VIEW_NAMES_* */
	unsigned fields;         /* SONDE_VIEW_FIELD_* */
	bool clock_cycles;       /* raw clock values instead of times */
	bool clock_seconds;      /* [sec.ns] since the epoch */
	bool clock_date;         /* prefix the date */
	bool clock_gmt;          /* UTC instead of local time (TZ) */
	bool no_delta;
	bool verbose;            /* full packet context + event header scopes */
	int64_t clock_offset_s;  /* added to every printed time */
	int64_t clock_offset_ns;
	/* The paths the traces were opened from, in command-line order, or
	 * none: babeltrace 1.5's clock-offset average depends on the order in
	 * which it found the traces.  Must outlive the printer. */
	const char *const *paths;
	size_t path_count;
};

/* Defaults of `babeltrace TRACE`. */
void sonde_view_opts_init(struct sonde_view_opts *opts);

struct sonde_view_printer;

/*
 * Creates a printer for the events of `set` (used to compute babeltrace's
 * per-trace clock offsets and host strings).  `out_fd` receives the output,
 * `warn_fd` the warnings.  The set must outlive the printer.
 */
int sonde_view_printer_create(const struct sonde_view_opts *opts,
			      struct sonde_ctf_trace_set *set,
			      int out_fd, int warn_fd,
			      struct sonde_view_printer **out,
			      struct sonde_error *err);

/* Prints one message.  Fails only when writing fails (SONDE_EIO). */
int sonde_view_print(struct sonde_view_printer *p,
		     const struct sonde_ctf_msg *msg, struct sonde_error *err);

/*
 * The time babeltrace shows for an event, in ns since the epoch, with the
 * clock offsets it applies (including --clock-offset*); what the begin/end
 * filters compare against.  false if the event has no timestamp.
 */
bool sonde_view_event_time(struct sonde_view_printer *p,
			   const struct sonde_ctf_event *ev, int64_t *ns);

/* babeltrace 1.5's `-o ctf-metadata`: the metadata text of every trace of
 * the set, in its trace order, packetized ones after a "/ * CTF 1.8 * /"
 * line. */
int sonde_view_print_metadata(struct sonde_view_printer *p,
			      struct sonde_error *err);

/*
 * Takes into account traces added to the set, or whose metadata changed,
 * since the printer was created (live sources); the time of the last
 * event printed is kept, for the next delta.
 */
int sonde_view_printer_refresh(struct sonde_view_printer *p,
			       struct sonde_error *err);

/* Writes out what is buffered. */
int sonde_view_printer_flush(struct sonde_view_printer *p,
			     struct sonde_error *err);

/* Flushes (ignoring errors) and frees; NULL is accepted. */
void sonde_view_printer_free(struct sonde_view_printer *p);

/*
 * Parses a time for --begin/--end: "SEC[.NS]" since the epoch (may be
 * negative), "HH:MM[:SS[.NS]]" (a time of day, resolved against the date of
 * the first event), or "YYYY-MM-DD HH:MM[:SS[.NS]]" (also with 'T').  Time
 * of day and dates are local time unless `gmt`.  Sets *is_time_of_day and
 * *ns (ns since the epoch, or since midnight for a time of day).
 */
int sonde_view_parse_time(const char *text, bool gmt, int64_t *ns,
			  bool *is_time_of_day, struct sonde_error *err);

/* Midnight (ns since the epoch) of the day holding `ns`, local or UTC. */
int64_t sonde_view_day_start(int64_t ns, bool gmt);

/* ------------------------------------------------------------------------ */
/* Formatting primitives, exposed for unit tests and other printers.         */

/* Each writes at most SONDE_VIEW_NUM_MAX bytes at `dst`, returns the count. */
#define SONDE_VIEW_NUM_MAX 72
size_t sonde_view_fmt_u64(char *dst, uint64_t v);
size_t sonde_view_fmt_s64(char *dst, int64_t v);
/* babeltrace integer by base (2, 8, 10, 16) with its masking rules. */
size_t sonde_view_fmt_int(char *dst, uint64_t raw, bool is_signed,
			  unsigned size, unsigned base);
/*
 * babeltrace 1.5 timestamp text (no brackets, NUL-terminated in `cap`
 * bytes) of `real` ns since the epoch (two's complement for times before
 * it), with the clock options and offsets of `opts`.
 */
size_t sonde_view_fmt_time(char *dst, size_t cap, uint64_t real,
			   const struct sonde_view_opts *opts);
/* JSON string body (no quotes) of `len` bytes; returns the bytes written to
 * `dst`, which needs 6 * len + 1 bytes. */
size_t sonde_view_json_escape(char *dst, const char *src, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SONDE_VIEW_H */
