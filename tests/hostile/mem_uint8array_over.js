// expect: memory_limit
// why: a 3 MB typed array does not
new Uint8Array(3000000).length;
