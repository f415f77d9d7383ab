#!/bin/sh
# Instructions a message costs in a worker and in the pass's process, per mix, counted by
# callgrind (the machine's load moves none of it): bench_split.py run to its setup, to the end of
# the workers' part, after the pass's unpickling and to the end, the differences divided by
# COUNT; and the lean floor's own
# parse, lookups and insert (bench/lean_peer.py's handle) on the same mail.
#   sh bench/instructions.sh 300 business notes
set -e
count=${1:-300}; shift
py=$(dirname "$0")/../.venv/bin/python
mixes=${*:-business notes attachments threads today}
for mix in $mixes; do
  for stop in setup worker unpickle end floor; do
    out=${IR_DIR:-/tmp}/touchlog-ir-$mix-$stop
    arg=$([ $stop = end ] && echo "" || echo "--stop $stop")
    (valgrind --tool=callgrind --callgrind-out-file=$out "$py" "$(dirname "$0")/bench_split.py" \
      --mix "$mix" --count "$count" --row $arg >/dev/null 2>$out.log
     grep -o "Collected : [0-9]*" $out.log | awk '{print $3}' > $out.ir) &
  done
  wait
  d=${IR_DIR:-/tmp}; s=$(cat $d/touchlog-ir-$mix-setup.ir); w=$(cat $d/touchlog-ir-$mix-worker.ir)
  u=$(cat $d/touchlog-ir-$mix-unpickle.ir)
  e=$(cat $d/touchlog-ir-$mix-end.ir); f=$(cat $d/touchlog-ir-$mix-floor.ir)
  echo "$mix: worker $(( (w - s) / count )) instructions a message, pass $(( (e - w) / count )) (unpickle $(( (u - w) / count )), decide + commit $(( (e - u) / count ))), floor $(( (f - s) / count ))"
done
