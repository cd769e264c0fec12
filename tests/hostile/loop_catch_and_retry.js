// expect: timeout
// timeout_ms: 200
// why: catches the engine's timeout RangeError and starts over, forever
var tries = 0;
for (;;) {
	try {
		for (;;) {
		}
	} catch (e) {
		tries++;
		continue;
	}
}
