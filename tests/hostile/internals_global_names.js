// expect: ok
// value: [-1,-1]
// why: neither is hidden somewhere among the global's own names either
var names = Object.getOwnPropertyNames(globalThis);
[names.indexOf('Duktape'), names.indexOf('CBOR')];
