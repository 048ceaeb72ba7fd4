/*
 * Stand-in for libFuzzer's main() in builds without -Dfuzzers=true: runs
 * LLVMFuzzerTestOneInput() once on each file named on the command line, so
 * fuzz targets compile with any compiler and their seed corpora replay under
 * the gcc and ASan builds.  Inputs are read into an exactly sized heap buffer
 * so that ASan sees any read past the end.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;
	int ret = -1;

	if (!f)
		goto end;
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto end;
	/* malloc(0) may return NULL; keep a real, zero-sized allocation. */
	buf = malloc(len ? (size_t)len : 1);
	if (!buf)
		goto end;
	if (len && fread(buf, 1, (size_t)len, f) != (size_t)len)
		goto end;
	*data = buf;
	*size = (size_t)len;
	buf = NULL;
	ret = 0;
end:
	free(buf);
	if (f)
		fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	int i;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		uint8_t *data;
		size_t size;

		if (read_file(argv[i], &data, &size) != 0) {
			fprintf(stderr, "fuzz-replay: cannot read '%s': %s\n",
				argv[i], strerror(errno));
			return 1;
		}
		LLVMFuzzerTestOneInput(data, size);
		free(data);
	}
	printf("fuzz-replay: ran %d inputs\n", argc - 1);
	return 0;
}
