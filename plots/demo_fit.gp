# demo_fit.gp: train and test MSE against epoch for experiments/demo_fit.
#
#   gnuplot -e "csv='demo_fit.csv'; out='demo_fit.png'" plots/demo_fit.gp
#
# csv: the CSV demo_fit writes beside its --out file (header
#      epoch,train_mse,test_mse,lr); out: the PNG to draw (default: the CSV's
#      name with .png).

if (!exists("csv")) csv = 'demo_fit.csv'
if (!exists("out")) out = csv[1:strlen(csv) - 4] . '.png'

# pngcairo when this gnuplot has it (antialiased), else the libgd png terminal.
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 800,500 enhanced font ',11'
} else {
  set terminal png size 800,500
}
set output out

set datafile separator ','
set key autotitle columnhead
set title 'demo\_fit: MLP fit of sin(x) cos(y)'
set xlabel 'epoch'
set ylabel 'mean squared error'
set logscale y
set format y '10^{%L}'
set grid xtics ytics
set key top right

plot csv using 'epoch':'train_mse' with lines lw 2 title 'train', \
     ''  using 'epoch':'test_mse' with lines lw 2 dt 2 title 'test (held out)'
