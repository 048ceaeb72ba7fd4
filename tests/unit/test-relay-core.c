/*
 * sonde-relayd's core (src/relay/relay.h) in-process: which names a
 * producer may use, packets paired with their indexes in either order,
 * data pending, beacons, and what a live viewer is answered (RETRY,
 * INACTIVE, OK, HUP) while a session streams and after its producer dies.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/be.h"
#include "live/live-proto.h"
#include "relay/relay.h"
#include "tap.h"

static struct relay_core *core;
static struct relay_out out;
static struct sonde_error err;

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

static void test_names(void)
{
	ok(relay_name_ok("host.example.org"), "an FQDN is a name");
	ok(relay_name_ok("channel0_1"), "a stream file name");
	ok(!relay_name_ok(""), "empty refused");
	ok(!relay_name_ok(".."), "'..' refused");
	ok(!relay_name_ok(".hidden"), "leading dot refused");
	ok(!relay_name_ok("a/b"), "slash refused");
	ok(relay_path_ok("ust/uid/1000/64-bit"), "a stream directory");
	ok(relay_path_ok("ust/pid/app-42-20260101-000000"), "a per-PID directory");
	ok(!relay_path_ok("/etc"), "absolute path refused");
	ok(!relay_path_ok("ust/../../x"), "'..' component refused");
	ok(!relay_path_ok("ust//x"), "empty component refused");
	ok(!relay_path_ok("ust/"), "trailing slash refused");
	ok(!relay_path_ok("./x"), "'.' component refused");
}

/* Runs one control command, returns its first reply word. */
static uint32_t control(struct relay_producer *p, const struct sonde_relay_request *req,
			int *ret)
{
	static uint8_t buf[SONDE_RELAY_MESSAGE_MAX];
	size_t n = sonde_relay_request_encode(SONDE_RELAY_MINOR, req, buf);

	relay_out_reset(&out);
	*ret = relay_control_command(p, req->cmd, buf + SONDE_RELAY_HEADER_SIZE,
				     n - SONDE_RELAY_HEADER_SIZE, &out, &err);
	return out.len >= 4 ? be_get32(out.buf) : UINT32_MAX;
}

static uint64_t add_stream(struct relay_producer *p, const char *name)
{
	struct sonde_relay_request req = { .cmd = SONDE_RELAY_ADD_STREAM };
	int ret;

	snprintf(req.u.add_stream.channel_name, 32, "%s", name);
	snprintf(req.u.add_stream.pathname, 32, "ust/uid/0/64-bit");
	control(p, &req, &ret);
	return ret || out.len != 12 ? 0 : be_get64(out.buf);
}

static int send_index(struct relay_producer *p, uint64_t handle, uint64_t seq,
		      uint64_t bits, uint64_t end)
{
	struct sonde_relay_request req = { .cmd = SONDE_RELAY_SEND_INDEX };
	int ret;

	req.u.index = (struct sonde_relay_index){ .relay_stream_id = handle,
		.net_seq_num = seq, .packet_size = bits, .content_size = bits,
		.timestamp_begin = end - 1, .timestamp_end = end, .stream_id = 3 };
	return control(p, &req, &ret) == SONDE_RELAY_RET_OK && !ret ? 0 : -1;
}

static int send_data(struct relay_producer *d, uint64_t handle, uint64_t seq)
{
	static const uint8_t packet[1024];
	struct sonde_relay_data_header h = { .stream_id = handle,
					     .net_seq_num = seq, .data_size = 1000,
					     .padding_size = 24 };

	return relay_data_begin(d, &h, &err) ||
	       relay_payload_write(d, packet, 1000, &err) ||
	       relay_payload_end(d, &err);
}

/* One live command; returns the reply's status word at `at`. */
static uint32_t live(struct relay_viewer *v, uint32_t cmd, const uint8_t *payload,
		     size_t len, size_t at)
{
	relay_out_reset(&out);
	if (relay_viewer_command(v, cmd, payload, len, &out, &err))
		return UINT32_MAX;
	return out.len >= at + 4 ? be_get32(out.buf + at) : UINT32_MAX;
}

