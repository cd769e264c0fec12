// expect: ok
// profile: tenant-isolated
// value: "undefined"
// why: process is not restricted here, and it does not exist either
typeof process;
