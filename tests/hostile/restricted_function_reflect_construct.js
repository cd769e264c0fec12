// expect: security_violation
// why: Function reached through Reflect.construct
Reflect.construct(Function, ['return 1']);
