// expect: timeout
// timeout_ms: 200
// why: the loop runs when the worker describes the thrown value
throw {
	toString: function () {
		for (;;) {
		}
	}
};
