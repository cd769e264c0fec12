// expect: memory_limit
// why: many small buffers, each under the cap, kept alive together
var keep = [];
for (;;)
	keep.push(new ArrayBuffer(65536));
