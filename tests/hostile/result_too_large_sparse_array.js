// expect: too_large
// why: an array of length 2^32-1 whose holes each encode as undefined
var a = [];
a.length = 4294967295;
a;
