/* SPDX-License-Identifier: MIT */
/* The iterators of arrays, strings and arguments objects
 * (Array.prototype[Symbol.iterator] and String.prototype[Symbol.iterator]),
 * which the engine lacks: spread, for...of and destructuring in lowered
 * code ask for them, and without them would walk a string by UTF-16
 * code unit. ES5.1 only. */
(function (global, lib) {
	'use strict';
	var key = lib.iteratorKey;

	if (!key)
		return;
	lib.define(Array.prototype, key, function () {
		var o = Object(this);
		return lib.makeIterator(function (i) {
			return i < (o.length >>> 0) ? { value: o[i], done: false } :
						      { done: true };
		});
	});
	lib.define(String.prototype, key, function () {
		if (this === null || this === undefined)
			throw new TypeError('String.prototype[Symbol.iterator] called on null or undefined');
		var chars = [];
		lib.forEachCodePoint(String(this), function (c) { chars.push(c); });
		return chars[key]();
	});
})
