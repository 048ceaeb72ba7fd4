/*
 * The verbs of the `sonde` command, git style: `sonde VERB [OPTIONS]`.
 * Each verb lives in cmd-VERB.c and receives argv with argv[0] = VERB.
 */
#ifndef SONDE_BIN_COMMANDS_H
#define SONDE_BIN_COMMANDS_H

#include <stdbool.h>

/* Exit status of a verb: 0 success, 1 failure, 2 bad usage. */
int cmd_view(int argc, char **argv);

/* Session verbs: requests to sonde-sessiond (client.h). */
int cmd_create(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_enable_channel(int argc, char **argv);
int cmd_enable_event(int argc, char **argv);
int cmd_disable_event(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_add_context(int argc, char **argv);
int cmd_track(int argc, char **argv);
int cmd_untrack(int argc, char **argv);

/* Shared by the verbs above. */
struct sonde_ctl_rec;
struct sonde_ctl_msg;
int event_verb(int argc, char **argv, bool enable, const char *help);
void print_session_details(const struct sonde_ctl_rec *session);
/* Asks the daemon for one session and prints it as 'sonde list NAME';
 * 0, or 1 when it failed or the session is gone. */
int list_session(const char *name);
const struct sonde_ctl_rec *reply_session(const struct sonde_ctl_msg *reply);

#endif
