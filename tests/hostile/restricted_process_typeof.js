// expect: security_violation
// why: even typeof reads the process binding
typeof process;
