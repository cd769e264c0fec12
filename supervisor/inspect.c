/* SPDX-License-Identifier: MIT */
/*
 * Reads a worker's sandbox from /proc. The files are the kernel's, so
 * their formats are proc(5)'s: "Key:\tvalue" lines in status, a table in
 * limits, one line per mount in mountinfo.
 */
#include "supervisor/inspect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

static const char *const ns_names[INSPECT_NS_COUNT] = {
	"net", "mnt", "ipc", "uts", "pid", "user",
};

const char *
inspect_ns_name(unsigned i)
{
	return i < INSPECT_NS_COUNT ? ns_names[i] : "";
}

/* The value after "key:" in /proc/pid/status, as a number in base. */
static bool
status_number(FILE *f, const char *key, int base, unsigned long long *ret)
{
	char line[256];
	size_t n = strlen(key);

	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			*ret = strtoull(line + n + 1, NULL, base);
			return true;
		}
	}
	return false;
}

static int
read_status(pid_t pid, struct inspect_layers *l)
{
	static const char *const cap_sets[] = { "CapInh", "CapPrm", "CapEff",
						"CapBnd", "CapAmb" };
	char path[64];
	unsigned long long v;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	l->has_seccomp = status_number(f, "Seccomp", 10, &v) && v == 2;
	if (status_number(f, "Seccomp_filters", 10, &v))
		l->seccomp_filters = (unsigned)v;
	l->has_no_new_privs = status_number(f, "NoNewPrivs", 10, &v) && v == 1;
	l->has_no_capabilities = true;
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(cap_sets); i++) {
		if (!status_number(f, cap_sets[i], 16, &v) || v != 0)
			l->has_no_capabilities = false;
	}
	l->uid = status_number(f, "Uid", 10, &v) ? (unsigned long)v : 0;
	(void)fclose(f);
	return 0;
}

/* The soft limit of the row of /proc/pid/limits that starts with name;
 * UINT64_MAX for "unlimited". */
static bool
limit_of(FILE *f, const char *name, uint64_t *ret)
{
	char line[256];
	size_t n = strlen(name);

	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, n) != 0)
			continue;
		const char *soft = line + n;
		while (*soft == ' ')
			soft++;
		*ret = strncmp(soft, "unlimited", 9) == 0 ?
			       UINT64_MAX :
			       strtoull(soft, NULL, 10);
		return true;
	}
	return false;
}

static void
read_limits(pid_t pid, struct inspect_layers *l)
{
	char path[64];
	uint64_t core, fsize, nproc;

	(void)snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	bool ok = limit_of(f, "Max core file size", &core) &&
		  limit_of(f, "Max file size", &fsize) &&
		  limit_of(f, "Max processes", &nproc) &&
		  limit_of(f, "Max open files", &l->max_fds) &&
		  limit_of(f, "Max address space", &l->address_space_bytes);
	l->has_rlimits = ok && core == 0 && fsize == 0 && nproc == 0 &&
			 l->max_fds != UINT64_MAX &&
			 l->address_space_bytes != UINT64_MAX;
	(void)fclose(f);
}

/* Compares each namespace link of pid with this process's own. */
static void
read_namespaces(pid_t pid, struct inspect_layers *l)
{
	for (unsigned i = 0; i < INSPECT_NS_COUNT; i++) {
		char theirs[64], ours[64];
		struct stat a, b;
		(void)snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s",
			       (int)pid, ns_names[i]);
		(void)snprintf(ours, sizeof(ours), "/proc/self/ns/%s",
			       ns_names[i]);
		if (stat(theirs, &a) < 0 || stat(ours, &b) < 0)
			continue;
		l->namespaces_known |= 1u << i;
		if (a.st_ino != b.st_ino || a.st_dev != b.st_dev)
			l->namespaces |= 1u << i;
	}
}

/* An empty root is one mount: a read-only tmpfs on "/". */
static void
read_root(pid_t pid, struct inspect_layers *l)
{
	char path[64], line[512];
	unsigned mounts = 0;
	bool is_ro_tmpfs = false;

	(void)snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		mounts++;
		const char *fs = strstr(line, " - ");
		is_ro_tmpfs = fs && strncmp(fs, " - tmpfs ", 9) == 0 &&
			      strstr(line, " / / ro,") != NULL;
	}
	l->is_root_known = mounts > 0;
	l->has_empty_root = mounts == 1 && is_ro_tmpfs;
	(void)fclose(f);
}

int
inspect_worker(pid_t pid, struct inspect_layers *ret)
{
	struct inspect_layers l = { .has_seccomp = false };

	int r = read_status(pid, &l);
	if (r < 0)
		return r;
	read_limits(pid, &l);
	read_namespaces(pid, &l);
	read_root(pid, &l);
	*ret = l;
	return 0;
}

bool
inspect_is_complete(const struct inspect_layers *l)
{
	return l->has_seccomp && l->has_no_new_privs &&
	       l->has_no_capabilities && l->uid != 0 && l->has_rlimits;
}

void
inspect_describe(const struct inspect_layers *l, char *buf, size_t size)
{
	char ns[64];

	util_join_bits(l->namespaces, INSPECT_NS_COUNT, inspect_ns_name, ns,
		       sizeof(ns));
	(void)snprintf(buf, size,
		       "seccomp=%s no_new_privs=%s capabilities=%s uid=%lu rlimits=%s address_space_bytes=%llu namespaces=%s root=%s",
		       l->has_seccomp ? "on" : "OFF",
		       l->has_no_new_privs ? "on" : "OFF",
		       l->has_no_capabilities ? "none" : "SOME", l->uid,
		       l->has_rlimits ? "on" : "OFF",
		       (unsigned long long)l->address_space_bytes,
		       ns[0] ? ns : "none",
		       !l->is_root_known ? "unknown" :
		       l->has_empty_root ? "empty" :
					   "host");
}
