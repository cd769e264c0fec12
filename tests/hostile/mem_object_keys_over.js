// expect: memory_limit
// why: 100 000 distinct keys (each a new string) overflow the cap
var o = {};
for (var i = 0; i < 100000; i++)
	o['key' + i] = i;
Object.keys(o).length;
