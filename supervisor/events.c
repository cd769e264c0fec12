/* SPDX-License-Identifier: MIT */
/*
 * Event frames, built with the value writer of common/proto.h.
 */
#include "supervisor/events.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>

#include "common/ipc.h"
#include "common/proto.h"

/* Room for one event's fields: they are short. */
#define EVENTS_FIELDS_MAX_BYTES 8192

int
events_encode(const char *event, const struct events_field *f, size_t n,
	      struct proto_frame *ret_frame)
{
	struct proto_writer *w = proto_writer_new(EVENTS_FIELDS_MAX_BYTES);
	struct timeval tv;
	size_t len;

	if (!w)
		return -ENOMEM;
	(void)gettimeofday(&tv, NULL);
	uint64_t time_ms = (uint64_t)tv.tv_sec * 1000u +
			   (uint64_t)tv.tv_usec / 1000u;
	(void)proto_write_map(w, n);
	for (size_t i = 0; i < n; i++) {
		proto_write_key(w, f[i].key);
		if (f[i].text)
			(void)proto_write_str(w, f[i].text, strlen(f[i].text));
		else
			(void)proto_write_uint(w, f[i].number);
	}
	int r = proto_writer_status(w);
	if (r == 0) {
		const uint8_t *data = proto_writer_data(w, &len);
		r = proto_encode_event(event, time_ms, data, len, ret_frame);
	}
	proto_writer_free(w);
	return r;
}
