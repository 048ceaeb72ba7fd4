/* src/common/stream-file.c: appends reserve disk ahead, a trim gives it
 * back, and write errors come back as one-line errors. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/stream-file.h"
#include "tap.h"

static void test_append_trim(const char *path)
{
	struct sonde_stream_file f = { 0 };
	struct sonde_error err = { 0 };
	static char packet[64 * 1024];
	char back[sizeof(packet)];
	struct stat st;
	int i, ok_all = 1;

	f.fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok(f.fd >= 0, "temp file");
	for (i = 0; i < 40; i++) {
		memset(packet, 'a' + i % 26, sizeof(packet));
		if (sonde_stream_file_append(&f, packet, sizeof(packet),
					     "stream", &err))
			ok_all = 0;
	}
	ok(ok_all && f.size == 40 * sizeof(packet), "40 packets appended");
	ok(fstat(f.fd, &st) == 0 && st.st_size == (off_t)f.size,
	   "the file's size is its bytes, not what is reserved");
	if (!f.no_reserve)
		ok(f.reserved > f.size &&
			   (uint64_t)st.st_blocks * 512 > f.size,
		   "disk reserved past the end");
	else
		ok(1, "# file system without fallocate: plain writes");
	sonde_stream_file_trim(&f);
	ok(fstat(f.fd, &st) == 0 && st.st_size == (off_t)f.size &&
		   (uint64_t)st.st_blocks * 512 < f.size + 64 * 1024,
	   "trim gives the reserve back");
	ok(pread(f.fd, back, sizeof(back), 39 * (off_t)sizeof(packet)) ==
			   (ssize_t)sizeof(back) &&
		   back[0] == 'a' + 39 % 26 && back[sizeof(back) - 1] == back[0],
	   "the last packet reads back");
	/* appending after a trim (a restarted session) reserves again */
	ok(sonde_stream_file_append(&f, packet, 100, "stream", &err) == 0 &&
		   f.size == 40 * sizeof(packet) + 100,
	   "append after trim");
	close(f.fd);
}

static void test_errors(const char *path)
{
	struct sonde_stream_file f = { 0 };
	struct sonde_error err = { 0 };
	char c = 'x';

	f.fd = open(path, O_RDONLY);
	ok(sonde_stream_file_append(&f, &c, 1, "stream", &err) == SONDE_EIO &&
		   strncmp(err.msg, "stream: write: ", 15) == 0 &&
		   !strchr(err.msg, '\n'),
	   "a failed write: one line naming the stream");
	ok(f.size == 0, "nothing counted as written");
	close(f.fd);
	ok(sonde_write_all(-1, &c, 1, "index", &err) == SONDE_EIO &&
		   strstr(err.msg, "index: write: "),
	   "a bad fd: an error naming the file");
}

int main(void)
{
	char path[] = "/tmp/sonde-test-stream-file.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	test_append_trim(path);
	test_errors(path);
	unlink(path);
	return tap_done();
}
