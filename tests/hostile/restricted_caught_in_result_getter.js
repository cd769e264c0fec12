// expect: security_violation
// why: the restricted call happens while the worker converts the result
({
	get x() {
		try {
			Function('return 1');
		} catch (e) {
		}
		return 1;
	}
});
