set terminal pngcairo size 960,640 enhanced font ",11"
set output "speedup-matmul-n2048.png"
set title "matmul, n = 2048: speedup against matmul-serial (P=1), the best serial code"
set xlabel "workers (threads, processes or MPI ranks)"
set ylabel "speedup (times faster than the baseline)"
set key top left
set grid
set xrange [0.5:4.5]
set xtics (1, 2, 3, 4)
set object 1 rect from 2, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid noborder behind
set label 1 "more workers than usable cores (2)" at 2, graph 0.04 offset 1,0 tc rgb "#777777"
plot x title "ideal" with lines dashtype 2 lc "gray", \
     'matmul-n2048.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#9467bd' title 'blas (Amdahl fit: serial fraction 0.05)', \
     [x=1:4] 0.992198 / (0.0489406 + (1 - 0.0489406) / x) with lines dashtype 2 lc rgb '#9467bd' notitle, \
     'matmul-n2048.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#d62728' title 'mpi (Amdahl fit: serial fraction 0.08)', \
     [x=1:4] 0.964275 / (0.0815216 + (1 - 0.0815216) / x) with lines dashtype 2 lc rgb '#d62728' notitle, \
     'matmul-n2048.dat' index 2 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#2ca02c' title 'openmp (Amdahl fit: serial fraction 0.10)', \
     [x=1:4] 0.986277 / (0.0966118 + (1 - 0.0966118) / x) with lines dashtype 2 lc rgb '#2ca02c' notitle, \
     'matmul-n2048.dat' index 3 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#ff7f0e' title 'processes (Amdahl fit: serial fraction 0.12)', \
     [x=1:4] 0.932296 / (0.120885 + (1 - 0.120885) / x) with lines dashtype 2 lc rgb '#ff7f0e' notitle, \
     'matmul-n2048.dat' index 4 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#000000' title 'serial', \
     'matmul-n2048.dat' index 5 using 1:2:3:4 with yerrorlines lw 2 dt 1 pt 7 lc rgb '#1f77b4' title 'threads (Amdahl fit: serial fraction 0.08)', \
     [x=1:4] 0.988558 / (0.0762705 + (1 - 0.0762705) / x) with lines dashtype 2 lc rgb '#1f77b4' notitle
reset
set terminal pngcairo size 960,640 enhanced font ",11"
set output "efficiency-matmul-n2048.png"
set title "matmul, n = 2048: parallel efficiency (speedup against matmul-serial (P=1) / workers)"
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
     'matmul-n2048.dat' index 0 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#9467bd' title 'blas', \
     'matmul-n2048.dat' index 1 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#d62728' title 'mpi', \
     'matmul-n2048.dat' index 2 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#2ca02c' title 'openmp', \
     'matmul-n2048.dat' index 3 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#ff7f0e' title 'processes', \
     'matmul-n2048.dat' index 4 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#000000' title 'serial', \
     'matmul-n2048.dat' index 5 using 1:5 with linespoints lw 2 dt 1 pt 7 lc rgb '#1f77b4' title 'threads'
