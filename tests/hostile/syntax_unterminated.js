// expect: syntax_error
// why: a script that ends inside a block
function f() {
	if (true) {
