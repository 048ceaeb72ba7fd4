#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/stream-file.h"

/* A step of 16 MiB per stream: the gain is per allocation, and a stopped
 * trace gives back what it did not use. */
#define RESERVE_STEP (16u << 20)

int sonde_write_all(int fd, const void *p, size_t n, const char *what,
		    struct sonde_error *err)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return sonde_error_set(err, SONDE_EIO, "%s: write: %s",
					       what,
					       w < 0 ? strerror(errno) :
						       "nothing written");
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int sonde_stream_file_append(struct sonde_stream_file *f, const void *p,
			     size_t n, const char *what,
			     struct sonde_error *err)
{
	int ret;

	if (!f->no_reserve && f->size + n > f->reserved) {
		uint64_t from = f->reserved > f->size ? f->reserved : f->size;

		if (fallocate(f->fd, FALLOC_FL_KEEP_SIZE, (off_t)from,
			      RESERVE_STEP) == 0)
			f->reserved = from + RESERVE_STEP;
		else
			f->no_reserve = true;
	}
	ret = sonde_write_all(f->fd, p, n, what, err);
	if (!ret)
		f->size += n;
	return ret;
}

void sonde_stream_file_trim(struct sonde_stream_file *f)
{
	if (f->reserved <= f->size)
		return;
	/* truncating to its own size frees the blocks past it */
	if (ftruncate(f->fd, (off_t)f->size) == 0)
		f->reserved = f->size;
}
