// expect: too_large
// why: one 1 KB object referenced 300 times is written 300 times
var o = {k: 'x'.repeat(1000)};
var a = [];
for (var i = 0; i < 300; i++)
	a.push(o);
a;
