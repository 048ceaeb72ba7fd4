/*
 * A snapshot written locally, sent to a relay: every trace under a
 * snapshot directory (a directory holding a `metadata` file: `kernel`,
 * `ust/uid/0/64-bit`...) with its stream files, each packet as its index
 * entry describes it.  The snapshot writers make the index files; they
 * are checked against the stream files all the same, as a packet beyond
 * its file would be read out of bounds.
 */
#ifndef SONDE_SESSION_SNAPSHOT_SEND_H
#define SONDE_SESSION_SNAPSHOT_SEND_H

#include "producer/producer.h"
#include "sonde/error.h"

/* Adds the streams of the traces under `dir` to `p` (a snapshot producer
 * with its chunk) and sends their metadata and packets. */
int snapshot_send_dir(struct sonde_producer *p, const char *dir,
		      struct sonde_error *err);

/* Removes the snapshot directory `dir` and what it holds. */
int snapshot_remove_dir(const char *dir, struct sonde_error *err);

#endif /* SONDE_SESSION_SNAPSHOT_SEND_H */
