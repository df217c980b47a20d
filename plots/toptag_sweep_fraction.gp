# toptag_sweep_fraction.gp: sample efficiency of the top taggers: test
# accuracy (left) and AUC (right) against the fraction of the training set,
# mean +- std over seeds, for experiments/toptag_sweep --study fraction.
#
#   gnuplot -e "csv='toptag_sweep_fraction_summary.csv'" plots/toptag_sweep_fraction.gp
#
# csv:    the summary CSV (header study,model,value,n_train,params,n_seeds,
#         acc_mean,acc_std,auc_mean,auc_std,...)
# out:    the PNG (default: the CSV's name with .png)
# models: space-separated models (default: every model in the CSV)

if (!exists("csv")) csv = 'toptag_sweep_fraction_summary.csv'
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
set xlabel 'fraction of the training set'
set grid
set key bottom right noenhanced
set bars small
sel(m) = (strcol(2) eq m) ? 1 : 0

set multiplot layout 1,2
set title 'test accuracy'
set ylabel 'accuracy'
plot for [i = 1:words(models)] csv skip 1 using (sel(word(models, i)) ? $3 : NaN):7:8 \
       with yerrorlines lw 2 pt 7 ps 0.8 title word(models, i)
set title 'test AUC'
set ylabel 'AUC'
plot for [i = 1:words(models)] csv skip 1 using (sel(word(models, i)) ? $3 : NaN):9:10 \
       with yerrorlines lw 2 pt 7 ps 0.8 title word(models, i)
unset multiplot
