//! Forward and backward passes allocate nothing on the heap: a counting global
//! allocator records every allocation made while the network runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use stackgrad::Matrix;
use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::nn::{Dense, Net, Params, Relu, Sigmoid, Softmax, Tanh, input};
use stackgrad::rand::{SeedableRng, rngs::StdRng};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// Forwarding to `System` is safe code: the trait's methods are `unsafe fn`, but
// the bodies only call the system allocator with the caller's own arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many heap allocations it made (this test file holds
/// one test, so no other thread allocates meanwhile).
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

#[test]
fn forward_and_backward_allocate_nothing() {
    // The counter is live: one Vec is one allocation.
    let n = allocations_during(|| {
        std::hint::black_box(Vec::<u8>::with_capacity(8));
    });
    assert_eq!(n, 1, "the counting allocator must see a Vec allocation");

    let mut rng = StdRng::seed_from_u64(0);
    // Notebook 001's 2 -> 25 -> 4 classifier.
    type Classifier = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;
    let net: Classifier = input::<2>()
        .then(Dense::xavier_uniform(&mut rng))
        .then(Sigmoid)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    let x = Matrix::<f64, 5, 2>::from_fn(|b, j| (b as f64 - 2.0) * 0.7 + j as f64);
    let y = Labels::<5, 4>::new([0, 1, 2, 3, 0]).unwrap();
    let mut grads = net.zeros_like();

    let n = allocations_during(|| {
        let (logits, cache) = net.forward(&x);
        let (loss, dlogits) = SoftmaxCrossEntropy::sum().loss_and_grad(&logits, &y);
        let dx = net.backward(&cache, &dlogits, &mut grads);
        std::hint::black_box((loss, dx, &grads));
    });
    assert_eq!(
        n, 0,
        "2 -> 25 -> 4 forward + loss + backward allocated {n} times"
    );

    // Every other layer kind, in f32.
    let deep = Net::new((
        Dense::<f32, 3, 8>::he_normal(&mut rng),
        Relu,
        Dense::<f32, 8, 8>::he_normal(&mut rng),
        Tanh,
        Dense::<f32, 8, 4>::he_normal(&mut rng),
        Softmax,
    ));
    let x = Matrix::<f32, 7, 3>::splat(0.5);
    let mut g = deep.zeros_like();
    let n = allocations_during(|| {
        let (p, cache) = deep.forward(&x);
        let dx = deep.backward(&cache, &p, &mut g);
        std::hint::black_box((deep.infer(&x), dx, &g));
    });
    assert_eq!(n, 0, "relu/tanh/softmax network allocated {n} times");

    // The register-tiled kernels (issue 6) at the digits MLP's shapes: full
    // tiles, edge rows and columns, the narrow-output and transposed paths.
    let mlp = Net::new((
        Dense::<f32, 64, 64>::he_normal(&mut rng),
        Relu,
        Dense::<f32, 64, 10>::he_normal(&mut rng),
    ));
    let x = Matrix::<f32, 32, 64>::from_fn(|b, j| ((b * 7 + j) % 11) as f32 * 0.1);
    let mut g = mlp.zeros_like();
    let n = allocations_during(|| {
        let (z, cache) = mlp.forward(&x);
        let dx = mlp.backward(&cache, &z, &mut g);
        let e = stackgrad::math::exp(std::hint::black_box(1.5f64));
        std::hint::black_box((dx, e, &g));
    });
    assert_eq!(n, 0, "64 -> 64 -> 10 batch 32 allocated {n} times");
    assert!(g.tensor(0).unwrap().data.iter().any(|&v| v != 0.0));
}
