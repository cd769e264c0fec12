// expect: security_violation
// why: direct eval under ultra-secure
eval('1');
