// expect: bad_request
// profile: no-such-profile
// why: a profile name the supervisor does not know
1;
