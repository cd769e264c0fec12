// expect: timeout
// timeout_ms: 200
// why: arithmetic makes the engine call valueOf implicitly
var o = {
	valueOf: function () {
		while (1) {
		}
	}
};
o * 2;
