// expect: security_violation
// why: Function.prototype.constructor reached through getPrototypeOf
Object.getPrototypeOf(function () {}).constructor('return 1');
