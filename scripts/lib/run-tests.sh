# Sourced by scripts/test and scripts/reliability: run_tests TARGET FILTER [dotnet test args...] runs the tests
# that match FILTER and ends with one plain line of totals, whatever the runner printed above.
run_tests() {
  local target="$1" filter="$2"
  shift 2
  local results status=0 passed=0 failed=0 counters p f
  results="$(mktemp -d)"
  dotnet test "$target" -c Release --filter "$filter" \
    --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@" || status=$?
  for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  done
  rm -rf "$results"
  echo "tests: $passed passed, $failed failed"
  return $status
}
