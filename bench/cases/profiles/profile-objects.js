// profiles: ultra-secure high-security tenant-isolated
// Objects as records and as maps: create, update, delete and enumerate.
var byName = {};
var i;
var key;
var n = 0;
var sum = 0;

for (i = 0; i < 1000; i++) {
	key = 'user' + (i % 300);
	if (!byName.hasOwnProperty(key)) {
		byName[key] = { name: key, visits: 0, last: -1 };
	}
	byName[key].visits++;
	byName[key].last = i;
}
for (i = 0; i < 300; i += 3) {
	delete byName['user' + i];
}
for (key in byName) {
	if (byName.hasOwnProperty(key)) {
		n++;
		sum += byName[key].visits * 1000 + byName[key].last;
	}
}
[n, sum, Object.keys(byName)[0]];
