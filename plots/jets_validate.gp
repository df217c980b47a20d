# jets_validate.gp: per-class distributions of the toy top-tagging jets (top vs
# QCD): jet mass, W candidate mass, constituent multiplicity and tau_32, from
# the CSV experiments/jets_validate writes beside its --out file.
#
#   gnuplot -e "csv='jets_validate.csv'; out='jets_validate.png'" plots/jets_validate.gp
#
# csv: header observable,lo,hi,top,qcd (densities: counts / (jets of the class *
#      bin width)); out: the PNG (default: the CSV's name with .png).
# Dashed lines mark m_t = 173 GeV and m_W = 80.4 GeV.

if (!exists("csv")) csv = 'jets_validate.csv'
if (!exists("out")) out = csv[1:strlen(csv) - 4] . '.png'

if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1000,750 enhanced font ',10'
} else {
  set terminal png size 1000,750
}
set output out
set datafile separator ','
set style data steps
set grid
set key top right

# rows of one observable, as a step plot at the bins' lower edges
sel(o) = (strcol(1) eq o) ? 1 : 0

set multiplot layout 2,2 title 'Toy top-tagging jets (anti-kT R = 0.8, p_T 550-650 GeV): top vs QCD'

set title 'jet mass'
set xlabel 'm_{jet} [GeV]'
set ylabel 'density [1/GeV]'
set xrange [0:300]
set arrow 1 from 173, graph 0 to 173, graph 1 nohead dt 2 lc rgb 'gray40'
plot csv skip 1 using (sel('mass') ? $2 : NaN):4 lw 2 lc rgb '#d62728' title 'top', \
     ''  skip 1 using (sel('mass') ? $2 : NaN):5 lw 2 lc rgb '#1f77b4' title 'QCD'
unset arrow 1

set title 'W candidate (pair of 3 exclusive-k_T subjets closest to m_W)'
set xlabel 'm_{ij} [GeV]'
set xrange [0:200]
set arrow 2 from 80.4, graph 0 to 80.4, graph 1 nohead dt 2 lc rgb 'gray40'
plot csv skip 1 using (sel('w_candidate') ? $2 : NaN):4 lw 2 lc rgb '#d62728' title 'top', \
     ''  skip 1 using (sel('w_candidate') ? $2 : NaN):5 lw 2 lc rgb '#1f77b4' title 'QCD'
unset arrow 2

set title 'constituent multiplicity'
set xlabel 'N_{constituents}'
set ylabel 'density'
set xrange [0:100]
plot csv skip 1 using (sel('multiplicity') ? $2 : NaN):4 lw 2 lc rgb '#d62728' title 'top', \
     ''  skip 1 using (sel('multiplicity') ? $2 : NaN):5 lw 2 lc rgb '#1f77b4' title 'QCD'

set title 'N-subjettiness ratio {/Symbol t}_{32} (exclusive-k_T axes, {/Symbol b} = 1)'
set xlabel '{/Symbol t}_3 / {/Symbol t}_2'
set xrange [0:1]
set key top left
plot csv skip 1 using (sel('tau32') ? $2 : NaN):4 lw 2 lc rgb '#d62728' title 'top', \
     ''  skip 1 using (sel('tau32') ? $2 : NaN):5 lw 2 lc rgb '#1f77b4' title 'QCD'

unset multiplot
