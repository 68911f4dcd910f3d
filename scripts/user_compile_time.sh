#!/usr/bin/env bash
# Incremental release rebuild of a small user program: a 3-layer CNN trained
# with `Training::fit` (about 50 lines, in a new crate that depends on this
# repository by path). Builds it once, then edits main.rs (a printed
# constant) and times `cargo build --release` of the edited program, N times;
# prints each rebuild's CPU seconds (user + system, /usr/bin/time) and wall
# seconds, and the medians. Only the user's crate is rebuilt: stackgrad and its
# dependencies come from the first build.
#
# usage: scripts/user_compile_time.sh [path to stackgrad, default this repo] [N, default 3]
set -euo pipefail
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
runs=${2:-3}
# USER_DIR=path keeps the user crate (and its target directory) there.
if [ -n "${USER_DIR:-}" ]; then
    dir=$USER_DIR
    mkdir -p "$dir"
else
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir/user/src"
cp "$repo/rust-toolchain.toml" "$dir/user/"
cat > "$dir/user/Cargo.toml" <<TOML
[package]
name = "user"
version = "0.1.0"
edition = "2024"

[dependencies]
stackgrad = { path = "$repo" }

[workspace]
TOML
write_main() {
    cat > "$dir/user/src/main.rs" <<RUST
//! A user's program: a 3-layer CNN on the bundled digits, trained with fit.
use stackgrad::batch::Dataset;
use stackgrad::data::digits;
use stackgrad::loss::SoftmaxCrossEntropy;
use stackgrad::nn::{Conv2d, Dense, Flatten, MaxPool2d, Net, Relu, Unflatten, input};
use stackgrad::optim::Adam;
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::train::Training;

type Cnn = Net<(
    Unflatten<1, 8, 8>,
    Conv2d<f32, 1, 16, 3, 1, 1>,
    Relu,
    Conv2d<f32, 16, 32, 3, 1, 1>,
    Relu,
    MaxPool2d<2>,
    Flatten,
    Dense<f32, 512, 10>,
)>;

const EDIT: u32 = $1;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (train, test) = digits::bundled()?.split();
    let (x, xt) = (train.features::<f32>(), test.features::<f32>());
    let mut rng = StdRng::seed_from_u64(0);
    let mut net: Cnn = input::<64>()
        .then(Unflatten::<1, 8, 8>)
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(MaxPool2d::<2>)
        .then(Flatten)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    let mut training = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(2e-3))
        .batch::<16>()
        .epochs(2)
        .seed(0);
    let history = training.fit(&mut net, Dataset::new(&x, &train.labels)?, |e, _| {
        println!("epoch {} loss {:.4}", e.epoch, e.mean_loss());
    })?;
    let eval = Training::new(SoftmaxCrossEntropy::mean(), ()).batch::<16>();
    let test = eval.evaluate(&net, Dataset::new(&xt, &test.labels)?)?;
    println!("edit {EDIT}: {} epochs, test accuracy {:.4}", history.len(), test.accuracy().unwrap_or(0.0));
    Ok(())
}
RUST
}
cd "$dir/user"
write_main 0
echo "first build (stackgrad and its dependencies, release)..."
cargo build --release --quiet
echo "incremental release rebuilds of the user crate ($(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)):"
cpus=()
walls=()
for i in $(seq 1 "$runs"); do
    write_main "$i"
    /usr/bin/time -f "%e %U %S" -o "$dir/time" cargo build --release --quiet
    read -r wall user sys < "$dir/time"
    cpu=$(awk "BEGIN { print $user + $sys }")
    cpus+=("$cpu")
    walls+=("$wall")
    printf 'rebuild %d: CPU %5.2f s, wall %5.2f s\n' "$i" "$cpu" "$wall"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
printf 'median of %d: CPU %.2f s, wall %.2f s\n' "$runs" "$(median "${cpus[@]}")" "$(median "${walls[@]}")"
./target/release/user | tail -1
