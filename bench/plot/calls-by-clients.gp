# Calls per second by concurrent clients (bench-calls): lsashm against the
# bare SEQPACKET echo floors, one curve each.
# Variables, from scripts/bench through `bench-report --gnuplot SERIES`:
#   files, titles, n   the curves' data files and legends (word lists)
#   out, heading       the SVG to write and its title
set terminal svg size 900,560 dynamic enhanced font "sans,12" background rgb "white"
set output out
set title heading noenhanced
set logscale x 2
set xlabel "concurrent clients"
set ylabel "calls/s, all clients together"
set yrange [0:*]
set format y "%.0s%c"
set grid xtics ytics lc rgb "#dddddd"
set key below noenhanced
plot for [i=1:n] word(files, i) using 1:2 with linespoints lw 2 pt 7 title word(titles, i)
