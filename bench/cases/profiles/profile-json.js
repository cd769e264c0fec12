// profiles: ultra-secure high-security tenant-isolated
// JSON: stringify 100 records, parse them back and check the copy.
var records = [];
var i;

for (i = 0; i < 100; i++) {
	records.push({ id: i, name: 'r' + i, even: i % 2 === 0,
		pos: [i, i * 2], meta: { w: i % 9 } });
}
var total = 0;
var len = 0;
var round;
var text;
var copy;

for (round = 0; round < 5; round++) {
	text = JSON.stringify(records);
	copy = JSON.parse(text);
	len = text.length;
	for (i = 0; i < copy.length; i++) {
		total += copy[i].pos[1] + copy[i].meta.w + (copy[i].even ? 1 : 0);
	}
}
[len, total];
