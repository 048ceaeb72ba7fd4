/*
 * The CLI side of the session daemon: connecting (and starting a daemon
 * when none runs), one request and its reply, the current session, and
 * the usage-error convention of the session verbs.
 */
#ifndef SONDE_BIN_CLIENT_H
#define SONDE_BIN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "session/ctl-proto.h"

/* Sends the request in `w` (released here) and waits for the reply.
 * `autostart`: start a daemon when none runs (create, list -k).  Returns 0
 * with *reply set, or 1 after printing "sonde: error: ..." (a failure the
 * daemon reported, or no daemon).  The caller frees *reply. */
int client_call(struct sonde_ctl_writer *w, bool autostart,
		struct sonde_ctl_msg **reply);

/* The session a verb works on: `arg` if given, else the current session
 * (see current_session_set).  Prints an error and returns NULL if none. */
const char *client_session_name(const char *arg, char *buf, size_t size);

/* The current session lives in $HOME/.sonderc as "session=NAME", like
 * lttng's ~/.lttngrc.  Failures are reported as warnings. */
void current_session_set(const char *name);
void current_session_clear(const char *name);   /* if it is `name` */

/* Whether a current session is set (nothing printed). */
bool client_has_current_session(void);

/* The output directory of the current session (for `sonde view` and
 * `sonde summary` without a path); prints an error and returns 1 if none. */
int client_current_output(char *buf, size_t size);

/* "sonde: error: <msg> (see 'sonde VERB --help')" on stderr; returns 2. */
int client_usage_error(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Option parsing of verbs whose only option is -h/--help: returns -1 when
 * the command goes on (optind at the first operand), else the exit status
 * (0 after printing `help`, 2 after a usage error).
 */
int client_parse_help_only(int argc, char **argv, const char *verb,
			   const char *help);

/*
 * The shape shared by verbs that act on one session and take nothing else
 * (`sonde start [NAME]`, `sonde stop [NAME]`): parses `-h` and an optional
 * session name (default: the current session), sends `msg_type` for it and
 * prints "Tracing <done> for session NAME".  Returns the exit status.
 */
int client_session_verb(int argc, char **argv, const char *verb,
			const char *help, int msg_type, const char *done);

/* A relay daemon named on the command line. */
struct client_relay {
	char host[256];
	unsigned long control, data;     /* 0: not given */
	bool set;
};

/* `which` 'U': net://HOST[:C[:D]]; 'C' or 'D': tcp://HOST:PORT, the
 * control or data port (both must name the same host).  Returns 0, or 2
 * after a usage error of `verb`. */
int client_parse_relay_url(const char *verb, int which, const char *url,
			   struct client_relay *t);
/* The relay's host and ports into a request. */
void client_put_relay(struct sonde_ctl_writer *w, const struct client_relay *t);

/* Parses a size with an optional k/M/G suffix (powers of 1024). */
int client_parse_size(const char *s, unsigned long long *out);

#endif
