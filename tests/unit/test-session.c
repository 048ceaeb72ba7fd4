/*
 * Session model: names, default outputs, create/find/destroy and the state
 * checks that do not need the kernel backend.
 */
#include <stdlib.h>
#include <string.h>

#include "session/session.h"
#include "session/tracker.h"
#include "tap.h"

static void test_names(void)
{
	struct sonde_error err = { 0 };
	char big[80];

	is_int(sonde_session_check_name("session", "my-session_1.0", &err), 0,
	       "letters, digits, - _ .");
	ok(sonde_session_check_name("session", "", &err) < 0, "empty name");
	ok(sonde_session_check_name("session", "a/b", &err) < 0 &&
	   strstr(err.msg, "'a/b'"), "slash refused, named in the message");
	ok(sonde_session_check_name("session", "..", &err) < 0, "leading dot");
	ok(sonde_session_check_name("session", "-a", &err) < 0, "leading dash");
	ok(sonde_session_check_name("session", "a b", &err) < 0, "space");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(sonde_session_check_name("session", big, &err) < 0, "too long");
}

static void test_default_output(void)
{
	struct sonde_error err = { 0 };
	char buf[256];
	struct tm tm = { .tm_year = 126, .tm_mon = 10, .tm_mday = 22,
			 .tm_hour = 4, .tm_min = 5, .tm_sec = 6, .tm_isdst = -1 };

	setenv("HOME", "/home/u", 1);
	is_int(sonde_session_default_output("s", mktime(&tm), buf, sizeof(buf), &err),
	       0, "default output");
	is_str(buf, "/home/u/sonde-traces/s-20261122-040506", "lttng-style path");
	setenv("HOME", "relative", 1);
	ok(sonde_session_default_output("s", 0, buf, sizeof(buf), &err) < 0,
	   "relative HOME refused");
	setenv("HOME", "/home/u", 1);
}

static void test_lifecycle(void)
{
	struct sonde_error err = { 0 };
	struct sonde_sessions *reg = NULL;
	struct sonde_session *a = NULL, *b = NULL, *c = NULL;
	struct sonde_session_params pa = { .name = "a", .output = "/tmp/a" };
	struct sonde_session_params pb = { .snapshot = true };
	struct sonde_kernel_channel_config cfg = { .subbuf_size = 4096 };
	struct sonde_kernel_channel_config bad = { .subbuf_size = 3000 };
	struct sonde_kernel_stats st;
	char path[256];

	is_int(sonde_sessions_new(NULL, &reg, &err), 0, "registry");
	is_int(sonde_session_create(reg, &pa, &a, &err), 0, "create a");
	is_str(sonde_session_output(a), "/tmp/a", "given output kept");
	is_str(sonde_session_state_name(sonde_session_state(a)), "created", "state created");
	ok(sonde_session_create(reg, &pa, &c, &err) < 0 &&
	   !strcmp(err.msg, "session 'a' already exists"), "duplicate name");
	is_int(sonde_session_create(reg, &pb, &b, &err), 0, "create auto-named");
	ok(b && !strncmp(sonde_session_name(b), "auto-", 5), "auto-YYYYMMDD-HHMMSS");
	ok(b && strstr(sonde_session_output(b), "/sonde-traces/auto-") &&
	   sonde_session_is_snapshot(b), "auto output, snapshot flag");
	pa.name = "rel";
	pa.output = "relative/dir";
	ok(sonde_session_create(reg, &pa, &c, &err) < 0 && strstr(err.msg, "absolute"),
	   "relative output refused");
	pa.name = "snaplive";
	pa.output = "/tmp/snaplive";
	pa.snapshot = true;
	pa.relay = "127.0.0.1";
	pa.live_timer_us = 100000;
	ok(sonde_session_create(reg, &pa, &c, &err) < 0 &&
	   strstr(err.msg, "cannot be live"), "live snapshot session refused");
	pa.live_timer_us = 0;
	is_int(sonde_session_create(reg, &pa, &c, &err), 0,
	       "snapshot session with a relay");
	ok(c && sonde_session_destroy(reg, c, &err) == 0,
	   "destroyed before it ever connected");
	pa.snapshot = false;
	pa.relay = NULL;
	is_int((int)sonde_sessions_count(reg), 2, "two sessions");
	ok(sonde_sessions_find(reg, "a") == a, "find");
	ok(!sonde_sessions_find(reg, "zz"), "find unknown");

	ok(sonde_session_start(a, &err) < 0 && strstr(err.msg, "no event enabled"),
	   "start without events");
	ok(sonde_session_stop(a, &err) < 0 && strstr(err.msg, "not started"),
	   "stop before start");
	ok(sonde_session_snapshot_record(a, NULL, NULL, path, sizeof(path), &err) < 0 &&
	   strstr(err.msg, "not a snapshot session"), "snapshot of a normal session");
	ok(sonde_session_snapshot_record(b, NULL, NULL, path, sizeof(path), &err) < 0 &&
	   strstr(err.msg, "never started"), "snapshot before start");
	ok(sonde_session_enable_channel(a, "big", &bad, &err) < 0 &&
	   strstr(err.msg, "power of two"), "sub-buffer size checked");
	is_int(sonde_session_enable_channel(a, "big", &cfg, &err), 0, "enable-channel");
	ok(sonde_session_channel(a) && sonde_session_channel(a)->config.subbuf_size == 4096,
	   "channel attributes kept");
	ok(sonde_session_enable_channel(a, "big", &cfg, &err) < 0 &&
	   strstr(err.msg, "already exists"), "same channel twice");
	ok(sonde_session_enable_channel(a, "other", &cfg, &err) < 0 &&
	   strstr(err.msg, "one kernel channel"), "second channel");
	ok(sonde_session_enable_event(a, "nope", "sched_switch", false, &err) < 0 &&
	   strstr(err.msg, "no channel 'nope'"), "event in an unknown channel");
	ok(sonde_session_disable_event(a, NULL, "sched_switch", false, &err) < 0 &&
	   strstr(err.msg, "not enabled"), "disable what is not enabled");
	sonde_session_stats(a, &st);
	ok(st.events_recorded == 0 && st.bytes_written == 0, "stats before any event");

	is_int(sonde_session_destroy(reg, a, &err), 0, "destroy a");
	ok(!sonde_sessions_find(reg, "a"), "a is gone");
	is_int((int)sonde_sessions_count(reg), 1, "one left");
	is_int(sonde_sessions_stop_all(reg, &err), 0, "stop_all with nothing started");
	sonde_sessions_free(reg);
}

