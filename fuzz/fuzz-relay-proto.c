/*
 * Fuzzes the relayd streaming protocol codec (src/relay/relay-proto.c),
 * the parser facing every producer that connects to sonde-relayd.  Input:
 * one byte of negotiated minor, then a control header and its payload
 * (also tried as a data header and as the reply to each command).  Any
 * input must decode or fail with a one-line error; what decodes and has
 * an encoding must encode to bytes that decode and encode the same again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/relay-proto.h"

static void check_error(const struct sonde_error *err)
{
	if (!memchr(err->msg, '\0', sizeof(err->msg)) || strchr(err->msg, '\n') ||
	    !err->msg[0])
		abort();
}

static uint8_t first[SONDE_RELAY_MESSAGE_MAX], second[SONDE_RELAY_MESSAGE_MAX];
static struct sonde_relay_request req, again;
static struct sonde_relay_reply reply;

static void fuzz_request(uint32_t minor, const uint8_t *data, size_t size)
{
	struct sonde_error err = { 0 };
	struct sonde_relay_header h;
	size_t n, m;

	if (sonde_relay_header_decode(data, size, &h, &err)) {
		check_error(&err);
		return;
	}
	data += SONDE_RELAY_HEADER_SIZE;
	size -= SONDE_RELAY_HEADER_SIZE;
	if (h.data_size < size)
		size = h.data_size;
	if (sonde_relay_request_decode(minor, h.cmd, data, size, &req, &err)) {
		check_error(&err);
		return;
	}
	if (req.cmd == SONDE_RELAY_ROTATE_STREAMS) {
		uint64_t id, seq;

		for (uint32_t i = 0; i < req.u.rotate.count; i++)
			sonde_relay_rotate_position(&req, i, &id, &seq);
	}
	n = sonde_relay_request_encode(minor, &req, first);
	if (!n)
		return;
	if (sonde_relay_request_decode(minor, h.cmd, first + SONDE_RELAY_HEADER_SIZE,
				       n - SONDE_RELAY_HEADER_SIZE, &again, &err)) {
		/* A tail (metadata bytes, positions) is not in `first`. */
		if (req.cmd != SONDE_RELAY_ROTATE_STREAMS || !req.u.rotate.count)
			abort();
		return;
	}
	if (req.cmd == SONDE_RELAY_SEND_METADATA)
		again.u.metadata.len = req.u.metadata.len;
	m = sonde_relay_request_encode(minor, &again, second);
	if (m != n || memcmp(first, second, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sonde_error err = { 0 };
	struct sonde_relay_data_header d;
	uint32_t minor;

	if (size < 1)
		return 0;
	minor = data[0];
	data++;
	size--;
	fuzz_request(minor, data, size);
	if (sonde_relay_data_header_decode(data, size, &d, &err))
		check_error(&err);
	for (uint32_t cmd = 1; cmd <= SONDE_RELAY_GET_CONFIGURATION; cmd++) {
		size_t want = sonde_relay_reply_wire_size(minor, cmd, data, size);

		if (want > SONDE_RELAY_MESSAGE_MAX)
			abort();
		if (want > size)
			continue;
		if (sonde_relay_reply_decode(minor, cmd, data, want, &reply, &err)) {
			check_error(&err);
			continue;
		}
		if (sonde_relay_reply_encode(minor, cmd, &reply, first) > SONDE_RELAY_MESSAGE_MAX)
			abort();
	}
	return 0;
}
