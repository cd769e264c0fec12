// expect: runtime_error
// why: the global object holds functions; converting it must not read
//   the restricted process accessor (that would be security_violation)
this;
