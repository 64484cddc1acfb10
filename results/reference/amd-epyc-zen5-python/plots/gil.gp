set terminal pngcairo size 960,640 enhanced font ",11"
set output "gil.png"
set title "The GIL: Python threads speed up waiting, not computing; processes do both"
set xlabel "workers (log scale)"
set ylabel "speedup over the same model at one worker"
set key top left
set grid
set yrange [0:25.0178]
set logscale x 2
set xrange [0.8:40]
set xtics (1, 2, 3, 4, 8, 16, 32)
set object 1 rect from 2, graph 0 to graph 1, graph 1 fc rgb "#eeeeee" fs solid noborder behind
set label 1 "more workers than usable cores (2)" at 2, graph 0.5 center rotate by 90 offset 1,0 tc rgb "#777777"
plot x title "ideal" with lines dashtype 2 lc "gray", \
     'gil.dat' index 0 using 1:2 with linespoints lw 2 pt 7 dashtype 1 lc rgb '#17becf' title 'Python threads, CPU-bound: one runs at a time (the GIL): factorial-many n=3000', \
     'gil.dat' index 1 using 1:2 with linespoints lw 2 pt 7 dashtype 3 lc rgb '#17becf' title 'Python threads, I/O-bound: a thread waiting lets go of the GIL: download n=32', \
     'gil.dat' index 2 using 1:2 with linespoints lw 2 pt 7 dashtype 1 lc rgb '#e377c2' title 'Python processes, CPU-bound: a GIL each: factorial-many n=3000', \
     'gil.dat' index 3 using 1:2 with linespoints lw 2 pt 7 dashtype 1 lc rgb '#1f77b4' title 'C threads, CPU-bound: factorial-many n=3000', \
     'gil.dat' index 4 using 1:2 with linespoints lw 2 pt 7 dashtype 3 lc rgb '#1f77b4' title 'C threads, I/O-bound: download n=32'
