// expect: security_violation
// why: the Function constructor called without new
Function('return 1')();
