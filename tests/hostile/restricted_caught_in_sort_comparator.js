// expect: security_violation
// why: the restricted call happens in a callback of a native function,
//   whose error the comparator swallows
[3, 1, 2].sort(function (a, b) {
	try {
		(function () {}).constructor('return 1');
	} catch (e) {
	}
	return a - b;
});
