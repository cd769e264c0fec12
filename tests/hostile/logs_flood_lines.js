// expect: ok
// value: "done"
// logs_truncated: true
// why: 20 000 console lines, far past the 16 KiB of logs kept
for (var i = 0; i < 20000; i++)
	console.log('line', i);
'done';
