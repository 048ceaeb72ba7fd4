/*
 * Stream conformance: opens each trace named in an expectations list (paths
 * relative to the shared data root), iterates all its messages and compares
 * the verdict, the event count and the discarded events/packets totals with
 * the expected ones.  TAP output.
 *
 * Expectation lines:  pass EVENTS DISC_EVENTS DISC_PACKETS PATH
 *                     fail EVENTS PATH    (EVENTS: returned before the error;
 *                                          "-" when not checked)
 *
 * usage: stream-conformance DATA_ROOT EXPECT_FILE
 *        stream-conformance --one TRACE_DIR   (prints what it found)
 *        stream-conformance --order TRACE_DIR (one line per event:
 *                                             seconds.ns name cpu_id)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde/ctf.h"

struct outcome {
	int status;
	uint64_t events, disc_events, disc_packets;
	char msg[SONDE_ERROR_MSG_MAX];
};

static void run(const char *path, struct outcome *o)
{
	struct sonde_ctf_trace_set *set = NULL;
	struct sonde_ctf_iter *it = NULL;
	const struct sonde_ctf_msg *m;
	struct sonde_error err = { 0 };
	int ret;

	memset(o, 0, sizeof(*o));
	ret = sonde_ctf_trace_set_open(&path, 1, &set, &err);
	if (!ret)
		ret = sonde_ctf_iter_create(set, &it, &err);
	while (!ret && (ret = sonde_ctf_iter_next(it, &m, &err)) > 0) {
		ret = 0;
		switch (m->kind) {
		case SONDE_CTF_MSG_EVENT:
			o->events++;
			break;
		case SONDE_CTF_MSG_DISCARDED_EVENTS:
			o->disc_events += m->count;
			break;
		case SONDE_CTF_MSG_DISCARDED_PACKETS:
			o->disc_packets += m->count;
			break;
		}
	}
	o->status = ret;
	if (ret < 0)
		snprintf(o->msg, sizeof(o->msg), "%s", err.msg);
	sonde_ctf_iter_free(it);
	sonde_ctf_trace_set_free(set);
}

/* Prints the merge order, to diff against babeltrace --clock-seconds. */
static int dump_order(const char *path)
{
	struct sonde_ctf_trace_set *set = NULL;
	struct sonde_ctf_iter *it = NULL;
	const struct sonde_ctf_msg *m;
	struct sonde_error err = { 0 };
	int ret;

	ret = sonde_ctf_trace_set_open(&path, 1, &set, &err);
	if (!ret)
		ret = sonde_ctf_iter_create(set, &it, &err);
	while (!ret && (ret = sonde_ctf_iter_next(it, &m, &err)) > 0) {
		const struct sonde_ctf_event *e = m->event;
		const struct sonde_ctf_value *pv;
		int32_t ctx, cpu = -1;

		ret = 0;
		if (m->kind != SONDE_CTF_MSG_EVENT)
			continue;
		pv = sonde_ctf_stream_packet_values(e->stream, NULL, &ctx);
		if (ctx >= 0)
			cpu = sonde_ctf_value_struct_member(pv, ctx, "cpu_id");
		printf("%" PRId64 ".%09" PRId64 " %s %lld\n", e->ns / 1000000000,
		       e->ns % 1000000000, e->event_class->name,
		       cpu >= 0 ? (long long)pv[cpu].v.s : -1LL);
	}
	if (ret < 0)
		fprintf(stderr, "%s\n", err.msg);
	sonde_ctf_iter_free(it);
	sonde_ctf_trace_set_free(set);
	return ret < 0;
}

int main(int argc, char **argv)
{
	char line[4096], path[4096], verdict[16], ev[32];
	unsigned long long de, dp;
	struct outcome o;
	int n = 0, failed = 0;
	FILE *f;

	if (argc == 3 && !strcmp(argv[1], "--order"))
		return dump_order(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "--one")) {
		run(argv[2], &o);
		if (o.status < 0)
			printf("fail %" PRIu64 " %s\n# %s\n", o.events, argv[2], o.msg);
		else
			printf("pass %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n",
			       o.events, o.disc_events, o.disc_packets, argv[2]);
		return o.status < 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: %s DATA_ROOT EXPECT_FILE\n", argv[0]);
		return 2;
	}
	f = fopen(argv[2], "r");
	if (!f) {
		printf("1..0 # SKIP cannot open %s\n", argv[2]);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		char full[8192], rel[4096];
		bool good;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "pass %31s %llu %llu %4095s", ev, &de, &dp, rel) == 4) {
			strcpy(verdict, "pass");
		} else if (sscanf(line, "fail %31s %4095s", ev, rel) == 2) {
			strcpy(verdict, "fail");
			de = dp = 0;
		} else {
			printf("Bail out! bad line: %s", line);
			return 1;
		}
		snprintf(path, sizeof(path), "%s", rel);
		snprintf(full, sizeof(full), "%s/%s", argv[1], path);
		run(full, &o);
		n++;
		if (!strcmp(verdict, "pass"))
			good = o.status == 0 && o.events == strtoull(ev, NULL, 10) &&
			       o.disc_events == de && o.disc_packets == dp;
		else
			good = o.status < 0 &&
			       (!strcmp(ev, "-") || o.events == strtoull(ev, NULL, 10));
		printf("%sok %d - %s %s\n", good ? "" : "not ", n, verdict, path);
		if (!good) {
			failed++;
			printf("#   got: %s %" PRIu64 " events, %" PRIu64
			       " discarded events, %" PRIu64 " discarded packets\n",
			       o.status < 0 ? "error" : "ok", o.events,
			       o.disc_events, o.disc_packets);
		}
		if (o.status < 0)
			printf("#   %s\n", o.msg);
	}
	fclose(f);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
