// expect: security_violation
// why: catching the gate's error and returning a value normally must
//   still end the execution as a violation
try {
	eval('1');
} catch (e) {
}
42;
