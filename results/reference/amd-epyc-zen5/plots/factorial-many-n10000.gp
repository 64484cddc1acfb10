set terminal pngcairo size 960,640 enhanced font ",11"
set output "speedup-factorial-many-n10000.png"
set title "factorial-many, n = 10000: speedup against factorial-gmp (P=1), the best serial code"
set xlabel "workers (threads, processes or MPI ranks)"
set ylabel "speedup (times faster than the baseline)"
set key top left
set grid
set xrange [0.5:4.5]
set xtics (1, 2, 3, 4)
set object 1 rect from 2, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid noborder behind
set label 1 "more workers than usable cores (2)" at 2, graph 0.04 offset 1,0 tc rgb "#777777"
plot x title "ideal" with lines dashtype 2 lc "gray", \
     'factorial-many-n10000.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#9467bd' title 'gmp', \
     'factorial-many-n10000.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#d62728' title 'mpi (Amdahl fit: serial fraction 0.09)', \
     [x=1:4] 0.504968 / (0.0928128 + (1 - 0.0928128) / x) with lines dashtype 2 lc rgb '#d62728' notitle, \
     'factorial-many-n10000.dat' index 2 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#2ca02c' title 'openmp (Amdahl fit: serial fraction 0.05)', \
     [x=1:4] 0.527087 / (0.0540062 + (1 - 0.0540062) / x) with lines dashtype 2 lc rgb '#2ca02c' notitle, \
     'factorial-many-n10000.dat' index 3 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#ff7f0e' title 'processes (Amdahl fit: serial fraction 0.09)', \
     [x=1:4] 0.519134 / (0.0851065 + (1 - 0.0851065) / x) with lines dashtype 2 lc rgb '#ff7f0e' notitle, \
     'factorial-many-n10000.dat' index 4 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#000000' title 'serial', \
     'factorial-many-n10000.dat' index 5 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#1f77b4' title 'threads (Amdahl fit: serial fraction 0.15)', \
     [x=1:4] 0.497295 / (0.151024 + (1 - 0.151024) / x) with lines dashtype 2 lc rgb '#1f77b4' notitle
reset
set terminal pngcairo size 960,640 enhanced font ",11"
set output "efficiency-factorial-many-n10000.png"
set title "factorial-many, n = 10000: parallel efficiency (speedup against factorial-gmp (P=1) / workers)"
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
     'factorial-many-n10000.dat' index 0 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#9467bd' title 'gmp', \
     'factorial-many-n10000.dat' index 1 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#d62728' title 'mpi', \
     'factorial-many-n10000.dat' index 2 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#2ca02c' title 'openmp', \
     'factorial-many-n10000.dat' index 3 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#ff7f0e' title 'processes', \
     'factorial-many-n10000.dat' index 4 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#000000' title 'serial', \
     'factorial-many-n10000.dat' index 5 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#1f77b4' title 'threads'
