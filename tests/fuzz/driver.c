/* SPDX-License-Identifier: MIT */
/* tests/fuzz/driver.c - standalone main() for the fuzz targets: feeds every file of the corpus
 * (FUZZ_CORPUS, set at build time, or the files and directories given as arguments) to
 * LLVMFuzzerTestOneInput once and prints TAP, so `make check` replays the seeds and every crash
 * kept in the corpus. `make fuzz` links the same targets with libFuzzer instead. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned count;

static int run_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;
	size_t n = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		printf("not ok %u - %s: %s\n", ++count, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* an exact-size heap copy, so ASan sees reads past the end */
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	fflush(stdout);
	(void)LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	printf("ok %u - %s (%zu bytes)\n", ++count, path, n);
	return 0;
}

static int compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int r = 0;

	if (stat(path, &st) < 0) {
		printf("not ok %u - %s: %s\n", ++count, path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	d = opendir(path);
	if (!d) {
		printf("not ok %u - %s: %s\n", ++count, path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char **p = realloc(names, (n + 1) * sizeof(*names));
		if (!p)
			break;
		names = p;
		if (asprintf(&names[n], "%s/%s", path, de->d_name) < 0)
			break;
		n++;
	}
	closedir(d);
	if (names)
		qsort(names, n, sizeof(*names), compare);
	for (size_t i = 0; i < n; i++) {
		if (run_path(names[i]) < 0)
			r = -1;
		free(names[i]);
	}
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	int r = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (LLVMFuzzerInitialize)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (run_path(argv[i]) < 0)
				r = 1;
	} else {
#ifdef FUZZ_CORPUS
		if (run_path(FUZZ_CORPUS) < 0)
			r = 1;
#endif
	}
	if (count == 0)
		printf("not ok 1 - empty corpus\n"), count = 1, r = 1;
	printf("1..%u\n", count);
	return r;
}
