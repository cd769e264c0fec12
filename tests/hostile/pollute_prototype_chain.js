// expect: ok
// value: ["yes",false]
// isolation: true
// why: an object of the script's put into the prototype chain of every
//   array, between Array.prototype and Object.prototype
Object.setPrototypeOf(Array.prototype, {inherited: 'yes'});
[[].inherited, Object.getPrototypeOf(Array.prototype) === Object.prototype];
