// The smallest script: one arithmetic expression.
1 + 2 * 3;
