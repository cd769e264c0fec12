/* SPDX-License-Identifier: MIT */
/*
 * Loading the benchmarks' scripts and checking their values. Every mode
 * of every benchmark checks each result it times against the case's
 * expected value, so that a fast wrong answer is a failure, not a figure.
 */
#include "bench/cases.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/ipc.h"
#include "common/sys.h"

/* Largest script or expected value read: a bigger script would not fit in
 * a request frame of the supervisor's default size anyway. */
#define CASES_FILE_MAX_BYTES IPC_FRAME_MAX_DEFAULT
#define CASES_PROFILE_TAG "// profile: "

int
cases_read_text(const char *path, size_t max_bytes, char **ret_text)
{
	struct stat st;
	char *text = NULL;
	int r;

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max_bytes) {
		r = -EFBIG;
		goto out_close;
	}

	size_t len = (size_t)st.st_size;
	text = malloc(len + 1);
	if (!text) {
		r = -ENOMEM;
		goto out_close;
	}
	r = len ? sys_read_exact(fd, text, len, -1) : 0;
	if (r >= 0 && (size_t)r != len)
		r = -EPIPE; /* the file shrank while being read */
	if (r < 0)
		goto out_close;

	text[len] = '\0';
	*ret_text = text;
	text = NULL;
	r = 0;

out_close:
	free(text);
	(void)close(fd);
	return r;
}

static void
trim_end(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
}

/* The profile a script names on its first line, or NULL (and 0) when
 * it names none. */
static int
find_profile(const char *code, char **ret_profile)
{
	*ret_profile = NULL;
	if (strncmp(code, CASES_PROFILE_TAG, strlen(CASES_PROFILE_TAG)) != 0)
		return 0;

	const char *name = code + strlen(CASES_PROFILE_TAG);
	size_t len = strcspn(name, " \t\r\n");
	if (len == 0)
		return -EINVAL;
	*ret_profile = strndup(name, len);
	return *ret_profile ? 0 : -ENOMEM;
}

static int
read_part(const char *dir, const char *name, const char *ext, char **ret)
{
	char path[4096];

	(void)snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
	int r = cases_read_text(path, CASES_FILE_MAX_BYTES, ret);
	if (r < 0)
		fprintf(stderr, "bench: cannot read '%s': %s\n", path,
			strerror(-r));
	return r;
}

static void
free_case(struct cases_case *c)
{
	free(c->suite);
	free(c->name);
	free(c->profile);
	free(c->code);
	free(c->expected);
}

static int
load_case(const char *dir, const char *file, const char *suite,
	  struct cases_case *c)
{
	int r;

	c->name = strndup(file, strlen(file) - strlen(".js"));
	c->suite = suite ? strdup(suite) : NULL;
	if (!c->name || (suite && !c->suite))
		return -ENOMEM;
	r = read_part(dir, c->name, ".js", &c->code);
	if (r < 0)
		return r;
	c->code_len = strlen(c->code);

	r = read_part(dir, c->name, ".expected", &c->expected);
	if (r < 0)
		return r;
	trim_end(c->expected);

	r = find_profile(c->code, &c->profile);
	if (r == -EINVAL)
		fprintf(stderr, "bench: %s/%s.js: '%s' names no profile\n", dir,
			c->name, CASES_PROFILE_TAG);
	return r;
}

static int
is_script(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > strlen(".js") && strcmp(e->d_name + n - 3, ".js") == 0;
}

int
cases_load_dir(struct cases_set *set, const char *dir, const char *suite)
{
	struct dirent **files;
	int r = 0;

	int n = scandir(dir, &files, is_script, alphasort);
	if (n < 0) {
		fprintf(stderr, "bench: cannot list '%s': %s\n", dir,
			strerror(errno));
		return -errno;
	}
	struct cases_case *items = realloc(set->items,
					   (set->count + (size_t)n + 1) *
						   sizeof(*items));
	if (items) {
		set->items = items;
		memset(items + set->count, 0, ((size_t)n + 1) * sizeof(*items));
	}
	for (int i = 0; i < n; i++) {
		if (items && r == 0)
			r = load_case(dir, files[i]->d_name, suite,
				      &items[set->count + (size_t)i]);
		free(files[i]);
	}
	free(files);
	if (!items)
		return -ENOMEM;
	if (r == 0 && n == 0) {
		fprintf(stderr, "bench: no NAME.js in '%s'\n", dir);
		r = -ENOENT;
	}
	for (int i = 0; r < 0 && i < n; i++)
		free_case(&items[set->count + (size_t)i]);
	if (r == 0)
		set->count += (size_t)n;
	return r;
}

void
cases_free(struct cases_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		free_case(&set->items[i]);
	free(set->items);
	set->items = NULL;
	set->count = 0;
}

bool
cases_matches(const struct cases_case *c, const char *json)
{
	const size_t flags = JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL;

	if (strcmp(json, c->expected) == 0)
		return true;

	json_t *want = json_loads(c->expected, flags, NULL);
	json_t *got = json_loads(json, flags, NULL);
	bool is_equal = want && got && json_equal(want, got);
	json_decref(want);
	json_decref(got);
	return is_equal;
}
