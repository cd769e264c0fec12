// expect: syntax_error
// why: nor arrow functions
[1, 2].map(x => x * 2);
