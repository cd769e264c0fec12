/* SPDX-License-Identifier: MIT */
/* Map, Set, WeakMap and WeakSet, which the engine lacks. The weak ones
 * hold their keys strongly: an environment lives for one execution, so
 * nothing outlives it either way. ES5.1 only. */
(function (global, lib) {
	'use strict';

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
		/* An object that can still take a key was never stored: every
		 * stored extensible object got one. Only symbols and objects
		 * that could not take one are searched for. */
		if (k !== null && (typeof k === 'object' || typeof k === 'function') &&
		    Object.isExtensible(k))
			return -1;
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
		return lib.makeIterator(function () {
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


	function check(self, Kind, name) {
		if (!(self instanceof Kind) || !self._store)
			throw new TypeError(name + ' called on an incompatible receiver');
		return self._store;
	}

	function checkWeakKey(k) {
		if (k === null || (typeof k !== 'object' && typeof k !== 'function'))
			throw new TypeError('invalid value used as weak key');
	}

	function init(self, Kind, name, iterable, add) {
		if (!(self instanceof Kind))
			throw new TypeError('Constructor ' + name + ' requires \'new\'');
		Object.defineProperty(self, '_store', { value: new Store() });
		if (iterable !== undefined && iterable !== null)
			lib.forEachOf(iterable, function (x) { add(self, x); });
	}

	function addPair(self, entry) {
		if (entry === null || typeof entry !== 'object')
			throw new TypeError('iterator value ' + entry + ' is not an entry object');
		self.set(entry[0], entry[1]);
	}

	function Map(iterable) {
		init(this, Map, 'Map', iterable, addPair);
	}
	function Set(iterable) {
		init(this, Set, 'Set', iterable, function (s, x) { s.add(x); });
	}
	function WeakMap(iterable) {
		init(this, WeakMap, 'WeakMap', iterable, addPair);
	}
	function WeakSet(iterable) {
		init(this, WeakSet, 'WeakSet', iterable, function (s, x) { s.add(x); });
	}

	function entry(k, v) { return [k, v]; }
	function key(k) { return k; }
	function value(k, v) { return v; }

	var methods = {
		Map: {
			get: function (k) {
				var s = check(this, Map, 'Map.prototype.get');
				var i = s.find(k);
				return i < 0 ? undefined : s.vals[i];
			},
			set: function (k, v) { check(this, Map, 'Map.prototype.set').set(k, v); return this; },
			has: function (k) { return check(this, Map, 'Map.prototype.has').find(k) >= 0; },
			'delete': function (k) { return check(this, Map, 'Map.prototype.delete').remove(k); },
			clear: function () { check(this, Map, 'Map.prototype.clear').clear(); },
			forEach: function (fn, thisArg) { check(this, Map, 'Map.prototype.forEach').forEach(fn, thisArg, this, false); },
			entries: function () { return check(this, Map, 'Map.prototype.entries').iterate(entry); },
			keys: function () { return check(this, Map, 'Map.prototype.keys').iterate(key); },
			values: function () { return check(this, Map, 'Map.prototype.values').iterate(value); }
		},
		Set: {
			add: function (k) { check(this, Set, 'Set.prototype.add').set(k, k); return this; },
			has: function (k) { return check(this, Set, 'Set.prototype.has').find(k) >= 0; },
			'delete': function (k) { return check(this, Set, 'Set.prototype.delete').remove(k); },
			clear: function () { check(this, Set, 'Set.prototype.clear').clear(); },
			forEach: function (fn, thisArg) { check(this, Set, 'Set.prototype.forEach').forEach(fn, thisArg, this, true); },
			values: function () { return check(this, Set, 'Set.prototype.values').iterate(key); },
			keys: function () { return check(this, Set, 'Set.prototype.keys').iterate(key); },
			entries: function () { return check(this, Set, 'Set.prototype.entries').iterate(function (k) { return [k, k]; }); }
		},
		WeakMap: {
			get: function (k) {
				var s = check(this, WeakMap, 'WeakMap.prototype.get');
				var i = s.find(k);
				return i < 0 ? undefined : s.vals[i];
			},
			set: function (k, v) { checkWeakKey(k); check(this, WeakMap, 'WeakMap.prototype.set').set(k, v); return this; },
			has: function (k) { return check(this, WeakMap, 'WeakMap.prototype.has').find(k) >= 0; },
			'delete': function (k) { return check(this, WeakMap, 'WeakMap.prototype.delete').remove(k); }
		},
		WeakSet: {
			add: function (k) { checkWeakKey(k); check(this, WeakSet, 'WeakSet.prototype.add').set(k, k); return this; },
			has: function (k) { return check(this, WeakSet, 'WeakSet.prototype.has').find(k) >= 0; },
			'delete': function (k) { return check(this, WeakSet, 'WeakSet.prototype.delete').remove(k); }
		}
	};
	var kinds = { Map: Map, Set: Set, WeakMap: WeakMap, WeakSet: WeakSet };

	for (var name in kinds) {
		var Kind = kinds[name], m = methods[name];
		for (var k in m)
			lib.define(Kind.prototype, k, m[k]);
		if (name === 'Map' || name === 'Set') {
			Object.defineProperty(Kind.prototype, 'size', {
				configurable: true,
				get: (function (K, n) {
					return function () { return check(this, K, n + '.prototype.size').size; };
				})(Kind, name)
			});
		}
		if (lib.iteratorKey) {
			var main = name === 'Map' ? m.entries : m.values;
			if (main)
				lib.define(Kind.prototype, lib.iteratorKey, main);
		}
		if (global.Symbol && global.Symbol.toStringTag)
			Object.defineProperty(Kind.prototype, global.Symbol.toStringTag,
					      { value: name, configurable: true });
		lib.define(global, name, Kind);
	}
})
