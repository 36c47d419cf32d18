#!/bin/sh
# Test stand-in for ZAP's packaged scans (used by tests/zap, never shipped). Installed as
# zap-baseline.py, zap-full-scan.py and zap-api-scan.py; the name it runs under picks the
# script whose command-line contract it honours (the real scripts' getopt strings):
#   -t URL (api: a definition file in the work dir or URL; graphql: the endpoint), -f FORMAT
#   (api), --schema (api, graphql), -c/-J/-x/-r/-n file names relative to /zap/wrk, -m minutes,
#   -U user (needs -n); exit 0 pass, 1 FAIL, 2 WARN, 3 failure.
# Like ZAP, it adds "$ZAP_AUTH_HEADER: $ZAP_AUTH_HEADER_VALUE" to requests to sites containing
# $ZAP_AUTH_HEADER_SITE. It records its argv, uid and the auth variables' names, talks to the
# target over TCP with nc (busybox wget crashes in these containers), then copies a report.
# The last path segment of the URL it talks to picks a scenario.
wrk=${SECSCAN_ZAP_WRK:-/zap/wrk}
samples=${SECSCAN_ZAP_STANDIN_SAMPLES:-/zap/samples}
script=${0##*/}
target=; conf=; json=; xml=; html=; format=; context=; user=; schema=
for a in "$@"; do printf '%s\n' "$a"; done > "$wrk/standin-argv.txt" || exit 3
echo "$script" > "$wrk/standin-script.txt"
id -u > "$wrk/standin-uid.txt"
{
  echo "ZAP_AUTH_HEADER=${ZAP_AUTH_HEADER:-}"
  echo "ZAP_AUTH_HEADER_SITE=${ZAP_AUTH_HEADER_SITE:-}"
  [ -n "${ZAP_AUTH_HEADER_VALUE:-}" ] && echo "ZAP_AUTH_HEADER_VALUE=(set)"
} > "$wrk/standin-env.txt"
env | sed 's/=.*//' | sort > "$wrk/standin-env-names.txt"  # names only, never values
case $script in
  zap-api-scan.py)
    optstring="t:f:c:u:g:m:n:r:J:w:x:l:hdaijSp:sz:P:D:T:IO:U:"
    # busybox getopts knows no long options: take --schema/--hook out first.
    n=$#; i=0
    while [ "$i" -lt "$n" ]; do
      a=$1; shift; i=$((i + 1))
      case $a in
        --schema) schema=$1; shift; i=$((i + 1)) ;;
        --schema=*) schema=${a#--schema=} ;;
        --hook) shift; i=$((i + 1)) ;;
        --hook=*) ;;
        *) set -- "$@" "$a" ;;
      esac
    done ;;
  *) optstring="t:c:u:g:m:n:r:J:w:x:l:hdaijp:sz:P:D:T:IU:" ;;
esac
while getopts "$optstring" opt; do
  case $opt in
    t) target=$OPTARG ;;
    f) format=$OPTARG ;;
    c) conf=$OPTARG ;;
    J) json=$OPTARG ;;
    x) xml=$OPTARG ;;
    r) html=$OPTARG ;;
    n) context=$OPTARG ;;
    U) user=$OPTARG ;;
    \?) echo "Invalid option"; exit 3 ;;
  esac
done
[ -z "$target" ] && { echo "Usage: $script -t <target>"; exit 3; }
if [ -n "$conf" ] && [ ! -f "$wrk/$conf" ]; then echo "config file $conf not found"; exit 3; fi
if [ -n "$user" ] && [ -z "$context" ]; then echo "A context file must be specified (and include the user)"; exit 3; fi
if [ -n "$context" ] && [ ! -f "$wrk/$context" ]; then echo "context file $context not found"; exit 3; fi
url=$target
if [ "$script" = zap-api-scan.py ]; then
  case $format in
    openapi|soap|graphql) ;;
    *) echo "Format must be either 'openapi', 'soap', or 'graphql'"; exit 3 ;;
  esac
  case $target in
    http://*|https://*) ;;
    *)
      [ "$format" = graphql ] && { echo "Target must start with 'http://' or 'https://' and be a valid GraphQL endpoint."; exit 3; }
      [ -f "$wrk/$target" ] || { echo "File does not exist: $wrk/$target"; exit 3; }
      # ZAP sends its requests to the server the imported definition names.
      # (OpenAPI: the first servers url; WSDL: the first address location.)
      url=$(grep -o -e 'url: *https\?://[^"'"'"' <]*' -e 'location="https\?://[^"]*' "$wrk/$target" \
        | head -n 1 | sed -e 's/^url: *//' -e 's/^location="//') ;;
  esac
  if [ -n "$schema" ]; then
    case $schema in
      http://*|https://*) ;;
      *) [ -f "$wrk/$schema" ] || { echo "File does not exist: $wrk/$schema"; exit 3; } ;;
    esac
  fi
fi
case $url in
  http://*|https://*) ;;
  *) echo "Target must start with 'http://' or 'https://'"; exit 3 ;;
esac
hostport=${url#*://}; hostport=${hostport%%/*}
host=${hostport%:*}; port=${hostport##*:}
rest=${url#*://}
case $rest in */*) path=/${rest#*/} ;; *) path=/ ;; esac
auth=
if [ -n "${ZAP_AUTH_HEADER_VALUE:-}" ]; then
  case $hostport in
    *"${ZAP_AUTH_HEADER_SITE:-}"*) auth="${ZAP_AUTH_HEADER:-Authorization}: $ZAP_AUTH_HEADER_VALUE" ;;
  esac
fi
if [ -n "$auth" ]; then
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n%s\r\n\r\n' "$path" "$host" "$auth"
else
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$host"
fi | busybox nc -w 5 "$host" "$port" > "$wrk/standin-response.txt"
if ! grep -q '^HTTP/' "$wrk/standin-response.txt"; then
  echo "No URLs found - is the target URL accessible?"; exit 3
fi
scenario=${url##*/}
case $scenario in
  sleep) echo "spidering forever"; sleep 600 ;;
  exit3) echo "Failed to start ZAP :("; echo "ERROR stand-in scenario exit3"; exit 3 ;;
  leak) echo "DEBUG request header ${ZAP_AUTH_HEADER:-Authorization}: ${ZAP_AUTH_HEADER_VALUE:-}"; echo "ERROR stand-in scenario leak"; exit 3 ;;
  noreport) echo "FAIL-NEW: 0"; exit 0 ;;
  slowreport) head -c 2000 "$samples/report.json" > "$wrk/$json"; echo "writing the report"; sleep 600 ;;
esac
[ "$scenario" = xmlonly ] && json=
report=$samples/report.json
[ "$script" = zap-api-scan.py ] && report=$samples/api-report.json
# ZAP's "plus" reports echo request headers: the sample's placeholder becomes the real value.
[ -n "$json" ] && busybox sed "s|__AUTH_HEADER_VALUE__|${ZAP_AUTH_HEADER_VALUE:-none}|g" "$report" > "$wrk/$json"
[ -n "$xml" ] && cp "$samples/report.xml" "$wrk/$xml"
[ -n "$html" ] && echo '<html></html>' > "$wrk/$html"
echo "FAIL-NEW: 0	FAIL-INPROG: 0	WARN-NEW: 5	WARN-INPROG: 0	INFO: 0	IGNORE: 0	PASS: 50"
case $scenario in
  pass) exit 0 ;;
  fail) exit 1 ;;
  *) exit 2 ;;
esac
