// expect: runtime_error
// why: 20 000 nested groups hit the regexp compiler's recursion limit
new RegExp(new Array(20000).join('(') + new Array(20000).join(')'));
