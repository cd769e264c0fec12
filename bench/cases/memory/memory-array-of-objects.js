// An array of 1,000 small objects, all alive at once, then summarised.
var items = [];
var i;

for (i = 0; i < 1000; i++) {
	items.push({ id: i, label: 'item-' + i, qty: i % 10, price: i % 7 + 1 });
}
var value = 0;
var labels = 0;
for (i = 0; i < items.length; i++) {
	value += items[i].qty * items[i].price;
	labels += items[i].label.length;
}
[items.length, value, labels];
