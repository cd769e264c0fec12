// A function declaration and a few plain calls.
function area(w, h) {
	return w * h;
}

function perimeter(w, h) {
	return 2 * (w + h);
}
area(3, 4) + perimeter(3, 4) + area(perimeter(1, 1), 5);
