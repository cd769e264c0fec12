// expect: ok
// value: "undefined"
// why: the Duktape object (fin, info, act, dec) is deleted
typeof Duktape;
