/*
 * LTTng packet index files, `index/<stream>.idx` (ctf.md §1.10): a 16-byte
 * big-endian header and one fixed-size entry per packet.
 *
 * Policy: an index is an optional accelerator written by the tracer, and
 * the packets are the truth.  A missing, unreadable or inconsistent index
 * is ignored (the stream is read by walking its packet headers, as when no
 * index exists); stream_index_parse/check report why, for tools that want
 * to warn.
 */
#include "ctf/stream/stream.h"

#include <stdlib.h>
#include <string.h>

#define INDEX_MAGIC 0xC1F1DCC1u
#define INDEX_HEADER_LEN 16
#define INDEX_V10_ENTRY_LEN 56
#define INDEX_V11_ENTRY_LEN 72

static uint64_t be64(const uint8_t *p)
{
	uint64_t x = 0;
	int i;

	for (i = 0; i < 8; i++)
		x = (x << 8) | p[i];
	return x;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int stream_index_parse(const uint8_t *bytes, size_t len, const char *origin,
		       struct stream_index *out, struct sonde_error *err)
{
	uint32_t magic, major, minor, entry_len;
	size_t count, i;

	memset(out, 0, sizeof(*out));
	if (len < INDEX_HEADER_LEN)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s: index shorter than its header", origin);
	magic = be32(bytes);
	major = be32(bytes + 4);
	minor = be32(bytes + 8);
	entry_len = be32(bytes + 12);
	if (magic != INDEX_MAGIC)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s: invalid index magic 0x%08x", origin,
				       magic);
	if (major != 1)
		return sonde_error_set(err, SONDE_EUNSUPPORTED,
				       "%s: index version %u.%u is not supported",
				       origin, major, minor);
	/* Later minors may append fields; 1.0 has 7 fields, 1.1 has 9. */
	if (entry_len < INDEX_V10_ENTRY_LEN ||
	    (minor >= 1 && entry_len < INDEX_V11_ENTRY_LEN))
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s: index entry length %u is too small for version 1.%u",
				       origin, entry_len, minor);
	if ((len - INDEX_HEADER_LEN) % entry_len)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s: index size is not a whole number of entries",
				       origin);
	count = (len - INDEX_HEADER_LEN) / entry_len;
	out->minor = minor;
	if (!count)
		return 0;
	out->entries = calloc(count, sizeof(*out->entries));
	if (!out->entries)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	out->count = count;
	for (i = 0; i < count; i++) {
		const uint8_t *p = bytes + INDEX_HEADER_LEN + i * entry_len;
		struct stream_index_entry *e = &out->entries[i];

		e->offset = be64(p);
		e->packet_size = be64(p + 8);
		e->content_size = be64(p + 16);
		e->timestamp_begin = be64(p + 24);
		e->timestamp_end = be64(p + 32);
		e->events_discarded = be64(p + 40);
		e->stream_id = be64(p + 48);
		if (minor >= 1) {
			e->stream_instance_id = be64(p + 56);
			e->packet_seq_num = be64(p + 64);
		}
	}
	return 0;
}

int stream_index_check(const struct stream_index *idx, uint64_t file_size,
		       const char *origin, struct sonde_error *err)
{
	uint64_t expect = 0;
	size_t i;

	for (i = 0; i < idx->count; i++) {
		const struct stream_index_entry *e = &idx->entries[i];

		if (e->offset != expect)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "%s: index entry %zu: packet offset %llu, expected %llu",
					       origin, i,
					       (unsigned long long)e->offset,
					       (unsigned long long)expect);
		if (e->packet_size == 0 || e->packet_size % 8 ||
		    e->content_size > e->packet_size ||
		    e->packet_size / 8 > file_size - e->offset)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "%s: index entry %zu: invalid sizes (content %llu, packet %llu bits)",
					       origin, i,
					       (unsigned long long)e->content_size,
					       (unsigned long long)e->packet_size);
		if (i && e->timestamp_begin < idx->entries[i - 1].timestamp_begin)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "%s: index entry %zu: timestamps go backwards",
					       origin, i);
		expect = e->offset + e->packet_size / 8;
	}
	if (idx->count && expect != file_size)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s: index covers %llu bytes of a %llu-byte stream",
				       origin, (unsigned long long)expect,
				       (unsigned long long)file_size);
	return 0;
}

void stream_index_fini(struct stream_index *idx)
{
	free(idx->entries);
	memset(idx, 0, sizeof(*idx));
}
