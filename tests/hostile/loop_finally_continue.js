// expect: timeout
// timeout_ms: 200
// why: `continue` in a finally clause would swallow the timeout error if
//   the clause were allowed to run after the stop
for (;;) {
	try {
		for (;;) {
		}
	} finally {
		continue;
	}
}
