// expect: ok
// value: 4294967295
// why: an array of the largest length allocates nothing for its holes
var a = [];
a[4294967294] = 1;
a.length;
