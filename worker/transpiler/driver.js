/* SPDX-License-Identifier: MIT */
/* The transform driver: lowers an ES2015+ script to ES5.1 with
 * TypeScript's transpileModule, in a transform worker's engine where
 * typescript.js was evaluated first; it is called with the global object
 * and TypeScript's namespace object, and returns the
 * function the worker calls once per request, as
 * transform(source, isFunction) -> ES5 source. The source is only parsed,
 * never run. A script the parser refuses throws
 * { isSyntaxError: true, message, line, column } with the position in the
 * source as the client sent it (lines and columns from 1). */
(function (global, ts) {
	'use strict';
	var compilerOptions = {
		target: ts.ScriptTarget.ES5,
		module: ts.ModuleKind.CommonJS,
		/* Spread, for...of and destructuring follow the iteration
		 * protocol, so Map, Set, strings and generators work as in
		 * ES2015, not only arrays. */
		downlevelIteration: true,
		/* The helpers the output calls (__awaiter, __spreadArray, ...)
		 * are written into it, only those it needs: compiling them with
		 * the script costs less than a whole helper library would. */
		noEmitHelpers: false,
		importHelpers: false,
		removeComments: true,
		alwaysStrict: false,
		newLine: ts.NewLineKind.LineFeed
	};

	/* Where pos falls in the source as the client sent it, lines and
	 * columns from 1. In function mode the text has a parenthesis added
	 * before it and a line ")" after it: a position on that last line
	 * is reported at the end of the source. */
	function position(sf, pos, isFunction) {
		var at = ts.getLineAndCharacterOfPosition(sf, pos);
		var starts = ts.getLineStarts(sf);
		if (isFunction && at.line > 0 && at.line === starts.length - 1) {
			var last = at.line - 1;
			at = { line: last,
			       character: starts[at.line] - starts[last] - 1 };
		}
		return {
			line: at.line + 1,
			column: at.character + 1 - (isFunction && at.line === 0 ? 1 : 0)
		};
	}

	function fail(sf, pos, message, isFunction) {
		var at = position(sf, pos, isFunction);
		throw {
			isSyntaxError: true,
			message: message,
			line: at.line,
			column: at.column
		};
	}

	/* The first dynamic import() under node, or null. */
	function findImportCall(node) {
		if (node.kind === ts.SyntaxKind.CallExpression &&
		    node.expression.kind === ts.SyntaxKind.ImportKeyword)
			return node;
		return ts.forEachChild(node, findImportCall) || null;
	}

	return function (source, isFunction) {
		/* A function-mode script is one function expression; in
		 * parentheses it is a program whose completion value is that
		 * function. */
		var text = isFunction ? '(' + source + '\n)' : source;
		var sf = ts.createSourceFile('script.js', text,
					     ts.ScriptTarget.Latest, true,
					     ts.ScriptKind.JS);
		var errors = sf.parseDiagnostics;
		if (errors.length > 0) {
			fail(sf, errors[0].start,
			     ts.flattenDiagnosticMessageText(errors[0].messageText, '\n'),
			     isFunction);
		}
		var node = sf.externalModuleIndicator;
		if (node) {
			fail(sf, node.getStart ? node.getStart(sf) : 0,
			     'import and export are not allowed: a script is not a module',
			     isFunction);
		}
		if (sf.flags & ts.NodeFlags.PossiblyContainsDynamicImport) {
			node = findImportCall(sf);
			if (node) {
				fail(sf, node.getStart(sf),
				     'import() is not allowed: a script loads no modules',
				     isFunction);
			}
		}
		/* The tree is dropped before the compiler builds its own:
		 * both at once would double the heap a big source needs. */
		sf = null;
		errors = null;
		node = null;
		return ts.transpileModule(text, {
			compilerOptions: compilerOptions,
			fileName: 'script.js',
			reportDiagnostics: false
		}).outputText;
	};
})
