set terminal pngcairo size 960,640 enhanced font ",11"
set output "speedup-download-n64.png"
set title "download, n = 64: speedup against download-serial (P=1), the best serial code"
set xlabel "workers (threads, processes or MPI ranks, log scale)"
set ylabel "speedup (times faster than the baseline)"
set key top left
set grid
set logscale x 2
set xrange [0.8:160]
set xtics (1, 2, 4, 8, 16, 32, 64, 128)
set object 1 rect from 2, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid noborder behind
set label 1 "more workers than usable cores (2)" at 2, graph 0.04 offset 1,0 tc rgb "#777777"
plot x title "ideal" with lines dashtype 2 lc "gray", \
     'download-n64.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#8c564b' title 'async (Amdahl fit: serial fraction 0.00)', \
     [x=1:128] 0.999583 / (0.00386009 + (1 - 0.00386009) / x) with lines dashtype 2 lc rgb '#8c564b' notitle, \
     'download-n64.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#d62728' title 'mpi (Amdahl fit: serial fraction 0.01)', \
     [x=1:128] 1.00043 / (0.011198 + (1 - 0.011198) / x) with lines dashtype 2 lc rgb '#d62728' notitle, \
     'download-n64.dat' index 2 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#2ca02c' title 'openmp (Amdahl fit: serial fraction 0.01)', \
     [x=1:128] 0.999847 / (0.00775211 + (1 - 0.00775211) / x) with lines dashtype 2 lc rgb '#2ca02c' notitle, \
     'download-n64.dat' index 3 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#ff7f0e' title 'processes (Amdahl fit: serial fraction 0.01)', \
     [x=1:128] 0.999982 / (0.0138795 + (1 - 0.0138795) / x) with lines dashtype 2 lc rgb '#ff7f0e' notitle, \
     'download-n64.dat' index 4 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#000000' title 'serial', \
     'download-n64.dat' index 5 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#1f77b4' title 'threads (Amdahl fit: serial fraction 0.01)', \
     [x=1:128] 0.999991 / (0.00791532 + (1 - 0.00791532) / x) with lines dashtype 2 lc rgb '#1f77b4' notitle
reset
set terminal pngcairo size 960,640 enhanced font ",11"
set output "efficiency-download-n64.png"
set title "download, n = 64: parallel efficiency (speedup against download-serial (P=1) / workers)"
set xlabel "workers (threads, processes or MPI ranks, log scale)"
set ylabel "efficiency (1 = every worker fully useful)"
set key bottom left
set grid
set yrange [0:1.20052]
set logscale x 2
set xrange [0.8:160]
set xtics (1, 2, 4, 8, 16, 32, 64, 128)
set object 1 rect from 2, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid noborder behind
set label 1 "more workers than usable cores (2)" at 2, graph 0.04 offset 1,0 tc rgb "#777777"
plot 1 title "ideal" with lines dashtype 2 lc "gray", \
     'download-n64.dat' index 0 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#8c564b' title 'async', \
     'download-n64.dat' index 1 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#d62728' title 'mpi', \
     'download-n64.dat' index 2 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#2ca02c' title 'openmp', \
     'download-n64.dat' index 3 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#ff7f0e' title 'processes', \
     'download-n64.dat' index 4 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#000000' title 'serial', \
     'download-n64.dat' index 5 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#1f77b4' title 'threads'
