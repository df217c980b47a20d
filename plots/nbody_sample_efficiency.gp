# nbody_sample_efficiency.gp: test MSE against training-set size per model, log-log,
# with error bars (standard deviation over seeds), for experiments/nbody_sweep
# (the sample-efficiency figure of the EGNN paper).
#
#   gnuplot -e "csv='nbody_sweep_summary.csv'; out='nbody_sample_efficiency.png'" \
#           plots/nbody_sample_efficiency.gp
#
# csv:    the summary CSV nbody_sweep writes beside its --out file (header
#         model,size,n_seeds,test_mean,test_std,valid_mean,valid_std)
# out:    the PNG to draw (default: the CSV's name with .png)
# models: space-separated models to draw, in this order (default
#         "egnn gnn rf linear"; a model absent from the CSV draws nothing)
#
# A point is the mean over seeds of the test MSE at the epoch of the best
# validation MSE; the bar is +- one sample standard deviation (0 for a single
# seed), clipped below at a tenth of the mean so the log axis can show it.

if (!exists("csv")) csv = 'nbody_sweep_summary.csv'
if (!exists("out")) out = csv[1:strlen(csv) - 4] . '.png'
if (!exists("models")) models = 'egnn gnn rf linear'

# pngcairo when this gnuplot has it (antialiased), else the libgd png terminal.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 800,550 enhanced font ',11'
} else {
  set terminal png size 800,550
}
set output out

set datafile separator ','
set title 'N-body: sample efficiency (test MSE at best validation epoch)'
set xlabel 'training samples'
set ylabel 'test MSE'
set logscale xy
set format y '10^{%L}'
set grid xtics ytics mxtics mytics
set key top right
set bars small
set offsets graph 0.04, graph 0.04, 0, 0

# Columns: 1 model, 2 size, 3 n_seeds, 4 test_mean, 5 test_std.
sel(m) = (strcol(1) eq m) ? 1 : 0
lo(mean, sd) = (mean - sd > 0.1 * mean) ? mean - sd : 0.1 * mean

plot for [i = 1:words(models)] csv skip 1 \
       using (sel(word(models, i)) ? $2 : NaN):4:(lo($4, $5)):($4 + $5) \
       with yerrorlines lw 2 pt 7 ps 0.8 title word(models, i)
