// expect: ok
// profile: tenant-isolated
// value: 4000000
// why: 4 MB is over the default cap but under tenant-isolated's 8 MiB
new ArrayBuffer(4000000).byteLength;
