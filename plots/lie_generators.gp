# lie_generators.gp: heat map of a set of Lie-algebra generators, side by side
# (generator a occupies columns a (d + 1) .. a (d + 1) + d - 1; row i of each
# matrix drawn top to bottom), from analysis/lie_probe's FILE_generators.csv
# (columns a,i,j,value,x).  Colour: entry value on a symmetric blue-white-red
# scale.
#
#   gnuplot -e "csv='lie_probe_generators.csv'; out='lie_generators.png'" plots/lie_generators.gp
#   gnuplot -e "csv='run_generators.csv'; title='so(1,3) from the Minkowski oracle'" plots/lie_generators.gp
#
# csv: the CSV (default 'lie_probe_generators.csv'); out: the PNG (default:
# the CSV's name with .png); title: the plot title.

if (!exists("csv")) csv = 'lie_probe_generators.csv'
if (!exists("out")) out = csv[1:strlen(csv) - 4] . '.png'
if (!exists("title")) title = 'learned generators L_a'

if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1000,300 enhanced font ',11'
} else {
  set terminal png size 1000,300
}
set output out
set datafile separator ','
stats csv using 1:4 skip 1 nooutput
na = int(STATS_max_x) + 1
vmax = (abs(STATS_min_y) > abs(STATS_max_y) ? abs(STATS_min_y) : abs(STATS_max_y))
stats csv using 2 skip 1 nooutput
d = int(STATS_max) + 1
set title title
set palette defined (-1 '#2166ac', 0 'white', 1 '#b2182b')
set cbrange [-vmax:vmax]
set cblabel 'entry'
set size ratio -1
set yrange [d - 0.5:-0.5]
set xrange [-0.5:na * (d + 1) - 1.5]
unset ytics
set xtics out nomirror
set xtics ()
do for [a = 0:na - 1] { set xtics add (sprintf('L_{%d}', a + 1) a * (d + 1) + (d - 1) / 2.0) }
set style fill solid 1.0 noborder
plot csv using 5:2:(0.5):(0.5):4 skip 1 with boxxyerror fc palette notitle
