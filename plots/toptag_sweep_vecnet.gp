# toptag_sweep_vecnet.gp: the VecNet knob, for experiments/toptag_sweep
# --study vecnet: 1/eps_B at eps_S = 0.3 (left axis) and the ant factor
# (right axis) against the equivariant fraction of the vector channels
# (0 unconstrained .. 1 fully Lorentz-equivariant), mean +- std over seeds.
#
#   gnuplot -e "csv='toptag_sweep_vecnet_summary.csv'" plots/toptag_sweep_vecnet.gp
#
# csv: the summary CSV (columns 3 value, 5 params, 11/12 rej30, 15/16 ant30)
# out: the PNG (default: the CSV's name with .png)

if (!exists("csv")) csv = 'toptag_sweep_vecnet_summary.csv'
if (!exists("out")) out = csv[1:strlen(csv) - 4] . '.png'

if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 800,520 enhanced font ',11'
} else {
  set terminal png size 800,520
}
set output out
set datafile separator ','
set title 'VecNet: rejection and ant factor against the equivariant fraction'
set xlabel 'equivariant fraction of the vector channels'
set ylabel '1/{/Symbol e}_B at {/Symbol e}_S = 0.3'
set y2label 'ant factor'
set ytics nomirror
set y2tics
set xrange [-0.05:1.05]
set grid
set key top left
set bars small
plot csv skip 1 using 3:11:12 axes x1y1 with yerrorlines lw 2 pt 7 title '1/{/Symbol e}_B (0.3)', \
     csv skip 1 using 3:15:16 axes x1y2 with yerrorlines lw 2 pt 5 dt 2 title 'ant factor'
