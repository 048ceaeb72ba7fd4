/*
 * Process-attribute trackers: checking the values a user gives and the
 * inclusion-set arithmetic of track/untrack (see tracker.h).
 */
#include "session/tracker.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define CGROUP2_SUPER_MAGIC 0x63677270
#define PID_MAX_LIMIT 4194304 /* the kernel's, on 64-bit */

static const char *const names[SONDE_KERNEL_TRACK_COUNT] = {
	[SONDE_KERNEL_TRACK_PID] = "pid",
	[SONDE_KERNEL_TRACK_UID] = "uid",
	[SONDE_KERNEL_TRACK_GID] = "gid",
	[SONDE_KERNEL_TRACK_PROCNAME] = "process-name",
	[SONDE_KERNEL_TRACK_CGROUP] = "cgroup",
};

const char *sonde_tracker_name(enum sonde_kernel_tracker attr)
{
	return (unsigned int)attr < SONDE_KERNEL_TRACK_COUNT ? names[attr] :
							       "?";
}

int sonde_tracker_parse_name(const char *name, enum sonde_kernel_tracker *out,
			     struct sonde_error *err)
{
	for (int i = 0; i < SONDE_KERNEL_TRACK_COUNT; i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum sonde_kernel_tracker)i;
			return 0;
		}
	return sonde_error_set(err, SONDE_EINVAL,
			       "tracker '%s': pid, uid, gid, process-name "
			       "or cgroup",
			       name);
}

void sonde_tracker_init(struct sonde_tracker *t)
{
	memset(t, 0, sizeof(*t));
	t->all = true;
}

void sonde_tracker_release(struct sonde_tracker *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->values[i].text);
	free(t->values);
	sonde_tracker_init(t);
}

