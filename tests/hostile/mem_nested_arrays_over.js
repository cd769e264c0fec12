// expect: memory_limit
// why: nests small arrays without end; each level is small, the sum is not
var a = [];
for (var i = 0; ; i++)
	a = [a, [i], {n: i}];
