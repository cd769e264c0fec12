// expect: runtime_error
// why: a function deep inside an otherwise plain value
({a: {b: [1, 2, {c: Math.max}]}});
