// expect: security_violation
// why: a function's constructor property is Function
(function () {}).constructor('return 1');
