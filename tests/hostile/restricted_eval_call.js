// expect: security_violation
// why: eval called through Function.prototype.call
eval.call(null, '1');
