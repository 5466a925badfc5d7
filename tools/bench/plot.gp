# SPDX-License-Identifier: GPL-2.0
#
# The plot of `make bench`: throughput of export, import, the pipe and the
# full flush against the device's size, each with dd moving the same bytes,
# and the time of a move against dd's.  Data from tools/bench/report.py.
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

set title "Throughput against device size, random image (MiB/s, log scale)"
set ylabel "MiB/s"
set logscale y 10
plot datadir.'/throughput.dat' using 1:2 with linespoints lw 2 title "export into a file", \
     '' using 1:3 with linespoints dt 2 title "dd, device to file", \
     '' using 1:4 with linespoints lw 2 title "import from a file", \
     '' using 1:5 with linespoints dt 2 title "dd, file to device", \
     '' using 1:6 with linespoints lw 2 title "export | import", \
     '' using 1:7 with linespoints dt 2 title "dd, device to device", \
     '' using 1:8 with linespoints title "full flush", \
     '' using 1:9 with linespoints dt 3 title "dd write, fsync"

set title "A move, one pflashctl per side, against dd with fsync (s, log scale)"
set ylabel "seconds"
plot datadir.'/move.dat' using 1:2 with linespoints lw 2 title "move, store source", \
     '' using 1:3 with linespoints dt 2 title "dd copy, fsync", \
     '' using 1:4 with linespoints lw 2 title "move, dirty source", \
     '' using 1:5 with linespoints dt 2 title "dd copy, fsync (dirty)"

unset multiplot
