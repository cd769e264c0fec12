// profiles: ultra-secure high-security tenant-isolated
// Integer arithmetic: primes below 2,000 by trial division and a sum of gcds.
function gcd(a, b) {
	var t;
	while (b !== 0) {
		t = a % b;
		a = b;
		b = t;
	}
	return a;
}

var primes = 0;
var g = 0;
var n;
var d;
var prime;

for (n = 2; n < 2000; n++) {
	prime = true;
	for (d = 2; d * d <= n; d++) {
		if (n % d === 0) {
			prime = false;
			break;
		}
	}
	if (prime) {
		primes++;
	}
}
for (n = 1; n <= 500; n++) {
	g += gcd(n * 12, 360);
}
[primes, g];
