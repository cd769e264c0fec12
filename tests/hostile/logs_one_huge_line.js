// expect: ok
// value: "done"
// logs_truncated: true
// why: one 1 MB console line is cut to the log cap
console.error('z'.repeat(1000000));
'done';
