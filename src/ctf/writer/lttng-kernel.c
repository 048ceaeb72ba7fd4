#include "ctf/writer/lttng-kernel.h"

#include <string.h>

#define EVENT(name, fields) { name, fields, sizeof(fields) / sizeof(fields[0]) }

static const struct sonde_ctfw_field sched_switch[] = {
	SONDE_CTFW_ARRAY_TEXT("prev_comm", 16),
	SONDE_CTFW_INTEGER("prev_tid", 32, true),
	SONDE_CTFW_INTEGER("prev_prio", 32, true),
	SONDE_CTFW_INTEGER("prev_state", 64, true),
	SONDE_CTFW_ARRAY_TEXT("next_comm", 16),
	SONDE_CTFW_INTEGER("next_tid", 32, true),
	SONDE_CTFW_INTEGER("next_prio", 32, true),
};

static const struct sonde_ctfw_field sched_wakeup[] = {
	SONDE_CTFW_ARRAY_TEXT("comm", 16),
	SONDE_CTFW_INTEGER("tid", 32, true),
	SONDE_CTFW_INTEGER("prio", 32, true),
	SONDE_CTFW_INTEGER("target_cpu", 32, true),
};

static const struct sonde_ctfw_field sched_process_fork[] = {
	SONDE_CTFW_ARRAY_TEXT("parent_comm", 16),
	SONDE_CTFW_INTEGER("parent_tid", 32, true),
	SONDE_CTFW_INTEGER("parent_pid", 32, true),
	SONDE_CTFW_INTEGER("parent_ns_inum", 32, false),
	SONDE_CTFW_ARRAY_TEXT("child_comm", 16),
	SONDE_CTFW_INTEGER("child_tid", 32, true),
	SONDE_CTFW_SEQUENCE("vtids", 32, true, 8),
	SONDE_CTFW_INTEGER("child_pid", 32, true),
	SONDE_CTFW_INTEGER("child_ns_inum", 32, false),
};

static const struct sonde_ctfw_field irq_handler_entry[] = {
	SONDE_CTFW_INTEGER("irq", 32, true),
	SONDE_CTFW_STRING("name"),
};

static const struct sonde_ctfw_field irq_handler_exit[] = {
	SONDE_CTFW_INTEGER("irq", 32, true),
	SONDE_CTFW_INTEGER("ret", 32, true),
};

static const struct sonde_ctfw_field softirq[] = {
	SONDE_CTFW_INTEGER("vec", 32, false),
};

static const struct sonde_ctfw_field statedump_netif[] = {
	SONDE_CTFW_STRING("name"),
	SONDE_CTFW_INTEGER_NETWORK_HEX("address_ipv4", 32, false),
};

static const struct sonde_ctfw_field statedump_fd[] = {
	SONDE_CTFW_INTEGER_HEX("file_table_address", 64, false),
	SONDE_CTFW_INTEGER("fd", 32, true),
	SONDE_CTFW_INTEGER_OCT("flags", 32, false),
	SONDE_CTFW_INTEGER_HEX("fmode", 32, false),
	SONDE_CTFW_STRING("filename"),
};

const struct sonde_lttng_kernel_event sonde_lttng_kernel_events[] = {
	EVENT("sched_switch", sched_switch),
	EVENT("sched_waking", sched_wakeup),
	EVENT("sched_wakeup", sched_wakeup),
	EVENT("sched_process_fork", sched_process_fork),
	EVENT("irq_handler_entry", irq_handler_entry),
	EVENT("irq_handler_exit", irq_handler_exit),
	EVENT("irq_softirq_entry", softirq),
	EVENT("irq_softirq_exit", softirq),
	EVENT("lttng_statedump_network_interface", statedump_netif),
	EVENT("lttng_statedump_file_descriptor", statedump_fd),
};

const size_t sonde_lttng_kernel_event_count =
	sizeof(sonde_lttng_kernel_events) / sizeof(sonde_lttng_kernel_events[0]);

const struct sonde_lttng_kernel_event *
sonde_lttng_kernel_event(const char *name)
{
	size_t i;

	for (i = 0; i < sonde_lttng_kernel_event_count; i++)
		if (!strcmp(sonde_lttng_kernel_events[i].name, name))
			return &sonde_lttng_kernel_events[i];
	return NULL;
}
