// expect: security_violation
// why: eval read through globalThis
globalThis.eval('1');
