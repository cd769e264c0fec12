/* SPDX-License-Identifier: MIT */
/* The peer driver: runs benchmark scripts in the engines a user would pick
 * instead of Beddel in Node.js (isolated-vm, and Node's own vm module), and
 * times them from inside, so that no process start or pipe is measured.
 *
 * Start it once and keep it running:
 *
 *   node --expose-gc bench/peers/peer.js
 *
 * --expose-gc lets the memory request collect garbage before it reads the
 * resident size. isolated-vm on Node.js 20 also needs --no-node-snapshot
 * (V8 shares snapshot data between isolates, and isolates made from
 * different snapshots can crash the process); when it is missing, the
 * driver starts itself again with both flags, on the same stdin, stdout
 * and stderr, and exits with that child's status.
 *
 * Protocol: one JSON object per line on stdin, exactly one JSON object per
 * line on stdout for each (nothing else goes to stdout; diagnostics go to
 * stderr). Blank lines are skipped. EOF on stdin: exit 0.
 *
 *   {"op":"hello"}
 *     -> {"ok":true,"node":"v20.x.y","isolated_vm":"5.0.4"}
 *     or {"ok":true,"node":...,"isolated_vm":null,"isolated_vm_error":WHY}
 *   {"op":"run","mode":M,"code":SRC,"iterations":N}
 *     -> {"ok":true,"samples_ns":[N integers],"value":JSON-TEXT}
 *   {"op":"throughput","mode":M,"code":SRC,"duration_ms":D}
 *     -> {"ok":true,"executions":K,"elapsed_ns":T}
 *   {"op":"memory","isolates":K}
 *     -> {"ok":true,"rss_before_bytes":B,"rss_after_bytes":A,
 *         "per_isolate_bytes":P}
 *   any failure -> {"ok":false,"error":TEXT}; an unknown op gets
 *     {"ok":false,"error":"unknown op"}
 *
 * Modes (M), one execution each:
 *   ivm-context   a new context in the driver's one isolate (memoryLimit
 *                 128 MiB), evalSync with copy, the context released
 *   ivm-isolate   a new isolate (memoryLimit 8 MiB), a context, evalSync
 *                 with copy, the isolate disposed
 *   vm-context    vm.runInNewContext(SRC)
 * The script is compiled on every execution, as Beddel compiles it.
 */
'use strict';

var childProcess = require('child_process');
var fs = require('fs');
var path = require('path');
var readline = require('readline');
var vm = require('vm');

/* isolated-vm's smallest heap limit (MiB), the nearest to Beddel's
 * profile caps, for an isolate per execution. */
var IVM_MEMORY_LIMIT_MB = 8;

/* The reused isolate of ivm-context holds the garbage of every context
 * released since its last collection; with the 8 MiB limit, a run of
 * loop-heavy cases had it disposed mid-execution. A service reusing an
 * isolate would give it room like this. */
var IVM_SHARED_MEMORY_LIMIT_MB = 128;

/* The memory request keeps K isolates alive at once; each costs about 1 MiB
 * of resident memory, so K is bounded. */
var MEMORY_ISOLATES_MAX = 200;

var ITERATIONS_MAX = 1000000;

function restartWithFlags() {
	var args = ['--expose-gc', '--no-node-snapshot', __filename];
	var child = childProcess.spawnSync(process.execPath, args,
		{ stdio: 'inherit' });

	if (child.error) {
		process.stderr.write('peer: cannot start again with ' +
			'--no-node-snapshot: ' + child.error.message + '\n');
		process.exit(1);
	}
	process.exit(child.status === null ? 1 : child.status);
}

if (process.execArgv.indexOf('--no-node-snapshot') < 0) {
	restartWithFlags();
}

/* isolated-vm is optional: without it, hello says why, and its modes
 * answer with that reason. */
var ivm = null;
var ivmVersion = null;
var ivmError = null;

function loadIsolatedVm() {
	var installError = path.join(__dirname, 'node_modules',
		'.install-error');

	try {
		ivm = require('isolated-vm');
		ivmVersion = require('isolated-vm/package.json').version;
		return;
	} catch (e) {
		ivmError = e.message;
	}

	/* setup.sh's record of a failed install says more than the require
	 * error (which is then only "Cannot find module"). */
	try {
		ivmError = fs.readFileSync(installError, 'utf8').trim();
	} catch (e) {
		/* No record: the require error stands. */
	}
}

loadIsolatedVm();

/* The isolate of the ivm-context mode, made on first use and made again if
 * a script took it past its memory limit (isolated-vm disposes it then). */
var sharedIsolate = null;

function getSharedIsolate() {
	if (sharedIsolate === null || sharedIsolate.isDisposed) {
		sharedIsolate = new ivm.Isolate(
			{ memoryLimit: IVM_SHARED_MEMORY_LIMIT_MB });
	}
	return sharedIsolate;
}

/* Each execution returns [nanoseconds, value]. The clock stops once the
 * copied result is in the driver's heap; releasing the context or
 * disposing the isolate comes after it (throughput counts them). */
function execIvmContext(code) {
	var isolate = getSharedIsolate();
	var t0 = process.hrtime.bigint();
	var context = isolate.createContextSync();
	var value;
	var t1;

	try {
		value = context.evalSync(code, { copy: true });
		t1 = process.hrtime.bigint();
	} finally {
		context.release();
	}
	return [t1 - t0, value];
}

function execIvmIsolate(code) {
	var t0 = process.hrtime.bigint();
	var isolate = new ivm.Isolate({ memoryLimit: IVM_MEMORY_LIMIT_MB });
	var value;
	var t1;

	try {
		value = isolate.createContextSync().evalSync(code,
			{ copy: true });
		t1 = process.hrtime.bigint();
	} finally {
		/* Past its memory limit isolated-vm has disposed it already,
		 * and a second dispose would hide the script's error. */
		if (!isolate.isDisposed) {
			isolate.dispose();
		}
	}
	return [t1 - t0, value];
}

