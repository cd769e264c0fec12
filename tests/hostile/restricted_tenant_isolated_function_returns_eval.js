// expect: security_violation
// profile: tenant-isolated
// why: code made by Function still reaches only the gated eval
Function('return eval')()('1');
