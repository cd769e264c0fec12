// expect: timeout
// timeout_ms: 200
// why: string concatenation makes the engine call toString implicitly
var o = {
	toString: function () {
		for (;;) {
		}
	}
};
'value: ' + String(o);
