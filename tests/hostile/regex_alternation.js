// expect: timeout
// timeout_ms: 200
// why: overlapping alternatives backtrack exponentially on a near match
var subject = new Array(69).join('a') + 'b';
/^(a|aa)+$/.test(subject);
