// expect: runtime_error
// why: an object inside itself cannot be encoded
var o = {name: 'loop'};
o.self = o;
o;
