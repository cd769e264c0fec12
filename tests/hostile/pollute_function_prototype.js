// expect: ok
// value: "patched"
// isolation: true
// why: call, apply and bind replaced for every function
Function.prototype.call = function () {
	return 'patched';
};
Function.prototype.apply = null;
Function.prototype.bind = function () {
	for (;;) {
	}
};
(function () {
	return 'real';
}).call(null);
