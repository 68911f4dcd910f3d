//! 08: steer a training run (validation set, cosine schedule, AdamW, gradient
//! clipping, early stopping with the best weights restored, a checkpoint, a
//! line per epoch) and draw its training and validation curves as an image.
//!
//! Run: `cargo run --release --example 09_training_curves`; it writes
//! `target/curves/training_curves.svg` (`-- --out PATH` elsewhere; the
//! README's image is `-- --out docs/training_curves.svg`) and
//! `target/curves/best.safetensors`. `-- --epochs N` trains at most N
//! epochs (CI's debug run uses 2).
//!
//! The digits' training rows (1438) are split again: every fifth of them
//! validates (288), the rest (1150) train; the test rows (359) are only used
//! at the end. Prints each epoch, the best epoch, the restored network's
//! validation and test accuracy, and the image's path and size. The plot is
//! drawn with `plotters` (a dev-dependency: the library never builds it).

use std::ops::ControlFlow;
use std::path::PathBuf;

use plotters::prelude::*;
use stackgrad::batch::Dataset;
use stackgrad::data::digits;
use stackgrad::loss::SoftmaxCrossEntropy;
use stackgrad::nn::{Dense, Net, Relu, input};
use stackgrad::optim::{Adam, Clip};
use stackgrad::progress::Progress;
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::schedule::CosineAnnealing;
use stackgrad::train::{EarlyStopping, EpochStats, Monitor, Training};

type Mlp = Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>)>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut epochs, mut out) = (60, PathBuf::from("target/curves/training_curves.svg"));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--epochs", Some(n)) => epochs = n.parse()?,
            ("--out", Some(p)) => out = PathBuf::from(p),
            _ => return Err(format!("unknown argument {arg:?} (--epochs N, --out PATH)").into()),
        }
    }
    let (train, test) = digits::bundled()?.split();
    let (fit, validation) = train.split(); // every fifth training row validates
    let (fx, vx, tx) = (
        fit.features::<f32>(),
        validation.features::<f32>(),
        test.features::<f32>(),
    );
    let mut rng = StdRng::seed_from_u64(0);
    let mut net: Mlp = input::<64>()
        .then(Dense::he_normal(&mut rng))
        .then(Relu)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    std::fs::create_dir_all("target/curves")?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut training = Training::new(
        SoftmaxCrossEntropy::mean(),
        Adam::new(3e-3).decoupled_weight_decay(1e-3),
    )
    .batch::<32>()
    .epochs(epochs)
    .seed(0)
    .schedule(CosineAnnealing::new(epochs, 1e-5)?)
    .clip(Clip::norm(5.0)?)
    .early_stopping(EarlyStopping::new(Monitor::ValidationLoss, 8).restore_best_weights())
    .checkpoint("target/curves/best.safetensors", Monitor::ValidationLoss)
    .progress(Progress::Lines);
    let history = training.fit_with(
        &mut net,
        Dataset::new(&fx, &fit.labels)?,
        Some(Dataset::new(&vx, &validation.labels)?),
        |_, _| ControlFlow::Continue(()),
        |_| {},
    )?;

    let val_loss = |e: &EpochStats<f32>| e.validation.map_or(f32::NAN, |v| v.mean_loss());
    let best = history
        .iter()
        .min_by(|a, b| val_loss(a).total_cmp(&val_loss(b)))
        .ok_or("no epoch")?;
    let eval = Training::new(SoftmaxCrossEntropy::mean(), ()).batch::<32>();
    let restored = eval.evaluate(&net, Dataset::new(&vx, &validation.labels)?)?;
    let tested = eval.evaluate(&net, Dataset::new(&tx, &test.labels)?)?;
    println!(
        "trained {} epochs; best epoch {} (validation loss {:.4}), restored: validation accuracy {:.4}, test accuracy {:.4}",
        history.len(),
        best.epoch,
        val_loss(best),
        restored.accuracy().unwrap_or(0.0),
        tested.accuracy().unwrap_or(0.0),
    );
    // The restored network is the best epoch's, bit for bit.
    assert_eq!(restored.mean_loss(), val_loss(best));

    draw(&history, best.epoch, &out)?;
    let bytes = std::fs::metadata(&out)?.len();
    println!("wrote {} ({bytes} bytes)", out.display());
    Ok(())
}

/// A curve: (epoch, value) points.
type Curve = Vec<(f64, f64)>;

/// Two panels: the mean loss per example and the accuracy, each for the
/// training epoch and the validation set, with the best epoch marked.
fn draw(
    history: &[EpochStats<f32>],
    best: usize,
    out: &PathBuf,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(out, (960, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(480);
    let last = history.len().max(2) as f64;
    let series = |f: &dyn Fn(&EpochStats<f32>) -> Option<f64>| -> Curve {
        history
            .iter()
            .filter_map(|e| f(e).map(|v| (e.epoch as f64, v)))
            .collect()
    };
    let panels = [
        (
            &left,
            "loss (mean per example)",
            series(&|e| Some(f64::from(e.mean_loss()))),
            series(&|e| e.validation.map(|v| f64::from(v.mean_loss()))),
        ),
        (
            &right,
            "accuracy",
            series(&|e| e.accuracy()),
            series(&|e| e.validation.and_then(|v| v.accuracy())),
        ),
    ];
    for (area, title, train, validation) in panels {
        let values = train.iter().chain(&validation).map(|p| p.1);
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let pad = ((hi - lo) * 0.05).max(1e-3);
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(1.0..last, (lo - pad)..(hi + pad))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        chart
            .draw_series(LineSeries::new(train, BLUE.stroke_width(2)))?
            .label("training")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLUE.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(validation, RED.stroke_width(2)))?
            .label("validation")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RED.stroke_width(2)));
        let b = best as f64;
        chart
            .draw_series(LineSeries::new(
                [(b, lo - pad), (b, hi + pad)],
                BLACK.mix(0.4).stroke_width(1),
            ))?
            .label("best epoch (restored)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.4)));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::MiddleRight)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
