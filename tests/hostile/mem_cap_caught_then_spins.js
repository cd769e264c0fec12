// expect: memory_limit
// why: catches the error of its heap cap and spins on, as if nothing
//   had happened
var keep = [];
try {
	for (;;)
		keep.push({});
} catch (e) {
}
for (;;) {
}
