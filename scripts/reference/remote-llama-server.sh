#!/usr/bin/env bash
# The remote engine's acceptance check against llama.cpp's own server: is
# Keymate, pointed at llama-server, answered by it, through each way in?
#
#   1. llama-server (this folder's build) with stories260K on a free loopback
#      port, with an API key; ready once /health says so.
#   2. keymate serve --remote at it (its key in KEYMATE_REMOTE_API_KEY, a
#      fresh KEYMATE_HOME), ready once its own /v1/models lists the model.
#   3. A greedy chat completion asked of Keymate's API must be the one
#      llama-server gives when asked directly (text and finish_reason).
#   4. A key press through Keymate's UI contract (the `generate` request on
#      the WebSocket at the url's /ws, with its token) must end in reply.done,
#      with llama-server's text for the same persona and text, and
#      timings.ttft_ms > 0.
#   5. keymate generate --remote must give llama-server's own text completion
#      (and the local engine's: the same model, greedy), with ttft_ms > 0.
#
# Prints one JSON line (the texts, the timings, what matched) and exits 1 when
# a check failed; a step that fails outright stops it with its own code (curl's
# for a refused request); a missing prerequisite is exit 2.
#
# usage: scripts/reference/remote-llama-server.sh
# env:   KM_LLAMA_DIR  the llama.cpp tree (default scripts/reference/llama.cpp;
#                      build llama-server with scripts/reference/build-llama.sh)
#        KM_MODELS     the models folder (default ../shared/models)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
llama_dir="${KM_LLAMA_DIR:-$here/llama.cpp}"
llama_server="$llama_dir/build/bin/llama-server"
model="${KM_MODELS:-$root/../shared/models}/stories260K.gguf"
keymate="$root/bin/keymate"

