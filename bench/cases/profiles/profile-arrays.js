// profiles: ultra-secure high-security tenant-isolated
// Arrays: push, slice, concat, reverse, indexOf, join and a numeric sort.
var a = [];
var i;

for (i = 0; i < 1000; i++) {
	a.push((i * 37) % 1000);
}
var b = a.slice(100, 600).concat(a.slice(0, 50));
b.reverse();
var sorted = b.slice().sort(function (x, y) {
	return x - y;
});
var found = 0;
for (i = 0; i < 100; i++) {
	if (b.indexOf(i * 10) >= 0) {
		found++;
	}
}
[b.length, sorted[0], sorted[sorted.length - 1], found,
	sorted.slice(0, 5).join(',')];
