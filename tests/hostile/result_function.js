// expect: runtime_error
// why: a function has no msgpack form
(function () {
	return 1;
});
