// expect: security_violation
// why: the restricted call happens inside console.log's JSON conversion
console.log({
	toJSON: function () {
		try {
			require('fs');
		} catch (e) {
		}
		return 1;
	}
});
1;
