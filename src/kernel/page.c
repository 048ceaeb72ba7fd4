/*
 * One ring-buffer sub-buffer as read from per_cpu/cpuN/trace_pipe_raw
 * (layout from events/header_page and events/header_event, x86-64):
 *
 *   u64 timestamp   time of the first record (trace_clock units)
 *   u64 commit      bytes of record data; bit 31 RB_MISSED_EVENTS, bit 30
 *                   RB_MISSED_STORED (then a long lost count follows the
 *                   data, if it fit)
 *   records         u32 { type_len:5, time_delta:27 } then:
 *                     1..28  payload of type_len * 4 bytes
 *                     0      u32 array[0] = payload + 4, then the payload
 *                     29     padding: delta 0 = rest of page empty, else a
 *                            discarded record of array[0] + 4 bytes whose
 *                            delta does not count
 *                     30     time extend: ts += array[0] << 27 | delta
 *                     31     absolute time: low 59 bits of the timestamp
 */
#include <string.h>

#include "kernel/kernel-internal.h"

int kpage_iter_init(struct kpage_iter *it, const uint8_t *page, size_t len,
		    struct sonde_error *err)
{
	uint64_t commit;

	memset(it, 0, sizeof(*it));
	if (len < KPAGE_HEADER_SIZE)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "ring-buffer page: %zu bytes, shorter "
				       "than its header", len);
	memcpy(&it->ts, page, 8);
	memcpy(&commit, page + 8, 8);
	it->page = page;
	it->commit = (uint32_t)(commit & KPAGE_COMMIT_MASK);
	it->missed = (commit & KPAGE_MISSED_EVENTS) != 0;
	it->missed_count = -1;
	if (it->commit > len - KPAGE_HEADER_SIZE)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "ring-buffer page: commit %u beyond "
				       "the %zu bytes read", it->commit, len);
	if ((commit & KPAGE_MISSED_STORED) &&
	    len - KPAGE_HEADER_SIZE - it->commit >= 8) {
		int64_t n;

		memcpy(&n, page + KPAGE_HEADER_SIZE + it->commit, 8);
		if (n >= 0)
			it->missed_count = n;
	}
	return 0;
}

static uint32_t word(const struct kpage_iter *it, uint32_t off)
{
	uint32_t v;

	memcpy(&v, it->page + KPAGE_HEADER_SIZE + off, 4);
	return v;
}

int kpage_iter_next(struct kpage_iter *it, struct kpage_event *ev,
		    struct sonde_error *err)
{
	while (it->off + 4 <= it->commit) {
		uint32_t hdr = word(it, it->off);
		uint32_t type_len = hdr & 31, delta = hdr >> 5;
		uint32_t avail = it->commit - it->off, size, arr = 0;

		if (type_len == 0 || type_len >= 29) {
			if (avail < 8) {
				if (type_len == 29 && delta == 0)
					break;
				goto bad;
			}
			arr = word(it, it->off + 4);
		}
		switch (type_len) {
		case 29:
			if (delta == 0) { /* the rest of the page is empty */
				it->off = it->commit;
				return 0;
			}
			if (arr > avail - 4 || arr < 4)
				goto bad;
			it->off += arr + 4;
			continue;
		case 30:
			it->ts += ((uint64_t)arr << 27) + delta;
			it->off += 8;
			continue;
		case 31:
			it->ts = (it->ts & ~((1ull << 59) - 1)) |
				 ((uint64_t)arr << 27 | delta);
			it->off += 8;
			continue;
		case 0:
			if (arr < 4 || arr > avail - 4)
				goto bad;
			size = arr + 4;
			ev->payload = it->page + KPAGE_HEADER_SIZE + it->off + 8;
			ev->len = arr - 4;
			break;
		default:
			size = 4 + type_len * 4;
			if (size > avail)
				goto bad;
			ev->payload = it->page + KPAGE_HEADER_SIZE + it->off + 4;
			ev->len = type_len * 4;
			break;
		}
		it->ts += delta;
		it->off += size;
		ev->ts = it->ts;
		return 1;
	}
	it->off = it->commit;
	return 0;
bad:
	return sonde_error_set(err, SONDE_EFORMAT,
			       "ring-buffer page: malformed record at data "
			       "offset %u (commit %u)", it->off, it->commit);
}
