// expect: timeout
// timeout_ms: 200
// why: catastrophic backtracking; the regexp matcher never reaches the
//   interrupt check, so only the supervisor's kill after the deadline
//   (plus its grace period) stops it
/(a+)+$/.test('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!');
