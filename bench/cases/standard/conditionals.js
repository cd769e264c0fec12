// if/else chains, switch and the conditional operator on 6,000 numbers.
var counts = { fizz: 0, buzz: 0, fizzbuzz: 0, other: 0 };
var kinds = [0, 0, 0, 0];
var i;

for (i = 1; i <= 6000; i++) {
	if (i % 15 === 0) {
		counts.fizzbuzz++;
	} else if (i % 5 === 0) {
		counts.buzz++;
	} else if (i % 3 === 0) {
		counts.fizz++;
	} else {
		counts.other++;
	}
	switch (i % 4) {
	case 0:
		kinds[0] += 1;
		break;
	case 1:
	case 2:
		kinds[1] += i > 3000 ? 2 : 1;
		break;
	default:
		kinds[i & 4 ? 2 : 3] += 1;
	}
}
[counts.fizz, counts.buzz, counts.fizzbuzz, counts.other, kinds.join(',')];
