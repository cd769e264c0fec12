// expect: runtime_error
// why: 5000 nested arrays hit the JSON encoder's recursion limit
var a = [];
for (var i = 0; i < 5000; i++)
	a = [a];
JSON.stringify(a).length;
