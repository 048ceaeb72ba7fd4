/*
 * Metadata file bytes -> TSDL text (ctf.md §1.2): plain text starting with
 * the "/ * CTF 1.8" signature, or a sequence of 37-byte-header packets whose
 * text parts are concatenated (text is split at arbitrary bytes).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctf/metadata/metadata-internal.h"

#define MD_PACKET_MAGIC 0x75D11D57u
#define MD_PACKET_HEADER_SIZE 37

struct md_packet_info {
	bool packetized;
	uint8_t byte_order;
	uint8_t uuid[16];
};

static uint32_t read_u32(const uint8_t *p, bool be)
{
	if (be)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		       (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}

/* "/ * CTF 1.8" then anything but a digit or '.'. */
static int check_signature(const uint8_t *b, size_t len, const char *origin,
			   struct sonde_error *err)
{
	static const char sig[] = "/* CTF ";
	size_t i = sizeof(sig) - 1;
	uint64_t major = 0, minor = 0;
	unsigned nmaj = 0, nmin = 0;

	if (len < i || memcmp(b, sig, i))
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s: not CTF metadata (no \"/* CTF 1.8\" signature and no packet magic)",
				       origin);
	for (; i < len && b[i] >= '0' && b[i] <= '9' && nmaj < 10; i++, nmaj++)
		major = major * 10 + (b[i] - '0');
	if (i < len && b[i] == '.') {
		for (i++; i < len && b[i] >= '0' && b[i] <= '9' && nmin < 10; i++, nmin++)
			minor = minor * 10 + (b[i] - '0');
	}
	if (!nmaj || !nmin || (i < len && ((b[i] >= '0' && b[i] <= '9') || b[i] == '.')))
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s:1: malformed version in the \"/* CTF\" signature",
				       origin);
	if (major != 1 || minor != 8)
		return sonde_error_set(err, SONDE_EUNSUPPORTED,
				       "%s:1: unsupported CTF version %" PRIu64 ".%" PRIu64
				       " (only 1.8)", origin, major, minor);
	return 0;
}

static int depacketize(const uint8_t *b, size_t len, const char *origin,
		       char **text, size_t *text_len, struct md_packet_info *info,
		       struct sonde_error *err)
{
	size_t off = 0, n = 0, index = 0;
	bool be;
	char *out;

	memset(info, 0, sizeof(*info));
	if (len < 4 || (read_u32(b, false) != MD_PACKET_MAGIC &&
			read_u32(b, true) != MD_PACKET_MAGIC)) {
		int ret = check_signature(b, len, origin, err);

		if (ret)
			return ret;
		out = malloc(len + 1);
		if (!out)
			return sonde_error_set(err, SONDE_ENOMEM, "%s: out of memory", origin);
		memcpy(out, b, len);
		out[len] = '\0';
		*text = out;
		*text_len = len;
		return 0;
	}
	be = read_u32(b, true) == MD_PACKET_MAGIC;
	info->packetized = true;
	info->byte_order = be ? SONDE_CTF_BE : SONDE_CTF_LE;
	out = malloc(len + 1);       /* text is never longer than the file */
	if (!out)
		return sonde_error_set(err, SONDE_ENOMEM, "%s: out of memory", origin);
	while (off < len) {
		const uint8_t *h = b + off;
		uint32_t content, packet;
		const char *problem = NULL;

		if (len - off < MD_PACKET_HEADER_SIZE)
			problem = "truncated packet header";
		else if (read_u32(h, be) != MD_PACKET_MAGIC)
			problem = "bad magic (or byte order differs from the first packet)";
		else if (index && memcmp(h + 4, info->uuid, 16))
			problem = "UUID differs from the first packet's";
		else if (h[32] || h[33] || h[34])
			problem = "compressed, encrypted or checksummed metadata is not supported";
		else if (h[35] != 1 || h[36] != 8)
			problem = "unsupported version (only CTF 1.8)";
		if (!problem) {
			content = read_u32(h + 24, be);
			packet = read_u32(h + 28, be);
			if (content % 8 || packet % 8)
				problem = "content or packet size is not a whole number of bytes";
			else if (content / 8 < MD_PACKET_HEADER_SIZE)
				problem = "content size smaller than the packet header";
			else if (content > packet)
				problem = "content size larger than packet size";
			else if (packet / 8 > len - off)
				problem = "packet extends past the end of the file";
		}
		if (problem) {
			free(out);
			return sonde_error_set(err, SONDE_EFORMAT,
					       "%s: metadata packet %zu at offset %zu: %s",
					       origin, index, off, problem);
		}
		if (!index)
			memcpy(info->uuid, h + 4, 16);
		memcpy(out + n, h + MD_PACKET_HEADER_SIZE, content / 8 - MD_PACKET_HEADER_SIZE);
		n += content / 8 - MD_PACKET_HEADER_SIZE;
		off += packet / 8;
		index++;
	}
	out[n] = '\0';
	*text = out;
	*text_len = n;
	return 0;
}

int sonde_ctf_metadata_depacketize(const uint8_t *bytes, size_t len,
				   const char *origin, char **text,
				   size_t *text_len, struct sonde_error *err)
{
	struct md_packet_info info;

	if (!bytes && len)
		return sonde_error_set(err, SONDE_EINVAL, "%s: no metadata", origin);
	return depacketize(bytes ? bytes : (const uint8_t *)"", len,
			   origin ? origin : "metadata", text, text_len, &info, err);
}

int sonde_ctf_metadata_load(const uint8_t *bytes, size_t len, const char *origin,
			    struct sonde_ctf_trace_class **out, char **text,
			    size_t *text_len, struct sonde_error *err)
{
	struct sonde_ctf_trace_class *tc = NULL;
	struct md_packet_info info;
	char *t = NULL;
	size_t tl = 0;
	int ret;

	if (!origin)
		origin = "metadata";
	if (!bytes && len)
		return sonde_error_set(err, SONDE_EINVAL, "%s: no metadata", origin);
	ret = depacketize(bytes ? bytes : (const uint8_t *)"", len, origin, &t,
			  &tl, &info, err);
	if (ret)
		return ret;
	ret = sonde_ctf_metadata_parse(t, tl, origin, &tc, err);
	if (ret)
		goto fail;
	if (info.packetized && info.byte_order != tc->byte_order) {
		ret = sonde_error_set(err, SONDE_EFORMAT,
				      "%s: metadata packets are %s-endian but the trace's byte_order is %s",
				      origin, info.byte_order == SONDE_CTF_BE ? "big" : "little",
				      tc->byte_order == SONDE_CTF_BE ? "be" : "le");
		goto fail;
	}
	if (info.packetized && tc->has_uuid && memcmp(info.uuid, tc->uuid, 16)) {
		ret = sonde_error_set(err, SONDE_EFORMAT,
				      "%s: metadata packet UUID differs from the trace's uuid",
				      origin);
		goto fail;
	}
	*out = tc;
	if (text) {
		*text = t;
		if (text_len)
			*text_len = tl;
	} else {
		free(t);
	}
	return 0;
fail:
	sonde_ctf_trace_class_free(tc);
	free(t);
	return ret;
}
