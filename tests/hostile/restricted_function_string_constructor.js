// expect: security_violation
// why: String's constructor's constructor
''.constructor.constructor('return 1')();
