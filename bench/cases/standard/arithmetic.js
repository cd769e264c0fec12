// Integer arithmetic in a loop: products, remainders and a running modulus.
var sum = 0;
var i;

// The modulus keeps every intermediate value a small exact integer.
for (i = 1; i <= 10000; i++) {
	sum = (sum + i * i * 3 - i + (i % 13)) % 1000003;
}
sum;
