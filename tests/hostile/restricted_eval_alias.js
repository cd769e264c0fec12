// expect: security_violation
// why: eval called through another name
var e = eval; e('1');
