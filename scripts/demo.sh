#!/usr/bin/env bash
# make demo: start the local embedder, index the sample corpus, serve the API on :8000.
# Everything runs on this machine: no services, no network, no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PODSEARCH_STORE__PATH="${DEMO_DATA:-data/demo}/index"
export PODSEARCH_EMBEDDER__URL="http://127.0.0.1:${EMBEDDER_PORT:-8001}"
export PODSEARCH_EMBEDDER_SERVER__PORT="${EMBEDDER_PORT:-8001}"
export PODSEARCH_API__PORT="${API_PORT:-8000}"
mkdir -p "${DEMO_DATA:-data/demo}"
log="${DEMO_DATA:-data/demo}/embedder.log"

$BIN/podsearch-embedder >"$log" 2>&1 &
embedder=$!
trap 'kill $embedder 2>/dev/null || true' EXIT INT TERM

echo "waiting for the embedder (log: $log) ..."
for _ in $(seq 1 120); do
  if $BIN/python -c "import httpx,sys; sys.exit(httpx.get('$PODSEARCH_EMBEDDER__URL/health').status_code != 200)" 2>/dev/null; then
    break
  fi
  kill -0 $embedder 2>/dev/null || { cat "$log"; exit 1; }
  sleep 1
done

# The demo's index is disposable: one built differently (exit status 3: an older podsearch's
# layout, another model) is rebuilt; any other failure stops the demo.
status=0
$BIN/podsearch-index sample/episodes.jsonl || status=$?
if [ "$status" -eq 3 ]; then
  $BIN/podsearch-index --rebuild sample/episodes.jsonl
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi
echo
echo "podsearch is serving on http://127.0.0.1:${PODSEARCH_API__PORT}  (try: curl 'http://127.0.0.1:${PODSEARCH_API__PORT}/search?q=how+do+they+handle+on-call+burnout')"
$BIN/podsearch-api
