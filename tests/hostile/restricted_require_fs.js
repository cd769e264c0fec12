// expect: security_violation
// why: require is restricted under ultra-secure
require('fs');
