/*
 * The verbs of the `sonde` command, git style: `sonde VERB [OPTIONS]`.
 * Each verb lives in cmd-VERB.c and receives argv with argv[0] = VERB.
 */
#ifndef SONDE_BIN_COMMANDS_H
#define SONDE_BIN_COMMANDS_H

/* Exit status of a verb: 0 success, 1 failure, 2 bad usage. */
int cmd_view(int argc, char **argv);

#endif
