// A string expression: literals joined and one method call.
'hello' + ', ' + 'world'.toUpperCase();
