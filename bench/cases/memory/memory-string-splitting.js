// A CSV text of 500 lines split into lines and fields, fields parsed.
var lines = [];
var i;

for (i = 0; i < 500; i++) {
	lines.push(i + ',name' + i + ',' + (i % 13) + ',' + (i * 2));
}
var text = lines.join('\n');
var rows = text.split('\n');
var fields = 0;
var total = 0;
var cols;

for (i = 0; i < rows.length; i++) {
	cols = rows[i].split(',');
	fields += cols.length;
	total += parseInt(cols[2], 10) + parseInt(cols[3], 10);
}
[text.length, rows.length, fields, total];
