// expect: timeout
// timeout_ms: 200
// why: the same backtracking regexp, reached through String.prototype.split
'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'.split(/(x+x+)+y/);
