// expect: ok
// value: [[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]
// why: 24 nested arrays are the most a result may nest
var a = 1;
for (var i = 0; i < 24; i++)
	a = [a];
a;
