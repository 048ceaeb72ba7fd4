/*
 * Fuzzes sonde-relayd's live server (src/relay/viewer.c): the viewer
 * commands a relay decodes and answers, over a relay core holding one
 * live session (a data_conn stream with one packet and index, and its
 * metadata) built once at start-up.  Input: a run of live commands, each
 * a 16-byte header and the payload its command fixes.  Any input must be
 * answered or refused with a one-line error, never crash or leak.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live/live-proto.h"
#include "relay/relay.h"

static struct relay_core *core;
static struct relay_producer *control, *data_conn;
static char dir[] = "/tmp/sonde-fuzz-relay-XXXXXX";

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

static void check_error(const struct sonde_error *err)
{
	if (!memchr(err->msg, '\0', sizeof(err->msg)) || strchr(err->msg, '\n') ||
	    !err->msg[0])
		abort();
}

static void command(struct relay_producer *p, const struct sonde_relay_request *req)
{
	static uint8_t buf[SONDE_RELAY_MESSAGE_MAX];
	struct sonde_error err = { 0 };
	struct relay_out out;
	size_t n = sonde_relay_request_encode(SONDE_RELAY_MINOR, req, buf);

	relay_out_init(&out);
	if (!n || relay_control_command(p, req->cmd, buf + SONDE_RELAY_HEADER_SIZE,
					n - SONDE_RELAY_HEADER_SIZE, &out, &err))
		abort();
	relay_out_release(&out);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	relay_producer_free(data_conn);
	relay_producer_free(control);
	relay_core_free(core);
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* One live session: stream 1 (channel0_0, one 4 KiB packet), stream 2
 * (metadata).  The producers stay connected for the whole run. */
static void build_session(void)
{
	static struct sonde_relay_request req;
	static uint8_t packet[4096];
	struct sonde_relay_data_header h = { .stream_id = 1, .data_size = 4000,
					     .padding_size = 96 };
	struct sonde_error err = { 0 };

	control = relay_producer_new(core, false, "fuzz");
	data_conn = relay_producer_new(core, true, "fuzz");
	req = (struct sonde_relay_request){ .cmd = SONDE_RELAY_VERSION,
					    .u.version = { 2, 13 } };
	command(control, &req);
	req = (struct sonde_relay_request){ .cmd = SONDE_RELAY_CREATE_SESSION };
	strcpy(req.u.create_session.session_name, "fuzz");
	strcpy(req.u.create_session.hostname, "host");
	req.u.create_session.live_timer = 100000;
	memset(req.u.create_session.sessiond_uuid, 1, 16);
	command(control, &req);
	req = (struct sonde_relay_request){ .cmd = SONDE_RELAY_CREATE_TRACE_CHUNK };
	command(control, &req);
	req = (struct sonde_relay_request){ .cmd = SONDE_RELAY_ADD_STREAM };
	strcpy(req.u.add_stream.channel_name, "channel0_0");
	strcpy(req.u.add_stream.pathname, "ust/uid/0/64-bit");
	command(control, &req);
	strcpy(req.u.add_stream.channel_name, "metadata");
	command(control, &req);
	req = (struct sonde_relay_request){ .cmd = SONDE_RELAY_STREAMS_SENT };
	command(control, &req);
	if (!control || !data_conn || relay_metadata_begin(control, 2, 0, 64, &err) ||
	    relay_payload_write(control, packet, 64, &err) ||
	    relay_payload_end(control, &err) || relay_data_begin(data_conn, &h, &err) ||
	    relay_payload_write(data_conn, packet, 4000, &err) ||
	    relay_payload_end(data_conn, &err))
		abort();
	req = (struct sonde_relay_request){ .cmd = SONDE_RELAY_SEND_INDEX };
	req.u.index = (struct sonde_relay_index){ .relay_stream_id = 1,
		.packet_size = 4096 * 8, .content_size = 4000 * 8,
		.timestamp_begin = 1, .timestamp_end = 2 };
	command(control, &req);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct relay_config cfg = { .log = quiet };
	struct sonde_error err = { 0 };

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	cfg.output_dir = dir;
	if (relay_core_new(&cfg, &core, &err))
		abort();
	atexit(cleanup);
	build_session();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_viewer *v = relay_viewer_new(core);
	struct sonde_error err = { 0 };
	struct relay_out out;

	relay_out_init(&out);
	while (size >= SONDE_LIVE_HEADER_SIZE) {
		uint32_t cmd;
		long len;

		if (sonde_live_header_decode(data, SONDE_LIVE_HEADER_SIZE, &cmd, &err)) {
			check_error(&err);
			break;
		}
		len = sonde_live_payload_size(cmd);
		data += SONDE_LIVE_HEADER_SIZE;
		size -= SONDE_LIVE_HEADER_SIZE;
		if ((size_t)len > size)
			break;
		if (relay_viewer_command(v, cmd, data, (size_t)len, &out, &err)) {
			check_error(&err);
			break;
		}
		if (out.file_fd >= 0 && out.file_len == 0)
			abort();   /* a file tail is never empty */
		relay_out_reset(&out);
		data += len;
		size -= (size_t)len;
	}
	relay_out_release(&out);
	relay_viewer_free(v);
	return 0;
}
