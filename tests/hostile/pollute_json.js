// expect: ok
// value: "fake"
// isolation: true
// why: JSON.stringify and JSON.parse replaced
JSON.stringify = function () {
	return 'fake';
};
JSON.parse = function () {
	for (;;) {
	}
};
JSON.stringify({a: 1});
