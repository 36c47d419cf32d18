#!/bin/sh
# Test stand-in for ZAP's zap-baseline.py (used by tests/zap, never shipped).
# Honours the real script's command-line contract: -t URL; -c/-J/-x/-r/-w file names relative to
# the work dir (/zap/wrk); -m minutes; exit 0 pass, 1 FAIL, 2 WARN, 3 failure. It records its
# argv and uid, touches the target over TCP with nc (busybox wget crashes in these containers),
# then copies a real recorded ZAP report. The last path segment of the target picks a scenario.
wrk=${SECSCAN_ZAP_WRK:-/zap/wrk}
samples=${SECSCAN_STANDIN_SAMPLES:-/zap/samples}
target=; conf=; json=; xml=; html=
for a in "$@"; do printf '%s\n' "$a"; done > "$wrk/standin-argv.txt" || exit 3
id -u > "$wrk/standin-uid.txt"
while getopts "t:c:u:g:m:n:r:J:w:x:l:hdaijp:sz:P:D:T:I" opt; do
  case $opt in
    t) target=$OPTARG ;;
    c) conf=$OPTARG ;;
    J) json=$OPTARG ;;
    x) xml=$OPTARG ;;
    r) html=$OPTARG ;;
    \?) echo "Invalid option"; exit 3 ;;
  esac
done
case $target in
  http://*|https://*) ;;
  *) echo "Target must start with 'http://' or 'https://'"; exit 3 ;;
esac
if [ -n "$conf" ] && [ ! -f "$wrk/$conf" ]; then echo "config file $conf not found"; exit 3; fi
hostport=${target#*://}; hostport=${hostport%%/*}
host=${hostport%:*}; port=${hostport##*:}
printf 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" | busybox nc -w 5 "$host" "$port" > "$wrk/standin-response.txt"
if ! grep -q '^HTTP/' "$wrk/standin-response.txt"; then
  echo "No URLs found - is the target URL accessible?"; exit 3
fi
scenario=${target##*/}
case $scenario in
  sleep) echo "spidering forever"; sleep 600 ;;
  exit3) echo "Failed to start ZAP :("; echo "ERROR stand-in scenario exit3"; exit 3 ;;
  noreport) echo "FAIL-NEW: 0"; exit 0 ;;
esac
[ "$scenario" = xmlonly ] && json=
[ -n "$json" ] && cp "$samples/report.json" "$wrk/$json"
[ -n "$xml" ] && cp "$samples/report.xml" "$wrk/$xml"
[ -n "$html" ] && echo '<html></html>' > "$wrk/$html"
echo "FAIL-NEW: 0	FAIL-INPROG: 0	WARN-NEW: 5	WARN-INPROG: 0	INFO: 0	IGNORE: 0	PASS: 50"
case $scenario in
  pass) exit 0 ;;
  fail) exit 1 ;;
  *) exit 2 ;;
esac
