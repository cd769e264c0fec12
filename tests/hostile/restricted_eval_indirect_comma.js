// expect: security_violation
// why: indirect eval through the comma operator
(0, eval)('1');
