// expect: memory_limit
// why: doubles a string until the cap, catches the engine's "alloc
//   failed" error and returns normally; the cap was hit all the same
var s = 'x';
try {
	for (;;)
		s = s + s;
} catch (e) {
}
s.length;
