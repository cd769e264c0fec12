// expect: ok
// value: 30000
// why: 30 000 numbers in a dense array fit under the cap
var a = [];
for (var i = 0; i < 30000; i++)
	a.push(i);
a.length;
