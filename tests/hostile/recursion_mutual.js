// expect: runtime_error
// why: two functions calling each other without end hit the same limit
function even(n) {
	return odd(n + 1) + 1;
}
function odd(n) {
	return even(n + 1) + 1;
}
even(0);
