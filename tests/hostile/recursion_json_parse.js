// expect: runtime_error
// why: 20 000 nested arrays in JSON text hit the decoder's recursion limit
JSON.parse(new Array(20000).join('[') + new Array(20000).join(']'));
