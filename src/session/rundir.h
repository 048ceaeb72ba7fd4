/*
 * Where the session daemon keeps its socket and pid file, shared by the
 * daemon and the CLI so they always agree:
 *
 *   $SONDE_RUNDIR if set (tests use private ones), else
 *   /run/sonde            for root (one daemon per machine), else
 *   $HOME/.sonde/run      (one daemon per user).
 */
#ifndef SONDE_SESSION_RUNDIR_H
#define SONDE_SESSION_RUNDIR_H

#include <stddef.h>

#include "sonde/error.h"

#define SONDE_SESSIOND_SOCKET "sessiond.sock"
#define SONDE_SESSIOND_PIDFILE "sessiond.pid"
#define SONDE_SESSIOND_LOG "sessiond.log"

int sonde_rundir(char *buf, size_t size, struct sonde_error *err);
/* rundir/<file> */
int sonde_rundir_path(const char *file, char *buf, size_t size,
		      struct sonde_error *err);

#endif
