// expect: timeout
// timeout_ms: 200
// why: a native sort of a million holes without a comparator: no script
//   code runs for the interrupt check to stop
var a = new Array(1000000);
a.sort();
a.length;
