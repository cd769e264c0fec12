// expect: timeout
// timeout_ms: 200
// why: each `+=` copies up to 600 KB inside one instruction, so the
//   interrupt check comes rarely; the worker or the supervisor's kill
//   stops it, and either way the kind is timeout
var s = '';
for (var i = 0; i < 60000; i++)
	s += 'abcdefghij';
s.length;
