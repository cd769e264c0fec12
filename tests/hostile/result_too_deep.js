// expect: runtime_error
// why: 25 nested arrays are one more than a result may nest
var a = 1;
for (var i = 0; i < 25; i++)
	a = [a];
a;
