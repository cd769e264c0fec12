// expect: timeout
// timeout_ms: 200
// why: the script returns; the loop runs when the worker converts the
//   result and reads its getter
({
	get trap() {
		for (;;) {
		}
	}
});
