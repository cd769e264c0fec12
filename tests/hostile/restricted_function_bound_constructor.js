// expect: security_violation
// why: a bound function's constructor
(function () {}).bind(null).constructor('return 1');
