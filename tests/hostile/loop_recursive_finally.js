// expect: timeout
// timeout_ms: 200
// why: each finally clause recurses into a new loop once the error passes
function spin() {
	try {
		for (;;) {
		}
	} finally {
		spin();
	}
}
spin();
