// expect: security_violation
// why: the restricted call happens while the worker describes the thrown
//   value, inside its toString
throw {
	toString: function () {
		try {
			eval('1');
		} catch (e) {
		}
		return 'harmless';
	}
};
