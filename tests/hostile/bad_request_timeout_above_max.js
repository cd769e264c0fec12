// expect: bad_request
// timeout_ms: 999999
// why: a request may lower its timeout, never raise it past the profile's
1;
