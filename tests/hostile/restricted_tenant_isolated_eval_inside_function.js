// expect: security_violation
// profile: tenant-isolated
// why: a direct eval inside code compiled by Function
Function('return eval("1")')();
