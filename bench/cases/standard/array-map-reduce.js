// map, filter and reduce over an array of 5,000 integers.
var xs = [];
var i;

for (i = 0; i < 5000; i++) {
	xs.push(i);
}
var total = xs.map(function (x) {
	return x * 2 + 1;
}).filter(function (x) {
	return x % 3 === 0;
}).reduce(function (acc, x) {
	return acc + x;
}, 0);
total;
