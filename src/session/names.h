/*
 * Session names, dates and default output paths (see names.c).
 */
#ifndef SONDE_SESSION_NAMES_H
#define SONDE_SESSION_NAMES_H

#include <stddef.h>
#include <time.h>

#include "sonde/error.h"

#define SONDE_SESSION_NAME_MAX 64

/* Checks a session, channel or snapshot name: [A-Za-z0-9_.-]{1,64}, not
 * starting with '.' or '-'; `what` names it in the message. */
int sonde_session_check_name(const char *what, const char *name,
			     struct sonde_error *err);
/* YYYYMMDD-HHMMSS in local time, as LTTng names its directories. */
int sonde_session_format_date(time_t when, char *buf, size_t size);
/* $HOME/sonde-traces/<name>-<date>. */
int sonde_session_default_output(const char *name, time_t when, char *buf,
				 size_t size, struct sonde_error *err);

#endif
