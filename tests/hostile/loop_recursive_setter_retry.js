// expect: timeout
// timeout_ms: 200
// why: a setter that sets itself, catching the stack overflow and trying
//   again: exponential work through engine-called setters
var o = {
	set x(v) {
		try {
			this.x = v + 1;
		} catch (e) {
			this.x = v + 1;
		}
	}
};
o.x = 0;
