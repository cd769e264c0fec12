// expect: memory_limit
// why: a 3 MB string cannot fit under the 2 MiB heap cap
'x'.repeat(3000000).length;
