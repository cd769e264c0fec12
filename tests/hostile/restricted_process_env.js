// expect: security_violation
// why: reading process at all is the violation
process.env;
