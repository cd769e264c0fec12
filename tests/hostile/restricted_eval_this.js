// expect: security_violation
// why: eval read as a property of the global this
this.eval('1');
