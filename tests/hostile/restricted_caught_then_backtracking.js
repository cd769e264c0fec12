// expect: security_violation
// timeout_ms: 200
// why: the same, followed by a regexp that only the supervisor's kill can
//   stop: the violation must still be the answer
try {
	require('child_process');
} catch (e) {
}
/(a+)+$/.test('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!');
