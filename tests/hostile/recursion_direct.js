// expect: runtime_error
// why: unbounded recursion; Duktape throws RangeError "callstack limit"
function f(n) {
	return f(n + 1) + 1;
}
f(0);
