# A latency distribution as the final report draws it: one curve per label
# of a series (bench-results.h), latency (log) against the quantile, spread
# so that the tail shows: x is 1 / (1 - q), 0.5 at 2, 0.999 at 1000.
# Variables, from scripts/bench through `bench-report --gnuplot SERIES`:
#   files, titles, n   the curves' data files and legends (word lists)
#   out, heading       the SVG to write and its title
#   limit_ns           optional: a horizontal line at a target's limit
set terminal svg size 900,560 dynamic enhanced font "sans,12" background rgb "white"
set output out
set title heading noenhanced
set logscale xy
set xrange [1:*]
set xlabel "quantile"
set ylabel "latency, ns (log; k = 1,000)"
set format y "%.0s %c"
set xtics ("p0" 1, "p50" 2, "p90" 10, "p99" 100, "p99.9" 1000, "p99.99" 10000, "p99.999" 100000)
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key below noenhanced
# The last line of a file is the maximum (quantile 1): no finite x, left out.
x_of(q) = q < 1 ? 1 / (1 - q) : NaN
if (exists("limit_ns")) {
        set arrow from graph 0, first limit_ns to graph 1, first limit_ns nohead dt 2 lc rgb "#cc0000"
        set label sprintf("limit %g ns", limit_ns) at graph 0.99, first limit_ns right offset 0,0.7 tc rgb "#cc0000"
}
plot for [i=1:n] word(files, i) using (x_of($1)):($2 > 0 ? $2 : NaN) with lines lw 2 title word(titles, i)
