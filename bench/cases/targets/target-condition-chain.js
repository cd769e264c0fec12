// A chain of conditions that classifies a handful of values.
function grade(score) {
	if (score >= 90) {
		return 'A';
	} else if (score >= 80) {
		return 'B';
	} else if (score >= 70) {
		return 'C';
	} else if (score >= 60) {
		return 'D';
	}
	return 'F';
}

var scores = [95, 83, 71, 64, 12, 90, 80, 59];
var out = '';
var i;

for (i = 0; i < scores.length; i++) {
	out += grade(scores[i]);
}
out;
