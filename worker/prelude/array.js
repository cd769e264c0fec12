/* SPDX-License-Identifier: MIT */
/* Array.from and Array.of; find, findIndex, includes, fill, flat,
 * flatMap, and the entries, keys and values iterators of
 * Array.prototype (ES2015 to ES2019). ES5.1 only. */
(function (global, lib) {
	'use strict';

	function toObject(self, name) {
		if (self === null || self === undefined)
			throw new TypeError('Array.prototype.' + name + ' called on null or undefined');
		return Object(self);
	}

	function callable(fn, name) {
		if (typeof fn !== 'function')
			throw new TypeError(name + ': ' + fn + ' is not a function');
		return fn;
	}

	function relative(n, len, otherwise) {
		if (n === undefined)
			return otherwise;
		n = Math.trunc(Number(n)) || 0;
		return n < 0 ? Math.max(len + n, 0) : Math.min(n, len);
	}

	lib.define(Array, 'from', function (items, mapFn, thisArg) {
		if (mapFn !== undefined)
			callable(mapFn, 'Array.from');
		var out = [], i = 0;
		lib.forEachOf(items, function (x) {
			out.push(mapFn ? mapFn.call(thisArg, x, i) : x);
			i++;
		});
		return out;
	});
	lib.define(Array, 'of', function () {
		return Array.prototype.slice.call(arguments);
	});

	var proto = {
		find: function (fn, thisArg) {
			var o = toObject(this, 'find'), n = o.length >>> 0;
			callable(fn, 'Array.prototype.find');
			for (var i = 0; i < n; i++) {
				if (fn.call(thisArg, o[i], i, o))
					return o[i];
			}
			return undefined;
		},
		findIndex: function (fn, thisArg) {
			var o = toObject(this, 'findIndex'), n = o.length >>> 0;
			callable(fn, 'Array.prototype.findIndex');
			for (var i = 0; i < n; i++) {
				if (fn.call(thisArg, o[i], i, o))
					return i;
			}
			return -1;
		},
		includes: function (x, from) {
			var o = toObject(this, 'includes'), n = o.length >>> 0;
			for (var i = relative(from, n, 0); i < n; i++) {
				if (o[i] === x || (x !== x && o[i] !== o[i]))
					return true;
			}
			return false;
		},
		fill: function (v, start, end) {
			var o = toObject(this, 'fill'), n = o.length >>> 0;
			var last = relative(end, n, n);
			for (var i = relative(start, n, 0); i < last; i++)
				o[i] = v;
			return o;
		},
		flat: function (depth) {
			var o = toObject(this, 'flat'), out = [];
			var d = depth === undefined ? 1 : Math.trunc(Number(depth)) || 0;
			(function walk(a, level) {
				var n = a.length >>> 0;
				for (var i = 0; i < n; i++) {
					if (!(i in a))
						continue;
					if (level > 0 && Array.isArray(a[i]))
						walk(a[i], level - 1);
					else
						out.push(a[i]);
				}
			})(o, d);
			return out;
		},
		flatMap: function (fn, thisArg) {
			var o = toObject(this, 'flatMap');
			callable(fn, 'Array.prototype.flatMap');
			return Array.prototype.map.call(o, fn, thisArg).flat(1);
		},
		entries: function () {
			var o = toObject(this, 'entries');
			return lib.makeIterator(function (i) {
				return i < (o.length >>> 0) ? { value: [i, o[i]], done: false } : { done: true };
			});
		},
		keys: function () {
			var o = toObject(this, 'keys');
			return lib.makeIterator(function (i) {
				return i < (o.length >>> 0) ? { value: i, done: false } : { done: true };
			});
		},
		values: function () {
			var o = toObject(this, 'values');
			return lib.makeIterator(function (i) {
				return i < (o.length >>> 0) ? { value: o[i], done: false } : { done: true };
			});
		}
	};
	for (var name in proto)
		lib.define(Array.prototype, name, proto[name]);
})
