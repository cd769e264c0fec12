// expect: timeout
// timeout_ms: 200
// why: the `in` operator makes the engine call a Proxy trap that loops
var p = new Proxy({}, {
	has: function () {
		for (;;) {
		}
	}
});
'x' in p;
