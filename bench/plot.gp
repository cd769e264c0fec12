# SPDX-License-Identifier: MIT
# Draws bench_suite's data files as SVG. Run from the report directory:
#   gnuplot -e "dir='bench-report'" bench/plot.gp
# latency.svg: each mode's median, p90 and p99 for the goal case, on a
# log scale (the modes span four orders of magnitude). tenants.svg: the
# multi-tenant table, latency on the left axis and total worker memory on
# the right.
if (!exists("dir")) dir = "."

set terminal svg size 900,500 dynamic font "sans,11"
set output dir."/latency.svg"
set title system("head -1 ".dir."/latency.dat | sed 's/^# //; s/:.*//'")." : microseconds per execution, by mode"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "microseconds (log scale)"
set xtics rotate by -30
set grid ytics
set key top left
plot dir."/latency.dat" using 2:xtic(1) title "median", \
     "" using 3 title "p90", \
     "" using 4 title "p99"

# Without the load runs (--no-load) there is no table to draw.
if (system("grep -c '^[0-9]' ".dir."/tenants.dat") + 0 == 0) exit

set output dir."/tenants.svg"
unset logscale y
unset style
set style data linespoints
set title "multi-tenant load: latency and total worker memory by tenant count"
set xlabel "tenants"
set ylabel "microseconds"
set y2label "total worker RSS (MiB)"
set y2tics
set ytics nomirror
set xtics norotate
set logscale x
plot dir."/tenants.dat" using 1:2 title "median latency" axes x1y1, \
     "" using 1:3 title "p99 latency" axes x1y1, \
     "" using 1:5 title "worker memory" axes x1y2
