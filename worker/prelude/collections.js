/* SPDX-License-Identifier: MIT */
/* Map, Set, WeakMap and WeakSet, which the engine lacks. The weak ones
 * hold their keys strongly: an environment lives for one execution, so
 * nothing outlives it either way. ES5.1 only. */
(function (global, lib) {
	'use strict';

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
		Object.defineProperty(self, '_store', { value: new lib.Store() });
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
