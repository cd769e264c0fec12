// expect: syntax_error
// why: Duktape 2.7 has no let
let x = 1;
x;
