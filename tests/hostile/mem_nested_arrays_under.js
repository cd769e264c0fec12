// expect: ok
// value: 2000
// why: 2000 levels of small nested arrays fit under the cap
var a = [];
for (var i = 0; i < 2000; i++)
	a = [a, [i]];
i;
