/* SPDX-License-Identifier: MIT */
/* Helpers shared by the other prelude pieces, installed first whenever one
 * of them is. Nothing here is put on the global object: the pieces get it
 * as their second argument. ES5.1 only. */
(function (global) {
	'use strict';
	var iteratorKey = global.Symbol && global.Symbol.iterator;

	/* Calls fn(value) for each element of an iterable: an array, a
	 * string, an object with a Symbol.iterator method, or an array-like
	 * (an object with a length). */
	function forEachOf(iterable, fn) {
		if (iterable === null || iterable === undefined)
			throw new TypeError(String(iterable) + ' is not iterable');
		if (iteratorKey && typeof iterable[iteratorKey] === 'function' &&
		    !Array.isArray(iterable) && typeof iterable !== 'string') {
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


	/* An insertion-ordered table of keys (and values) compared as
	 * SameValueZero, the store of Map, Set, WeakMap and WeakSet.
	 * Primitive keys are found through a dictionary, objects through an
	 * id kept under a symbol on the object, and the rest (symbols,
	 * frozen objects) by a linear search. Deleted slots stay as holes
	 * until clear(): iterators index the arrays, and an iterator made
	 * before a clear() ends at it. */
	var HOLE = {};
	var idKey = global.Symbol ? global.Symbol('beddel.key') : '\u0000beddel.key';
	var nextId = 1;

	function dictKey(k, make) {
		var t = typeof k;
		if (k === null)
			return 'null';
		if (t === 'number')
			return 'n:' + (k === 0 ? 0 : k);
		if (t === 'string' || t === 'boolean' || t === 'undefined')
			return t.charAt(0) + ':' + k;
		if (t !== 'object' && t !== 'function')
			return null;
		if (Object.prototype.hasOwnProperty.call(k, idKey))
			return 'o:' + k[idKey];
		if (!make || !Object.isExtensible(k))
			return null;
		Object.defineProperty(k, idKey, { value: nextId++ });
		return 'o:' + k[idKey];
	}

	function same(a, b) {
		return a === b || (a !== a && b !== b);
	}

	function Store() {
		this.clear();
	}
	Store.prototype.clear = function () {
		this.keys = [];
		this.vals = [];
		this.dict = Object.create(null);
		this.size = 0;
	};
	Store.prototype.find = function (k) {
		var d = dictKey(k, false);
		if (d !== null) {
			var i = this.dict[d];
			return i === undefined ? -1 : i;
		}
		for (var j = 0; j < this.keys.length; j++) {
			if (same(this.keys[j], k))
				return j;
		}
		return -1;
	};
	Store.prototype.set = function (k, v) {
		var i = this.find(k);
		if (i >= 0) {
			this.vals[i] = v;
			return;
		}
		if (k === 0)
			k = 0; /* -0 becomes +0, as the standard says */
		var d = dictKey(k, true);
		if (d !== null)
			this.dict[d] = this.keys.length;
		this.keys.push(k);
		this.vals.push(v);
		this.size++;
	};
	Store.prototype.remove = function (k) {
		var i = this.find(k);
		if (i < 0)
			return false;
		var d = dictKey(k, false);
		if (d !== null)
			delete this.dict[d];
		this.keys[i] = HOLE;
		this.vals[i] = undefined;
		this.size--;
		return true;
	};
	/* An iterator of pick(key, value) over the live entries. */
	Store.prototype.iterate = function (pick) {
		var self = this, keys = this.keys, i = 0;
		return makeIterator(function () {
			while (self.keys === keys && i < keys.length) {
				var j = i++;
				if (keys[j] !== HOLE)
					return { value: pick(keys[j], self.vals[j]), done: false };
			}
			return { done: true };
		});
	};
	Store.prototype.forEach = function (fn, thisArg, owner, isSet) {
		var keys = this.keys;
		for (var i = 0; this.keys === keys && i < keys.length; i++) {
			if (keys[i] !== HOLE)
				fn.call(thisArg, isSet ? keys[i] : this.vals[i], keys[i], owner);
		}
	};

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
		define: define,
		Store: Store,
		iteratorKey: iteratorKey
	};
})