say() { echo "remote-llama-server.sh: $*" >&2; }
[[ -x $llama_server ]] || { say "no $llama_server: build it with scripts/reference/build-llama.sh (it builds llama-server with the other tools)"; exit 2; }
[[ -f $model ]] || { say "no $model (set KM_MODELS to the folder holding stories260K.gguf)"; exit 2; }
[[ -f $root/dist/electron/cli/main.js ]] || { say "keymate is not built: run npm run build"; exit 2; }
command -v curl >/dev/null || { say "curl is needed"; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/keymate-remote-llama.XXXXXX")"
llama_pid=''
serve_pid=''
stop_pid() {
  [[ -n $1 ]] || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  wait "$1" 2>/dev/null || true
}
cleanup() {
  stop_pid "$serve_pid"
  stop_pid "$llama_pid"
  rm -rf "$work"
}
trap cleanup EXIT

# Runs node with the repository's node_modules (ws) within reach.
# Its arguments are process.argv[2...], as in a script file.
js() { (cd "$root" && node -e "$1" -- remote-llama-server "${@:2}"); }

port="$(js 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')"
llama_key="llama-$(js 'console.log(require("node:crypto").randomBytes(16).toString("hex"))')"
llama_base="http://127.0.0.1:$port/v1"

# 1. llama-server: one slot (requests in turn, as the comparison wants), a small context, one
#    thread (a 260K model needs no more, and spinning threads on a busy machine slow all), its log in a file.
"$llama_server" -m "$model" --alias stories260K --host 127.0.0.1 --port "$port" -c 512 -np 1 -t 1 \
  --api-key "$llama_key" --no-webui -lv 1 >"$work/llama-server.log" 2>&1 &
llama_pid=$!
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$llama_pid" 2>/dev/null || { say "llama-server exited:"; tail -5 "$work/llama-server.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { say "llama-server is not healthy after 30 s"; exit 1; }

# 2. keymate serve --remote; its first stdout line is {"url", "api_base", "api_key"}.
KEYMATE_HOME="$work/home" KEYMATE_REMOTE_API_KEY="$llama_key" "$keymate" serve --port 0 --remote "$llama_base" >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
for _ in $(seq 300); do
  [[ -s $work/serve.out ]] && break
  kill -0 "$serve_pid" 2>/dev/null || { say "keymate serve exited: $(cat "$work/serve.err")"; exit 1; }
  sleep 0.1
done
{ read -r km_url; read -r km_base; read -r km_key; } < <(js 'const l = JSON.parse(process.argv[2]); console.log([l.url, l.api_base, l.api_key].join("\n"))' "$(head -n 1 "$work/serve.out")")
for _ in $(seq 100); do
  curl -sf "$km_base/models" -H "Authorization: Bearer $km_key" | grep -q '"stories260K"' && break
  sleep 0.1
done

post() { curl -sS --fail-with-body "$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d "$3"; }

# 3. The same greedy chat, of llama-server and of Keymate.
chat='{"model": "stories260K", "messages": [{"role": "system", "content": "Tell a story."}, {"role": "user", "content": "A dog and a cat"}], "max_tokens": 24, "temperature": 0}'
chat_direct="$(post "$llama_base/chat/completions" "$llama_key" "$chat")"
chat_keymate="$(post "$km_base/chat/completions" "$km_key" "$chat")"

# 4. A press over the UI's WebSocket: greedy, 24 tokens, then `generate`; every event until reply.done or reply.error.
press="$(js '
const WebSocket = require("ws");
const url = new URL(process.argv[2]);
const ws = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get("token")}`);
const pending = new Map();
let id = 0;
const request = (name, payload) => new Promise((resolve, reject) => {
  pending.set(++id, { resolve, reject });
  ws.send(JSON.stringify({ kind: "request", id, name, payload }));
});
const timer = setTimeout(() => { console.log(JSON.stringify({ error: "no reply.done within 60 s" })); process.exit(0); }, 60000);
ws.on("message", (d) => {
  const m = JSON.parse(d.toString());
  if (m.kind === "response") {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result); else p.reject(new Error(m.error));
  } else if (m.kind === "event" && (m.name === "reply.done" || m.name === "reply.error")) {
    clearTimeout(timer);
    console.log(JSON.stringify({ event: m.name, ...m.payload, persona }));
    process.exit(0);
  }
});
let persona = null;
ws.once("error", (e) => { console.log(JSON.stringify({ error: e.message })); process.exit(0); });
ws.once("open", async () => {
  try {
    const settings = await request("settings.set", { patch: { temperature: 0, max_tokens: 24 } });
    persona = settings.persona;
    await request("generate", { prompt: "A dog and a cat" });
  } catch (e) {
    console.log(JSON.stringify({ error: e.message }));
    process.exit(0);
  }
});
' "$km_url")"
press_persona="$(js 'console.log(JSON.stringify(JSON.parse(process.argv[2]).persona ?? ""))' "$press")"
press_direct="$(post "$llama_base/chat/completions" "$llama_key" "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"system\", \"content\": $press_persona}, {\"role\": \"user\", \"content\": \"A dog and a cat\"}], \"max_tokens\": 24, \"temperature\": 0}")"

# 5. keymate generate --remote, llama-server's own text completion, and the local engine.
prompt='Once upon a time, there was a'
generate_remote="$(KEYMATE_REMOTE_API_KEY="$llama_key" "$keymate" generate --remote "$llama_base" --prompt "$prompt" --temperature 0 --max-tokens 16 --json)"
text_direct="$(post "$llama_base/completions" "$llama_key" "{\"model\": \"stories260K\", \"prompt\": \"$prompt\", \"max_tokens\": 16, \"temperature\": 0}")"
generate_local="$("$keymate" generate --model "$model" --prompt "$prompt" --temperature 0 --max-tokens 16 --json)"

# Ctrl-C stops serve cleanly.
kill -INT "$serve_pid"
serve_exit=0
wait "$serve_pid" || serve_exit=$?
serve_pid=''

js '
const [chatDirect, chatKeymate, press, pressDirect, genRemote, textDirect, genLocal, llamaBase, kmBase, serveExit] = process.argv.slice(2);
const cd = JSON.parse(chatDirect), ck = JSON.parse(chatKeymate), p = JSON.parse(press), pd = JSON.parse(pressDirect);
const gr = JSON.parse(genRemote), td = JSON.parse(textDirect), gl = JSON.parse(genLocal);
const chatText = cd.choices[0].message.content;
const checks = {
  chat_text: chatText !== "" && ck.choices[0].message.content === chatText,
  chat_finish_reason: ck.choices[0].finish_reason === cd.choices[0].finish_reason,
  chat_usage: ck.usage.prompt_tokens === cd.usage.prompt_tokens && ck.usage.completion_tokens === cd.usage.completion_tokens,
  press_done: p.event === "reply.done",
  press_text: p.completion === pd.choices[0].message.content,
  press_ttft: (p.timings?.ttft_ms ?? 0) > 0,
  generate_remote_text: gr.completion !== "" && gr.completion === td.choices[0].text,
  generate_remote_backend: gr.backend === "remote" && gr.remote === llamaBase,
  generate_remote_ttft: gr.ttft_ms > 0,
  generate_same_as_local: gr.completion === gl.completion,
  serve_stopped: serveExit === "0",
};
const ok = Object.values(checks).every(Boolean);
console.log(JSON.stringify({
  ok,
  llama_server: llamaBase,
  keymate_api: kmBase,
  chat: { text: chatText, finish_reason: cd.choices[0].finish_reason, keymate_text: ck.choices[0].message.content },
  press: p.event === "reply.done" ? { completion: p.completion, direct: pd.choices[0].message.content, stop: p.stop, tokens: p.timings?.tokens, ttft_ms: p.timings?.ttft_ms, e2e_ms: p.timings?.e2e_ms } : p,
  generate: { completion: gr.completion, direct: td.choices[0].text, local: gl.completion, tokens: gr.tokens, ttft_ms: gr.ttft_ms, decode_tok_s: gr.decode_tok_s, model: gr.model },
  checks,
}));
process.exit(ok ? 0 : 1);
' "$chat_direct" "$chat_keymate" "$press" "$press_direct" "$generate_remote" "$text_direct" "$generate_local" "$llama_base" "$km_base" "$serve_exit"
