#!/usr/bin/env bash
# Instruction counts (load-independent, unlike timings on a shared machine) for one function
# of the hot path, measured with callgrind on cds_micro_bench, plus its top self-cost functions.
#
#   bench/callgrind.sh BENCHMARK_REGEX FUNCTION_PREFIX [TOP]
#   bench/callgrind.sh 'BM_RuleEvaluate$'      'rules::evaluate('
#   bench/callgrind.sh 'BM_ParseHookRequest$'  'cds::parse_hook_request('
#   bench/callgrind.sh 'BM_CardSerialize$'     'cds::hook_response_body'
#   bench/callgrind.sh 'BM_Authenticate/RS384' 'cds::Authenticator::authenticate('
#
# Prints instructions per call of FUNCTION (collection is on only inside it) and the TOP (15)
# functions by self cost. Needs valgrind; uses build-bench/bench/cds_micro_bench.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench_bin="$here/../build-bench/bench/cds_micro_bench"
[ $# -ge 2 ] || { sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 2; }
filter=$1 fn=$2 top=${3:-15}
[ -x "$bench_bin" ] || { echo "build first: bench/load.sh or ninja -C build-bench cds_micro_bench" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
out=$(mktemp /tmp/callgrind.XXXXXX)
trap 'rm -f "$out"' EXIT
# A small token pool: signing under valgrind is slow.
CDS_BENCH_JWT_POOL=${CDS_BENCH_JWT_POOL:-64} timeout 1200 valgrind --tool=callgrind --callgrind-out-file="$out" \
  --collect-atstart=no "--toggle-collect=$fn*" "$bench_bin" --benchmark_filter="$filter" --benchmark_min_time=0.01 \
  >/dev/null 2>&1
python3 - "$out" "$fn" "$top" <<'PY'
import re, sys, collections
path, fn, top = sys.argv[1], sys.argv[2], int(sys.argv[3])
names, calls, self_cost = {}, collections.Counter(), collections.Counter()
total, cur_fn, cur_cfn, after_calls = 0, None, None, False
for line in open(path):
    line = line.rstrip('\n')
    m = re.match(r'(c?fn)=\((\d+)\)(?: (.*))?$', line)
    if m:
        kind, ident, name = m.groups()
        if name: names[ident] = name
        if kind == 'fn': cur_fn = ident
        else: cur_cfn = ident
        continue
    m = re.match(r'calls=(\d+)', line)
    if m:
        calls[cur_cfn] += int(m.group(1)); after_calls = True; continue
    m = re.match(r'^[+-]?\d+ (\d+)$', line) or re.match(r'^\* (\d+)$', line)
    if m:
        if after_calls: after_calls = False   # inclusive cost of the call: not self cost
        else: self_cost[cur_fn] += int(m.group(1)); total += int(m.group(1))
n = sum(c for i, c in calls.items() if names.get(i, '').startswith(fn))
print(f"{fn}: {n} calls, {total:,} instructions collected, {total / max(n, 1):,.0f} instructions per call")
for ident, c in self_cost.most_common(top):
    print(f"  {100 * c / total:5.1f}%  {c / max(n, 1):>12,.0f}/call  {names.get(ident, ident)[:120]}")
PY
