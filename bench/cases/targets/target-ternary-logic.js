// Conditional and logical operators, with short-circuit defaults.
var cfg = { retries: 0, name: '', limit: 7 };
var retries = cfg.retries || 3;
var name = cfg.name || 'anon';
var limit = cfg.limit && cfg.limit > 5 ? cfg.limit : 5;
var mode = limit > 10 ? 'big' : limit > 5 ? 'medium' : 'small';
[retries, name, limit, mode, !cfg.name, typeof cfg.missing];
