// expect: timeout
// timeout_ms: 200
// why: JSON.parse (native) calls a reviver that never returns
JSON.parse('{"a": [1, 2, 3]}', function (key, value) {
	while (true) {
	}
});
