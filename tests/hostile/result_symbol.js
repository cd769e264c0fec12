// expect: runtime_error
// why: a Symbol has no msgpack form
Symbol('s');
