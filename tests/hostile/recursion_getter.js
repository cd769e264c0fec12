// expect: runtime_error
// why: a getter that reads itself
var o = {
	get x() {
		return this.x + 1;
	}
};
o.x;
