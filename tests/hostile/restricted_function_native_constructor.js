// expect: security_violation
// why: a native function's constructor
Math.max.constructor('return 1')();
