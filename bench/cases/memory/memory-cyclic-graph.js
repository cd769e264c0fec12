// Cyclic structures: a ring of 200 nodes with cross links and a self-loop.
var nodes = [];
var i;

for (i = 0; i < 200; i++) {
	nodes.push({ id: i, next: null, jump: null, seen: false });
}
for (i = 0; i < 200; i++) {
	nodes[i].next = nodes[(i + 1) % 200];
	nodes[i].jump = nodes[(i * 7) % 200];
}
var root = { child: nodes[0] };
nodes[199].parent = root;
root.self = root;

// The seen marks end the walk; only counts leave the script, never a cycle.
var stack = [nodes[0]];
var visited = 0;
var edges = 0;
var node;

while (stack.length > 0) {
	node = stack.pop();
	if (node.seen) {
		continue;
	}
	node.seen = true;
	visited++;
	edges += 2;
	stack.push(node.next, node.jump);
}

// JSON.stringify refuses a cycle; the script catches that.
var refused = false;
try {
	JSON.stringify(root);
} catch (e) {
	refused = e instanceof TypeError;
}
[visited, edges, refused, root.self.self === root];
