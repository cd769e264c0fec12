// expect: ok
// value: "undefined"
// isolation: true
// why: deleting built-ins from the global object and from Math
delete Math.max;
delete globalThis.JSON;
delete Array.prototype.slice;
delete Object.keys;
typeof JSON;
