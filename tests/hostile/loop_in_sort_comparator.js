// expect: timeout
// timeout_ms: 200
// why: Array.prototype.sort (native) calls back into a looping comparator
[5, 3, 9, 1].sort(function (a, b) {
	for (;;) {
	}
});
