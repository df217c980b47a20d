# equivariance_so3.gp: distribution of the SO(3) errors of every model of
# experiments/equivariance: each (group element, input graph) pair is a point
# (jittered horizontally), circles for the invariant graph output, triangles
# for the equivariant node output; the bar marks the median.  The dashed line
# is the 1e-12 tolerance of a claimed rotation symmetry.
#
#   gnuplot -e "dir='.'" plots/equivariance_so3.gp
#   gnuplot -e "dir='build'; stem='equivariance_quick'" plots/equivariance_so3.gp
#   gnuplot -e "samples='run/equivariance_so3_samples.csv'; out='so3.png'" plots/equivariance_so3.gp
#
# dir:     directory holding STEM_so3_samples.csv (default '.'); stem: the --out
#          file name without .h5 (default 'equivariance');
# samples: the per-sample CSV itself (overrides dir and stem);
# out:     the PNG (default: the CSV's name with .png).
# Exact zeros (outputs that do not depend on x at all, e.g. rf's graph
# readout) are drawn at the bottom, 1e-18; outputs a model does not have
# (no equivariant node output for gnn, schnet) are absent.

if (!exists("dir")) dir = '.'
if (!exists("stem")) stem = 'equivariance'
if (!exists("samples")) samples = dir . '/' . stem . '_so3_samples.csv'
if (!exists("out")) out = samples[1:strlen(samples) - 4] . '.png'

if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 900,560 enhanced font ',11'
} else {
  set terminal png size 900,560
}
set output out

set datafile separator ','
set datafile columnheaders
names = system(sprintf("awk -F, 'NR > 1 && !seen[$1]++ {printf \"%%s \", $2}' '%s'", samples))
n_models = words(names)
# medians per model and output, from the same file
median_of(i, col) = real(system(sprintf("awk -F, 'NR > 1 && $1 == %d && $%d != \"nan\" " . \
  "{print $%d}' '%s' | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print \"NaN\"; " . \
  "else if (NR %% 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'", \
  i, col, col, samples)))
array med_inv[n_models]
array med_eq[n_models]
do for [i=1:n_models] {
  med_inv[i] = median_of(i - 1, 5)
  med_eq[i] = median_of(i - 1, 6)
}

set title 'relative error under sampled SO(3) rotations, per model'
set ylabel 'relative error'
set logscale y
set format y '10^{%L}'
set yrange [1e-18:100]
set xrange [-0.6:n_models - 0.4]
set xtics rotate by -30 font ',9' ()
do for [i=1:n_models] { set xtics add (word(names, i) i - 1) }
set xtics noenhanced
set grid ytics
set key top left box opaque font ',9'
set arrow from graph 0, first 1e-12 to graph 1, first 1e-12 nohead dt 2 lc rgb 'gray40'
set label 'tolerance 1e-12' at graph 0.99, first 2.5e-12 right font ',9' tc rgb 'gray40'

lowcut(y) = (y != y) ? NaN : (y > 1e-18) ? y : 1e-18
jitter(x) = x + 0.28 * (rand(0) - 0.5)
plot samples using (jitter(column('model_index') - 0.16)):(lowcut(column('inv_err'))) \
       with points pt 6 ps 0.5 lc rgb '#1f77b4' title 'invariant graph output', \
     samples using (jitter(column('model_index') + 0.16)):(lowcut(column('eq_err'))) \
       with points pt 8 ps 0.5 lc rgb '#d62728' title 'equivariant node output', \
     med_inv using ($1 - 1 - 0.16):(lowcut(med_inv[$1])):(0.16):(0) with vectors nohead lw 3 \
       lc rgb 'black' title 'median', \
     med_eq using ($1 - 1 + 0.16):(lowcut(med_eq[$1])):(0.16):(0) with vectors nohead lw 3 \
       lc rgb 'black' notitle
