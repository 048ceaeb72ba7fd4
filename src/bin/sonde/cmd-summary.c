/*
 * sonde summary: who ran, how much, in a kernel trace.
 *
 * One pass over the merged events.  sched_switch tells which thread runs
 * on each CPU from then on: the time until the next switch on that CPU is
 * the thread's CPU time, and every event recorded on that CPU meanwhile is
 * counted for it.  Threads are grouped into processes with the pids found
 * in the state dump (lttng_statedump_process_state) and in
 * sched_process_fork; names come from the same events and sched_switch's
 * comm fields.
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "commands.h"
#include "sonde/ctf.h"

#define COMM_MAX 16
#define MAX_CPUS 4096

static const char summary_help[] =
"NAME\n"
"    sonde summary - per-process summary of a kernel trace\n"
"\n"
"SYNOPSIS\n"
"    sonde summary [-n N] [--sort cpu|events] [PATH...]\n"
"\n"
"DESCRIPTION\n"
"    Reads the kernel traces under PATH (default: the current session's\n"
"    output directory) and prints the trace's time span, event and CPU\n"
"    counts, then the N busiest processes: CPU time (from sched_switch\n"
"    events), share of the CPU time of all CPUs, threads seen, events\n"
"    recorded while the process was on a CPU, and system calls entered.\n"
"    Idle time (the swapper threads) is shown apart.  A trace without\n"
"    sched_switch events has no CPU times; its events are then counted for\n"
"    no process.\n"
"\n"
"OPTIONS\n"
"    -n, --top N\n"
"        How many processes to print (default 10; 0 = all).\n"
"    --sort KEY\n"
"        Order by 'cpu' time (default) or 'events'.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when the trace cannot be read, 2 on bad usage.\n"
"\n"
"EXAMPLES\n"
"    sonde summary\n"
"    sonde summary -n 5 --sort events ~/sonde-traces/auto-20261122-041500\n";

struct thread {
	int64_t tid;          /* INT64_MIN: empty slot */
	int64_t pid;          /* -1 until known */
	char comm[COMM_MAX + 1];
	uint64_t cpu_ns, events, syscalls;
};

struct process {
	int64_t pid;
	const char *comm;
	uint64_t cpu_ns, events, syscalls;
	unsigned int threads;
};

struct cpu_state {
	bool known;           /* a sched_switch was seen on this CPU */
	int64_t tid;
	int64_t since_ns;
};

struct summary {
	struct thread *threads;   /* open addressing on tid */
	size_t cap, count;
	struct cpu_state cpus[MAX_CPUS];
	unsigned int cpu_count;
	uint64_t events, discarded, unattributed;
	int64_t first_ns, last_ns;
	bool any_switch;
};

static struct thread *thread_get(struct summary *sum, int64_t tid)
{
	size_t mask, i;

	if (sum->count * 2 >= sum->cap) {
		size_t cap = sum->cap ? sum->cap * 2 : 1024;
		struct thread *t = malloc(cap * sizeof(*t));

		if (!t)
			return NULL;
		for (size_t k = 0; k < cap; k++)
			t[k].tid = INT64_MIN;
		for (size_t k = 0; k < sum->cap; k++) {
			if (sum->threads[k].tid == INT64_MIN)
				continue;
			i = (size_t)sum->threads[k].tid * 0x9e3779b97f4a7c15ULL & (cap - 1);
			while (t[i].tid != INT64_MIN)
				i = (i + 1) & (cap - 1);
			t[i] = sum->threads[k];
		}
		free(sum->threads);
		sum->threads = t;
		sum->cap = cap;
	}
	mask = sum->cap - 1;
	i = (size_t)tid * 0x9e3779b97f4a7c15ULL & mask;
	while (sum->threads[i].tid != INT64_MIN && sum->threads[i].tid != tid)
		i = (i + 1) & mask;
	if (sum->threads[i].tid == INT64_MIN) {
		memset(&sum->threads[i], 0, sizeof(sum->threads[i]));
		sum->threads[i].tid = tid;
		sum->threads[i].pid = -1;
		sum->count++;
	}
	return &sum->threads[i];
}

