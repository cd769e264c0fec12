// expect: memory_limit
// why: join builds a 5 MB string
new Array(5000001).join('x').length;
