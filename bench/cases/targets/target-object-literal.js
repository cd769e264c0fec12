// An object literal with nested arrays as the result.
({ name: 'beddel', version: 2, tags: ['a', 'b'], ok: true, ratio: 0.5 });
