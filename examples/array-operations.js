[1, 2, 3, 4, 5]
	.map(function (x) { return x * 2; })
	.reduce(function (a, b) { return a + b; }, 0)
