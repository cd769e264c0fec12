// expect: too_large
// why: 23 levels of [a, a] are small in memory but 2^23 leaves when
//   written out; the encoder must stop at the limit, not walk them all
var a = 1;
for (var i = 0; i < 23; i++)
	a = [a, a];
a;
