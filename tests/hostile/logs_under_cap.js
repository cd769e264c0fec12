// expect: ok
// value: 10
// logs_truncated: false
// why: a few lines stay under the cap and are not marked truncated
for (var i = 0; i < 10; i++)
	console.info('line ' + i);
i;
