// Closures: a counter factory and calls through the returned functions.
function counter(step) {
	var n = 0;
	return function () {
		n += step;
		return n;
	};
}

var a = counter(1);
var b = counter(10);
var i;

for (i = 0; i < 100; i++) {
	a();
	b();
}
[a(), b()];
