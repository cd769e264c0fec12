// expect: memory_limit
// why: fills its heap, catches the cap's error, and keeps allocating in a
//   loop that catches every error: at the cap each allocation runs the
//   garbage collector, so the script must be stopped at its next
//   instruction, not by the supervisor at the deadline
var keep = [];
try {
	for (;;)
		keep.push([1, 2, 3, 4, 5, 6, 7, 8]);
} catch (e) {
}
for (;;) {
	try {
		keep.push([1, 2, 3]);
	} catch (e) {
	}
}
