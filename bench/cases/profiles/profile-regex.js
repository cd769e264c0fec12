// profiles: ultra-secure high-security tenant-isolated
// Regular expressions: validate, capture and rewrite 300 short records.
var valid = 0;
var sum = 0;
var out = [];
var i;
var rec;
var m;

for (i = 0; i < 300; i++) {
	rec = 'id-' + i + ':' + (i % 4 === 0 ? 'bad value' : 'v' + (i % 17));
	m = /^id-(\d+):v(\d+)$/.exec(rec);
	if (m) {
		valid++;
		sum += parseInt(m[1], 10) + parseInt(m[2], 10);
	}
	if (i < 3) {
		out.push(rec.replace(/^id-(\d+):(.*)$/, '$2@$1'));
	}
}
[valid, sum, out.join('|')];
