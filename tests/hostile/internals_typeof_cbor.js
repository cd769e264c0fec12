// expect: ok
// value: "undefined"
// why: the CBOR object, whose decode made hidden keys, is deleted
typeof CBOR;
