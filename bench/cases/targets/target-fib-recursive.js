// Recursive calls: the naive Fibonacci of 15 makes 1,973 calls.
function fib(n) {
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
fib(15);
