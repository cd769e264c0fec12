// Cycles through parent links: a tree of 300 nodes walked with a visited array.
var all = [];
var i;
var parent;
var node;

for (i = 0; i < 300; i++) {
	parent = i === 0 ? null : all[Math.floor((i - 1) / 3)];
	node = { id: i, parent: parent, children: [] };
	if (parent !== null) {
		parent.children.push(node);
	}
	all.push(node);
}
// Each child points back at its parent: without the visited array, indexed
// by id, the walk would never end.
var visited = [];
var stack = [all[0]];
var reached = 0;
var backLinks = 0;
var j;

while (stack.length > 0) {
	node = stack.pop();
	if (visited[node.id]) {
		continue;
	}
	visited[node.id] = true;
	reached++;
	if (node.parent !== null) {
		backLinks++;
		stack.push(node.parent);
	}
	for (j = 0; j < node.children.length; j++) {
		stack.push(node.children[j]);
	}
}
[reached, backLinks, all[299].parent.parent.id];
