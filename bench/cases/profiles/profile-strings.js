// profiles: ultra-secure high-security tenant-isolated
// Strings: building, reversing, splitting, joining and searching.
var words = [];
var i;

for (i = 0; i < 400; i++) {
	words.push('w' + (i * 7 % 100));
}
var text = words.join(' ');
var reversed = text.split('').reverse().join('');
var hits = 0;
var pos = text.indexOf('w7');

// Every occurrence of "w7", overlapping ones included.
while (pos >= 0) {
	hits++;
	pos = text.indexOf('w7', pos + 1);
}
[text.length, hits, reversed.slice(0, 8), text.lastIndexOf('w99'),
	text.toUpperCase().split('W1').length];
