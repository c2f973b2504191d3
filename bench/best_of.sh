# Sourced by the Delta benchmarks. best_of N [--before CMD] -- COMMAND...: runs COMMAND N times
# (running CMD, untimed, before each run) and prints "SECONDS PEAK_RSS_KB" of the fastest run,
# measured by /usr/bin/time; COMMAND's own output is discarded.
best_of() {
  _n=$1; shift
  _before=""
  if [ "$1" = --before ]; then _before=$2; shift 2; fi
  [ "$1" = -- ] && shift
  _best=""; _rss=0
  for _i in $(seq "$_n"); do
    [ -n "$_before" ] && sh -c "$_before"
    _out=$( { /usr/bin/time -f "%e %M" "$@" >/dev/null; } 2>&1 | tail -1)
    _s=${_out% *}; _kb=${_out#* }
    if [ -z "$_best" ] || [ "$(awk -v a="$_s" -v b="$_best" 'BEGIN { print (a < b) }')" = 1 ]; then
      _best=$_s; _rss=$_kb
    fi
  done
  echo "$_best $_rss"
}