static bool get_int(const struct sonde_ctf_event *ev, const char *name, int64_t *out)
{
	int32_t i;
	const struct sonde_ctf_value *v;

	if (ev->payload < 0)
		return false;
	i = sonde_ctf_value_struct_member(ev->values, ev->payload, name);
	if (i < 0)
		return false;
	v = &ev->values[i];
	if (v->type->kind == SONDE_CTF_INT)
		*out = v->type->u.integer.is_signed ? v->v.s : (int64_t)v->v.u;
	else if (v->type->kind == SONDE_CTF_ENUM)
		*out = v->type->u.enumeration.container->u.integer.is_signed ?
		       v->v.s : (int64_t)v->v.u;
	else
		return false;
	return true;
}

static void get_comm(const struct sonde_ctf_event *ev, const char *name,
		     struct thread *t)
{
	const struct sonde_ctf_value *v;
	size_t len;
	int32_t i;

	if (!t || ev->payload < 0)
		return;
	i = sonde_ctf_value_struct_member(ev->values, ev->payload, name);
	if (i < 0)
		return;
	v = &ev->values[i];
	if (!((v->type->kind == SONDE_CTF_ARRAY && v->type->u.array.is_text) ||
	      (v->type->kind == SONDE_CTF_SEQUENCE && v->type->u.sequence.is_text) ||
	      v->type->kind == SONDE_CTF_STRING))
		return;
	len = v->v.str.len;
	if (v->v.str.ptr) {
		const char *nul = memchr(v->v.str.ptr, '\0', len);

		if (nul)
			len = (size_t)(nul - v->v.str.ptr);
	}
	if (len > COMM_MAX)
		len = COMM_MAX;
	if (!len)
		return;
	memcpy(t->comm, v->v.str.ptr, len);
	t->comm[len] = '\0';
}

static int event_cpu(const struct sonde_ctf_event *ev)
{
	const struct sonde_ctf_value *pkt;
	int32_t header, context, i;
	uint64_t cpu;

	pkt = sonde_ctf_stream_packet_values(ev->stream, &header, &context);
	i = pkt && context >= 0 ? sonde_ctf_value_struct_member(pkt, context, "cpu_id") : -1;
	cpu = i >= 0 ? pkt[i].v.u : sonde_ctf_stream_instance_id(ev->stream);
	return cpu < MAX_CPUS ? (int)cpu : -1;
}

static int account(struct summary *sum, const struct sonde_ctf_event *ev)
{
	const char *name = ev->event_class->name;
	int cpu = event_cpu(ev);
	struct cpu_state *c = cpu >= 0 ? &sum->cpus[cpu] : NULL;
	struct thread *t = NULL;
	int64_t tid, pid;

	if (!sum->events || ev->ns < sum->first_ns)
		sum->first_ns = ev->ns;
	if (ev->ns > sum->last_ns)
		sum->last_ns = ev->ns;
	sum->events++;
	if (cpu >= 0 && (unsigned int)cpu >= sum->cpu_count)
		sum->cpu_count = (unsigned int)cpu + 1;
	if (c && c->known) {
		t = thread_get(sum, c->tid);
		if (!t)
			return -1;
		t->events++;
		if (!strncmp(name, "syscall_entry_", 14))
			t->syscalls++;
	} else {
		sum->unattributed++;
	}
	if (!strcmp(name, "sched_switch") && c) {
		if (get_int(ev, "prev_tid", &tid)) {
			t = thread_get(sum, tid);
			if (!t)
				return -1;
			get_comm(ev, "prev_comm", t);
			if (c->known && c->tid == tid && ev->ns > c->since_ns)
				t->cpu_ns += (uint64_t)(ev->ns - c->since_ns);
		}
		if (get_int(ev, "next_tid", &tid)) {
			t = thread_get(sum, tid);
			if (!t)
				return -1;
			get_comm(ev, "next_comm", t);
			c->known = true;
			c->tid = tid;
			c->since_ns = ev->ns;
			sum->any_switch = true;
		}
	} else if (!strcmp(name, "lttng_statedump_process_state")) {
		if (get_int(ev, "tid", &tid) && get_int(ev, "pid", &pid)) {
			t = thread_get(sum, tid);
			if (!t)
				return -1;
			t->pid = pid;
			get_comm(ev, "name", t);
		}
	} else if (!strcmp(name, "sched_process_fork")) {
		if (get_int(ev, "child_tid", &tid)) {
			t = thread_get(sum, tid);
			if (!t)
				return -1;
			if (get_int(ev, "child_pid", &pid))
				t->pid = pid;
			get_comm(ev, "child_comm", t);
		}
	}
	return 0;
}

