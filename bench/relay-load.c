/*
 * Load generator for relay daemons (sonde-relayd or lttng-relayd): N
 * simulated LTTng 2.13 producers, one thread each, each with its control
 * and data connections, stream the packets of one CTF trace directory
 * (metadata, data streams and their index files, e.g. from sonde-gen)
 * ROUNDS times as a consumer daemon does: data packet on the data
 * connection, then its index on the control connection; at the end,
 * close their streams and wait until the relay holds all data
 * (data-pending), so that the run's time covers everything written.
 *
 * usage: relay-load HOST CONTROL_PORT DATA_PORT TRACE_DIR PRODUCERS ROUNDS
 * Prints "packets N", "bytes N", "seconds S" on stdout.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/be.h"
#include "relay/relay-proto.h"

#define STREAMS_MAX 64

struct packet {
	uint64_t offset, size;          /* bytes in the stream file */
	uint8_t entry[72];              /* its .idx entry */
};

struct stream_src {
	char name[256];
	uint8_t *data;
	struct packet *packets;
	size_t npackets;
};

struct source {
	uint8_t *metadata;
	size_t metadata_len;
	struct stream_src streams[STREAMS_MAX];
	int nstreams;
};

struct producer {
	int id;
	const struct source *src;
	struct sockaddr_in control, data;
	int rounds;
	int failed;
	char why[256];
};

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	struct stat st;

	if (!f)
		return NULL;
	if (!fstat(fileno(f), &st) && (buf = malloc((size_t)st.st_size + 1)) &&
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		buf = NULL;
	}
	*len = (size_t)st.st_size;
	fclose(f);
	return buf;
}

static int load_source(const char *dir, struct source *src)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);

	snprintf(path, sizeof(path), "%s/metadata", dir);
	src->metadata = read_file(path, &src->metadata_len);
	if (!d || !src->metadata)
		return -1;
	while ((de = readdir(d)) && src->nstreams < STREAMS_MAX) {
		struct stream_src *s = &src->streams[src->nstreams];
		uint8_t *idx;
		size_t len, idx_len, esize;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "metadata") ||
		    !strcmp(de->d_name, "index"))
			continue;
		snprintf(path, sizeof(path), "%s/index/%s.idx", dir, de->d_name);
		idx = read_file(path, &idx_len);
		if (!idx || idx_len < 16)
			continue;
		esize = (size_t)idx[15] | (size_t)idx[14] << 8;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		s->data = read_file(path, &len);
		s->npackets = (idx_len - 16) / esize;
		s->packets = calloc(s->npackets, sizeof(*s->packets));
		if (!s->data || !s->packets)
			return -1;
		for (size_t k = 0; k < s->npackets; k++) {
			const uint8_t *e = idx + 16 + k * esize;

			memcpy(s->packets[k].entry, e, esize < 72 ? esize : 72);
			s->packets[k].offset = be_get64(e);
			s->packets[k].size = be_get64(e + 8) / 8;
			if (s->packets[k].offset + s->packets[k].size > len)
				return -1;
		}
		snprintf(s->name, sizeof(s->name), "%s", de->d_name);
		free(idx);
		src->nstreams++;
	}
	closedir(d);
	return src->nstreams ? 0 : -1;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Sends a request and reads its whole reply. */
static int call(int fd, const struct sonde_relay_request *req,
		struct sonde_relay_reply *reply)
{
	uint8_t buf[SONDE_RELAY_MESSAGE_MAX];
	struct sonde_error err;
	size_t n = sonde_relay_request_encode(SONDE_RELAY_MINOR, req, buf), have, want;

	if (!n || send_all(fd, buf, n))
		return -1;
	have = 0;
	while ((want = sonde_relay_reply_wire_size(SONDE_RELAY_MINOR, req->cmd, buf,
						   have)) > have) {
		if (recv_all(fd, buf + have, want - have))
			return -1;
		have = want;
	}
	return want ? sonde_relay_reply_decode(SONDE_RELAY_MINOR, req->cmd, buf,
					       have, reply, &err) : 0;
}

