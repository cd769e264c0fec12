/* SPDX-License-Identifier: MIT */
/* Object.entries, Object.values and Object.fromEntries (ES2017, ES2019).
 * ES5.1 only. */
(function (global, lib) {
	'use strict';

	lib.define(Object, 'entries', function (o) {
		var keys = Object.keys(Object(o)), out = [];
		for (var i = 0; i < keys.length; i++)
			out.push([keys[i], o[keys[i]]]);
		return out;
	});
	lib.define(Object, 'values', function (o) {
		var keys = Object.keys(Object(o)), out = [];
		for (var i = 0; i < keys.length; i++)
			out.push(o[keys[i]]);
		return out;
	});
	lib.define(Object, 'fromEntries', function (iterable) {
		var out = {};
		lib.forEachOf(iterable, function (e) {
			if (e === null || typeof e !== 'object')
				throw new TypeError('iterator value ' + e + ' is not an entry object');
			out[e[0]] = e[1];
		});
		return out;
	});
})
