# toptag_sweep_width.gp: power-to-weight of the top taggers, for
# experiments/toptag_sweep --study width: background rejection 1/eps_B at
# eps_S = 0.3 (interpolated) against the number of parameters (left) and the
# ant factor (1/eps_B) / parameters (right), one line per model across widths,
# mean +- std over seeds.
#
#   gnuplot -e "csv='toptag_sweep_width_summary.csv'" plots/toptag_sweep_width.gp
#
# csv:    the summary CSV (columns 2 model, 5 params, 11/12 rej30 mean/std,
#         15/16 ant30 mean/std)
# out:    the PNG (default: the CSV's name with .png)
# models: space-separated models (default: every model in the CSV)

if (!exists("csv")) csv = 'toptag_sweep_width_summary.csv'
if (!exists("out")) out = csv[1:strlen(csv) - 4] . '.png'
if (!exists("models")) models = system(sprintf("tail -n +2 '%s' | cut -d, -f2 | awk '!s[$0]++' | tr '\\n' ' '", csv))

if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1100,480 enhanced font ',11'
} else {
  set terminal png size 1100,480
}
set output out
set datafile separator ','
set logscale x
set xlabel 'parameters'
set grid
set key top left noenhanced
set bars small
sel(m) = (strcol(2) eq m) ? 1 : 0

set multiplot layout 1,2
set title '1/{/Symbol e}_B at {/Symbol e}_S = 0.3'
set ylabel '1/{/Symbol e}_B'
plot for [i = 1:words(models)] csv skip 1 using (sel(word(models, i)) ? $5 : NaN):11:12 \
       with yerrorlines lw 2 pt 7 ps 0.8 title word(models, i)
set title 'ant factor (1/{/Symbol e}_B at 0.3 per parameter)'
set ylabel 'ant factor'
set logscale y
plot for [i = 1:words(models)] csv skip 1 using (sel(word(models, i)) ? $5 : NaN):15:16 \
       with yerrorlines lw 2 pt 7 ps 0.8 title word(models, i)
unset multiplot
