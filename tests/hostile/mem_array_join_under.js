// expect: ok
// value: 500000
// why: join builds a 500 KB string
new Array(500001).join('x').length;
