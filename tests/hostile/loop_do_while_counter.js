// expect: timeout
// timeout_ms: 200
// why: an endless loop that does work, so that no optimiser can drop it
var n = 0;
do {
	n = (n + 1) % 1000;
} while (n >= 0);
