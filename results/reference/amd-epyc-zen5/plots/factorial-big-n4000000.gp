set terminal pngcairo size 960,640 enhanced font ",11"
set output "speedup-factorial-big-n4000000.png"
set title "factorial-big, n = 4000000: speedup against factorial-gmp (P=1), the best serial code"
set xlabel "workers (threads, processes or MPI ranks)"
set ylabel "speedup (times faster than the baseline)"
set key top left
set grid
set xrange [0.5:4.5]
set xtics (1, 2, 3, 4)
set object 1 rect from 2, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid noborder behind
set label 1 "more workers than usable cores (2)" at 2, graph 0.04 offset 1,0 tc rgb "#777777"
plot x title "ideal" with lines dashtype 2 lc "gray", \
     'factorial-big-n4000000.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#9467bd' title 'gmp', \
     'factorial-big-n4000000.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#d62728' title 'mpi (Amdahl fit: serial fraction 0.32)', \
     [x=1:4] 0.914964 / (0.316301 + (1 - 0.316301) / x) with lines dashtype 2 lc rgb '#d62728' notitle, \
     'factorial-big-n4000000.dat' index 2 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#2ca02c' title 'openmp (Amdahl fit: serial fraction 0.25)', \
     [x=1:4] 0.905175 / (0.250841 + (1 - 0.250841) / x) with lines dashtype 2 lc rgb '#2ca02c' notitle, \
     'factorial-big-n4000000.dat' index 3 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#ff7f0e' title 'processes (Amdahl fit: serial fraction 0.48)', \
     [x=1:4] 0.92339 / (0.476396 + (1 - 0.476396) / x) with lines dashtype 2 lc rgb '#ff7f0e' notitle, \
     'factorial-big-n4000000.dat' index 4 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#000000' title 'serial', \
     'factorial-big-n4000000.dat' index 5 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#1f77b4' title 'threads (Amdahl fit: serial fraction 0.27)', \
     [x=1:4] 0.918695 / (0.272181 + (1 - 0.272181) / x) with lines dashtype 2 lc rgb '#1f77b4' notitle
reset
set terminal pngcairo size 960,640 enhanced font ",11"
set output "efficiency-factorial-big-n4000000.png"
set title "factorial-big, n = 4000000: parallel efficiency (speedup against factorial-gmp (P=1) / workers)"
set xlabel "workers (threads, processes or MPI ranks)"
set ylabel "efficiency (1 = every worker fully useful)"
set key bottom left
set grid
set yrange [0:1.2]
set xrange [0.5:4.5]
set xtics (1, 2, 3, 4)
set object 1 rect from 2, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid noborder behind
set label 1 "more workers than usable cores (2)" at 2, graph 0.04 offset 1,0 tc rgb "#777777"
plot 1 title "ideal" with lines dashtype 2 lc "gray", \
     'factorial-big-n4000000.dat' index 0 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#9467bd' title 'gmp', \
     'factorial-big-n4000000.dat' index 1 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#d62728' title 'mpi', \
     'factorial-big-n4000000.dat' index 2 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#2ca02c' title 'openmp', \
     'factorial-big-n4000000.dat' index 3 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#ff7f0e' title 'processes', \
     'factorial-big-n4000000.dat' index 4 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#000000' title 'serial', \
     'factorial-big-n4000000.dat' index 5 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#1f77b4' title 'threads'
