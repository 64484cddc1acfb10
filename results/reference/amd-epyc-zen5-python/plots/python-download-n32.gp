set terminal pngcairo size 1680,640 enhanced font ",11"
set output "python-download-n32.png"
set multiplot layout 1,2 title "download, n = 32: the Python lanes" font ",13"
set xlabel "workers (threads, processes, MPI ranks, engines, log scale)"
set key top left
set grid
set logscale x 2
set xrange [0.8:40]
set xtics (1, 2, 4, 8, 16, 32)
set object 1 rect from 2, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid noborder behind
set title "speedup against download-serial (P=1), C: the best serial code (log scale)"
set ylabel "speedup (times faster than the baseline)"
set logscale y
set format y "%g"
unset key
plot x title "ideal" with lines dashtype 2 lc "gray", \
     1 title "as fast as the baseline" with lines dashtype 3 lc "black", \
     'python-download-n32.dat' index 0 using 1:2:3:4 with yerrorbars pt 7 lc rgb '#636363' title 'py-serial (P=1)', \
     'python-download-n32.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#17becf' title 'py-threading', \
     'python-download-n32.dat' index 2 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#e377c2' title 'py-multiprocessing', \
     'python-download-n32.dat' index 3 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#bcbd22' title 'py-futures', \
     'python-download-n32.dat' index 4 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#7b4173' title 'py-joblib', \
     'python-download-n32.dat' index 5 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#ad494a' title 'py-mpi4py', \
     'python-download-n32.dat' index 6 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#393b79' title 'py-dask', \
     'python-download-n32.dat' index 7 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#6b6ecf' title 'py-asyncio'
unset logscale y
set format y "% h"
set title "speedup over the same model at one worker"
set ylabel "speedup (times faster than itself at P = 1)"
set yrange [0:9.33194]
set key outside right top
plot x title "ideal" with lines dashtype 2 lc "gray", \
     NaN title "as fast as the baseline" with lines dashtype 3 lc "black", \
     NaN with points pt 7 lc rgb '#636363' title 'py-serial (P=1)', \
     'python-download-n32.dat' index 1 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#17becf' title 'py-threading', \
     'python-download-n32.dat' index 2 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#e377c2' title 'py-multiprocessing', \
     'python-download-n32.dat' index 3 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#bcbd22' title 'py-futures', \
     'python-download-n32.dat' index 4 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#7b4173' title 'py-joblib', \
     'python-download-n32.dat' index 5 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#ad494a' title 'py-mpi4py', \
     'python-download-n32.dat' index 6 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#393b79' title 'py-dask', \
     'python-download-n32.dat' index 7 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#6b6ecf' title 'py-asyncio'
unset multiplot
