// expect: memory_limit
// why: 300 000 numbers in a dense array take about 5 MB
var a = [];
for (var i = 0; i < 300000; i++)
	a.push(i);
a.length;
