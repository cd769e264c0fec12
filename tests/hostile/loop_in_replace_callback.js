// expect: timeout
// timeout_ms: 200
// why: String.prototype.replace (native) calls a looping replacer
'aaa'.replace(/a/g, function () {
	for (;;) {
	}
});
