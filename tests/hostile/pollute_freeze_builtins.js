// expect: ok
// value: true
// isolation: true
// why: freezing prototypes would make later scripts' assignments fail
Object.freeze(Object.prototype);
Object.freeze(Array.prototype);
Object.freeze(Function.prototype);
Object.isFrozen(Object.prototype);
