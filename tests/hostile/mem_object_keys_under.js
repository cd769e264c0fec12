// expect: ok
// value: 5000
// why: an object with 5000 distinct keys fits under the cap
var o = {};
for (var i = 0; i < 5000; i++)
	o['k' + i] = i;
Object.keys(o).length;
