'hello' + ' ' + 'world'
