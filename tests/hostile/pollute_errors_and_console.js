// expect: ok
// value: "patched"
// isolation: true
// why: Error.prototype.toString, a replaced RangeError and a replaced
//   console.log must not change how later scripts report or log
Error.prototype.toString = function () {
	return 'patched';
};
RangeError = function () {
};
console.log = function () {
	for (;;) {
	}
};
String(new Error('x'));
