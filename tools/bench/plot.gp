# SPDX-License-Identifier: GPL-2.0
#
# The plot of `make bench`: throughput of export, import, dd and the full
# flush against the device's size, and the time of a move.  Data from
# tools/bench/report.py.
#
# Usage: gnuplot -e "outfile='X.png'; datadir='DIR'" plot.gp

set terminal pngcairo size 1400,560 font "sans,10"
set output outfile
set multiplot layout 1,2

set logscale x 2
set xtics ("64K" 65536, "256K" 262144, "1M" 1048576, "4M" 4194304, \
	   "16M" 16777216, "64M" 67108864, "256M" 268435456, "1G" 1073741824)
set xlabel "device size"
set grid
set key top left

set title "Throughput against device size (MiB/s, log scale)"
set ylabel "MiB/s"
set logscale y 10
plot datadir.'/throughput.dat' using 1:2 with linespoints lw 2 title "dd read (iflag=direct)", \
     '' using 1:3 with linespoints lw 2 title "export, random image", \
     '' using 1:4 with linespoints title "export, mostly erased", \
     '' using 1:5 with linespoints lw 2 title "import, random image", \
     '' using 1:6 with linespoints title "import, mostly erased", \
     '' using 1:7 with linespoints lw 2 title "full flush", \
     '' using 1:8 with linespoints title "dd write, fsync", \
     '' using 1:9 with linespoints dt 2 title "move, overall"

set title "A move: source's inactivate to target's activation (s, log scale)"
set ylabel "seconds"
plot datadir.'/move.dat' using 1:2 with linespoints title "inactivate (writeback)", \
     '' using 1:3 with linespoints title "export | import", \
     '' using 1:4 with linespoints title "activate (full flush)", \
     '' using 1:5 with linespoints lw 2 title "total"

unset multiplot
