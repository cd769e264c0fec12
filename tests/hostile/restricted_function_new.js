// expect: security_violation
// why: the Function constructor with new
new Function('return 1');
