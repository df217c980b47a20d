# toptag_boost.gp: test accuracy of trained top taggers against the boost
# velocity beta of the test set, for experiments/toptag_boost: left panel
# boosts along +x (the LorentzNet repository's test), right panel along each
# jet's own axis; solid lines with the beam nodes boosted with the jet,
# dashed with the beams left fixed (models without beams: 'none', solid).
#
#   gnuplot -e "csv='toptag_boost.csv'; out='toptag_boost.png'" plots/toptag_boost.gp
#
# csv:    the CSV toptag_boost writes beside its --out file (header
#         label,model,params,axis,beams,beta,accuracy,auc,rej30)
# out:    the PNG to draw (default: the CSV's name with .png)
# labels: space-separated checkpoint labels to draw (default: every label in
#         the CSV, in sorted order)
# metric: column to draw, 'accuracy' (default) or 'auc'

if (!exists("csv")) csv = 'toptag_boost.csv'
if (!exists("out")) out = csv[1:strlen(csv) - 4] . '.png'
if (!exists("labels")) labels = system(sprintf("tail -n +2 '%s' | cut -d, -f1 | sort -u | tr '\\n' ' '", csv))
if (!exists("metric")) metric = 'accuracy'
col = (metric eq 'auc') ? 8 : 7

if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1450,540 enhanced font ',11'
} else {
  set terminal png size 1450,540
}
set output out
set datafile separator ','
set xlabel 'boost velocity {/Symbol b} of the test set'
set ylabel 'test '.metric
set xrange [0:1]
set yrange [0.4:1]
set grid

# Columns: 1 label, 2 model, 3 params, 4 axis, 5 beams, 6 beta, 7 accuracy, 8 auc.
sel(l, a, b) = (strcol(1) eq l && strcol(4) eq a && (strcol(5) eq b || (b eq 'boosted' && strcol(5) eq 'none'))) ? 1 : 0

# one key, right of the second panel
set multiplot
set lmargin at screen 0.05
do for [axis in 'x jet'] {
  if (axis eq 'x') {
    unset key
    set lmargin at screen 0.05
    set rmargin at screen 0.37
  } else {
    set key outside right top font ',9' noenhanced
    set lmargin at screen 0.44
    set rmargin at screen 0.76
  }
  set title sprintf('boost along %s', axis eq 'x' ? '+x' : 'the jet axis')
  plot for [i = 1:words(labels)] csv skip 1 using (sel(word(labels, i), axis, 'boosted') ? $6 : NaN):col \
         with linespoints lw 2 pt 7 ps 0.7 lc i title word(labels, i).' (beams boosted)', \
       for [i = 1:words(labels)] csv skip 1 using (sel(word(labels, i), axis, 'fixed') ? $6 : NaN):col \
         with linespoints lw 2 dt 2 pt 6 ps 0.7 lc i title word(labels, i).' (beams fixed)'
}
unset multiplot
