/*
 * Process-attribute trackers of a session (`sonde track` / `untrack`),
 * with LTTng 2.13's semantics: one inclusion set per attribute, holding
 * every value at creation; tracking values in a set that holds every value
 * first empties it; `untrack --all` empties a set, `track --all` fills it.
 *
 * Values arrive as the user typed them and are checked here: pids as
 * numbers, uids and gids as numbers or names, process names as the
 * kernel's 15-byte comm, cgroups as cgroup v2 directories (absolute, or
 * relative to the cgroup2 mount) whose inode is the id the kernel reports.
 */
#ifndef SONDE_SESSION_TRACKER_H
#define SONDE_SESSION_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/kernel.h"
#include "sonde/error.h"

struct sonde_tracker_value {
	char *text;  /* as given (a cgroup: its path), for listing */
	uint64_t id; /* pid, uid, gid, cgroup id; 0 for a process name */
};

struct sonde_tracker {
	bool all;
	size_t count;
	struct sonde_tracker_value *values;
};

/* "pid", "uid", "gid", "process-name", "cgroup". */
const char *sonde_tracker_name(enum sonde_kernel_tracker attr);
/* 0, or SONDE_EINVAL naming the unknown tracker. */
int sonde_tracker_parse_name(const char *name, enum sonde_kernel_tracker *out,
			     struct sonde_error *err);

/* A set holding every value. */
void sonde_tracker_init(struct sonde_tracker *t);
void sonde_tracker_release(struct sonde_tracker *t);

/*
 * Computes into `out` (initialised here) the set `t` becomes when `track`
 * (or untrack) `values` — or, with `all` and no values, every value or
 * none.  `t` is unchanged; on failure `out` holds nothing.  `cgroup_root`:
 * the cgroup2 mount, NULL = find it.
 */
int sonde_tracker_apply(const struct sonde_tracker *t,
			enum sonde_kernel_tracker attr, bool track, bool all,
			const char *const *values, size_t n,
			const char *cgroup_root, struct sonde_tracker *out,
			struct sonde_error *err);

/* Gives the set to the kernel session. */
int sonde_tracker_push(const struct sonde_tracker *t,
		       enum sonde_kernel_tracker attr,
		       struct sonde_kernel_session *k, struct sonde_error *err);

#endif /* SONDE_SESSION_TRACKER_H */
