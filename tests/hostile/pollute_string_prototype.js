// expect: ok
// value: "patched"
// isolation: true
// why: String.prototype methods patched and a new one added
String.prototype.toUpperCase = function () {
	return 'patched';
};
String.prototype.polluted = true;
String.prototype.indexOf = null;
'abc'.toUpperCase();
