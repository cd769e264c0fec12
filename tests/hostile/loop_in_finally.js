// expect: timeout
// timeout_ms: 200
// why: a finally clause runs even when the try block throws; it loops
try {
	throw new Error('first');
} finally {
	for (;;) {
	}
}