static int connect_to(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr))) {
		close(fd);
		return -1;
	}
	return fd;
}

#define FAIL(what) do { snprintf(p->why, sizeof(p->why), "%s", what); goto out; } while (0)

static void *produce(void *arg)
{
	struct producer *p = arg;
	const struct source *src = p->src;
	static struct sonde_relay_request zero;
	struct sonde_relay_request *req = malloc(sizeof(*req));
	struct sonde_relay_reply *reply = malloc(sizeof(*reply));
	uint64_t handles[STREAMS_MAX], seq[STREAMS_MAX] = { 0 }, meta = 0, pending;
	int c = connect_to(&p->control), d = connect_to(&p->data);

	p->failed = 1;
	if (!req || !reply || c < 0 || d < 0)
		FAIL("connect");
	*req = zero;
	req->cmd = SONDE_RELAY_VERSION;
	req->u.version.major = 2;
	req->u.version.minor = SONDE_RELAY_MINOR;
	if (call(c, req, reply) || reply->minor < SONDE_RELAY_MINOR)
		FAIL("version");
	*req = zero;
	req->cmd = SONDE_RELAY_CREATE_SESSION;
	snprintf(req->u.create_session.session_name, 64, "load-%d", p->id);
	snprintf(req->u.create_session.hostname, 64, "relay-load");
	/* One session daemon per producer, as on 100 machines. */
	memset(req->u.create_session.sessiond_uuid, 0x42, 16);
	memcpy(req->u.create_session.sessiond_uuid, &p->id, sizeof(p->id));
	req->u.create_session.session_id = (uint64_t)p->id;
	req->u.create_session.creation_time = (uint64_t)time(NULL);
	if (call(c, req, reply) || reply->ret_code != SONDE_RELAY_RET_OK)
		FAIL("create-session");
	*req = zero;
	req->cmd = SONDE_RELAY_CREATE_TRACE_CHUNK;
	req->u.create_chunk.creation_time = (uint64_t)time(NULL);
	if (call(c, req, reply) || reply->ret_code != SONDE_RELAY_RET_OK)
		FAIL("create-trace-chunk");
	for (int i = 0; i <= src->nstreams; i++) {
		*req = zero;
		req->cmd = SONDE_RELAY_ADD_STREAM;
		snprintf(req->u.add_stream.channel_name, 64, "%s",
			 i < src->nstreams ? src->streams[i].name : "metadata");
		snprintf(req->u.add_stream.pathname, 64, "ust/uid/0/64-bit");
		if (call(c, req, reply) || reply->ret_code != SONDE_RELAY_RET_OK)
			FAIL("add-stream");
		if (i < src->nstreams)
			handles[i] = reply->id;
		else
			meta = reply->id;
	}
	*req = zero;
	req->cmd = SONDE_RELAY_STREAMS_SENT;
	if (call(c, req, reply))
		FAIL("streams-sent");
	*req = zero;
	req->cmd = SONDE_RELAY_SEND_METADATA;
	req->u.metadata.stream_id = meta;
	req->u.metadata.len = src->metadata_len;
	if (call(c, req, reply) || send_all(c, src->metadata, src->metadata_len))
		FAIL("send-metadata");
	for (int r = 0; r < p->rounds; r++) {
		for (size_t k = 0; ; k++) {
			int sent = 0;

			for (int i = 0; i < src->nstreams; i++) {
				const struct stream_src *s = &src->streams[i];
				struct sonde_relay_data_header h = { 0 };
				uint8_t hdr[SONDE_RELAY_DATA_HEADER_SIZE];
				const struct packet *pk;

				if (k >= s->npackets)
					continue;
				pk = &s->packets[k];
				h.stream_id = handles[i];
				h.net_seq_num = seq[i];
				h.data_size = (uint32_t)pk->size;
				sonde_relay_data_header_encode(&h, hdr);
				if (send_all(d, hdr, sizeof(hdr)) ||
				    send_all(d, s->data + pk->offset, pk->size))
					FAIL("data");
				*req = zero;
				req->cmd = SONDE_RELAY_SEND_INDEX;
				req->u.index.relay_stream_id = handles[i];
				req->u.index.net_seq_num = seq[i]++;
				req->u.index.packet_size = be_get64(pk->entry + 8);
				req->u.index.content_size = be_get64(pk->entry + 16);
				req->u.index.timestamp_begin = be_get64(pk->entry + 24);
				req->u.index.timestamp_end = be_get64(pk->entry + 32);
				req->u.index.events_discarded = be_get64(pk->entry + 40);
				req->u.index.stream_id = be_get64(pk->entry + 48);
				req->u.index.stream_instance_id = be_get64(pk->entry + 56);
				req->u.index.packet_seq_num = seq[i] - 1;
				if (call(c, req, reply) || reply->ret_code != SONDE_RELAY_RET_OK)
					FAIL("send-index");
				sent++;
			}
			if (!sent)
				break;
		}
	}
	/* Wait until the relay holds every packet, as lttng stop does. */
	do {
		pending = 0;
		for (int i = 0; i < src->nstreams; i++) {
			*req = zero;
			req->cmd = SONDE_RELAY_DATA_PENDING;
			req->u.stream_seq.stream_id = handles[i];
			req->u.stream_seq.last_net_seq_num = seq[i] - 1;
			if (call(c, req, reply))
				FAIL("data-pending");
			pending |= reply->ret_code;
		}
		/* lttng stop polls every 200 ms; a tight loop would starve a
		 * relay that serves control before data (lttng-relayd). */
		if (pending)
			usleep(20000);
	} while (pending);
	for (int i = 0; i < src->nstreams; i++) {
		*req = zero;
		req->cmd = SONDE_RELAY_CLOSE_STREAM;
		req->u.stream_seq.stream_id = handles[i];
		req->u.stream_seq.last_net_seq_num = seq[i] - 1;
		if (call(c, req, reply))
			FAIL("close-stream");
	}
	p->failed = 0;
out:
	if (c >= 0)
		close(c);
	if (d >= 0)
		close(d);
	free(req);
	free(reply);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct source src;
	struct producer *prods;
	pthread_t *threads;
	struct timespec t0, t1;
	uint64_t packets = 0, bytes = 0;
	int n, rounds, failed = 0;

	if (argc != 7) {
		fprintf(stderr, "usage: relay-load HOST CONTROL DATA TRACE_DIR PRODUCERS ROUNDS\n");
		return 2;
	}
	n = atoi(argv[5]);
	rounds = atoi(argv[6]);
	if (n <= 0 || rounds <= 0 || load_source(argv[4], &src)) {
		fprintf(stderr, "relay-load: error: %s: not a trace directory with index files\n",
			argv[4]);
		return 2;
	}
	prods = calloc((size_t)n, sizeof(*prods));
	threads = calloc((size_t)n, sizeof(*threads));
	if (!prods || !threads)
		return 1;
	for (int i = 0; i < n; i++) {
		prods[i].id = i;
		prods[i].src = &src;
		prods[i].rounds = rounds;
		prods[i].control.sin_family = prods[i].data.sin_family = AF_INET;
		inet_pton(AF_INET, argv[1], &prods[i].control.sin_addr);
		prods[i].data.sin_addr = prods[i].control.sin_addr;
		prods[i].control.sin_port = htons((uint16_t)atoi(argv[2]));
		prods[i].data.sin_port = htons((uint16_t)atoi(argv[3]));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, produce, &prods[i]);
	for (int i = 0; i < n; i++) {
		pthread_join(threads[i], NULL);
		if (prods[i].failed) {
			fprintf(stderr, "relay-load: producer %d: %s failed\n", i,
				prods[i].why);
			failed++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < src.nstreams; i++)
		for (size_t k = 0; k < src.streams[i].npackets; k++) {
			packets++;
			bytes += src.streams[i].packets[k].size;
		}
	printf("packets %llu\nbytes %llu\nseconds %.3f\n",
	       (unsigned long long)(packets * (uint64_t)n * (uint64_t)rounds),
	       (unsigned long long)(bytes * (uint64_t)n * (uint64_t)rounds),
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return failed ? 1 : 0;
}
