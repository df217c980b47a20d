# equivariance_sweep.gp: relative error of the invariant graph output against
# the boost rapidity, one curve per D = 4 model of experiments/equivariance
# (LorentzNet twice: beam nodes boosted with the jet, and beams left fixed).
# Solid lines with points: median over the jets; dashed: maximum.
#
#   gnuplot -e "dir='.'" plots/equivariance_sweep.gp
#   gnuplot -e "dir='build'; stem='equivariance_quick'" plots/equivariance_sweep.gp
#   gnuplot -e "csv='run/equivariance_sweep.csv'; out='sweep.png'" plots/equivariance_sweep.gp
#
# dir:  directory holding STEM_sweep.csv (default '.'); stem: the --out file
#       name without .h5 (default 'equivariance');
# csv:  the sweep CSV itself (overrides dir and stem);
# out:  the PNG to draw (default: the CSV's name with .png);
# what: 'inv' (default: invariant graph output) or 'eq' (equivariant node output);
# ymax: top of the error axis (default 10; models that blow up, e.g. EGNN on
#       boosted jets, leave the plot there).
# Exact zeros (the identity at eta = 0 gives exactly 0) are not drawn.

if (!exists("dir")) dir = '.'
if (!exists("stem")) stem = 'equivariance'
if (!exists("csv")) csv = dir . '/' . stem . '_sweep.csv'
if (!exists("out")) out = csv[1:strlen(csv) - 4] . '.png'
if (!exists("what")) what = 'inv'
if (!exists("ymax")) ymax = 10

if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,560 enhanced font ',11'
} else {
  set terminal png size 900,560
}
set output out

set datafile separator ','
set datafile columnheaders
stats csv using (column('curve_index')) nooutput
n_curves = int(STATS_max) + 1
title_of(i) = system(sprintf("awk -F, 'NR > 1 && $1 == %d {print $2; exit}' '%s'", i, csv))

pick(i, col) = (column('curve_index') == i && column(col) > 0) ? column(col) : NaN

set title (what eq 'eq' ? 'equivariant node output' : 'invariant graph output') . \
          ' under boosts: relative error against rapidity'
set xlabel 'rapidity {/Symbol h}'
set ylabel 'relative error'
set logscale y
set format y '10^{%L}'
set yrange [1e-17:ymax]
set grid xtics ytics
set key top left box opaque font ',9'
set link x2 via cosh(x) inverse acosh(x)
set x2tics (1, 10, 100, 1000) format '%g'
set x2label '{/Symbol g} = cosh {/Symbol h}'
set xtics nomirror

med = what . '_median'
mx = what . '_max'
plot for [i=0:n_curves - 1] csv using 'eta':(pick(i, med)) with linespoints lw 2 pt 7 ps 0.6 \
       lc (i + 1) title title_of(i) noenhanced, \
     for [i=0:n_curves - 1] csv using 'eta':(pick(i, mx)) with lines lw 1.5 dt 2 \
       lc (i + 1) notitle, \
     NaN with linespoints lw 2 pt 7 ps 0.6 lc rgb 'black' title 'median over the jets', \
     NaN with lines lw 1.5 dt 2 lc rgb 'black' title 'maximum'
