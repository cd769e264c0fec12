/* SPDX-License-Identifier: MIT */
/* Helpers shared by the other prelude pieces, installed first whenever one
 * of them is. Nothing here is put on the global object: the pieces get it
 * as their second argument. ES5.1 only. */
(function (global) {
	'use strict';
	var iteratorKey = global.Symbol && global.Symbol.iterator;

	/* Calls fn(c) for each character of s, a surrogate pair as one, as
	 * a string's iterator gives them. */
	function forEachCodePoint(s, fn) {
		for (var i = 0; i < s.length; i++) {
			var c = s.charCodeAt(i);
			if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
				var d = s.charCodeAt(i + 1);
				if (d >= 0xdc00 && d <= 0xdfff) {
					fn(s.charAt(i) + s.charAt(i + 1));
					i++;
					continue;
				}
			}
			fn(s.charAt(i));
		}
	}

	/* Calls fn(value) for each element of an iterable: an array, a
	 * string, an object with a Symbol.iterator method, or an array-like
	 * (an object with a length). */
	function forEachOf(iterable, fn) {
		if (iterable === null || iterable === undefined)
			throw new TypeError(String(iterable) + ' is not iterable');
		if (typeof iterable === 'string') {
			forEachCodePoint(iterable, fn);
			return;
		}
		if (iteratorKey && typeof iterable[iteratorKey] === 'function' &&
		    !Array.isArray(iterable)) {
			var it = iterable[iteratorKey]();
			for (;;) {
				var step = it.next();
				if (step.done)
					return;
				fn(step.value);
			}
		}
		var o = Object(iterable);
		var n = o.length >>> 0;
		for (var i = 0; i < n; i++)
			fn(o[i]);
	}

	/* An iterator over an array of results, made lazily by at(i). */
	function makeIterator(at) {
		var i = 0, done = false;
		var it = {
			next: function () {
				if (!done) {
					var r = at(i++);
					if (r.done)
						done = true;
					else
						return r;
				}
				return { value: undefined, done: true };
			}
		};
		if (iteratorKey)
			it[iteratorKey] = function () { return this; };
		return it;
	}


	function define(target, name, value) {
		if (Object.prototype.hasOwnProperty.call(target, name))
			return;
		Object.defineProperty(target, name, {
			value: value, writable: true, configurable: true,
			enumerable: false
		});
	}

	return {
		forEachOf: forEachOf,
		makeIterator: makeIterator,
		forEachCodePoint: forEachCodePoint,
		define: define,
		iteratorKey: iteratorKey
	};
})