/* The time each CPU's last thread ran until the end of the trace. */
static void close_cpus(struct summary *sum)
{
	for (unsigned int cpu = 0; cpu < sum->cpu_count; cpu++) {
		struct cpu_state *c = &sum->cpus[cpu];
		struct thread *t;

		if (!c->known || sum->last_ns <= c->since_ns)
			continue;
		t = thread_get(sum, c->tid);
		if (t)
			t->cpu_ns += (uint64_t)(sum->last_ns - c->since_ns);
	}
}

static int by_cpu(const void *a, const void *b)
{
	const struct process *x = a, *y = b;

	if (x->cpu_ns != y->cpu_ns)
		return x->cpu_ns < y->cpu_ns ? 1 : -1;
	if (x->events != y->events)
		return x->events < y->events ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int by_events(const void *a, const void *b)
{
	const struct process *x = a, *y = b;

	if (x->events != y->events)
		return x->events < y->events ? 1 : -1;
	return by_cpu(a, b);
}

/* Threads into processes: a thread of unknown pid counts as its own. */
static struct process *group(struct summary *sum, size_t *count,
			     struct thread *idle)
{
	struct process *procs = calloc(sum->count ? sum->count : 1, sizeof(*procs));
	size_t n = 0;

	if (!procs)
		return NULL;
	memset(idle, 0, sizeof(*idle));
	for (size_t i = 0; i < sum->cap; i++) {
		struct thread *t = &sum->threads[i];
		int64_t pid;
		size_t k;

		if (t->tid == INT64_MIN)
			continue;
		if (t->tid == 0) {
			*idle = *t;
			continue;
		}
		pid = t->pid >= 0 ? t->pid : t->tid;
		for (k = 0; k < n && procs[k].pid != pid; k++)
			;
		if (k == n) {
			procs[n].pid = pid;
			n++;
		}
		procs[k].cpu_ns += t->cpu_ns;
		procs[k].events += t->events;
		procs[k].syscalls += t->syscalls;
		procs[k].threads++;
		/* The main thread names the process. */
		if (t->comm[0] && (!procs[k].comm || t->tid == pid))
			procs[k].comm = t->comm;
	}
	*count = n;
	return procs;
}

static void print_summary(struct summary *sum, const char *const *paths,
			  size_t path_count, size_t top, bool sort_events)
{
	int64_t span = sum->last_ns > sum->first_ns ? sum->last_ns - sum->first_ns : 0;
	double total_cpu = (double)span * (sum->cpu_count ? sum->cpu_count : 1);
	struct process *procs;
	struct thread idle;
	size_t n;

	close_cpus(sum);
	printf("Trace: %s%s\n", paths[0], path_count > 1 ? " ..." : "");
	printf("Span: %.3f s, %" PRIu64 " events on %u CPUs",
	       (double)span / 1e9, sum->events, sum->cpu_count);
	if (sum->discarded)
		printf(", %" PRIu64 " discarded", sum->discarded);
	printf("\n");
	if (!sum->any_switch)
		printf("No sched_switch events: no CPU times (enable them with 'sonde enable-event -k sched_switch').\n");
	procs = group(sum, &n, &idle);
	if (!procs) {
		fprintf(stderr, "sonde: error: out of memory\n");
		return;
	}
	if (sum->any_switch && total_cpu > 0)
		printf("Idle: %.1f%% of the CPU time\n",
		       100.0 * (double)idle.cpu_ns / total_cpu);
	qsort(procs, n, sizeof(*procs), sort_events ? by_events : by_cpu);
	printf("\nTop processes by %s:\n", sort_events ? "events" : "CPU time");
	printf("%8s  %-16s %10s %6s %7s %10s %10s\n", "PID", "COMMAND", "CPU ms",
	       "CPU%", "THREADS", "EVENTS", "SYSCALLS");
	for (size_t i = 0; i < n && (!top || i < top); i++)
		printf("%8" PRId64 "  %-16s %10.1f %6.1f %7u %10" PRIu64 " %10" PRIu64 "\n",
		       procs[i].pid, procs[i].comm ? procs[i].comm : "?",
		       (double)procs[i].cpu_ns / 1e6,
		       total_cpu > 0 ? 100.0 * (double)procs[i].cpu_ns / total_cpu : 0.0,
		       procs[i].threads, procs[i].events, procs[i].syscalls);
	if (sum->unattributed)
		printf("(%" PRIu64 " events came before the first sched_switch of their CPU)\n",
		       sum->unattributed);
	free(procs);
}

static int run_summary(const char *const *paths, size_t count, size_t top,
		       bool sort_events)
{
	struct sonde_error err = { 0 };
	struct sonde_ctf_trace_set *set = NULL;
	struct sonde_ctf_iter *it = NULL;
	const struct sonde_ctf_msg *msg;
	struct summary *sum = calloc(1, sizeof(*sum));
	int ret, status = 1;

	if (!sum) {
		fprintf(stderr, "sonde: error: out of memory\n");
		return 1;
	}
	ret = sonde_ctf_trace_set_open(paths, count, &set, &err);
	if (!ret)
		ret = sonde_ctf_iter_create(set, &it, &err);
	if (!ret)
		ret = sonde_ctf_iter_set_order(it, SONDE_CTF_ORDER_BABELTRACE2);
	while (!ret && (ret = sonde_ctf_iter_next(it, &msg, &err)) == 1) {
		ret = 0;
		if (msg->kind == SONDE_CTF_MSG_EVENT) {
			if (account(sum, msg->event))
				ret = sonde_error_set(&err, SONDE_ENOMEM, "out of memory");
		} else if (msg->kind == SONDE_CTF_MSG_DISCARDED_EVENTS) {
			sum->discarded += msg->count;
		}
	}
	if (ret) {
		fprintf(stderr, "sonde: error: %s\n",
			err.msg[0] ? err.msg : sonde_strerror(ret));
	} else {
		print_summary(sum, paths, count, top, sort_events);
		status = 0;
	}
	sonde_ctf_iter_free(it);
	sonde_ctf_trace_set_free(set);
	free(sum->threads);
	free(sum);
	return status;
}

enum { OPT_SORT = 256 };

static const struct option summary_options[] = {
	{ "top", required_argument, NULL, 'n' },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_summary(int argc, char **argv)
{
	char output[PATH_MAX];
	const char *current[1] = { output };
	unsigned long long top = 10;
	bool sort_events = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hn:", summary_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(summary_help, stdout);
			return 0;
		case 'n':
			if (client_parse_size(optarg, &top))
				return client_usage_error("summary", "--top '%s' is not a number",
							  optarg);
			break;
		case OPT_SORT:
			if (!strcmp(optarg, "cpu"))
				sort_events = false;
			else if (!strcmp(optarg, "events"))
				sort_events = true;
			else
				return client_usage_error("summary", "unknown sort key '%s'",
							  optarg);
			break;
		case ':':
			return client_usage_error("summary", "option '%s' needs a value",
						  argv[optind - 1]);
		default:
			return client_usage_error("summary", "unknown option '%s'",
						  argv[optind - 1]);
		}
	}
	if (optind < argc)
		return run_summary((const char *const *)argv + optind,
				   (size_t)(argc - optind), (size_t)top, sort_events);
	if (client_current_output(output, sizeof(output)))
		return 1;
	return run_summary(current, 1, (size_t)top, sort_events);
}
