/*
 * Repair of the sched_switch events a kernel omits.
 *
 * Some kernels do not emit sched:sched_switch when a CPU leaves its idle
 * task: on this project's test VMs (6.18, custom scheduler patches) a plain
 * ftrace instance records 0 switches out of swapper/1 for ~50 into it per
 * second, while CPU 0's are all there.  Without them, the CPU time of a
 * task woken on that CPU is charged to idle, and the events it causes
 * appear under the wrong thread in every analysis that follows switches.
 *
 * Every ftrace record carries common_pid, the thread that was current when
 * it was written.  When the last sched_switch on a CPU went to the idle
 * task and a record then comes from another thread, a switch happened that
 * the kernel did not report.  The consumer inserts it, stamped with the
 * time of that first record (the latest moment the switch can have
 * happened), with the comm and priority the thread last had in a switch.
 * A thread never seen in a switch is named as /proc (or ftrace's
 * saved_cmdlines) names it when the consumer reads the record: a fork
 * child that has exec'd since gets its new name, where the hidden switch
 * carried its parent's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/kernel-internal.h"

#define TASK_CACHE_SLOTS 4096u /* power of two */
#define COMM_LEN 16u

struct task_slot {
	int32_t tid;
	int32_t prio;
	char comm[COMM_LEN];
};

struct kswitch_repair {
	pthread_mutex_t lock;
	struct task_slot slots[TASK_CACHE_SLOTS];
	/* sched_switch layout */
	uint16_t type;
	uint32_t size;
	uint32_t prev_comm, prev_pid, prev_prio, next_comm, next_pid,
		next_prio;
	uint32_t prev_state, prev_state_size;
	char saved_cmdlines[300]; /* tracefs' pid -> comm cache */
};

static int field_at(const struct kfmt_event *fmt, const char *name,
		    uint32_t size, uint32_t *offset, uint32_t *record_size,
		    struct sonde_error *err)
{
	const struct kfmt_field *f = kfmt_find(fmt, name);

	if (!f || f->loc != KFMT_PLAIN || (size && f->size != size))
		return sonde_error_set(err, SONDE_EFORMAT,
				       "sched_switch: no usable field %s",
				       name);
	*offset = f->offset;
	if (f->offset + f->size > *record_size)
		*record_size = f->offset + f->size;
	return 0;
}

