/*
 * Packet header/context and index entries, written in place in memory the
 * caller owns (a ring-buffer sub-buffer, a file mapping, a heap buffer).
 */
#include "sonde/ctf-writer.h"

#include <inttypes.h>

static void patch_u64(struct sonde_ctfw_cursor *c, size_t at, uint64_t v)
{
	size_t saved = c->pos;

	c->pos = at;
	sonde_ctfw_put_u64(c, v);
	c->pos = saved;
}

void sonde_ctfw_packet_begin(struct sonde_ctfw_cursor *c,
			     const uint8_t uuid[16],
			     const struct sonde_ctfw_packet_info *info)
{
	c->pos = 0;
	c->overflow = false;
	sonde_ctfw_put_u32(c, SONDE_CTFW_PACKET_MAGIC);
	sonde_ctfw_put_bytes(c, uuid, 16);
	sonde_ctfw_put_u32(c, info->stream_id);
	sonde_ctfw_put_u64(c, info->stream_instance_id);
	sonde_ctfw_put_u64(c, info->timestamp_begin);
	sonde_ctfw_put_u64(c, info->timestamp_end);
	sonde_ctfw_put_u64(c, info->content_size * 8);
	sonde_ctfw_put_u64(c, info->packet_size * 8);
	sonde_ctfw_put_u64(c, info->packet_seq_num);
	sonde_ctfw_put_u64(c, info->events_discarded);
	sonde_ctfw_put_u32(c, info->cpu_id);
}

int sonde_ctfw_packet_finish(struct sonde_ctfw_cursor *c,
			     const struct sonde_ctfw_packet_info *info,
			     struct sonde_error *err)
{
	uint64_t content = info->content_size ? info->content_size : c->pos;

	if (c->overflow)
		return sonde_error_set(
			err, SONDE_EINVAL,
			"packet: content overflowed the packet buffer");
	if (content < SONDE_CTFW_PKT_HEADER_SIZE ||
	    info->packet_size < content || info->packet_size > c->limit)
		return sonde_error_set(err, SONDE_EINVAL,
				       "packet: bad sizes (content %" PRIu64
				       ", packet %" PRIu64
				       ", buffer %zu bytes)",
				       content, info->packet_size, c->limit);
	patch_u64(c, SONDE_CTFW_PKT_TIMESTAMP_END, info->timestamp_end);
	patch_u64(c, SONDE_CTFW_PKT_CONTENT_SIZE, content * 8);
	patch_u64(c, SONDE_CTFW_PKT_PACKET_SIZE, info->packet_size * 8);
	patch_u64(c, SONDE_CTFW_PKT_SEQ_NUM, info->packet_seq_num);
	patch_u64(c, SONDE_CTFW_PKT_EVENTS_DISCARDED, info->events_discarded);
	memset(c->packet + content, 0, info->packet_size - content);
	return 0;
}

static void put_be64_at(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void put_be32_at(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void sonde_ctfw_index_header(uint8_t out[SONDE_CTFW_INDEX_HEADER_SIZE])
{
	put_be32_at(out, SONDE_CTFW_INDEX_MAGIC);
	put_be32_at(out + 4, 1);
	put_be32_at(out + 8, 1);
	put_be32_at(out + 12, SONDE_CTFW_INDEX_ENTRY_SIZE);
}

void sonde_ctfw_index_entry(uint8_t out[SONDE_CTFW_INDEX_ENTRY_SIZE],
			    uint64_t offset,
			    const struct sonde_ctfw_packet_info *info)
{
	put_be64_at(out, offset);
	put_be64_at(out + 8, info->packet_size * 8);
	put_be64_at(out + 16, info->content_size * 8);
	put_be64_at(out + 24, info->timestamp_begin);
	put_be64_at(out + 32, info->timestamp_end);
	put_be64_at(out + 40, info->events_discarded);
	put_be64_at(out + 48, info->stream_id);
	put_be64_at(out + 56, info->stream_instance_id);
	put_be64_at(out + 64, info->packet_seq_num);
}
