# Verification speed on a GPU (issue 15, docs/benchmarks.md): `aikg bench` over task folders,
# each run from a given copy of the code, one report per run. Run from the repository root
# on the GPU machine, with .whl/ carried (benchmarks/gpu/setup.sh):
#
#   bash benchmarks/gpu/verify_speed.sh OUT NAME:TREE:TASKS:STEPS:SECONDS ...
#
# TREE is a copy of aikg's code (a `git archive` of an older commit gives a "before"),
# TASKS a folder of KernelBench task files, SECONDS a wall limit for that run (the report
# holds every task finished by then). OUT gets NAME.md (the report), NAME.json for the last
# run, show.txt (`aikg show` of each task of each run), log.txt and summary.txt.
set -u
out=$1
shift
. benchmarks/gpu/setup.sh >"$out/summary.txt" 2>&1 || exit 1
root=$PWD
for spec in "$@"; do
    IFS=: read -r name tree tasks steps seconds <<<"$spec"
    work=/tmp/verify-speed/$name
    mkdir -p "$work"
    started=$(date +%s.%N)
    (cd "$work" && PYTHONPATH="/tmp/site:$root/$tree" timeout -s INT "$seconds" \
        python3 -m aikg bench "$root/$tasks" --backend cuda --limit-steps "$steps" \
        --out "$work/report") >>"$out/log.txt" 2>&1
    code=$?
    python3 -c "import sys; print(f'{sys.argv[1]}: exit {sys.argv[2]}, {float(sys.argv[4]) - float(sys.argv[3]):.1f} s')" \
        "$name" "$code" "$started" "$(date +%s.%N)" | tee -a "$out/summary.txt"
    cp "$work/report/report.md" "$out/$name.md" 2>/dev/null
    cp "$work/report/report.json" "$out/last.json" 2>/dev/null
    (cd "$work" && export PYTHONPATH="/tmp/site:$root/$tree" &&
        for id in $(python3 -m aikg ls | awk 'NR > 1 {print $1}'); do
            echo "== $name: $id"
            python3 -m aikg show "$id"
        done) >>"$out/show.txt" 2>&1
done
