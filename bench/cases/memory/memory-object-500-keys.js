// One object with 500 string keys: fill, read back and enumerate.
var o = {};
var i;
var k;
var n = 0;
var sum = 0;

for (i = 0; i < 500; i++) {
	o['key_' + i] = i * 3;
}
for (k in o) {
	if (o.hasOwnProperty(k)) {
		n++;
		sum += o[k];
	}
}
[n, sum, o.key_499, Object.keys(o)[250]];
