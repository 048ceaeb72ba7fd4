/*
 * Test driver for libsonde-kernel: records a kernel trace around a
 * command (or for a time), as `sonde` would through sonde-sessiond.
 *
 *   kernel-record -o DIR [-e EVENT]... [-s SYSCALL|-a]... [-S SNAPDIR]...
 *                 [-E EVENT]... [-t MS] [-b SUBBUF] [-n NUM] [-w]
 *                 [-T US] [-- CMD ARGS...]
 *
 * -R: stop, start again and run the command a second time;
 * -L: list the kernel events (lttng names) and exit;
 * -E: enabled after start (metadata appended); -T: switch timer;
 * -a: all syscalls; -S: snapshot mode, one snapshot per -S after the
 * command; -w: overwrite mode; -B ftrace|ebpf: force a backend; -C COMM,
 * -P PID: track only that process name, that process.  Prints "backend=NAME why=REASON" then
 * "recorded=N discarded=N lost=N bytes=N repaired=N".
 * Exits 77 when tracefs is unavailable (the tests skip).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel/kernel.h"

static int fail(const struct sonde_error *err)
{
	fprintf(stderr, "kernel-record: error: %s\n", err->msg);
	return err->status == SONDE_EIO && strstr(err->msg, "tracefs") ? 77 :
									  1;
}

static int print_name(const char *name, void *arg)
{
	(void)arg;
	return puts(name) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sonde_kernel_config cfg = { 0 };
	struct sonde_kernel_session *s = NULL;
	struct sonde_error err = { 0 };
	struct sonde_kernel_stats st;
	const char *events[64], *syscalls[64], *snaps[8], *late[16], *comm = NULL;
	uint64_t track_pid = 0;
	int restart = 0, nlate = 0, nev = 0, nsys = 0, nsnap = 0, all_sys = 0, ms = 0, opt, i, ret;

	cfg.session_name = "test";
	while ((opt = getopt(argc, argv, "o:e:E:s:aS:t:b:n:wN:T:LRB:C:P:")) != -1) {
		switch (opt) {
		case 'o': cfg.output_dir = optarg; break;
		case 'e': if (nev < 64) events[nev++] = optarg; break;
		case 'R': restart = 1; break;
		case 'E': if (nlate < 16) late[nlate++] = optarg; break;
		case 'T': cfg.channel.switch_timer_us = strtoull(optarg, NULL, 0); break;
		case 's': if (nsys < 64) syscalls[nsys++] = optarg; break;
		case 'a': all_sys = 1; break;
		case 'S': if (nsnap < 8) snaps[nsnap++] = optarg;
			  cfg.snapshot_mode = true; break;
		case 't': ms = atoi(optarg); break;
		case 'b': cfg.channel.subbuf_size = strtoull(optarg, NULL, 0); break;
		case 'n': cfg.channel.num_subbuf = strtoull(optarg, NULL, 0); break;
		case 'w': cfg.channel.overwrite = true; break;
		case 'N': cfg.session_name = optarg; break;
		case 'B':
			cfg.channel.backend =
				strcmp(optarg, "ebpf") == 0 ?
					SONDE_KERNEL_BACKEND_EBPF :
					SONDE_KERNEL_BACKEND_FTRACE;
			break;
		case 'C': comm = optarg; break;
		case 'P': track_pid = strtoull(optarg, NULL, 0); break;
		case 'L':
			if (sonde_kernel_list_events(NULL, print_name, NULL,
						     &err))
				return fail(&err);
			return 0;
		default: return 2;
		}
	}
	if (sonde_kernel_session_create(&cfg, &s, &err))
		return fail(&err);
	{
		const char *why;
		const char *name = sonde_kernel_backend_name(s, &why);

		printf("backend=%s why=%s\n", name, why);
		fflush(stdout); /* tells a test the session exists */
	}
	if (comm && sonde_kernel_track(s, SONDE_KERNEL_TRACK_PROCNAME, false,
				       NULL, &comm, 1, &err))
		goto out;
	if (track_pid && sonde_kernel_track(s, SONDE_KERNEL_TRACK_PID, false, &track_pid,
				      NULL, 1, &err))
		goto out;
	for (i = 0; i < nev; i++)
		if (sonde_kernel_enable_event(s, events[i], &err))
			goto out;
	for (i = 0; i < nsys; i++)
		if (sonde_kernel_enable_syscall(s, syscalls[i], &err))
			goto out;
	if (all_sys && sonde_kernel_enable_syscall(s, NULL, &err))
		goto out;
	if (sonde_kernel_start(s, &err))
		goto out;
	for (i = 0; i < nlate; i++)
		if (sonde_kernel_enable_event(s, late[i], &err))
			goto out;
again:
	if (optind < argc) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			execvp(argv[optind], argv + optind);
			_exit(127);
		}
		waitpid(pid, &status, 0);
	}
	if (restart) {
		restart = 0;
		if (sonde_kernel_stop(s, &err) || sonde_kernel_start(s, &err))
			goto out;
		goto again;
	}
	if (ms) {
		struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

		nanosleep(&t, NULL);
	}
	for (i = 0; i < nsnap; i++)
		if (sonde_kernel_snapshot_record(s, snaps[i], &err))
			goto out;
	if (sonde_kernel_stop(s, &err))
		goto out;
	sonde_kernel_get_stats(s, &st);
	printf("recorded=%llu discarded=%llu lost=%llu bytes=%llu "
	       "repaired=%llu\n",
	       (unsigned long long)st.events_recorded,
	       (unsigned long long)st.events_discarded,
	       (unsigned long long)st.packets_lost,
	       (unsigned long long)st.bytes_written,
	       (unsigned long long)st.switches_repaired);
	sonde_kernel_session_destroy(s);
	return 0;
out:
	ret = fail(&err);
	sonde_kernel_session_destroy(s);
	return ret;
}