static bool parse_number(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static int resolve_cgroup(const char *root, const char *text, uint64_t *id,
			  struct sonde_error *err)
{
	char found_root[4096], path[8192];
	size_t rlen;
	struct statfs sf;
	struct stat st;
	int ret;

	if (!*text)
		return sonde_error_set(err, SONDE_EINVAL, "cgroup '': empty path");
	if (!root) {
		ret = sonde_kernel_cgroup2_root(found_root, sizeof(found_root),
						err);
		if (ret)
			return ret;
		root = found_root;
	}
	rlen = strlen(root);
	/* absolute under the mount, else relative to it ("/a/b", as
	 * /proc/PID/cgroup writes it) */
	if (strncmp(text, root, rlen) == 0 &&
	    (text[rlen] == '/' || text[rlen] == '\0'))
		snprintf(path, sizeof(path), "%s", text);
	else
		snprintf(path, sizeof(path), "%s%s%s", root,
			 text[0] == '/' ? "" : "/", text);
	if (stat(path, &st) < 0)
		return sonde_error_set(err, SONDE_ENOENT,
				       "cgroup '%s': no such cgroup (%s: %s)",
				       text, path, strerror(errno));
	if (!S_ISDIR(st.st_mode) || statfs(path, &sf) < 0 ||
	    sf.f_type != CGROUP2_SUPER_MAGIC)
		return sonde_error_set(err, SONDE_EINVAL,
				       "cgroup '%s': %s is not a cgroup v2 "
				       "directory (the hierarchy is at %s)",
				       text, path, root);
	*id = (uint64_t)st.st_ino;
	return 0;
}

static int parse_value(enum sonde_kernel_tracker attr, const char *text,
		       const char *cgroup_root, uint64_t *id,
		       struct sonde_error *err)
{
	char buf[4096];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;

	*id = 0;
	switch (attr) {
	case SONDE_KERNEL_TRACK_PID:
		if (!parse_number(text, PID_MAX_LIMIT, id))
			return sonde_error_set(err, SONDE_EINVAL,
					       "pid '%s': not a process id "
					       "(0 to %d)",
					       text, PID_MAX_LIMIT);
		return 0;
	case SONDE_KERNEL_TRACK_UID:
		if (parse_number(text, UINT32_MAX - 1, id))
			return 0;
		if (*text && getpwnam_r(text, &pw, buf, sizeof(buf), &pwp) == 0 &&
		    pwp) {
			*id = pw.pw_uid;
			return 0;
		}
		return sonde_error_set(err, SONDE_EINVAL,
				       "uid '%s': not a user id nor a user "
				       "name",
				       text);
	case SONDE_KERNEL_TRACK_GID:
		if (parse_number(text, UINT32_MAX - 1, id))
			return 0;
		if (*text && getgrnam_r(text, &gr, buf, sizeof(buf), &grp) == 0 &&
		    grp) {
			*id = gr.gr_gid;
			return 0;
		}
		return sonde_error_set(err, SONDE_EINVAL,
				       "gid '%s': not a group id nor a group "
				       "name",
				       text);
	case SONDE_KERNEL_TRACK_PROCNAME:
		if (!*text)
			return sonde_error_set(err, SONDE_EINVAL,
					       "process name '': empty");
		if (strlen(text) > SONDE_KERNEL_COMM_MAX)
			return sonde_error_set(err, SONDE_EINVAL,
					       "process name '%s': over the "
					       "kernel's %d bytes",
					       text, SONDE_KERNEL_COMM_MAX);
		return 0;
	case SONDE_KERNEL_TRACK_CGROUP:
		return resolve_cgroup(cgroup_root, text, id, err);
	default:
		return sonde_error_set(err, SONDE_EINVAL, "tracker %d",
				       (int)attr);
	}
}

static ssize_t find(const struct sonde_tracker *t,
		    enum sonde_kernel_tracker attr, const char *text,
		    uint64_t id, bool by_text)
{
	for (size_t i = 0; i < t->count; i++)
		if (by_text || attr == SONDE_KERNEL_TRACK_PROCNAME ?
			    strcmp(t->values[i].text, text) == 0 :
			    t->values[i].id == id)
			return (ssize_t)i;
	return -1;
}

static int copy_set(const struct sonde_tracker *t, struct sonde_tracker *out)
{
	sonde_tracker_init(out);
	out->all = t->all;
	if (!t->count)
		return 0;
	out->values = calloc(SONDE_KERNEL_TRACK_MAX, sizeof(*out->values));
	if (!out->values)
		return SONDE_ENOMEM;
	for (; out->count < t->count; out->count++) {
		out->values[out->count].id = t->values[out->count].id;
		out->values[out->count].text =
			strdup(t->values[out->count].text);
		if (!out->values[out->count].text)
			return SONDE_ENOMEM;
	}
	return 0;
}

static int add(struct sonde_tracker *t, const char *text, uint64_t id)
{
	if (!t->values) {
		t->values = calloc(SONDE_KERNEL_TRACK_MAX, sizeof(*t->values));
		if (!t->values)
			return SONDE_ENOMEM;
	}
	t->values[t->count].text = strdup(text);
	if (!t->values[t->count].text)
		return SONDE_ENOMEM;
	t->values[t->count++].id = id;
	return 0;
}

int sonde_tracker_apply(const struct sonde_tracker *t,
			enum sonde_kernel_tracker attr, bool track, bool all,
			const char *const *values, size_t n,
			const char *cgroup_root, struct sonde_tracker *out,
			struct sonde_error *err)
{
	const char *what = sonde_tracker_name(attr);
	int ret = 0;

	sonde_tracker_init(out);
	if ((unsigned int)attr >= SONDE_KERNEL_TRACK_COUNT)
		return sonde_error_set(err, SONDE_EINVAL, "tracker %d",
				       (int)attr);
	if (all) {
		if (n)
			return sonde_error_set(err, SONDE_EINVAL,
					       "--all and %s values at once",
					       what);
		out->all = track;
		return 0;
	}
	if (!n)
		return sonde_error_set(err, SONDE_EINVAL, "no %s given", what);
	if (!track && t->all)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s %s is not tracked on its own: every "
				       "%s is ('sonde untrack --all --%s' "
				       "tracks none)",
				       what, values[0], what, what);
	if (track && t->all)
		out->all = false; /* LTTng: tracking values from "all" */
	else if (copy_set(t, out))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		uint64_t id = 0;
		ssize_t at = -1;

		ret = parse_value(attr, values[i], cgroup_root, &id, err);
		/* a removed cgroup can still be untracked by its path */
		if (ret && !track && attr == SONDE_KERNEL_TRACK_CGROUP)
			at = find(out, attr, values[i], 0, true);
		if (ret && at < 0)
			goto fail;
		if (!ret)
			at = find(out, attr, values[i], id, false);
		ret = 0;
		if (track && at < 0) {
			if (out->count == SONDE_KERNEL_TRACK_MAX) {
				ret = sonde_error_set(err, SONDE_EINVAL,
						      "%s: more than %d values "
						      "tracked",
						      what,
						      SONDE_KERNEL_TRACK_MAX);
				goto fail;
			}
			if (add(out, values[i], id))
				goto nomem;
		} else if (!track) {
			if (at < 0) {
				ret = sonde_error_set(err, SONDE_ENOENT,
						      "%s %s is not tracked",
						      what, values[i]);
				goto fail;
			}
			free(out->values[at].text);
			out->values[at] = out->values[--out->count];
		}
	}
	return 0;
nomem:
	ret = sonde_error_set(err, SONDE_ENOMEM, "out of memory");
fail:
	sonde_tracker_release(out);
	return ret;
}

int sonde_tracker_push(const struct sonde_tracker *t,
		       enum sonde_kernel_tracker attr,
		       struct sonde_kernel_session *k, struct sonde_error *err)
{
	const char *texts[SONDE_KERNEL_TRACK_MAX];
	uint64_t ids[SONDE_KERNEL_TRACK_MAX];

	for (size_t i = 0; i < t->count; i++) {
		texts[i] = t->values[i].text;
		ids[i] = t->values[i].id;
	}
	return sonde_kernel_track(k, attr, t->all, ids, texts, t->count, err);
}
