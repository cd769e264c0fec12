// expect: ok
// value: 600000
// why: a 600 KB string is well under the default 2 MiB heap cap
'x'.repeat(600000).length;
