// expect: security_violation
// why: the execution is over at the restricted call, even if the script
//   catches the error; what it does afterwards (here: filling the heap)
//   must not change the answer
try {
	eval('1');
} catch (e) {
}
var s = 'x';
for (;;)
	s = s + s;
