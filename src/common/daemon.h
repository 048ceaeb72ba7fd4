/*
 * What the daemons (sonde-sessiond, sonde-relayd) set up alike.
 */
#ifndef SONDE_COMMON_DAEMON_H
#define SONDE_COMMON_DAEMON_H

/* Raises the soft limit on open files to the hard one: each traced
 * program, relay stream or viewer holds descriptors, and a busy host or
 * relay needs far more than the usual soft limit of 1024. */
void sonde_raise_fd_limit(void);

#endif /* SONDE_COMMON_DAEMON_H */
