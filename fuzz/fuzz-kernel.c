/*
 * Fuzzes libsonde-kernel's parsers of kernel output: the input is parsed
 * as a tracefs `format` file, then walked as a ring-buffer sub-buffer
 * from trace_pipe_raw whose events are mapped to lttng-modules events
 * (a fixed set of formats with text arrays, __data_loc strings and
 * bytes, pointers and odd-sized fields) and encoded into a CTF packet.
 * It is also parsed as a /proc stat line for the statedump.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel-internal.h"

static const char *const formats[] = {
	"name: sched_switch\nID: 1\nformat:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
	"\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
	"\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
	"\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n",
	"name: sched_process_exec\nID: 2\nformat:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n"
	"\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;\n",
	"name: odd\nID: 3\nformat:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\tfield:__data_loc u8[] blob;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:__rel_loc char[] rel;\toffset:12;\tsize:4;\tsigned:0;\n"
	"\tfield:void * ptr;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:u16 arr[3];\toffset:24;\tsize:6;\tsigned:0;\n"
	"\tfield:u8 mac[6];\toffset:30;\tsize:6;\tsigned:0;\n"
	"\tfield:char rwbs[10];\toffset:36;\tsize:10;\tsigned:0;\n",
	"name: block_rq_issue\nID: 4\nformat:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\tfield:dev_t dev;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:char rwbs[10];\toffset:12;\tsize:10;\tsigned:0;\n",
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static struct kmap_event *maps[NFORMATS + 1];

static void setup(void)
{
	static const char *const systems[NFORMATS] = { "sched", "sched", "x",
						       "block" };
	size_t i;

	for (i = 0; i < NFORMATS; i++) {
		struct kfmt_event ev;

		if (kfmt_parse(formats[i], strlen(formats[i]), systems[i],
			       "fuzz", &ev, NULL))
			abort();
		if (kmap_compile(&ev, &maps[ev.id], NULL))
			abort();
		kfmt_event_release(&ev);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[1 << 16];
	struct kfmt_event ev;
	struct kpage_iter it;
	struct kpage_event kev;
	struct kstatedump_stat st;
	char *text;

	if (!maps[1])
		setup();
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (kstatedump_parse_stat(text, &st) == 0 && strlen(st.comm) > 16)
		abort();
	if (kfmt_parse(text, size, "fuzz", "fuzz", &ev, NULL) == 0) {
		struct kmap_event *m;

		if (kmap_compile(&ev, &m, NULL) == 0) {
			struct sonde_ctfw_cursor c;

			sonde_ctfw_cursor_init(&c, out, sizeof(out),
					       SONDE_CTF_LE);
			kmap_encode(m, data, (uint32_t)(size < 65536 ? size : 65536),
				    &c);
			kmap_free(m);
		}
		kfmt_event_release(&ev);
	}
	free(text);

	if (kpage_iter_init(&it, data, size, NULL))
		return 0;
	while (kpage_iter_next(&it, &kev, NULL) == 1) {
		uint16_t type;
		struct sonde_ctfw_cursor c;

		if (kev.len < 8)
			continue;
		memcpy(&type, kev.payload, 2);
		if (type > NFORMATS || !maps[type])
			continue;
		if (kmap_payload_max(maps[type], kev.len) > sizeof(out))
			abort();
		sonde_ctfw_cursor_init(&c, out, sizeof(out), SONDE_CTF_LE);
		kmap_encode(maps[type], kev.payload, kev.len, &c);
		if (c.overflow || c.pos > kmap_payload_max(maps[type], kev.len))
			abort(); /* the bound the sink relies on */
	}
	return 0;
}
