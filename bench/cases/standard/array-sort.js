// Array.prototype.sort with a comparator on 2,000 pseudo-random integers.
var xs = [];
var seed = 12345;
var i;

// A fixed linear congruential generator: the same numbers in every engine.
for (i = 0; i < 2000; i++) {
	seed = (seed * 1105 + 12345) % 65536;
	xs.push(seed);
}
xs.sort(function (a, b) {
	return a - b;
});
var check = 0;
for (i = 0; i < xs.length; i++) {
	check = (check * 31 + xs[i]) % 1000003;
}
[xs[0], xs[999], xs[1999], check];
