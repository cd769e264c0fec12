// expect: too_large
// why: a 300 KB string fits in the heap but not in the 256 KiB result limit
'x'.repeat(300000);
