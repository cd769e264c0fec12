// The smallest script: one addition, the figure the latency goals compare.
1 + 1;
