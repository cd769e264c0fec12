// expect: memory_limit
// why: the same 4 MB buffer under the default profile's 2 MiB cap
new ArrayBuffer(4000001).byteLength;
