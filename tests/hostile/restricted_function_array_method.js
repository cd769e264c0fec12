// expect: security_violation
// why: the constructor of a built-in method
[].map.constructor('return 1');
