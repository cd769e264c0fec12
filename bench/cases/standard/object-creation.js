// Objects made by a constructor and by literals, with a prototype method.
function Point(x, y) {
	this.x = x;
	this.y = y;
}

Point.prototype.norm1 = function () {
	return Math.abs(this.x) + Math.abs(this.y);
};

var sum = 0;
var tags = 0;
var i;
var p;
var rec;

for (i = 0; i < 2000; i++) {
	p = new Point(i - 1000, 3 * i);
	rec = { id: i, point: p, tag: 'p' + (i % 7) };
	sum += rec.point.norm1();
	if (rec.tag === 'p3') {
		tags++;
	}
}
[sum, tags];
