// expect: timeout
// timeout_ms: 200
// why: the engine calls the getter on a property read; the loop is inside
var o = {
	get x() {
		for (;;) {
		}
	}
};
o.x;
