/* SPDX-License-Identifier: MIT */
/* Promise (ES2015, with finally and allSettled). The engine has no event
 * loop: reactions wait in a queue that the worker runs to the end after
 * the script's own code, so a script may chain promises and its result
 * may be a promise, whose settled value becomes the result. The piece
 * returns that runner to the worker; it is not a global. ES5.1 only. */
(function (global, lib) {
	'use strict';
	var PENDING = 0, FULFILLED = 1, REJECTED = 2;
	var queue = [];

	function isObject(x) {
		return x !== null && (typeof x === 'object' || typeof x === 'function');
	}

	function settle(p, state, value) {
		if (p._state !== PENDING)
			return;
		p._state = state;
		p._value = value;
		var reactions = p._reactions;
		p._reactions = null;
		for (var i = 0; i < reactions.length; i++)
			queue.push(reactions[i]);
	}

	/* The resolve and reject functions of p, which act once between
	 * them. */
	function resolvers(p) {
		var done = false;
		function resolve(x) {
			if (done)
				return;
			done = true;
			resolveWith(p, x);
		}
		function reject(r) {
			if (done)
				return;
			done = true;
			settle(p, REJECTED, r);
		}
		return { resolve: resolve, reject: reject };
	}

	function resolveWith(p, x) {
		if (x === p)
			return settle(p, REJECTED, new TypeError('a promise cannot resolve to itself'));
		if (!isObject(x))
			return settle(p, FULFILLED, x);
		var then;
		try {
			then = x.then;
		} catch (e) {
			return settle(p, REJECTED, e);
		}
		if (typeof then !== 'function')
			return settle(p, FULFILLED, x);
		queue.push(function () {
			var r = resolvers(p);
			try {
				then.call(x, r.resolve, r.reject);
			} catch (e) {
				r.reject(e);
			}
		});
	}

	function Promise(executor) {
		if (!(this instanceof Promise))
			throw new TypeError('Constructor Promise requires \'new\'');
		if (typeof executor !== 'function')
			throw new TypeError('Promise resolver ' + executor + ' is not a function');
		Object.defineProperty(this, '_state', { value: PENDING, writable: true });
		Object.defineProperty(this, '_value', { value: undefined, writable: true });
		Object.defineProperty(this, '_reactions', { value: [], writable: true });
		var r = resolvers(this);
		try {
			executor(r.resolve, r.reject);
		} catch (e) {
			r.reject(e);
		}
	}

	lib.define(Promise.prototype, 'then', function (onFulfilled, onRejected) {
		var self = this;
		if (!(self instanceof Promise))
			throw new TypeError('Promise.prototype.then called on an incompatible receiver');
		var next = new Promise(function () {});
		var r = resolvers(next);
		function react() {
			var fn = self._state === FULFILLED ? onFulfilled : onRejected;
			if (typeof fn !== 'function') {
				if (self._state === FULFILLED)
					r.resolve(self._value);
				else
					r.reject(self._value);
				return;
			}
			try {
				r.resolve(fn(self._value));
			} catch (e) {
				r.reject(e);
			}
		}
		if (self._state === PENDING)
			self._reactions.push(react);
		else
			queue.push(react);
		return next;
	});
	lib.define(Promise.prototype, 'catch', function (onRejected) {
		return this.then(undefined, onRejected);
	});
	lib.define(Promise.prototype, 'finally', function (fn) {
		if (typeof fn !== 'function')
			return this.then(fn, fn);
		return this.then(function (v) {
			return Promise.resolve(fn()).then(function () { return v; });
		}, function (e) {
			return Promise.resolve(fn()).then(function () { throw e; });
		});
	});

	lib.define(Promise, 'resolve', function (x) {
		if (x instanceof Promise)
			return x;
		return new Promise(function (resolve) { resolve(x); });
	});
	lib.define(Promise, 'reject', function (r) {
		return new Promise(function (resolve, reject) { reject(r); });
	});

	/* Runs each of the iterable's promises, and calls done(results) once
	 * every one has called back through record(i, ...). */
	function gather(iterable, record, done, reject) {
		var results = [], pending = 1, i = 0;
		lib.forEachOf(iterable, function (x) {
			var index = i++;
			pending++;
			Promise.resolve(x).then(function (v) {
				if (record(results, index, true, v) && --pending === 0)
					done(results);
			}, function (e) {
				if (record(results, index, false, e) && --pending === 0)
					done(results);
			});
		});
		if (--pending === 0)
			done(results);
	}

	lib.define(Promise, 'all', function (iterable) {
		return new Promise(function (resolve, reject) {
			gather(iterable, function (results, i, ok, v) {
				if (!ok) {
					reject(v);
					return false;
				}
				results[i] = v;
				return true;
			}, resolve);
		});
	});
	lib.define(Promise, 'allSettled', function (iterable) {
		return new Promise(function (resolve) {
			gather(iterable, function (results, i, ok, v) {
				results[i] = ok ? { status: 'fulfilled', value: v } :
						  { status: 'rejected', reason: v };
				return true;
			}, resolve);
		});
	});
	lib.define(Promise, 'race', function (iterable) {
		return new Promise(function (resolve, reject) {
			lib.forEachOf(iterable, function (x) {
				Promise.resolve(x).then(resolve, reject);
			});
		});
	});
	lib.define(global, 'Promise', Promise);

	/* The worker's runner: runs queued reactions until none is left,
	 * then gives the script's result, settled if it is a promise. A
	 * promise still pending then can never settle. */
	return function (result) {
		/* In rounds, so that the reactions already run are dropped and
		 * a long chain of awaits holds only the round in progress. */
		while (queue.length > 0) {
			var round = queue;
			queue = [];
			for (var i = 0; i < round.length; i++)
				round[i]();
		}
		if (!(result instanceof Promise))
			return result;
		if (result._state === FULFILLED)
			return result._value;
		if (result._state === REJECTED)
			throw result._value;
		throw new TypeError('the script\'s result is a promise that never settles');
	};
})
