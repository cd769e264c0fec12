// expect: ok
// value: 1
// isolation: true
// why: a property and a looping getter on Object.prototype, and a new
//   toString, must not reach the next execution
Object.prototype.polluted = 1;
Object.defineProperty(Object.prototype, 'trap', {
	get: function () {
		for (;;) {
		}
	},
	configurable: true
});
Object.prototype.toString = function () {
	return 'polluted';
};
({}).polluted;
