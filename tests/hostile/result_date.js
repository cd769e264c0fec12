// expect: runtime_error
// why: a Date is refused, not turned into a map
new Date(0);
