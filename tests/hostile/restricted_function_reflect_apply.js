// expect: security_violation
// why: Function called through Reflect.apply
Reflect.apply(Function, null, ['return 1']);
