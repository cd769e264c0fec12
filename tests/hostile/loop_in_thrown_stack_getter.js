// expect: timeout
// timeout_ms: 200
// why: the worker reads the thrown object's stack; the getter loops
throw {
	message: 'caught?',
	get stack() {
		while (true) {
		}
	}
};
