// Nested arrays: two 24x24 matrices and their product.
function matrix(n, f) {
	var m = [];
	var i;
	var j;

	for (i = 0; i < n; i++) {
		m.push([]);
		for (j = 0; j < n; j++) {
			m[i].push(f(i, j));
		}
	}
	return m;
}

var n = 24;
var a = matrix(n, function (i, j) {
	return (i + j) % 5;
});
var b = matrix(n, function (i, j) {
	return i === j ? 2 : (i * j) % 3;
});
var c = matrix(n, function (i, j) {
	var s = 0;
	var k;

	for (k = 0; k < n; k++) {
		s += a[i][k] * b[k][j];
	}
	return s;
});
var trace = 0;
var total = 0;
var i;
var j;

for (i = 0; i < n; i++) {
	trace += c[i][i];
	for (j = 0; j < n; j++) {
		total += c[i][j];
	}
}
[trace, total, c[23][0]];
