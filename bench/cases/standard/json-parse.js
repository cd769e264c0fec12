// JSON.parse of a 50-record text, 40 times over.
var parts = [];
var i;

for (i = 0; i < 50; i++) {
	parts.push('{"id":' + i + ',"name":"item' + i + '","ok":' +
		(i % 2 === 0) + ',"tags":["a","b"],"score":' + (i * 3) + '}');
}
var text = '[' + parts.join(',') + ']';
var total = 0;
var round;
var list;

for (round = 0; round < 40; round++) {
	list = JSON.parse(text);
	for (i = 0; i < list.length; i++) {
		if (list[i].ok) {
			total += list[i].score + list[i].tags.length;
		}
	}
}
[text.length, total];