int kswitch_repair_create(const struct kfmt_event *fmt, const char *tracefs,
			  struct kswitch_repair **out, struct sonde_error *err)
{
	struct kswitch_repair *r;
	const struct kfmt_field *state;
	uint32_t size = 8;
	int ret;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	snprintf(r->saved_cmdlines, sizeof(r->saved_cmdlines),
		 "%s/saved_cmdlines", tracefs);
	if ((ret = field_at(fmt, "prev_comm", COMM_LEN, &r->prev_comm, &size,
			    err)) ||
	    (ret = field_at(fmt, "prev_pid", 4, &r->prev_pid, &size, err)) ||
	    (ret = field_at(fmt, "prev_prio", 4, &r->prev_prio, &size, err)) ||
	    (ret = field_at(fmt, "prev_state", 0, &r->prev_state, &size,
			    err)) ||
	    (ret = field_at(fmt, "next_comm", COMM_LEN, &r->next_comm, &size,
			    err)) ||
	    (ret = field_at(fmt, "next_pid", 4, &r->next_pid, &size, err)) ||
	    (ret = field_at(fmt, "next_prio", 4, &r->next_prio, &size, err))) {
		free(r);
		return ret;
	}
	state = kfmt_find(fmt, "prev_state");
	if (state->size > 8) {
		free(r);
		return sonde_error_set(err, SONDE_EFORMAT,
				       "sched_switch: prev_state of %u bytes",
				       state->size);
	}
	r->prev_state_size = state->size;
	r->type = (uint16_t)fmt->id;
	r->size = size;
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void kswitch_repair_free(struct kswitch_repair *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void remember(struct kswitch_repair *r, const uint8_t *rec,
		     uint32_t tid_at, uint32_t prio_at, uint32_t comm_at)
{
	struct task_slot *slot;
	int32_t tid;

	memcpy(&tid, rec + tid_at, 4);
	if (tid <= 0)
		return;
	slot = &r->slots[(uint32_t)tid & (TASK_CACHE_SLOTS - 1)];
	slot->tid = tid;
	memcpy(&slot->prio, rec + prio_at, 4);
	memcpy(slot->comm, rec + comm_at, COMM_LEN);
	slot->comm[COMM_LEN - 1] = '\0';
}

int32_t kswitch_repair_learn(struct kswitch_repair *r, const uint8_t *rec,
			     uint32_t len)
{
	int32_t next;

	if (len < r->size)
		return -1;
	pthread_mutex_lock(&r->lock);
	remember(r, rec, r->prev_pid, r->prev_prio, r->prev_comm);
	remember(r, rec, r->next_pid, r->next_prio, r->next_comm);
	pthread_mutex_unlock(&r->lock);
	memcpy(&next, rec + r->next_pid, 4);
	return next;
}

/* A thread never seen in a switch (a new child): /proc still knows it
 * unless it is already gone. */
static void read_proc_comm(int32_t tid, char *comm)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, COMM_LEN - 1);
	close(fd);
	if (n <= 0)
		return;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/* A thread gone before its first record was read: ftrace kept the comm of
 * every task that wrote a record, in saved_cmdlines ("TID COMM" lines). */
static void read_saved_comm(const char *path, int32_t tid, char *comm)
{
	char line[64];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *rest;
		long id = strtol(line, &rest, 10);

		if (id == tid && *rest == ' ') {
			snprintf(comm, COMM_LEN, "%s", rest + 1);
			comm[strcspn(comm, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

/* The comm and ftrace priority of `tid` on `cpu`: idle's name, the last
 * ones seen in a switch, or /proc's (else ftrace's) comm with the default
 * priority. */
static void task_identity(struct kswitch_repair *r, unsigned int cpu,
			  int32_t tid, char *comm, int32_t *prio)
{
	const struct task_slot *slot;

	*prio = 120;
	comm[0] = '\0';
	if (tid == 0) {
		snprintf(comm, COMM_LEN, "swapper/%u", cpu);
		return;
	}
	pthread_mutex_lock(&r->lock);
	slot = &r->slots[(uint32_t)tid & (TASK_CACHE_SLOTS - 1)];
	if (slot->tid == tid) {
		memcpy(comm, slot->comm, COMM_LEN);
		*prio = slot->prio;
	}
	pthread_mutex_unlock(&r->lock);
	if (!comm[0])
		read_proc_comm(tid, comm);
	if (!comm[0])
		read_saved_comm(r->saved_cmdlines, tid, comm);
}

uint32_t kswitch_repair_build(struct kswitch_repair *r, unsigned int cpu,
			      int32_t prev, int32_t next, uint8_t *rec,
			      uint32_t size)
{
	char prev_comm[COMM_LEN], next_comm[COMM_LEN];
	int32_t prev_prio, next_prio;
	uint64_t running = 0; /* unknown: shown as preempted */

	if (size < r->size)
		return 0;
	task_identity(r, cpu, prev, prev_comm, &prev_prio);
	task_identity(r, cpu, next, next_comm, &next_prio);
	memset(rec, 0, r->size);
	memcpy(rec, &r->type, 2);
	memcpy(rec + r->prev_comm, prev_comm, COMM_LEN);
	memcpy(rec + r->prev_pid, &prev, 4);
	memcpy(rec + r->prev_prio, &prev_prio, 4);
	memcpy(rec + r->prev_state, &running, r->prev_state_size);
	memcpy(rec + r->next_comm, next_comm, COMM_LEN);
	memcpy(rec + r->next_pid, &next, 4);
	memcpy(rec + r->next_prio, &next_prio, 4);
	return r->size;
}
