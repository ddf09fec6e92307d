#!/usr/bin/env bash
# Sets up felis on Debian 12 and runs its main job or its tests.
#
#   ./build.sh run [--data DIR]   install what is missing, build, run the main job
#   ./build.sh test               install what is missing, build, run the test suite
#   ./build.sh asan [SECONDS]     install what is missing, build with clang, AddressSanitizer
#                                 and UBSan, run the test suite under them, then each fuzz
#                                 target for SECONDS (default 30; 0 skips fuzzing)
#   ./build.sh bench [ARGS]       install what is missing, build, run bench/run ARGS: felis
#                                 against numpy, scikit-learn and PyTorch, into
#                                 docs/benchmarks.md (bench/run --help)
#
# The main job runs felis study on Fashion-MNIST (Debian package dataset-fashion-mnist).
# Where the course's cat / non-cat data is found (--data DIR, the FELIS_DATA variable, or
# ../shared/data/catvnoncat beside the checkout), it runs one on the cat data too and
# classifies the photos beside it. It ends by printing where the HTML reports are.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
packages=(
  cmake g++ make pkg-config
  libeigen3-dev libhdf5-dev libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev gnuplot-nox zlib1g-dev libdnnl-dev
  googletest libgtest-dev libbenchmark-dev dataset-fashion-mnist
)

usage() {
  echo "usage: $0 run [--data DIR] | test | asan [SECONDS] | bench [bench/run options]" >&2
  exit 2
}

install_packages() {
  local missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: missing packages ${missing[*]}; run as root or install sudo" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "installing: ${missing[*]}"
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  cmake --preset release -S "$root" >/dev/null
  cmake --build --preset release --parallel "$(nproc)"
}

# Prints the cat data directory: --data, else $FELIS_DATA, else the one beside the checkout.
# A directory the user named must exist.
find_cat_data() {
  local named=${data:-${FELIS_DATA:-}}
  if [ -n "$named" ]; then
    if [ ! -d "$named" ]; then
      echo "error: cat data directory $named does not exist; give the directory holding train_catvnoncat.h5" >&2
      exit 1
    fi
    echo "$named"
  elif [ -d "$root/../shared/data/catvnoncat" ]; then
    echo "$root/../shared/data/catvnoncat"
  fi
}

run_main_job() {
  local felis="$root/build/release/felis" out="$root/build/results"
  local reports=()
  mkdir -p "$out"
  # A few minutes on two cores: a seeded subsample of the 60,000 training images, and as
  # many seeds as 150 seconds allow after the first.
  echo "== felis study on Fashion-MNIST: 5,000 training and 1,000 test images"
  "$felis" study --data /usr/share/datasets/fashion-mnist --out "$out/fashion-study" \
    --train-images 5000 --test-images 1000 --budget 150
  reports+=("$out/fashion-study/index.html")
  local cats
  cats=$(find_cat_data) || exit 1
  if [ -z "$cats" ]; then
    echo "== cat / non-cat data not found (--data DIR, FELIS_DATA or ../shared/data/catvnoncat); skipped"
  else
    echo "== felis study on the course's cat / non-cat data in $cats"
    "$felis" study --data "$cats" --out "$out/cat-study"
    reports+=("$out/cat-study/index.html")
    local photos
    photos=$(cd "$cats/.." && pwd)/photos
    if compgen -G "$photos/*.[pj][np]g" >/dev/null; then
      echo "== the study's logistic regression on the photos in $photos"
      "$felis" predict --model "$out/cat-study/runs/logreg-none-s1.h5" "$photos"/*.[pj][np]g
    fi
  fi
  echo "== reports (open in a browser):"
  printf '%s\n' "${reports[@]}"
}

command=${1:-}
shift || true
data=""
case "$command" in
  run)
    while [ $# -gt 0 ]; do
      case "$1" in
        --data) [ $# -ge 2 ] || usage; data=$2; shift 2 ;;
        *) usage ;;
      esac
    done
    install_packages
    build
    run_main_job
    ;;
  test)
    [ $# -eq 0 ] || usage
    # Headless Chromium opens the HTML report in the browser tests; the main job needs none.
    packages+=(chromium)
    install_packages
    build
    status=0
    ctest --preset release --parallel "$(nproc)" || status=$?
    # CTest shows only "Skipped"; GoogleTest's reason follows the line ending in ": Skipped".
    awk 'previous ~ /: Skipped$/ { print "skipped: " $0 } { previous = $0 }' \
      "$root/build/release/Testing/Temporary/LastTest.log" 2>/dev/null | sort -u || true
    exit $status
    ;;
  asan)
    [ $# -le 1 ] || usage
    seconds=${1:-30}
    [[ $seconds =~ ^[0-9]+$ ]] || { echo "error: asan takes fuzzing seconds as a whole number, not $seconds" >&2; exit 2; }
    packages+=(chromium clang libclang-rt-14-dev)
    install_packages
    cmake --preset asan -S "$root" >/dev/null
    cmake --build --preset asan --parallel "$(nproc)"
    ctest --preset asan --parallel "$(nproc)"
    [ "$seconds" -eq 0 ] || "$root/fuzz/run" --build "$root/build/asan" --seconds "$seconds" --seed 1
    ;;
  bench)
    # The peers' Python libraries are Debian packages too.
    packages+=(python3-numpy python3-h5py python3-sklearn python3-torch python3-threadpoolctl
               libopenblas0-pthread)
    install_packages
    build
    exec "$root/bench/run" "$@"
    ;;
  *) usage ;;
esac
