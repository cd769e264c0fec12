// expect: runtime_error
// why: toString that converts itself to a string recurses through the
//   engine's own conversion code
var o = {
	toString: function () {
		return 'again ' + this;
	}
};
String(o);
