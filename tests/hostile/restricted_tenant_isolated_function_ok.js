// expect: ok
// profile: tenant-isolated
// value: 1
// why: tenant-isolated restricts only eval: the Function constructor works
Function('return 1')();
