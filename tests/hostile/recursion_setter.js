// expect: runtime_error
// why: a setter that assigns its own property recurses through native
//   code; Duktape throws RangeError "C stack depth limit"
var o = {
	set x(v) {
		this.x = v + 1;
	}
};
o.x = 0;
