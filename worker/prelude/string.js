/* SPDX-License-Identifier: MIT */
/* String.prototype.padStart and padEnd (ES2017), trimStart and trimEnd
 * (ES2019). ES5.1 only. */
(function (global, lib) {
	'use strict';

	function filler(s, targetLength, padString) {
		var n = Math.floor(Number(targetLength)) || 0;
		var pad = padString === undefined ? ' ' : String(padString);
		if (n <= s.length || pad === '')
			return '';
		var need = n - s.length, fill = pad;
		while (fill.length < need)
			fill += fill;
		return fill.slice(0, need);
	}

	function self(s, name) {
		if (s === null || s === undefined)
			throw new TypeError('String.prototype.' + name + ' called on null or undefined');
		return String(s);
	}

	lib.define(String.prototype, 'padStart', function (n, pad) {
		var s = self(this, 'padStart');
		return filler(s, n, pad) + s;
	});
	lib.define(String.prototype, 'padEnd', function (n, pad) {
		var s = self(this, 'padEnd');
		return s + filler(s, n, pad);
	});
	lib.define(String.prototype, 'trimStart', function () {
		return self(this, 'trimStart').replace(/^[\s\uFEFF\xA0]+/, '');
	});
	lib.define(String.prototype, 'trimEnd', function () {
		return self(this, 'trimEnd').replace(/[\s\uFEFF\xA0]+$/, '');
	});
})
