// expect: timeout
// timeout_ms: 200
// why: indexOf over 200 million holes, all inside one native call
var a = [];
a.length = 200000000;
a.indexOf(1);
