//! 02: check backprop against central differences on the notebooks' networks,
//! print the per-tensor report of each as a table, then check a network layer
//! by layer and find the layer whose backward is wrong.
//!
//! Run: `cargo run --release --example 02_gradient_check`

#[path = "../tests/support/notebooks.rs"]
mod notebooks;

use std::sync::atomic::{AtomicU64, Ordering};

use stackgrad::gradcheck::GradCheck;
use stackgrad::loss::{BinaryCrossEntropy, HalfSquaredError, Reduction, SoftmaxCrossEntropy};
use stackgrad::nn::{Ctx, Custom, Layer, Net, Pattern, Recast, Relu};
use stackgrad::{Elements, Error, Scalar};

/// A ReLU of one's own whose derivative is wrong: it lets the gradient
/// through where the input is negative too.
#[derive(Clone, Copy, Debug, Default)]
struct MyRelu;

impl<X: Elements> Layer<X> for MyRelu {
    type Output = X;
    type Cache = ();
    fn forward(&self, x: &X) -> (X, ()) {
        Relu.forward(x)
    }
    fn backward(&self, _x: &X, _y: &X, (): &(), dy: &X, _: &mut Self) -> X {
        *dy // should be dy where x > 0 and 0 elsewhere
    }
    fn pattern(&self, x: &X, y: &X, (): &(), p: &mut Pattern) {
        Relu.pattern(x, y, &(), p); // its kinks are ReLU's
    }
}

/// A dropout of one's own in training mode: a new mask at every forward
/// pass (`fixed: None`), or always the mask of one step.
#[derive(Clone, Copy, Debug)]
struct TrainingDropout {
    fixed: Option<u64>,
}

static STEP: AtomicU64 = AtomicU64::new(0);

impl<X: Elements> Layer<X> for TrainingDropout {
    type Output = X;
    /// The step whose mask was drawn.
    type Cache = u64;
    fn forward(&self, x: &X) -> (X, u64) {
        let step = self
            .fixed
            .unwrap_or_else(|| STEP.fetch_add(1, Ordering::Relaxed));
        (masked(step, x), step)
    }
    fn backward(&self, _x: &X, _y: &X, step: &u64, dy: &X, _: &mut Self) -> X {
        masked(*step, dy)
    }
}

/// `x ⊙ m / (1 - p)` for p = 1/2 and the mask of `step`.
fn masked<X: Elements>(step: u64, x: &X) -> X {
    let ctx = Ctx::new(1, step, 7);
    let mut y = *x;
    for (i, v) in y.elems_mut().iter_mut().enumerate() {
        let keep = if ctx.draw(i) >= 0.5 { 2.0 } else { 0.0 };
        *v *= X::Elem::from_f64(keep);
    }
    y
}

fn main() -> Result<(), Error> {
    let check = GradCheck::new();

    println!("notebook 000: 2 -> 3 -> 1 sigmoid, no biases, J = 0.5 sum (y - yhat)^2");
    let (net, x, y) = notebooks::notebook_000();
    println!("{}\n", check.check(&net, &HalfSquaredError, &x, &y)?);

    println!("notebook 001: 2 -> 25 -> 4 sigmoid / softmax cross-entropy, 40 points");
    let (net, x, y) = notebooks::notebook_001(1);
    println!(
        "{}\n",
        check.check(&net, &SoftmaxCrossEntropy::sum(), &x, &y)?
    );

    println!("notebook 001 in f32, judged against the f64 copy of the same network");
    let (net32, x32) = (Recast::<f32>::recast(&net), Recast::<f32>::recast(&x));
    println!(
        "{}\n",
        check.check(&net32, &SoftmaxCrossEntropy::sum(), &x32, &y)?
    );

    println!("notebook 004: 4 -> 5 -> 3 -> 1 relu / sigmoid, binary cross-entropy, step 1e-7");
    let (net, x, y) = notebooks::notebook_004();
    let bce = BinaryCrossEntropy {
        reduction: Reduction::Mean,
    };
    println!("{}\n", check.step(1e-7).check(&net, &bce, &x, &y)?);

    println!("notebook 004, layer by layer: each layer's backward against its own forward");
    println!("{}\n", check.check_layers(&net, &x)?);

    // The same network with a ReLU whose derivative is wrong. End to end,
    // the failures land on the tensors of the layers below it (a ReLU has
    // none of its own); layer by layer, the ReLU is named.
    let l = net.layers;
    let buggy = Net::new((l.0, Custom(MyRelu), l.2, l.3, l.4, l.5));
    println!("notebook 004 with a wrong ReLU derivative at layer 1, end to end");
    println!("{}\n", check.step(1e-7).check(&buggy, &bce, &x, &y)?);
    println!("the same, layer by layer");
    let report = check.check_layers(&buggy, &x)?;
    println!("{report}\n");
    assert_eq!(
        report.first_faulty().map(|l| l.name.to_string()),
        Some("layer 1 (MyRelu)".into())
    );

    // A dropout that draws a new mask at every forward pass cannot be
    // differenced: the checker says so before it tries.
    let dropout = |fixed| Net::new((l.0, l.1, l.2, Custom(TrainingDropout { fixed }), l.4, l.5));
    println!("a dropout in training mode (a new mask at every forward pass)");
    match check.check_layers(&dropout(None), &x) {
        Err(e) => println!("error: {e}\n"),
        Ok(r) => panic!("a random forward pass was differenced:\n{r}"),
    }
    println!("the same dropout with a fixed mask");
    println!(
        "{}",
        check.check_layers(&dropout(Some(3)), &x)?.conclusion()
    );
    Ok(())
}
