// expect: ok
// value: 262144
// why: eighteen doublings make 256 KiB, with room for the copies
var s = 'x';
for (var i = 0; i < 18; i++)
	s = s + s;
s.length;
