// expect: ok
// why: a 200 KB string is under the 256 KiB result limit
'y'.repeat(200000);
