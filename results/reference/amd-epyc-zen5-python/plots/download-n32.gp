set terminal pngcairo size 960,640 enhanced font ",11"
set output "speedup-download-n32.png"
set title "download, n = 32: speedup against download-serial (P=1), the best serial code"
set xlabel "workers (threads, processes or MPI ranks, log scale)"
set ylabel "speedup (times faster than the baseline)"
set key top left
set grid
set logscale x 2
set xrange [0.8:40]
set xtics (1, 2, 4, 8, 16, 32)
set object 1 rect from 2, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid noborder behind
set label 1 "more workers than usable cores (2)" at 2, graph 0.04 offset 1,0 tc rgb "#777777"
plot x title "ideal" with lines dashtype 2 lc "gray", \
     'download-n32.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#000000' title 'serial', \
     'download-n32.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#1f77b4' title 'threads (Amdahl fit: serial fraction 0.02)', \
     [x=1:32] 0.984373 / (0.0186164 + (1 - 0.0186164) / x) with lines dashtype 2 lc rgb '#1f77b4' notitle
reset
set terminal pngcairo size 960,640 enhanced font ",11"
set output "efficiency-download-n32.png"
set title "download, n = 32: parallel efficiency (speedup against download-serial (P=1) / workers)"
set xlabel "workers (threads, processes or MPI ranks, log scale)"
set ylabel "efficiency (1 = every worker fully useful)"
set key bottom left
set grid
set yrange [0:1.2]
set logscale x 2
set xrange [0.8:40]
set xtics (1, 2, 4, 8, 16, 32)
set object 1 rect from 2, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid noborder behind
set label 1 "more workers than usable cores (2)" at 2, graph 0.04 offset 1,0 tc rgb "#777777"
plot 1 title "ideal" with lines dashtype 2 lc "gray", \
     'download-n32.dat' index 0 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#000000' title 'serial', \
     'download-n32.dat' index 1 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#1f77b4' title 'threads'