static bool holds(const struct sonde_tracker *t, const char *text)
{
	for (size_t i = 0; i < t->count; i++)
		if (!strcmp(t->values[i].text, text))
			return true;
	return false;
}

/* LTTng 2.13's inclusion-set arithmetic, and the values refused. */
static void test_trackers(void)
{
	struct sonde_error err = { 0 };
	struct sonde_tracker all, a, b, c;
	enum sonde_kernel_tracker attr;
	const char *v1[] = { "3", "6", "7" }, *v2[] = { "7" }, *v3[] = { "1" };
	const char *bad[] = { "3x" }, *dup[] = { "6", "6" };
	const char *names[] = { "0123456789abcdef" }, *empty[] = { "" };
	const char *slash[] = { "/" };

	sonde_tracker_init(&all);
	ok(all.all && !all.count, "a new set holds every value");
	is_int(sonde_tracker_apply(&all, SONDE_KERNEL_TRACK_PID, true, false,
				   v1, 3, NULL, &a, &err), 0, "track 3,6,7");
	ok(!a.all && a.count == 3 && a.values[1].id == 6,
	   "tracking in 'every value' empties the set first");
	is_int(sonde_tracker_apply(&a, SONDE_KERNEL_TRACK_PID, false, false,
				   v2, 1, NULL, &b, &err), 0, "untrack 7");
	ok(b.count == 2 && holds(&b, "3") && holds(&b, "6") && !holds(&b, "7"),
	   "7 removed, 3 and 6 kept");
	ok(sonde_tracker_apply(&b, SONDE_KERNEL_TRACK_PID, false, false, v2, 1,
			       NULL, &c, &err) == SONDE_ENOENT &&
	   strstr(err.msg, "pid 7 is not tracked"), "untrack a value not tracked");
	ok(sonde_tracker_apply(&all, SONDE_KERNEL_TRACK_PID, false, false, v3,
			       1, NULL, &c, &err) < 0 &&
	   strstr(err.msg, "every pid"), "untrack from 'every value': error");
	ok(sonde_tracker_apply(&b, SONDE_KERNEL_TRACK_PID, true, false, bad, 1,
			       NULL, &c, &err) < 0 && strstr(err.msg, "'3x'") &&
	   !c.count, "non-numeric pid refused, nothing changed");
	is_int(sonde_tracker_apply(&b, SONDE_KERNEL_TRACK_PID, true, false, dup,
				   2, NULL, &c, &err), 0, "track 6 twice");
	is_int((int)c.count, 2, "already tracked: kept once");
	sonde_tracker_release(&c);
	is_int(sonde_tracker_apply(&b, SONDE_KERNEL_TRACK_PID, false, true,
				   NULL, 0, NULL, &c, &err), 0, "untrack --all");
	ok(!c.all && !c.count, "untrack --all: nothing");
	sonde_tracker_release(&c);
	is_int(sonde_tracker_apply(&b, SONDE_KERNEL_TRACK_PID, true, true, NULL,
				   0, NULL, &c, &err), 0, "track --all");
	ok(c.all && !c.count, "track --all: every value");
	ok(sonde_tracker_apply(&all, SONDE_KERNEL_TRACK_PROCNAME, true, false,
			       names, 1, NULL, &c, &err) < 0 &&
	   strstr(err.msg, "15 bytes"), "process name over 15 bytes");
	ok(sonde_tracker_apply(&all, SONDE_KERNEL_TRACK_PROCNAME, true, false,
			       empty, 1, NULL, &c, &err) < 0 &&
	   strstr(err.msg, "empty"), "empty process name");
	ok(sonde_tracker_apply(&all, SONDE_KERNEL_TRACK_CGROUP, true, false, v3,
			       1, "/nonexistent-cgroup-root", &c, &err) < 0 &&
	   strstr(err.msg, "no such cgroup"), "unknown cgroup");
	ok(sonde_tracker_apply(&all, SONDE_KERNEL_TRACK_CGROUP, true, false,
			       slash, 1, "/proc", &c, &err) < 0 &&
	   strstr(err.msg, "not a cgroup v2 directory"),
	   "a directory outside cgroup2");
	ok(sonde_tracker_apply(&all, SONDE_KERNEL_TRACK_PID, true, true, v3, 1,
			       NULL, &c, &err) < 0, "--all with values refused");
	is_int(sonde_tracker_parse_name("process-name", &attr, &err), 0,
	       "tracker name");
	ok(attr == SONDE_KERNEL_TRACK_PROCNAME, "process-name");
	ok(sonde_tracker_parse_name("vpid", &attr, &err) < 0 &&
	   strstr(err.msg, "'vpid'"), "unknown tracker named");
	sonde_tracker_release(&a);
	sonde_tracker_release(&b);
}

int main(void)
{
	test_trackers();
	test_names();
	test_default_output();
	test_lifecycle();
	return tap_done();
}
