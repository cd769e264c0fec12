// The common String.prototype methods applied to many short strings.
var words = ['alpha', 'Bravo', ' charlie ', 'delta', 'ECHO', 'foxtrot'];
var upper = 0;
var found = 0;
var codes = 0;
var parts = [];
var i;
var w;

for (i = 0; i < 500; i++) {
	w = words[i % words.length].trim().toLowerCase();
	if (w.indexOf('a') >= 0) {
		found++;
	}
	upper += w.toUpperCase().length;
	codes += w.charCodeAt(i % w.length);
	if (i < 6) {
		parts.push(w.substring(0, 3) + w.charAt(w.length - 1));
	}
}
[found, upper, codes, parts.join('-').replace('alp', 'ALP')];
