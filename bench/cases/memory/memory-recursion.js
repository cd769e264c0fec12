// Deep recursion: a 400-level call chain and a recursively built tree.
function depth(n) {
	return n === 0 ? 0 : 1 + depth(n - 1);
}

function tree(level) {
	if (level === 0) {
		return null;
	}
	return { left: tree(level - 1), right: tree(level - 1), level: level };
}

function count(node) {
	return node === null ? 0 : 1 + count(node.left) + count(node.right);
}
[depth(400), count(tree(9))];