static uint32_t next_index(struct relay_viewer *v, uint64_t id, uint64_t *ts_end)
{
	uint8_t p[8];
	uint32_t status;

	be_put64(p, id);
	status = live(v, SONDE_LIVE_CMD_GET_NEXT_INDEX, p, 8, 56);
	if (ts_end && out.len >= 40)
		*ts_end = be_get64(out.buf + 32);
	return status;
}

static off_t file_size(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) ? -1 : st.st_size;
}

static void test_session(const char *root)
{
	struct relay_producer *c = relay_producer_new(core, false, "test");
	struct relay_producer *d = relay_producer_new(core, true, "test");
	struct relay_viewer *v = relay_viewer_new(core);
	struct sonde_relay_request req = { .cmd = SONDE_RELAY_VERSION,
					   .u.version = { 2, 15 } };
	uint8_t payload[20];
	char dir[4096];
	uint64_t data_h, meta_h, ts = 0;
	int ret;

	control(c, &req, &ret);
	is_int(be_get32(out.buf + 4), SONDE_RELAY_MINOR, "the relay answers 2.13");
	req = (struct sonde_relay_request){ .cmd = SONDE_RELAY_CREATE_SESSION };
	strcpy(req.u.create_session.session_name, "s");
	strcpy(req.u.create_session.hostname, "h");
	strcpy(req.u.create_session.base_path, "custom/dir");
	req.u.create_session.live_timer = 100000;
	memset(req.u.create_session.sessiond_uuid, 7, 16);
	control(c, &req, &ret);
	ok(!ret && out.len > 16 && !strcmp((char *)out.buf + 16, "h/custom/dir"),
	   "a custom path goes to HOST/PATH");
	req = (struct sonde_relay_request){ .cmd = SONDE_RELAY_CREATE_TRACE_CHUNK };
	control(c, &req, &ret);
	data_h = add_stream(c, "chan_0");
	meta_h = add_stream(c, "metadata");
	ok(data_h && meta_h, "two streams added");
	req = (struct sonde_relay_request){ .cmd = SONDE_RELAY_STREAMS_SENT };
	control(c, &req, &ret);
	ok(!relay_metadata_begin(c, meta_h, 0, 3, &err) &&
	   !relay_payload_write(c, (const uint8_t *)"abc", 3, &err) &&
	   !relay_payload_end(c, &err), "metadata written");

	/* A viewer attached before the first packet. */
	memset(payload, 0, sizeof(payload));
	be_put64(payload, UINT64_MAX);
	be_put32(payload + 8, 2);
	be_put32(payload + 12, 4);
	be_put32(payload + 16, SONDE_LIVE_CLIENT_COMMAND);
	live(v, SONDE_LIVE_CMD_CONNECT, payload, 20, 0);
	live(v, SONDE_LIVE_CMD_CREATE_SESSION, NULL, 0, 0);
	memset(payload, 0, sizeof(payload));
	be_put64(payload, 1);
	be_put32(payload + 16, SONDE_LIVE_SEEK_LAST);
	is_int(live(v, SONDE_LIVE_CMD_ATTACH_SESSION, payload, 20, 0),
	       SONDE_LIVE_ATTACH_OK, "viewer attached");
	is_int(be_get32(out.buf + 4), 2, "with both streams");
	is_int(next_index(v, data_h, NULL), SONDE_LIVE_INDEX_RETRY,
	       "no packet, no beacon: RETRY");
	ok(be_get32(out.buf + 60) & SONDE_LIVE_FLAG_NEW_METADATA,
	   "and the unread metadata is flagged");
	ok(!send_index(c, data_h, 0, 0, 500), "a beacon");
	is_int(next_index(v, data_h, &ts), SONDE_LIVE_INDEX_INACTIVE,
	       "a beacon: INACTIVE");
	is_int(ts, 500, "at the beacon's time");

	/* Packet 0: data then index; packet 1: index then data. */
	ok(!send_data(d, data_h, 0), "packet 0 data");
	is_int(next_index(v, data_h, NULL), SONDE_LIVE_INDEX_INACTIVE,
	       "data without its index is not handed out");
	ok(!send_index(c, data_h, 0, 8192, 600), "packet 0 index");
	is_int(next_index(v, data_h, &ts), SONDE_LIVE_INDEX_OK, "then it is");
	is_int(ts, 600, "with its end time");
	ok(!send_index(c, data_h, 1, 8192, 700), "packet 1 index first");
	is_int(next_index(v, data_h, NULL), SONDE_LIVE_INDEX_RETRY,
	       "an index without its data is not handed out (and clears the beacon)");
	ok(!send_data(d, data_h, 1), "packet 1 data");
	is_int(next_index(v, data_h, NULL), SONDE_LIVE_INDEX_OK, "packet 1 served");

	memset(payload, 0, sizeof(payload));
	be_put64(payload, data_h);
	be_put64(payload + 8, 1024);
	be_put32(payload + 16, 1024);
	is_int(live(v, SONDE_LIVE_CMD_GET_PACKET, payload, 20, 0),
	       SONDE_LIVE_PACKET_OK, "GET_PACKET of packet 1");
	ok(out.file_len == 1024 && out.file_off == 1024, "sent from the file");
	be_put64(payload + 8, 1500);
	is_int(live(v, SONDE_LIVE_CMD_GET_PACKET, payload, 20, 0),
	       SONDE_LIVE_PACKET_ERR, "past the whole packets: ERR");

	req = (struct sonde_relay_request){ .cmd = SONDE_RELAY_DATA_PENDING };
	req.u.stream_seq.stream_id = data_h;
	req.u.stream_seq.last_net_seq_num = 2;
	is_int(control(c, &req, &ret), 1, "packet 2 pending");
	req.u.stream_seq.last_net_seq_num = 1;
	is_int(control(c, &req, &ret), 0, "packet 1 not pending");

	/* The producer dies with packet 2's data but not its index. */
	ok(!send_data(d, data_h, 2), "packet 2 data, no index");
	snprintf(dir, sizeof(dir), "%s/h/custom/dir/ust/uid/0/64-bit", root);
	is_int(file_size(dir, "chan_0"), 3072, "three packets on disk");
	relay_producer_free(c);
	relay_producer_free(d);
	is_int(file_size(dir, "chan_0"), 2048,
	       "the producer gone, the unindexed packet is cut off");
	is_int(file_size(dir, "index/chan_0.idx"), 16 + 2 * 72, "two index entries");
	is_int(next_index(v, data_h, NULL), SONDE_LIVE_INDEX_HUP,
	       "the viewer, at the end, gets HUP");
	is_int(next_index(v, data_h, NULL), SONDE_LIVE_INDEX_ERR, "then ERR");
	be_put64(payload, 1);
	is_int(live(v, SONDE_LIVE_CMD_GET_NEW_STREAMS, payload, 8, 0),
	       SONDE_LIVE_NEW_STREAMS_OK, "metadata still unread: not HUP yet");
	be_put64(payload, meta_h);
	is_int(live(v, SONDE_LIVE_CMD_GET_METADATA, payload, 8, 8),
	       SONDE_LIVE_METADATA_OK, "metadata served");
	is_int(be_get64(out.buf), 3, "all 3 bytes");
	be_put64(payload, 1);
	is_int(live(v, SONDE_LIVE_CMD_GET_NEW_STREAMS, payload, 8, 0),
	       SONDE_LIVE_NEW_STREAMS_HUP, "then the session is over: HUP");
	relay_viewer_free(v);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	char root[] = "/tmp/sonde-test-relay-XXXXXX";
	struct relay_config cfg = { .log = quiet };

	test_names();
	if (!mkdtemp(root))
		return 1;
	cfg.output_dir = root;
	relay_out_init(&out);
	if (relay_core_new(&cfg, &core, &err))
		return 1;
	test_session(root);
	relay_out_release(&out);
	relay_core_free(core);
	nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
