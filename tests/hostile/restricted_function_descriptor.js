// expect: security_violation
// why: Function read from a property descriptor
var d = Object.getOwnPropertyDescriptor(Function.prototype, 'constructor');
d.value('return 1');
