var o = { name: 'beddel', version: 1 };
o.tags = ['fast', 'safe'];
o.version += 1;
delete o.unused;
({ name: o.name, version: o.version, tags: o.tags.length })
