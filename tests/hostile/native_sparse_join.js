// expect: timeout
// timeout_ms: 200
// why: join walks 200 million holes inside one native call; no bytecode
//   runs, so only the supervisor's kill stops it
var a = [];
a.length = 200000000;
a.join('').length;
