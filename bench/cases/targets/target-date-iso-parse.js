// Dates parsed from fixed ISO 8601 strings, compared and reformatted.
var a = new Date('2023-12-31T23:59:30.000Z');
var b = new Date('2024-01-01T00:00:45.500Z');
var d = new Date(Date.parse('2000-01-01T00:00:00Z'));
[(b.getTime() - a.getTime()) / 1000, b.getUTCFullYear(), d.getUTCDay(),
	a < b, new Date(a.getTime() + 30000).toISOString()];
