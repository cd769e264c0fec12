// JSON round trip of 300 entries: stringify, parse, compare field by field.
var entries = [];
var i;

for (i = 0; i < 300; i++) {
	entries.push({ key: 'k' + i, n: i, flags: [i % 2 === 0, i % 3 === 0],
		note: i % 5 === 0 ? null : 'n' + (i % 5) });
}
var text = JSON.stringify(entries);
var back = JSON.parse(text);
var same = 0;

for (i = 0; i < back.length; i++) {
	if (back[i].key === entries[i].key && back[i].n === entries[i].n &&
		back[i].flags[1] === entries[i].flags[1] &&
		back[i].note === entries[i].note) {
		same++;
	}
}
[text.length, back.length, same, JSON.stringify(back[15])];
