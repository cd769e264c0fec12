// A 20,000-character string built from parts in an array, then joined.
var parts = [];
var i;

for (i = 0; i < 2000; i++) {
	parts.push('row' + (i % 10) + '-' + (i % 1000 < 10 ? '000' : '00'));
}
var s = parts.join('');
var mid = s.length / 2;
[parts.length, s.length, s.substr(mid, 10), s.charCodeAt(s.length - 1)];
