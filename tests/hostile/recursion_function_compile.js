// expect: runtime_error
// profile: tenant-isolated
// why: code compiled at run time through Function (allowed here) nests
//   5000 parentheses and hits the compiler's recursion limit
Function('return ' + new Array(5001).join('(') + '1' +
	new Array(5001).join(')'));
