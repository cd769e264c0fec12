// expect: runtime_error
// why: a getter that throws while the worker converts the result
({
	get x() {
		throw new Error('no conversion for you');
	}
});
