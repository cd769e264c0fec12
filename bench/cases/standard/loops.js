// for, while and do-while loops, nested, with break and continue.
var count = 0;
var i;
var j;
var k;

for (i = 0; i < 100; i++) {
	for (j = 0; j < 100; j++) {
		if ((i + j) % 5 === 0) {
			continue;
		}
		count++;
	}
}

// A while loop that stops early on its own condition.
k = 0;
while (true) {
	k += 7;
	if (k > 5000) {
		break;
	}
}

// do-while runs its body at least once: the Collatz steps of 27.
var n = 27;
var steps = 0;
do {
	n = n % 2 === 0 ? n / 2 : 3 * n + 1;
	steps++;
} while (n !== 1);
[count, k, steps];
