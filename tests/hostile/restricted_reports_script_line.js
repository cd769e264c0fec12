// expect: security_violation
// line: 6
// why: the answer's line is where the script called the restricted
//   function, not a line of the worker's C code

eval('1');
