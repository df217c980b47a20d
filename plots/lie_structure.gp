# lie_structure.gp: heat map of the least-squares structure constants f_abc
# ([L_a, L_b] = sum_c f_abc L_c) of a set of generators, one panel per c
# (columns c (n + 1) .. c (n + 1) + n - 1 hold b, rows a top to bottom), from
# analysis/lie_probe's FILE_structure.csv (columns a,b,c,value,x).
#
#   gnuplot -e "csv='lie_probe_structure.csv'; out='lie_structure.png'" plots/lie_structure.gp
#
# csv: the CSV (default 'lie_probe_structure.csv'); out: the PNG (default: the
# CSV's name with .png); title: the plot title.

if (!exists("csv")) csv = 'lie_probe_structure.csv'
if (!exists("out")) out = csv[1:strlen(csv) - 4] . '.png'
if (!exists("title")) title = 'structure constants f_{abc} (panel c; row a, column b)'

if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1000,320 enhanced font ',11'
} else {
  set terminal png size 1000,320
}
set output out
set datafile separator ','
stats csv using 1:4 skip 1 nooutput
n = int(STATS_max_x) + 1
vmax = (abs(STATS_min_y) > abs(STATS_max_y) ? abs(STATS_min_y) : abs(STATS_max_y))
set title title
set palette defined (-1 '#2166ac', 0 'white', 1 '#b2182b')
set cbrange [-vmax:vmax]
set cblabel 'f_{abc}'
set size ratio -1
set yrange [n - 0.5:-0.5]
set xrange [-0.5:n * (n + 1) - 1.5]
unset ytics
set xtics out nomirror
set xtics ()
do for [c = 0:n - 1] { set xtics add (sprintf('c = %d', c + 1) c * (n + 1) + (n - 1) / 2.0) }
set style fill solid 1.0 noborder
plot csv using 5:1:(0.5):(0.5):4 skip 1 with boxxyerror fc palette notitle
