// Dates from Date.UTC: UTC fields, day arithmetic and toISOString.
var start = new Date(Date.UTC(2024, 1, 28, 12, 0, 0));
var later = new Date(start.getTime() + 2 * 24 * 3600 * 1000);
[later.toISOString(), later.getUTCDay(), later.getUTCMonth(),
	(later.getTime() - start.getTime()) / 3600000];
