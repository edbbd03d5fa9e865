#!/usr/bin/env bash
# bench/report.sh RECORDS OUTDIR: BENCHMARKS.md, bench-rate.png and
# bench-latency.png in OUTDIR from the records of a bench/run.sh run
# (build/bench/records.jsonl keeps the last run's: the report can be made
# again from it without running the benchmark).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
rec=${1:?usage: report.sh RECORDS OUTDIR}
out=${2:?usage: report.sh RECORDS OUTDIR}
mkdir -p "$out"
tmp=$(mktemp -d /tmp/mctun-report.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

jq -rs -f "$HERE/report.jq" "$rec" >"$tmp/BENCHMARKS.md"

# Data for the plots. rate.dat: one row per size, one column per contender
# (NaN when it did not run). lat.dat: one row per contender (the smallest
# of 200 bytes or the first size), p50 and p99 at 1,000 pps.
names=(direct tc xdp socket tc-busy udptunnel)
titles=("direct" "mctun tc" "mctun xdp" "mctun socket" "mctun tc busy-poll" "udptunnel")
colors=("#808080" "#1f77b4" "#2ca02c" "#ff7f0e" "#9467bd" "#d62728")
jq -rs --arg names "${names[*]}" '
	(map(select(.kind == "contender" and .status == "ok"))) as $cs
	| ($names | split(" ")) as $n
	| ($cs | map(.size) | unique)[] as $s
	| [$s | tostring] + ($n | map(. as $c | ($cs | map(select(.name == $c and .size == $s)) | .[0].top_pps) // "NaN" | tostring))
	| join(" ")' "$rec" >"$tmp/rate.dat"
latsize=$(jq -rs 'map(select(.kind == "contender" and .status == "ok") | .size) | unique
	| if index(200) then 200 else (.[0] // 200) end' "$rec")
jq -rs --arg names "${names[*]}" --argjson s "$latsize" '
	(map(select(.kind == "contender" and .status == "ok" and .size == $s))) as $cs
	| ($names | split(" "))[] as $c
	| ($cs | map(select(.name == $c)) | .[0]) as $r
	| select($r != null and $r.lat1k.p50_us != null)
	| "\"\({tc: "mctun tc", xdp: "mctun xdp", socket: "mctun socket", "tc-busy": "mctun tc busy-poll"}[$c] // $c)\" \($r.lat1k.p50_us) \($r.lat1k.p99_us)"' "$rec" >"$tmp/lat.dat"

if command -v gnuplot >/dev/null && [ -s "$tmp/rate.dat" ]; then
	plot=""
	for i in "${!names[@]}"; do
		# only the contenders that ran
		awk -v c=$((i + 2)) '$c != "NaN" { found = 1 } END { exit !found }' "$tmp/rate.dat" || continue
		plot+="${plot:+, }'$tmp/rate.dat' using $((i + 2)):xtic(1) title '${titles[i]}' lc rgb '${colors[i]}'"
	done
	gnuplot <<EOF
set terminal pngcairo size 900,520 font ",11"
set output '$out/bench-rate.png'
set title "Top lossless rate (loss < 0.1 %) by datagram size, 2 shared cores"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [1000:*]
set format y "%.0s%c"
set ylabel "datagrams per second (log)"
set xlabel "UDP payload bytes"
set grid ytics
set key top right
set datafile missing "NaN"
plot $plot
EOF
	if [ -s "$tmp/lat.dat" ]; then
		gnuplot <<EOF
set terminal pngcairo size 900,480 font ",11"
set output '$out/bench-latency.png'
set title "One-way latency at 1,000 pps, $latsize-byte datagrams"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set ylabel "microseconds (log)"
set format y "%.0s%c"
set grid ytics
set key top left
plot '$tmp/lat.dat' using 2:xtic(1) title 'p50' lc rgb '#1f77b4', '' using 3 title 'p99' lc rgb '#ff7f0e'
EOF
	fi
fi
# What each optimisation bought: kept by hand in bench/NOTES.md, carried
# into every report.
[ -f "$HERE/NOTES.md" ] && { echo; cat "$HERE/NOTES.md"; } >>"$tmp/BENCHMARKS.md"
mv "$tmp/BENCHMARKS.md" "$out/BENCHMARKS.md"
