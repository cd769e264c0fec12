// expect: security_violation
// why: the accessor's getter taken out of its descriptor
Object.getOwnPropertyDescriptor(globalThis, 'process').get();
