// expect: timeout
// timeout_ms: 200
// why: a proper tail call never grows the stack, so it is an endless loop
//   and not a stack overflow
function f(n) {
	return f(n + 1);
}
f(0);
