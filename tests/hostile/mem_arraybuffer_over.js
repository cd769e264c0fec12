// expect: memory_limit
// why: a 64 MiB ArrayBuffer asked for in one allocation
new ArrayBuffer(64 * 1024 * 1024).byteLength;
