// expect: ok
// value: 100000
// logs_truncated: true
// why: empty lines cost something too, so a flood of them meets the cap
for (var i = 0; i < 100000; i++)
	console.warn();
i;
