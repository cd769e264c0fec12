// expect: ok
// value: "patched"
// isolation: true
// why: Array.prototype.push set to null, map and join replaced
Array.prototype.push = null;
Array.prototype.map = function () {
	return 'patched';
};
Array.prototype.join = function () {
	for (;;) {
	}
};
[1].map();
