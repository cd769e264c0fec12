// String concatenation with += in a loop of 2,000 steps.
var s = '';
var i;

for (i = 0; i < 2000; i++) {
	s += 'ab' + (i % 10);
}
[s.length, s.slice(0, 9), s.slice(-6)];
