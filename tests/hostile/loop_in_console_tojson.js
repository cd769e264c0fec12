// expect: timeout
// timeout_ms: 200
// why: console.log turns its argument into JSON, calling a looping toJSON
console.log({
	toJSON: function () {
		for (;;) {
		}
	}
});
1;
