// expect: runtime_error
// why: an array that holds itself two levels down
var a = [1];
a.push([a]);
a;
