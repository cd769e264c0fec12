// expect: timeout
// timeout_ms: 200
// why: Array.prototype.map (native) calls a callback that never returns
[1, 2, 3].map(function (v) {
	for (;;) {
	}
});
