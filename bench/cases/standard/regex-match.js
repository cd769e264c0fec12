// Regular expressions: test, exec with a global flag, match and replace.
var lines = [];
var i;

for (i = 0; i < 300; i++) {
	lines.push('req=' + i + ' status=' + (i % 7 === 0 ? 500 : 200) +
		' took=' + (i % 50) + 'ms path=/api/v' + (i % 3) + '/items');
}
var log = lines.join('\n');
var errors = 0;
var took = 0;
var re = /took=(\d+)ms/g;
var m;

for (i = 0; i < lines.length; i++) {
	if (/status=5\d\d/.test(lines[i])) {
		errors++;
	}
}
while ((m = re.exec(log)) !== null) {
	took += parseInt(m[1], 10);
}
var v2 = log.match(/\/v2\//g).length;
var masked = lines[42].replace(/\d+/g, '#');
[errors, took, v2, masked];
