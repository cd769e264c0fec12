// expect: ok
// value: 1000000
// why: a 1 MB typed array fits under the cap
var b = new Uint8Array(1000000);
b[999999] = 7;
b.length;
