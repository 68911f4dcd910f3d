//! No heap in an optimizer step or a training epoch: a counting global
//! allocator (this test binary only) counts the calling thread's allocations
//! around each call.
//!
//! The allocator wrapper is the only `unsafe` in the repository: implementing
//! `GlobalAlloc` requires it. It forwards to the system allocator unchanged.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use stackgrad::batch::Dataset;
use stackgrad::loss::SoftmaxCrossEntropy;
use stackgrad::nn::{Dense, Net, Params, Relu, Sigmoid};
use stackgrad::optim::{Adam, Momentum, Optimizer, Sgd};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::train::Training;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    (r, ALLOCATIONS.with(Cell::get) - before)
}

type Mlp = Net<(Dense<f32, 8, 16>, Relu, Dense<f32, 16, 3>)>;

fn mlp() -> Mlp {
    let mut rng = StdRng::seed_from_u64(0);
    Net::new((
        Dense::he_normal(&mut rng),
        Relu,
        Dense::xavier_uniform(&mut rng),
    ))
}

fn grads(net: &Mlp) -> Mlp {
    let mut g = net.zeros_like();
    for k in 0..<Mlp as Params<f32>>::TENSORS {
        for (i, x) in g.tensor_mut(k).unwrap().data.iter_mut().enumerate() {
            *x = (i as f32 * 0.1).sin();
        }
    }
    g
}

#[test]
fn the_counter_sees_heap_allocations() {
    let (_, n) = allocations(|| std::hint::black_box(vec![1u8; 100]));
    assert_eq!(n, 1);
}

#[test]
fn optimizer_steps_do_not_allocate() {
    let mut net = mlp();
    let g = grads(&net);
    let mut sgd = Sgd::new(0.01f32);
    let mut momentum = Momentum::new(0.01f32, 0.9);
    let mut adam = Adam::new(0.01f32);
    for step in 0..3 {
        // The first step of momentum and Adam creates their state (on the stack).
        let (_, n) = allocations(|| sgd.step(&mut net, &g));
        assert_eq!(n, 0, "SGD step {step}");
        let (_, n) = allocations(|| momentum.step(&mut net, &g));
        assert_eq!(n, 0, "momentum step {step}");
        let (_, n) = allocations(|| adam.step(&mut net, &g));
        assert_eq!(n, 0, "Adam step {step}");
    }
    assert_eq!(adam.steps(), 3);
}

/// A whole epoch (batching, forward, loss, backward, finiteness check, Adam
/// step) allocates nothing, including its padded last batch.
#[test]
fn a_training_epoch_does_not_allocate() {
    let x: Vec<[f32; 8]> = (0..37)
        .map(|i| std::array::from_fn(|j| ((i * 8 + j) as f32).cos()))
        .collect();
    let y: Vec<usize> = (0..37).map(|i| i % 3).collect();
    let data = Dataset::new(&x, &y).unwrap();
    let order: Vec<usize> = (0..37).rev().collect();
    let mut net = mlp();
    let mut g = net.zeros_like();
    let mut t = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(1e-3f32)).batch::<8>();
    for epoch in 1..=2 {
        let (stats, n) = allocations(|| t.epoch(epoch, &mut net, &mut g, data, &order).unwrap());
        assert_eq!(n, 0, "epoch {epoch}");
        assert_eq!((stats.examples, stats.batches), (37, 5));
    }
    // And with the notebook's sigmoid network in f64.
    let mut net = Net::new((
        Dense::<f64, 2, 25>::zeros(),
        Sigmoid,
        Dense::<f64, 25, 4>::zeros(),
    ));
    let mut g = net.zeros_like();
    let x2: Vec<[f64; 2]> = (0..13).map(|i| [i as f64, 1.0]).collect();
    let y2: Vec<usize> = (0..13).map(|i| i % 4).collect();
    let order: Vec<usize> = (0..13).collect();
    let mut t = Training::new(SoftmaxCrossEntropy::sum(), Sgd::new(1e-3)).batch::<5>();
    let (_, n) = allocations(|| {
        t.epoch(1, &mut net, &mut g, Dataset::new(&x2, &y2).unwrap(), &order)
            .unwrap()
    });
    assert_eq!(n, 0);
}
