// expect: timeout
// timeout_ms: 200
// why: each bind makes a longer name ("bound bound ... "), so one
//   instruction copies more and more; the interrupt check comes rarely
var f = function () {
	return 5;
};
for (var i = 0; i < 100000; i++)
	f = f.bind(null);
f();
