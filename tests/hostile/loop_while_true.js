// expect: timeout
// timeout_ms: 200
// why: the plainest endless loop; the worker's interrupt check stops it
while (true) {
}
