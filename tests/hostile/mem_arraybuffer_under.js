// expect: ok
// value: 1500000
// why: a 1.5 MB ArrayBuffer fits under the cap
new ArrayBuffer(1500000).byteLength;
