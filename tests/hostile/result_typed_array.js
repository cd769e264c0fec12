// expect: runtime_error
// why: a buffer is refused
new Uint8Array(4);