function execVmContext(code) {
	var t0 = process.hrtime.bigint();
	var value = vm.runInNewContext(code);
	var t1 = process.hrtime.bigint();

	return [t1 - t0, value];
}

var modes = {
	'ivm-context': { exec: execIvmContext, needsIvm: true },
	'ivm-isolate': { exec: execIvmIsolate, needsIvm: true },
	'vm-context': { exec: execVmContext, needsIvm: false }
};

/* Returns the mode's entry, or throws the reason it cannot run. */
function findMode(req) {
	var mode = Object.prototype.hasOwnProperty.call(modes, req.mode) ?
		modes[req.mode] : null;

	if (mode === null) {
		throw new Error('unknown mode: ' + String(req.mode));
	}
	if (typeof req.code !== 'string') {
		throw new Error('code must be a string');
	}
	if (mode.needsIvm && ivm === null) {
		throw new Error('isolated-vm is not installed: ' + ivmError);
	}
	return mode;
}

function isCount(n, max) {
	return typeof n === 'number' && Number.isInteger(n) && n >= 1 &&
		n <= max;
}

/* Beddel prints a completion value of undefined as null; so does this. */
function toJsonText(value) {
	var text = JSON.stringify(value);

	return text === undefined ? 'null' : text;
}

function opRun(req) {
	var mode = findMode(req);
	var samples = [];
	var last;
	var i;

	if (!isCount(req.iterations, ITERATIONS_MAX)) {
		throw new Error('iterations must be an integer from 1 to ' +
			ITERATIONS_MAX);
	}
	for (i = 0; i < req.iterations; i++) {
		last = mode.exec(req.code);
		samples.push(Number(last[0]));
	}
	return { ok: true, samples_ns: samples, value: toJsonText(last[1]) };
}

function opThroughput(req) {
	var mode = findMode(req);
	var executions = 0;
	var start;
	var deadline;
	var now;

	if (!isCount(req.duration_ms, 3600000)) {
		throw new Error('duration_ms must be an integer from 1 to ' +
			'3600000');
	}
	start = process.hrtime.bigint();
	deadline = start + BigInt(req.duration_ms) * 1000000n;
	do {
		mode.exec(req.code);
		executions++;
		now = process.hrtime.bigint();
	} while (now < deadline);
	return { ok: true, executions: executions,
		elapsed_ns: Number(now - start) };
}

/* Resident memory from the kernel's own count, after a collection when
 * node allows one, so that garbage is not counted as isolates. */
function readRssBytes() {
	var status;
	var m;

	if (typeof global.gc === 'function') {
		global.gc();
	}
	status = fs.readFileSync('/proc/self/status', 'utf8');
	m = /^VmRSS:\s*(\d+)\s*kB$/m.exec(status);
	if (m === null) {
		throw new Error('no VmRSS line in /proc/self/status');
	}
	return Number(m[1]) * 1024;
}

function opMemory(req) {
	var isolates = [];
	var contexts = [];
	var before;
	var after;
	var isolate;
	var i;

	if (ivm === null) {
		throw new Error('isolated-vm is not installed: ' + ivmError);
	}
	if (!isCount(req.isolates, MEMORY_ISOLATES_MAX)) {
		throw new Error('isolates must be an integer from 1 to ' +
			MEMORY_ISOLATES_MAX);
	}
	before = readRssBytes();
	try {
		for (i = 0; i < req.isolates; i++) {
			isolate = new ivm.Isolate(
				{ memoryLimit: IVM_MEMORY_LIMIT_MB });
			isolates.push(isolate);

			/* Held here, or node's collector could release the
			 * context before the count. */
			contexts.push(isolate.createContextSync());
			contexts[i].evalSync('1 + 1');
		}
		after = readRssBytes();
	} finally {
		for (i = 0; i < isolates.length; i++) {
			isolates[i].dispose();
		}
	}
	return { ok: true, rss_before_bytes: before, rss_after_bytes: after,
		per_isolate_bytes: Math.round((after - before) /
			req.isolates) };
}

function opHello() {
	var answer = { ok: true, node: process.version,
		isolated_vm: ivmVersion };

	if (ivm === null) {
		answer.isolated_vm_error = ivmError;
	}
	return answer;
}

var ops = {
	hello: opHello,
	run: opRun,
	throughput: opThroughput,
	memory: opMemory
};

function errorText(e) {
	if (e instanceof Error || (e && typeof e.message === 'string')) {
		return e.message;
	}
	return String(e);
}

function answer(line) {
	var req;

	try {
		req = JSON.parse(line);
	} catch (e) {
		return { ok: false, error: 'bad request: ' + e.message };
	}
	if (req === null || typeof req !== 'object' ||
		!Object.prototype.hasOwnProperty.call(ops, req.op)) {
		return { ok: false, error: 'unknown op' };
	}

	/* A script's own error (thrown, or its limits) is an answer, never
	 * the end of the driver. */
	try {
		return ops[req.op](req);
	} catch (e) {
		return { ok: false, error: errorText(e) };
	}
}

/* Writes to a pipe or a file are synchronous on Linux, so an answer is
 * out before the next request is read and before exit. */
var input = readline.createInterface({ input: process.stdin,
	crlfDelay: Infinity });

input.on('line', function (line) {
	if (line.trim() === '') {
		return;
	}
	process.stdout.write(JSON.stringify(answer(line)) + '\n');
});

input.on('close', function () {
	if (sharedIsolate !== null && !sharedIsolate.isDisposed) {
		sharedIsolate.dispose();
	}
	process.exit(0);
});
