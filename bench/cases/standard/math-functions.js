// Math functions: sqrt, floor, abs, max, min, pow, sin, cos, log, exp, round.
var acc = 0;
var trig = 0;
var i;

// sin, cos, log and exp may differ in their last bit between engines; rounded
// to integers they agree.
for (i = 1; i <= 2000; i++) {
	acc += Math.floor(Math.sqrt(i * 37)) + Math.abs(500 - i) % 11;
	acc += Math.max(i % 17, i % 19) - Math.min(i % 5, i % 3);
	trig += Math.round(Math.sin(i) * 1000) + Math.round(Math.cos(i) * 1000);
}
var pw = Math.pow(2, 20) + Math.pow(3, 7);
var lg = Math.round(Math.log(1000) * 1000) + Math.round(Math.exp(3) * 100);
[acc, trig, pw, lg, Math.ceil(7.25), Math.round(-2.5)];
