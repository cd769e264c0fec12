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
#define CASES_PROFILES_TAG "// profiles: "
/* Profiles one script may name. */
#define CASES_PROFILES_MAX 8

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

/* The profiles a script names on its first line, into names (each a new
 * string). Returns how many: 0 when it names none, or -EINVAL. */
static int
find_profiles(const char *code, char *names[CASES_PROFILES_MAX])
{
	size_t tag = strlen(CASES_PROFILES_TAG);
	int n = 0;

	if (strncmp(code, CASES_PROFILES_TAG, tag) != 0)
		return 0;
	for (const char *p = code + tag; *p && *p != '\n';) {
		size_t len = strcspn(p, " \t\r\n");
		if (len == 0) {
			p++;
			continue;
		}
		char *name = n < CASES_PROFILES_MAX ? strndup(p, len) : NULL;
		if (!name) {
			int r = n < CASES_PROFILES_MAX ? -ENOMEM : -EINVAL;
			while (n > 0)
				free(names[--n]);
			return r;
		}
		names[n++] = name;
		p += len;
	}
	return n > 0 ? n : -EINVAL;
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
	return 0;
}

/* A copy of c under profile (taken), named NAME@PROFILE. */
static int
copy_for_profile(const struct cases_case *c, char *profile,
		 struct cases_case *out)
{
	*out = (struct cases_case){ .profile = profile,
				    .code_len = c->code_len };
	if (asprintf(&out->name, "%s@%s", c->name, profile) < 0) {
		out->name = NULL;
		return -ENOMEM;
	}
	out->suite = c->suite ? strdup(c->suite) : NULL;
	out->code = strdup(c->code);
	out->expected = strdup(c->expected);
	if ((c->suite && !out->suite) || !out->code || !out->expected)
		return -ENOMEM;
	return 0;
}

/* Appends one file's cases to set: itself, or a copy per profile it
 * names. */
static int
add_file(struct cases_set *set, const char *dir, const char *file,
	 const char *suite)
{
	char *profiles[CASES_PROFILES_MAX];
	struct cases_case c = { 0 };
	int r = load_case(dir, file, suite, &c);

	int n = r == 0 ? find_profiles(c.code, profiles) : r;
	if (n == -EINVAL)
		fprintf(stderr, "bench: %s/%s: '%s' names no profile, or too many\n",
			dir, file, CASES_PROFILES_TAG);
	size_t room = set->count + (n > 0 ? (size_t)n : 1);
	struct cases_case *items = n >= 0 ? realloc(set->items,
						    room * sizeof(*items)) :
					    NULL;
	if (n >= 0 && !items)
		n = -ENOMEM;
	if (items)
		set->items = items;
	int count = n;
	for (int i = 0; i < count; i++) {
		if (n < 0) {
			free(profiles[i]);
			continue;
		}
		r = copy_for_profile(&c, profiles[i], &items[set->count]);
		set->count++; /* kept even when half made: freed with the set */
		if (r < 0)
			n = r;
	}
	if (n == 0)
		items[set->count++] = c;
	else
		free_case(&c);
	return n < 0 ? n : 0;
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
		r = -errno;
		fprintf(stderr, "bench: cannot list '%s': %s\n", dir,
			strerror(-r));
		return r;
	}
	for (int i = 0; i < n; i++) {
		if (r == 0)
			r = add_file(set, dir, files[i]->d_name, suite);
		free(files[i]);
	}
	free(files);
	if (r == 0 && n == 0) {
		fprintf(stderr, "bench: no NAME.js in '%s'\n", dir);
		r = -ENOENT;
	}
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
