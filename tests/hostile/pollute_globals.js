// expect: ok
// value: 3
// isolation: true
// why: globals made by var, by assignment and by defineProperty
var leakedVar = 1;
leakedAssign = 2;
Object.defineProperty(globalThis, 'leakedHidden', {
	value: 3,
	enumerable: false
});
leakedHidden;
